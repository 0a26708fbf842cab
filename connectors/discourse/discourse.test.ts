// Discourse: the connector contract against the fake forum, Discourse-specific behaviour (topics as
// conversations, reply edges, labels, likes, accepted answers, edits, deletions, private categories,
// 500 storms, anonymous access), the pipeline end to end (one source's auth error stops only it; an
// edited post updates, a deleted one leaves the counts), and the topic-dump importer.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connectorContract } from '../../test/contract/connector-contract.js';
import { pullAll, pullUntilDone } from '../../test/support/connector-pull.js';
import { FakeDiscourse } from '../../test/fakes/discourse.js';
import { isSkip, type RawMessage, type Skip } from '../../src/model/index.js';
import { openApp } from '../../src/app.js';
import { parseConfig, type SourceConfig } from '../../src/config/index.js';
import { listenSource, pullSource } from '../../src/runner/pull.js';
import { storeStats } from '../../src/store/queries.js';
import { listSources } from '../../src/store/web/sources.js';
import { abortableSleep, ConnectorError, type ConnectorDeps, type ImportPage } from '../types.js';
import { importerFor } from '../index.js';
import { createDiscourseConnector, discourseConfigSchema, discourseDefinition, discourseTopicsImporter, type DiscourseConfigInput, type DiscourseCursor } from './index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const deps = (now: () => number = Date.now): ConnectorDeps => ({ source: 'forum-test', now, sleep: abortableSleep, log: () => undefined });

function connect(fake: FakeDiscourse, extra: Partial<DiscourseConfigInput> = {}, d: ConnectorDeps = deps()) {
  const cfg = discourseConfigSchema.parse({ url: fake.url, apiKey: fake.apiKey, apiUsername: 'system', retryBaseMs: 10, ...extra });
  return createDiscourseConnector(cfg, d);
}

connectorContract('discourse', {
  async start() {
    const fake = await FakeDiscourse.start({ pageSize: 5 });
    return { connector: connect(fake), fake, pageSize: 5, stop: () => fake.stop() };
  },
  reconnect: (under) => connect(under.fake as FakeDiscourse),
});

const pull = (conn: ReturnType<typeof connect>, from?: DiscourseCursor) => pullAll(conn, from, 'forum-test');

/** Fake and connector share a clock near now, so the recheck window covers the posts. */
function recentClock() {
  let t = Date.now() - 3600_000;
  return () => (t += 1000);
}

