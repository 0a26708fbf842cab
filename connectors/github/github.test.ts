// GitHub: the connector contract against the fake API (driven by @octokit/rest and its graphql), Issues
// and Discussions behaviour (threads, labels, PRs left out, answers, edits, ETags, 👍 reactors as me-too
// voices, rate limits, 500s, unreadable repositories, GitHub Enterprise base URLs), and the dump importer.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connectorContract } from '../../test/contract/connector-contract.js';
import { pullAll, pullUntilDone } from '../../test/support/connector-pull.js';
import { FakeGithub } from '../../test/fakes/github.js';
import { FakeDiscourse } from '../../test/fakes/discourse.js';
import { openApp, startWorkers } from '../../src/app.js';
import { parseConfig, type SourceConfig } from '../../src/config/index.js';
import { pullSource } from '../../src/runner/pull.js';
import { runCluster } from '../../src/stages/cluster.js';
import { storeStats } from '../../src/store/queries.js';
import { isSkip, type RawMessage, type Skip } from '../../src/model/index.js';
import { reporterVoicings, type PriorityMessage } from '../../src/pipeline/priority.js';
import { abortableSleep, ConnectorError, type ConnectorDeps, type ImportPage } from '../types.js';
import { importerFor } from '../index.js';
import { createGithubConnector, ME_TOO_TEXT, githubConfigSchema, githubDefinition, githubDumpImporter, type GithubConfigInput, type GithubCursor } from './index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const logs: string[] = [];
const deps: ConnectorDeps = { source: 'gh-test', now: Date.now, sleep: abortableSleep, log: (_l, msg) => logs.push(msg) };
const REPO = 'driftwood/driftwood';

function connect(fake: FakeGithub, extra: Partial<GithubConfigInput> = {}, d: ConnectorDeps = deps) {
  const cfg = githubConfigSchema.parse({ baseUrl: fake.url, repos: [REPO], token: fake.token, pageSize: 5, retries: 2, ...extra });
  return createGithubConnector(cfg, d, { retryAfterBaseMs: 5 });
}

// The contract's messages are issue comments (REST). Discussions go through GraphQL, which the throttling
// plugin paces at one request a second: they have their own tests below.
connectorContract('github', {
  async start() {
    const fake = await FakeGithub.start();
    return { connector: connect(fake, { discussions: false }), fake, pageSize: 5, stop: () => fake.stop() };
  },
  reconnect: (under) => connect(under.fake as FakeGithub, { discussions: false }),
});

const pull = (conn: ReturnType<typeof connect>, from?: GithubCursor) => pullAll(conn, from, 'gh-test');

describe('github issues over REST', () => {
  let fake: FakeGithub;
  afterEach(async () => fake?.stop());

  it('reads issues and comments as threads with labels; pull requests and their comments are left out', async () => {
    fake = await FakeGithub.start();
    const bug = fake.addIssue(REPO, {
      title: 'Tide tables off by one hour after DST',
      body: 'Since the switch to winter time <!-- template --> every tide is an hour late.',
      user: 'Marisol',
      labels: ['bug', 'area:tides'],
    });
    const c1 = fake.comment(REPO, bug, { body: 'Confirmed on 0.9.2, the offset is applied twice.', user: 'keeper' });
    const pr = fake.addIssue(REPO, { title: 'Fix DST offset', pull: true });
    fake.comment(REPO, pr, { body: 'LGTM' });
    const got = await pull(connect(fake, { discussions: false }));
    expect(got.messages.map((m) => m.externalId)).toEqual([bug.node_id, c1.node_id]);
    const [issue, comment] = got.messages as [RawMessage, RawMessage];
    expect(issue).toMatchObject({
      channel: `${REPO}/issues`,
      subject: 'Tide tables off by one hour after DST',
      labels: ['bug', 'area:tides'],
      author: { id: 'marisol', name: 'Marisol' },
      permalink: `https://github.com/${REPO}/issues/1`,
    });
    expect(issue.text).toBe('Tide tables off by one hour after DST\n\nSince the switch to winter time  every tide is an hour late.');
    expect(comment).toMatchObject({ threadId: bug.node_id, replyTo: bug.node_id, subject: bug.title, author: { id: 'keeper' } });
    expect(got.skips.map((s) => s.reason)).toEqual(['github pull request (not read)', 'github pull request comment (not read)']);
  });

  it("a 👍 on an issue counts its reactor as a me-too voice ('+1' replying to it, which the reporters stage counts); taking it back withdraws it", async () => {
    fake = await FakeGithub.start();
    const issue = fake.addIssue(REPO, { title: 'Offline mode for the tide app', body: 'Please let the app work without a connection at sea.', user: 'marisol' });
    fake.thumbsUp(issue, 'Bo');
    fake.thumbsUp(issue, 'carla');
    const first = await pull(connect(fake, { discussions: false }));
    const votes = first.messages.filter((m) => m.text === ME_TOO_TEXT);
    expect(votes.map((m) => m.author.id).sort()).toEqual(['bo', 'carla']);
    expect(votes.every((m) => m.replyTo === issue.node_id && m.threadId === issue.node_id && m.permalink === `https://github.com/${REPO}/issues/1`)).toBe(true);
    expect(first.messages.find((m) => m.externalId === issue.node_id)!.reactions).toEqual({ '+1': 2 });
    // The reporters stage, as it is: the raiser and the two 👍 as me-too.
    const pm = (m: RawMessage, i: number): PriorityMessage => ({
      messageId: i + 1,
      conversationId: 1,
      personId: i + 1,
      personName: m.author.id,
      org: null,
      segment: 'community',
      at: m.sentAt,
      text: m.text,
      channel: m.channel,
      platform: 'github',
      permalink: null,
    });
    const msgs = first.messages.map(pm);
    const voiced = reporterVoicings([{ itemId: 1, reportMessageId: 1, messages: msgs }]);
    expect(voiced.map((v) => `${v.role}:${v.message.personName}`).sort()).toEqual(['me-too:bo', 'me-too:carla', 'raised:marisol']);
    fake.unThumb(issue, 'Bo');
    const second = await pull(connect(fake, { discussions: false }), first.cursor);
    const withdrawn = second.messages.find((m) => m.externalId === `${issue.node_id}/+1/bo`);
    expect(withdrawn).toMatchObject({ deleted: true });
    expect(second.messages.filter((m) => m.text === ME_TOO_TEXT && !m.deleted)).toEqual([]);
  });

  it('an edited comment comes again with its new text; an unchanged repository is asked with If-None-Match and answered 304 (the catch-up after the first)', async () => {
    fake = await FakeGithub.start();
    const issue = fake.addIssue(REPO, { title: 'Export to GPX' });
    const c = fake.comment(REPO, issue, { body: 'Would love GPX export' });
    const first = await pull(connect(fake, { discussions: false }));
    expect(first.messages).toHaveLength(2);
    // The first catch-up asks from the newest instant read (a new request); from the next one on, the
    // same request goes with its ETag and an unchanged answer is a 304.
    const settle = await pull(connect(fake, { discussions: false }), first.cursor);
    expect(settle.messages).toEqual([]);
    const quiet = await pull(connect(fake, { discussions: false }), settle.cursor);
    expect(quiet.messages).toEqual([]);
    expect(fake.requests.filter((r) => r.status === 304).length).toBe(2);
    fake.editComment(c, 'Would love GPX export, and KML too');
    const second = await pull(connect(fake, { discussions: false }), quiet.cursor);
    expect(second.messages.map((m) => m.text)).toEqual(['Would love GPX export, and KML too']);
    expect(second.messages[0]!.editedAt).toBeTypeOf('number');
  });

  it('a deleted comment, and a deleted issue with its comments, are handed out as deleted on the next pull', async () => {
    fake = await FakeGithub.start();
    fake.setClock(Date.now() - 3600_000);
    const a = fake.addIssue(REPO, { title: 'Tides wrong for Porto' });
    const a1 = fake.comment(REPO, a, { body: 'Same for Lisbon' });
    const a2 = fake.comment(REPO, a, { body: 'Spam link' });
    const b = fake.addIssue(REPO, { title: 'Duplicate report' });
    const b1 = fake.comment(REPO, b, { body: 'Closing as duplicate' });
    const first = await pull(connect(fake, { discussions: false }));
    expect(first.messages).toHaveLength(5);
    fake.deleteComment(a2);
    fake.deleteIssue(b);
    const second = await pull(connect(fake, { discussions: false }), first.cursor);
    expect(
      second.messages
        .filter((m) => m.deleted)
        .map((m) => m.externalId)
        .sort(),
    ).toEqual([a2.node_id, b.node_id, b1.node_id].sort());
    expect(second.messages.filter((m) => !m.deleted)).toEqual([]);
    expect(second.messages.find((m) => m.externalId === a2.node_id)!.channel).toBe(`${REPO}/issues`);
    const third = await pull(connect(fake, { discussions: false }), second.cursor);
    expect(third.messages).toEqual([]);
    void a1;
  });

  it('waits out a primary limit (403, x-ratelimit-remaining 0, until reset) and a secondary one (retry-after), counting both', async () => {
    fake = await FakeGithub.start();
    fake.addMessages(3);
    fake.rateLimitNext(1, 'primary', /\/issues$/);
    fake.rateLimitNext(1, 'secondary', /\/comments$/);
    const got = await pull(connect(fake, { discussions: false }));
    expect(got.messages).toHaveLength(4);
    expect(got.rateLimitedMs).toBeGreaterThanOrEqual(2000);
  });

  it('a 500 storm is retried by the retry plugin; past its retries the pull fails as net and the next resumes with nothing lost or repeated', async () => {
    fake = await FakeGithub.start();
    const ids = fake.addMessages(12);
    fake.failNext(2, /\/comments$/);
    const ok = await pull(connect(fake, { discussions: false }));
    for (const id of ids) expect(ok.messages.map((m) => m.externalId)).toContain(id);
    // Two pulls meet two 500s in a row on the comments (retries: 1) and give up; the third ends cleanly.
    const { ids: seen, errors } = await pullUntilDone(connect(fake, { discussions: false, retries: 1 }), (attempt) => attempt < 2 && fake.failNext(2, /\/comments$/));
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e).toMatchObject({ name: 'ConnectorError', kind: 'net' });
    expect(seen.filter((x) => ids.includes(x)).sort()).toEqual([...ids].sort());
  });

  it('a repository the token cannot see is a gap for it; the other is read; a refused token stops the source without showing it', async () => {
    fake = await FakeGithub.start();
    fake.addIssue(REPO, { title: 'Readable' });
    const got = await pull(connect(fake, { repos: ['driftwood/secret', REPO], discussions: true }));
    expect(got.messages.map((m) => m.subject)).toEqual(['Readable']);
    expect(got.gaps.map((g) => g.channel)).toEqual(['driftwood/secret/issues', 'driftwood/secret/discussions']);
    expect(got.gaps[1]!.reason).toMatch(/Could not resolve to a Repository/);
    fake.revokeAuth();
    const err = await pull(connect(fake)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).kind).toBe('auth');
    expect((err as Error).message).not.toContain(fake.token);
  });

  it('GitHub Enterprise: baseUrl https://HOST/api/v3 serves REST there and GraphQL at /api/graphql', async () => {
    fake = await FakeGithub.start();
    fake.addIssue(REPO, { title: 'On GHE' });
    fake.addDiscussion(REPO, { title: 'GHE discussion', body: 'hello' });
    const got = await pull(connect(fake, { baseUrl: `${fake.url}/api/v3` }));
    expect(got.messages.map((m) => m.subject).sort()).toEqual(['GHE discussion', 'On GHE']);
    expect(fake.requests.some((r) => r.path.startsWith('/api/graphql'))).toBe(true);
    expect(fake.requests.some((r) => r.path.startsWith('/api/v3/repos/'))).toBe(true);
  });

  it('live(): catches up, then polls every pollIntervalSeconds until aborted', async () => {
    fake = await FakeGithub.start();
    fake.addIssue(REPO, { title: 'Before live' });
    const sleeps: number[] = [];
    const ac = new AbortController();
    const d: ConnectorDeps = {
      ...deps,
      sleep: async (ms, signal) => {
        sleeps.push(ms);
        if (sleeps.length === 1) fake.addIssue(REPO, { title: 'During live' });
        else ac.abort();
        return !signal?.aborted;
      },
    };
    const conn = connect(fake, { discussions: false, pollIntervalSeconds: 30 }, d);
    const titles: string[] = [];
    for await (const page of conn.live!(undefined, ac.signal)) for (const raw of page.items) titles.push((conn.normalize(raw, { source: 't' }) as RawMessage).subject ?? '');
    expect(titles).toEqual(['Before live', 'During live']);
    expect(sleeps[0]).toBe(30_000);
  });

  it('is registered with its config schema and secret keys', () => {
    expect(githubDefinition.secretKeys).toEqual(['token']);
    expect(githubConfigSchema.parse({ repos: [REPO], token: 't' })).toMatchObject({ baseUrl: 'https://api.github.com', discussions: true, issues: true });
    expect(githubConfigSchema.safeParse({ repos: ['not-a-repo'], token: 't' }).success).toBe(false);
  });
});