describe('discourse connector against the fake forum', () => {
  let fake: FakeDiscourse;
  afterEach(async () => fake?.stop());

  it('reads topics as conversations: reply edges, category and tags as labels, likes, the accepted answer, permalinks', async () => {
    fake = await FakeDiscourse.start({ pageSize: 3 });
    fake.addCategory({ id: 2, name: 'Support', slug: 'support' });
    const { topic, first } = fake.addTopic({
      title: 'CSV export drops the header row',
      category: 2,
      tags: ['export', 'bug'],
      by: 'ana',
      text: 'Exporting to <b>CSV</b> loses the header row since 2.3.',
    });
    const r1 = fake.reply(topic.id, { by: 'ben', text: 'Same here on 2.3.1', replyTo: 1 });
    const r2 = fake.reply(topic.id, { by: 'cleo', text: 'Set <code>export.header: true</code> as a workaround.', replyTo: 1 });
    fake.like(first, 3);
    fake.accept(r2);
    const got = await pull(connect(fake));
    expect(got.messages.map((m) => m.externalId).sort()).toEqual([`${topic.id}/1`, `${topic.id}/2`, `${topic.id}/3`]);
    const root = got.messages.find((m) => m.externalId === `${topic.id}/1`)!;
    expect(root).toMatchObject({
      channel: 'support',
      channelName: 'Support',
      subject: 'CSV export drops the header row',
      threadId: null,
      replyTo: null,
      reactions: { like: 3 },
      labels: ['Support', 'export', 'bug'],
    });
    expect(root.text).toBe('Exporting to CSV loses the header row since 2.3.');
    expect(root.author).toMatchObject({ id: '127.0.0.1/ana', name: 'Ana' }); // discourse:<forum host>/<username>
    expect(root.permalink).toBe(`${fake.url}/t/${topic.slug}/${topic.id}/1`);
    const reply = got.messages.find((m) => m.externalId === `${topic.id}/${r1.post_number}`)!;
    expect(reply).toMatchObject({ threadId: `${topic.id}/1`, replyTo: `${topic.id}/1` });
    expect(got.messages.find((m) => m.externalId === `${topic.id}/3`)!.labels).toContain('accepted-answer');
    expect(reply.labels).not.toContain('accepted-answer');
  });

  it('sees edits, likes, a newly accepted answer and deletions (a post, a whole topic) on the next pull', async () => {
    const now = recentClock();
    fake = await FakeDiscourse.start({ pageSize: 2, now });
    const a = fake.addTopic({ title: 'Dark mode for the dashboard', text: 'Please add a dark mode' });
    const a2 = fake.reply(a.topic.id, { by: 'ben', text: 'Yes please' });
    const a3 = fake.reply(a.topic.id, { by: 'cleo', text: 'It is on the roadmap' });
    const b = fake.addTopic({ title: 'Login loop with SSO', text: 'Okta login loops forever', by: 'dan' });
    const conn = connect(fake, {}, deps(now));
    const first = await pull(conn);
    expect(first.messages).toHaveLength(4);
    fake.edit(a.first, 'Please add a dark mode, the white background hurts at night');
    fake.like(a2);
    fake.accept(a3);
    fake.deletePost(a2);
    fake.deleteTopic(b.topic.id);
    const second = await pull(connect(fake, {}, deps(now)), first.cursor);
    const byId = new Map(second.messages.map((m) => [m.externalId, m]));
    expect(byId.get(`${a.topic.id}/1`)).toMatchObject({ text: 'Please add a dark mode, the white background hurts at night' });
    expect(byId.get(`${a.topic.id}/1`)!.editedAt).toBeTypeOf('number');
    expect(byId.get(`${a.topic.id}/2`)).toMatchObject({ deleted: true, channel: 'feedback' });
    expect(byId.get(`${a.topic.id}/3`)!.labels).toContain('accepted-answer');
    expect(byId.get(`${b.topic.id}/1`)).toMatchObject({ deleted: true });
    expect(second.messages).toHaveLength(4);
    // Nothing changed since: a third pull hands out nothing.
    const third = await pull(connect(fake, {}, deps(now)), second.cursor);
    expect(third.messages).toEqual([]);
  });

  it('a configured private category the key cannot read is a gap; the readable ones are read', async () => {
    fake = await FakeDiscourse.start();
    fake.addCategory({ id: 3, name: 'Staff', slug: 'staff', read_restricted: true, readers: ['moderator'] });
    fake.addTopic({ title: 'Internal roadmap', category: 3, by: 'moderator' });
    const pub = fake.addTopic({ title: 'Feature: webhooks', category: 1 });
    const got = await pull(connect(fake, { apiUsername: 'ana', categories: ['feedback', 'staff'] }));
    expect(got.messages.map((m) => m.externalId)).toEqual([`${pub.topic.id}/1`]);
    expect(got.gaps).toHaveLength(1);
    expect(got.gaps[0]).toMatchObject({ channel: 'staff' });
    expect(got.gaps[0]!.reason).toMatch(/category staff is not visible/);
  });

  it('only the configured categories are read', async () => {
    fake = await FakeDiscourse.start();
    fake.addCategory({ id: 2, name: 'Support', slug: 'support' });
    fake.addTopic({ title: 'Support question', category: 2 });
    const f = fake.addTopic({ title: 'Feedback item', category: 1 });
    const got = await pull(connect(fake, { categories: ['feedback'] }));
    expect(got.messages.map((m) => m.externalId)).toEqual([`${f.topic.id}/1`]);
  });

  it('a 500 storm: retried within the budget; past it the pull fails and the next one resumes with no gap and no duplicate', async () => {
    fake = await FakeDiscourse.start({ pageSize: 3 });
    const ids = fake.addMessages(10);
    fake.failNext(500, 2, /^\/posts\.json/);
    const ok = await pull(connect(fake, { retries: 3 }));
    for (const id of ids) expect(ok.messages.map((m) => m.externalId)).toContain(id);

    await fake.stop();
    fake = await FakeDiscourse.start({ pageSize: 3 });
    const ids2 = fake.addMessages(10);
    // Each pull gets one feed page in, then meets two 500s in a row and gives up (retries: 1); the next resumes.
    const { ids: seen, errors } = await pullUntilDone(connect(fake, { retries: 1 }), () => fake.failNext(500, 2, /^\/posts\.json/, 1));
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).toMatchObject({ name: 'ConnectorError', kind: 'net' });
    expect([...seen].sort()).toEqual([...ids2, `${ids2[0]!.split('/')[0]}/1`].sort());
  });

  it('waits out a 429 on a topic read too, counted in rateLimitedMs', async () => {
    fake = await FakeDiscourse.start();
    fake.addTopic({ title: 'Slow sync' });
    fake.rateLimitNext(1, /^\/t\//);
    const got = await pull(connect(fake));
    expect(got.messages).toHaveLength(1);
    expect(got.rateLimitedMs).toBe(1000);
  });

  it('anonymous on a public forum works; on a login-required one it is an auth error naming apiKey; a bad key never appears in the error', async () => {
    fake = await FakeDiscourse.start();
    fake.addTopic({ title: 'Public topic' });
    const anon = await pull(connect(fake, { apiKey: undefined, apiUsername: undefined }));
    expect(anon.messages).toHaveLength(1);
    expect(fake.requests.some((r) => r.user === null)).toBe(true);
    await fake.stop();
    fake = await FakeDiscourse.start({ loginRequired: true });
    const err = await pull(connect(fake, { apiKey: undefined, apiUsername: undefined })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).kind).toBe('auth');
    expect((err as Error).message).toMatch(/set apiKey/);
    const bad = await pull(connect(fake, { apiKey: 'wrong-secret-key-value' })).then(
      () => null,
      (e: unknown) => e,
    );
    expect((bad as ConnectorError).kind).toBe('auth');
    expect((bad as Error).message).not.toContain('wrong-secret-key-value');
  });

  it('live(): catches up, then polls every pollIntervalSeconds until aborted', async () => {
    fake = await FakeDiscourse.start();
    fake.addTopic({ title: 'Before live' });
    const sleeps: number[] = [];
    const ac = new AbortController();
    const d: ConnectorDeps = {
      ...deps(),
      sleep: async (ms, signal) => {
        sleeps.push(ms);
        if (sleeps.length === 1) fake.addTopic({ title: 'During live' });
        else ac.abort();
        return !signal?.aborted;
      },
    };
    const conn = connect(fake, { pollIntervalSeconds: 30 }, d);
    const titles: string[] = [];
    for await (const page of conn.live!(undefined, ac.signal)) {
      for (const raw of page.items) {
        const m = conn.normalize(raw, { source: 't' }) as RawMessage;
        titles.push(m.subject ?? '');
      }
    }
    expect(titles).toEqual(['Before live', 'During live']);
    expect(sleeps[0]).toBe(30_000);
  });

  it('is registered with its config schema and secret keys; apiUsername without apiKey is refused', () => {
    expect(discourseDefinition.secretKeys).toEqual(['apiKey']);
    expect(discourseConfigSchema.safeParse({ url: 'https://forum.example.org', apiUsername: 'system' }).success).toBe(false);
    expect(discourseConfigSchema.safeParse({ url: 'https://forum.example.org' }).success).toBe(true);
  });
});