describe('github discussions over GraphQL', () => {
  let fake: FakeGithub;
  afterEach(async () => fake?.stop());

  it('reads discussions with comments, replies, category, labels, the answer, upvotes and 👍 reactors; an edit or a new answer brings the discussion again; a resume repeats nothing', async () => {
    fake = await FakeGithub.start();
    fake.setClock(Date.now() - 3600_000);
    const d = fake.addDiscussion(REPO, { title: 'Idea: harbour webcams in the app', body: 'Seeing the harbour before leaving would help.', author: 'marisol', category: 'Ideas', labels: ['feature'] });
    const c = fake.discussionComment(d, { body: 'The harbour office already streams one.', author: 'keeper' });
    const r = fake.discussionComment(d, { body: 'Good to know, thanks', author: 'marisol', replyTo: c });
    fake.upvote(d, 3);
    fake.thumbsUp(d, 'bo');
    const other = fake.addDiscussion(REPO, { title: 'How do I add a custom port?', body: 'Is there a way to add my own port?', author: 'dana', category: 'Q&A' });
    const ans = fake.discussionComment(other, { body: 'Settings, then Ports, then Add.', author: 'keeper' });
    fake.markAnswer(other, ans);
    const conn = connect(fake, { issues: false, pageSize: 1 });
    const first = await pull(conn);
    const byId = new Map(first.messages.map((m) => [m.externalId, m]));
    expect(byId.get(d.id)).toMatchObject({ channel: `${REPO}/discussions`, labels: ['Ideas', 'feature'], reactions: { '+1': 1, upvote: 3 }, subject: d.title });
    expect(byId.get(c.id)).toMatchObject({ threadId: d.id, replyTo: d.id });
    expect(byId.get(r.id)).toMatchObject({ threadId: d.id, replyTo: c.id });
    expect(byId.get(ans.id)!.labels).toEqual(['accepted-answer']);
    expect(byId.get(`${d.id}/+1/bo`)).toMatchObject({ text: ME_TOO_TEXT, replyTo: d.id });
    expect(first.messages).toHaveLength(6);
    const quiet = await pull(connect(fake, { issues: false, pageSize: 1 }), first.cursor);
    expect(quiet.messages).toEqual([]);
    fake.editPost(d, c, 'The harbour office streams one at harbour.example/cam.');
    const again = await pull(connect(fake, { issues: false, pageSize: 1 }), quiet.cursor);
    expect(again.messages.find((m) => m.externalId === c.id)!.text).toBe('The harbour office streams one at harbour.example/cam.');
    expect(again.messages.some((m) => m.externalId === other.id)).toBe(false);
    fake.deleteDiscussionComment(d, c);
    const gone = await pull(connect(fake, { issues: false, pageSize: 1 }), again.cursor);
    // A deleted comment takes its replies with it.
    expect(
      gone.messages
        .filter((m) => m.deleted)
        .map((m) => m.externalId)
        .sort(),
    ).toEqual([c.id, r.id].sort());
  }, 60_000);
});

describe('github discussions past the first page', () => {
  let fake: FakeGithub;
  afterEach(async () => fake?.stop());

  /** A discussion with 230 comments; the first has 150 replies, the 151st 120; 150 👍. And a small one. */
  function bigDiscussion() {
    fake.setClock(Date.now() - 3 * 3600_000);
    const d = fake.addDiscussion(REPO, { title: 'Release 1.0 feedback thread', body: 'Tell us how 1.0 works for you.', author: 'marisol' });
    const comments = Array.from({ length: 230 }, (_, k) => fake.discussionComment(d, { body: `comment ${k}`, author: `user${k % 40}` }));
    const replies = [
      ...Array.from({ length: 150 }, (_, k) => fake.discussionComment(d, { body: `reply ${k} to the first`, author: `user${k % 30}`, replyTo: comments[0] })),
      ...Array.from({ length: 120 }, (_, k) => fake.discussionComment(d, { body: `reply ${k} to the 151st`, author: 'keeper', replyTo: comments[150] })),
    ];
    for (let k = 0; k < 150; k++) fake.thumbsUp(d, `fan${k}`);
    const small = fake.addDiscussion(REPO, { title: 'Small one', body: 'Just one comment here.' });
    const smallComment = fake.discussionComment(small, { body: 'Only comment' });
    return { d, posts: [...comments, ...replies], small, smallComment };
  }
  const graphqlCalls = () => fake.requests.filter((r) => r.path.endsWith('/graphql')).length;

  it('reads more than 100 comments, replies and 👍 reactors by cursor, each exactly once, asking further pages only where there are more; stored once each', async () => {
    fake = await FakeGithub.start();
    const { d, posts, small, smallComment } = bigDiscussion();
    logs.length = 0;
    const got = await pull(connect(fake, { issues: false }));
    const ids = got.messages.map((m) => m.externalId);
    expect(new Set(ids).size).toBe(ids.length);
    const postIds = new Set(posts.map((p) => p.id));
    expect(ids.filter((id) => postIds.has(id)).sort()).toEqual([...postIds].sort());
    expect(got.messages.filter((m) => postIds.has(m.externalId) && m.text.startsWith('reply ')).every((m) => m.replyTo === posts[0]!.id || m.replyTo === posts[150]!.id)).toBe(true);
    const fans = got.messages.filter((m) => m.text === ME_TOO_TEXT && m.replyTo === d.id).map((m) => m.author.id);
    expect(new Set(fans).size).toBe(150);
    expect(ids).toEqual(expect.arrayContaining([d.id, small.id, smallComment.id]));
    expect(got.messages).toHaveLength(1 + 230 + 270 + 150 + 2);
    expect(got.gaps).toEqual([]);
    expect(logs.filter((l) => /discussion/.test(l))).toEqual([]);
    // The listing (1); comments after 100 and 200 (2); the first comment's replies after 30 and 130 (2); the
    // 151st's after 100 (1); 👍 after 100 (1). The small discussion asks nothing more.
    expect(graphqlCalls()).toBe(7);
    // Through the pipeline into the store: each once.
    const app = await openApp({ db: join(mkdtempSync(join(tmpdir(), 'gl-gh-')), 'g.db'), redisUrl: null, configObject: parseConfig('') });
    try {
      const src = { name: 'gh', platform: 'github', enabled: true, baseUrl: fake.url, repos: [REPO], token: fake.token, issues: false } as SourceConfig;
      expect((await pullSource(app, src, new AbortController().signal)).error).toBeNull();
      expect((await storeStats(app.db)).sources.find((s) => s.name === 'gh')!.messages).toBe(1 + 230 + 270 + 150 + 2);
      const stored = await app.db.selectFrom('messages').select(['external_id']).execute();
      expect(new Set(stored.map((r) => r.external_id)).size).toBe(stored.length);
    } finally {
      await app.close();
    }
  }, 120_000);

  it('past maxDiscussionComments the rest is a gap naming the discussion; counted 👍 and comments are not withdrawn for it', async () => {
    fake = await FakeGithub.start();
    const { d } = bigDiscussion();
    logs.length = 0;
    const first = await pull(connect(fake, { issues: false, maxDiscussionComments: 120 }));
    const posts = first.messages.filter((m) => m.threadId === d.id && m.externalId !== d.id && m.text !== ME_TOO_TEXT);
    expect(posts).toHaveLength(120);
    expect(first.messages.filter((m) => m.text === ME_TOO_TEXT && m.replyTo === d.id)).toHaveLength(120);
    expect(first.gaps).toHaveLength(1);
    expect(first.gaps[0]).toMatchObject({ channel: `${REPO}/discussions`, from: Date.parse(d.createdAt), to: Date.parse(d.updatedAt) });
    expect(first.gaps[0]!.reason).toContain(`discussion #${d.number} (${d.id})`);
    expect(first.gaps[0]!.reason).toContain('120 of 150 👍 reactors counted');
    expect(logs.some((l) => l.includes(d.id) && l.includes('maxDiscussionComments 120'))).toBe(true);
    // Read again (a new 👍): nothing handed out before is withdrawn because the bound cut it off.
    fake.thumbsUp(d, 'latecomer');
    const again = await pull(connect(fake, { issues: false, maxDiscussionComments: 120 }), first.cursor);
    expect(again.messages.filter((m) => m.deleted)).toEqual([]);
  }, 120_000);
});