describe('discourse in the pipeline', () => {
  it("one forum's revoked key stops only that source; coverage and the private category's gap show on the sources page; an edited post updates and a deleted one leaves the counts", async () => {
    const now = recentClock();
    const good = await FakeDiscourse.start({ now });
    const broken = await FakeDiscourse.start({ now });
    try {
      const t = good.addTopic({ title: 'Sync fails on large vaults', text: 'Sync fails when the vault has more than 10k notes', by: 'ana' });
      const r = good.reply(t.topic.id, { by: 'ben', text: 'Same here with 12k notes', replyTo: 1 });
      good.addTopic({ title: 'Please add a CLI', by: 'cleo' });
      good.addCategory({ id: 3, name: 'Staff', slug: 'staff', read_restricted: true, readers: ['moderator'] });
      broken.addTopic({ title: 'Never read' });
      broken.revokeAuth();
      const app = await openApp({ db: join(mkdtempSync(join(tmpdir(), 'gl-discourse-')), 'g.db'), redisUrl: null, configObject: parseConfig(''), now });
      const src = (name: string, f: FakeDiscourse) =>
        ({ name, platform: 'discourse', enabled: true, url: f.url, apiKey: f.apiKey, apiUsername: 'ana', categories: ['feedback', 'staff'] }) as SourceConfig;
      const [a, b] = [await pullSource(app, src('forum', good), new AbortController().signal), await pullSource(app, src('other-forum', broken), new AbortController().signal)];
      expect(a.error).toBeNull();
      expect(a.messages).toBe(3);
      expect(b.error).toMatch(/refused the API key/);
      expect(b.error).not.toContain(broken.apiKey);
      let stats = await storeStats(app.db);
      expect(stats.sources.find((s) => s.name === 'forum')).toMatchObject({ platform: 'discourse', messages: 3 });
      // Coverage and gaps, as `gleaner stats` and the web UI's sources page show them.
      expect(stats.sources.find((s) => s.name === 'forum')!.gaps.map((g) => g.channel)).toEqual(['staff']);
      const { sources } = await listSources(app.db);
      const page = new Map(sources.map((x) => [x.name, x]));
      expect(page.get('forum')).toMatchObject({ platform: 'discourse', lastError: null });
      expect(page.get('forum')!.channels.map((ch) => ch.name)).toEqual(['Feedback']);
      expect(page.get('forum')!.gaps[0]!.reason).toMatch(/category staff is not visible/);
      expect(page.get('other-forum')!.lastError).toMatch(/authentication failed/);
      good.edit(t.first, 'Sync fails when the vault has more than 10k notes (also on 2.4)');
      good.deletePost(r);
      const again = await pullSource(app, src('forum', good), new AbortController().signal);
      expect(again.error).toBeNull();
      stats = await storeStats(app.db);
      expect(stats.sources.find((s) => s.name === 'forum')!.messages).toBe(2);
      const row = await app.db.selectFrom('messages').select(['text']).where('external_id', '=', `${t.topic.id}/1`).executeTakeFirstOrThrow();
      expect(row.text).toContain('also on 2.4');
      await app.close();
    } finally {
      await good.stop();
      await broken.stop();
    }
  });
});