describe('github dump importer', () => {
  it('is registered, detects the dump, and reads the sample repository', async () => {
    const file = join(here, '..', '..', 'examples', 'github', 'lumen-github.json');
    expect(importerFor('github-dump')).toBe(githubDumpImporter);
    expect(githubDumpImporter.detect(file, readFileSync(file).subarray(0, 4096))).toBe(true);
    const pages: ImportPage[] = [];
    for await (const p of githubDumpImporter.read(file, { source: 'gh' })) pages.push(p);
    expect(pages.flatMap((p) => p.quarantine)).toEqual([]);
    const msgs = pages.flatMap((p) => p.items).map((i) => githubDumpImporter.normalize(i.raw, { source: 'gh' }) as RawMessage | Skip);
    const kept = msgs.filter((m): m is RawMessage => !isSkip(m));
    expect(kept.length).toBeGreaterThanOrEqual(10);
    expect(kept.some((m) => m.text === ME_TOO_TEXT)).toBe(true);
    expect(kept.some((m) => m.channel.endsWith('/discussions'))).toBe(true);
    expect(
      msgs
        .filter(isSkip)
        .map((s) => s.reason)
        .sort(),
    ).toEqual(['github pull request (not read)', 'github pull request comment (not read)']);
  });
});

describe('github in the pipeline', () => {
  it('a revoked token stops only its source; people entries link github: and discourse: identities, a profile email is kept; an edit updates and a deletion leaves the counts', async () => {
    const good = await FakeGithub.start();
    const broken = await FakeGithub.start();
    const forum = await FakeDiscourse.start();
    try {
      good.setClock(Date.now() - 3600_000);
      good.emails.set('keeper', 'keeper@harbour.example');
      const issue = good.addIssue(REPO, { title: 'Tide alarms do not fire on Android 15', body: 'The alarm set for high tide never rings.', user: 'Marisol' });
      const reply = good.comment(REPO, issue, { body: 'We reproduced it on a Pixel 8.', user: 'keeper' });
      good.thumbsUp(issue, 'bo');
      broken.addIssue(REPO, { title: 'never read' });
      broken.revokeAuth();
      forum.addTopic({ title: 'Tide alarms silent on Android', by: 'marisol', text: 'Since the last update my tide alarms stay silent.' });
      const config = parseConfig(`people:\n  - name: Marisol Reyes\n    identities: ["github:Marisol", "discourse:127.0.0.1/marisol"]\n`);
      const app = await openApp({ db: join(mkdtempSync(join(tmpdir(), 'gl-gh-')), 'g.db'), redisUrl: null, configObject: config });
      const gh = (name: string, f: FakeGithub) => ({ name, platform: 'github', enabled: true, baseUrl: f.url, repos: [REPO], token: f.token, discussions: false }) as SourceConfig;
      const signal = new AbortController().signal;
      const a = await pullSource(app, gh('gh', good), signal);
      const b = await pullSource(app, gh('gh-other', broken), signal);
      const c = await pullSource(app, { name: 'forum', platform: 'discourse', enabled: true, url: forum.url, apiKey: forum.apiKey, apiUsername: 'system' }, signal);
      expect([a.error, c.error]).toEqual([null, null]);
      expect(b.error).toMatch(/authentication failed/);
      expect(b.error).not.toContain(broken.token);
      let stats = await storeStats(app.db);
      expect(stats.sources.find((s) => s.name === 'gh')).toMatchObject({ platform: 'github', messages: 3 });
      startWorkers(app, ['enrich']);
      await app.queue.idle({ queues: ['enrich'] });
      await runCluster(app.ctx, { itemIds: (await app.db.selectFrom('feedback_items').select('id').execute()).map((r) => r.id) });
      const personOf = (kind: string, value: string) =>
        app.db
          .selectFrom('identities as i')
          .innerJoin('people as p', 'p.id', 'i.person_id')
          .select(['i.person_id', 'p.display_name', 'i.email'])
          .where('i.kind', '=', kind)
          .where('i.value', '=', value)
          .executeTakeFirstOrThrow();
      const onGithub = await personOf('github', 'marisol');
      const onForum = await personOf('discourse', '127.0.0.1/marisol');
      expect(onGithub.person_id).toBe(onForum.person_id);
      expect(onGithub.display_name).toBe('Marisol Reyes');
      expect((await personOf('github', 'keeper')).email).toBe('keeper@harbour.example');
      good.editComment(reply, 'We reproduced it on a Pixel 8 and a Galaxy S24.');
      await pullSource(app, gh('gh', good), signal);
      const row = await app.db.selectFrom('messages').select(['text']).where('external_id', '=', reply.node_id).executeTakeFirstOrThrow();
      expect(row.text).toBe('We reproduced it on a Pixel 8 and a Galaxy S24.');
      good.deleteComment(reply);
      good.unThumb(issue, 'bo');
      expect((await pullSource(app, gh('gh', good), signal)).error).toBeNull();
      stats = await storeStats(app.db);
      expect(stats.sources.find((s) => s.name === 'gh')!.messages).toBe(1);
      await app.close();
    } finally {
      await good.stop();
      await broken.stop();
      await forum.stop();
    }
  });
});