describe('discourse through `gleaner listen`', () => {
  it('listenSource catches up, then the next poll brings a new topic, until aborted', async () => {
    const fake = await FakeDiscourse.start();
    try {
      fake.addTopic({ title: 'Before listening' });
      const app = await openApp({ db: join(mkdtempSync(join(tmpdir(), 'gl-discourse-listen-')), 'g.db'), redisUrl: null, configObject: parseConfig('') });
      const ac = new AbortController();
      const running = listenSource(app, { name: 'forum', platform: 'discourse', enabled: true, url: fake.url, pollIntervalSeconds: 5 }, ac.signal);
      const count = async () => (await storeStats(app.db)).sources.find((x) => x.name === 'forum')?.messages ?? 0;
      const until = async (n: number) => {
        for (let i = 0; i < 200 && (await count()) < n; i++) await new Promise((r) => setTimeout(r, 50));
        return count();
      };
      expect(await until(1)).toBe(1);
      fake.addTopic({ title: 'While listening' });
      expect(await until(2)).toBe(2);
      ac.abort();
      expect((await running).error).toBeNull();
      await app.close();
    } finally {
      await fake.stop();
    }
  });
});

describe('discourse topics importer', () => {
  it('is registered, detects the dump, and reads the sample forum with labels and the accepted answer', async () => {
    const file = join(here, '..', '..', 'examples', 'discourse', 'lumen-forum-topics.json');
    const { readFileSync } = await import('node:fs');
    expect(importerFor('discourse-topics')).toBe(discourseTopicsImporter);
    expect(discourseTopicsImporter.detect(file, readFileSync(file).subarray(0, 4096))).toBe(true);
    const pages: ImportPage[] = [];
    for await (const p of discourseTopicsImporter.read(file, { source: 'forum' })) pages.push(p);
    const msgs = pages.flatMap((p) => p.items).map((i) => discourseTopicsImporter.normalize(i.raw, { source: 'forum' })) as Array<RawMessage | Skip>;
    const kept = msgs.filter((m): m is RawMessage => !isSkip(m));
    expect(pages.flatMap((p) => p.quarantine)).toEqual([]);
    expect(kept.length).toBeGreaterThanOrEqual(10);
    expect(kept.some((m) => m.labels?.includes('accepted-answer'))).toBe(true);
    expect(new Set(kept.map((m) => m.threadId ?? m.externalId)).size).toBeGreaterThanOrEqual(4);
  });

  it('quarantines a malformed topic and a malformed post with their place, and reads the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-dc-'));
    const file = join(dir, 'topics.json');
    writeFileSync(
      file,
      JSON.stringify({
        discourse: 'https://forum.example.org',
        categories: [{ id: 1, name: 'Feedback', slug: 'feedback' }],
        topics: [
          { id: 'x' },
          {
            id: 5,
            title: 'Ok',
            slug: 'ok',
            category_id: 1,
            post_stream: { posts: [{ id: 1, topic_id: 5, post_number: 1, username: 'ana', created_at: '2026-01-02T03:04:05Z', cooked: '<p>hello</p>' }, { id: 2 }] },
          },
        ],
      }),
    );
    const pages: ImportPage[] = [];
    for await (const p of discourseTopicsImporter.read(file, { source: 'forum' })) pages.push(p);
    const q = pages.flatMap((p) => p.quarantine);
    expect(q).toHaveLength(1);
    expect(q[0]!.location).toBe(`${file}:topics[0]`);
    const items = pages.flatMap((p) => p.items);
    expect(items).toHaveLength(2);
    expect(discourseTopicsImporter.normalize(items[0]!.raw, { source: 'f' })).toMatchObject({ externalId: '5/1', text: 'hello', channel: 'feedback' });
    expect(() => discourseTopicsImporter.normalize(items[1]!.raw, { source: 'f' })).toThrow(/malformed Discourse post/);
    expect(items[1]!.location).toBe(`${file}:topics[1].post_stream.posts[1]`);
  });
});
