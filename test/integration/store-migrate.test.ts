// `gleaner migrate --from sqlite:FILE --to postgres://...` on a real PostgreSQL: every table copied with
// its ids, sequences moved past them, search working on the copy, a non-empty target refused unless
// --force, the counts printed.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openDb, type OpenedDb } from '../../src/store/db.js';
import { ingestBatch } from '../../src/stages/ingest-batch.js';
import { ensureSource, storeStats } from '../../src/store/queries.js';
import { saveDetection } from '../../src/stages/save-detections.js';
import { addTag } from '../../src/store/curation.js';
import { createUser, setSetting } from '../../src/store/web/accounts.js';
import { searchConversations, syncSearchIndex } from '../../src/store/web/search.js';
import { copyStore } from '../../src/store/copy.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { msg, tempDir } from '../support/factories.js';

const T0 = Date.UTC(2024, 0, 10, 12, 0, 0);

/** A small installation touching every table: two sources, threads, a copy, feedback, tags, a cluster, a digest, a user, a search index. */
async function fixture(path: string): Promise<void> {
  const s = await openDb(path);
  const db = s.db;
  const chat = await ensureSource(db, 'chat', 'slack', T0);
  const list = await ensureSource(db, 'dev-list', 'mail', T0);
  const r = await ingestBatch(
    db,
    {
      sourceId: chat,
      platform: 'slack',
      normalizerVersion: 1,
      messages: [
        msg({ externalId: 'c1', text: 'Okta login loops after upgrading to 2.4', sentAt: T0, author: { id: 'U1', name: 'Priya', email: 'priya@acme.io' } }),
        msg({ externalId: 'c2', threadId: 'c1', text: 'same here', sentAt: T0 + 60_000, author: { id: 'U2', name: 'Sam' } }),
        msg({ externalId: 'c3', channel: 'help', text: 'How do I export to CSV?', sentAt: T0 + 120_000, author: { id: 'U3', name: 'Mei' } }),
      ],
      raw: [{ externalId: 'c1', payload: '{"ts":"1"}' }],
      cursor: { key: 'general', value: '{"v":1}' },
      quarantine: [{ location: 'export.json:7', reason: 'not JSON', excerpt: '{' }],
      gaps: [{ channel: 'general', from: T0 - 1000, to: T0, reason: 'downtime' }],
    },
    T0,
  );
  await ingestBatch(
    db,
    {
      sourceId: list,
      platform: 'mail',
      normalizerVersion: 1,
      messages: [msg({ externalId: 'a@b', globalKey: 'a@b', subject: 'Build fails', text: 'The build fails on Windows', author: { id: 'priya@acme.io', email: 'priya@acme.io' } })],
    },
    T0,
  );
  const conv = r.conversationIds[0]!;
  const m1 = await db.selectFrom('messages').select('id').where('external_id', '=', 'c1').executeTakeFirstOrThrow();
  const item = (await saveDetection(
    db,
    conv,
    {
      messageId: m1.id,
      isFeedback: true,
      kind: 'bug',
      kindConfidence: 0.8731,
      feedbackConfidence: 0.9,
      sentiment: 'negative',
      modelVersion: 't',
      tags: [{ tag: 'area:auth', provenance: 'rule', confidence: null, version: '1' }],
    },
    T0,
  ))!;
  await addTag(db, item, 'okta', 'devrel', T0);
  const c = await db
    .insertInto('clusters')
    .values({ title: 'Okta login loop', pinned_title: 0, summary: null, kind: 'bug', first_seen: T0, last_seen: T0, created_at: T0, updated_at: T0 })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('cluster_items').values({ cluster_id: c.id, item_id: item, pinned: 0 }).execute();
  await db.insertInto('orgs').values({ name: 'Acme', segment: 'customer', domains: '["acme.io"]' }).execute();
  await db
    .insertInto('digests')
    .values({
      team: 'eng',
      period_start: T0,
      period_end: T0 + 7 * 86_400_000,
      status: 'sent',
      json: '{}',
      html: '<p/>',
      text: '',
      curation: null,
      message_id: '<d@x>',
      created_at: T0,
      approved_at: T0,
      approved_by: 'devrel',
      sent_at: T0,
    })
    .execute();
  await createUser(db, 'devrel', 'admin', 'hash', T0);
  await setSetting(db, 'digest.note', 'hello');
  await syncSearchIndex(db);
  // Stored before NUL characters were dropped at ingest: PostgreSQL text cannot hold them.
  await db.updateTable('raw_items').set({ payload: '{"ts":"1","x":"\u0000"}' }).execute();
  // A deleted row leaves a hole in the ids: the copy keeps ids, the holes too.
  await db.deleteFrom('quarantine').execute();
  await db.insertInto('quarantine').values({ source_id: chat, location: 'x:1', reason: 'bad', excerpt: 'x', created_at: T0 }).execute();
  await s.close();
}

async function runCli(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await main(['node', 'gleaner', ...args]);
    return { out: out.join('\n'), err: err.join('\n'), code: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = before;
    log.mockRestore();
    error.mockRestore();
  }
}

describe('gleaner migrate: SQLite -> PostgreSQL', () => {
  let target: TestDatabase;
  let sqlitePath: string;
  const open: OpenedDb[] = [];

  beforeAll(async () => {
    target = await createTestDatabase(inject('pgUrl'));
    sqlitePath = join(tempDir(), 'gleaner.db');
    await fixture(sqlitePath);
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  afterAll(async () => {
    await target?.drop();
  });

  it('copies every table with its ids, resets sequences, prints verified counts', async () => {
    const r = await runCli(['migrate', '--from', `sqlite:${sqlitePath}`, '--to', target.url]);
    expect(r.err).not.toMatch(/gleaner:/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^messages\s+4\s+4$/m);
    expect(r.out).toMatch(/^quarantine\s+1\s+1$/m);
    expect(r.out).toMatch(/counts verified/);
    expect(r.out).toMatch(/1 text values held NUL/);

    const src = await openDb(sqlitePath);
    const dst = await openDb(target.url);
    open.push(src, dst);
    expect(dst.kind).toBe('postgres');
    for (const table of [
      'sources',
      'channels',
      'raw_items',
      'people',
      'identities',
      'orgs',
      'conversations',
      'messages',
      'message_refs',
      'feedback_items',
      'tags',
      'clusters',
      'cluster_items',
      'digests',
      'checkpoints',
      'gaps',
      'quarantine',
    ] as const) {
      const a = await src.db.selectFrom(table).selectAll().execute();
      const b = await dst.db.selectFrom(table).selectAll().execute();
      // The same columns (PostgreSQL's messages also hold the generated search vector), the same values.
      const keys = Object.keys(a[0] ?? {}).sort();
      const norm = (rows: Array<Record<string, unknown>>) => rows.map((x) => JSON.stringify(keys.map((k) => x[k])).replaceAll('\\u0000', '')).sort();
      expect(a.length, table).toBeGreaterThan(0);
      expect(norm(b), table).toEqual(norm(a));
    }
    expect(await storeStats(dst.db)).toEqual(await storeStats(src.db));
    // Search works on the copy with PostgreSQL's own index.
    const conv = (await dst.db.selectFrom('messages').select('conversation_id').where('external_id', '=', 'c1').executeTakeFirstOrThrow()).conversation_id;
    expect(await searchConversations(dst.db, 'okta upgr')).toEqual([conv]);
    expect(await searchConversations(src.db, 'okta upgr')).toEqual([conv]);
    // New rows get ids past the copied ones (the quarantine id 1 was deleted before the copy, 2 kept).
    const q = await dst.db.insertInto('quarantine').values({ source_id: null, location: 'y', reason: 'r', excerpt: 'e', created_at: T0 }).returning('id').executeTakeFirstOrThrow();
    expect(q.id).toBe(3);
    const next = await ensureSource(dst.db, 'another', 'irc', T0);
    expect(next).toBe(3);
  });

  it('refuses a non-empty target, and replaces it with --force', async () => {
    const refused = await runCli(['migrate', '--from', `sqlite:${sqlitePath}`, '--to', target.url]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/not empty .*--force/);
    const forced = await runCli(['migrate', '--from', sqlitePath, '--to', target.url, '--force', '--batch', '2']);
    expect(forced.err).not.toMatch(/gleaner:/);
    expect(forced.code).toBe(0);
    const dst = await openDb(target.url);
    open.push(dst);
    expect(await dst.db.selectFrom('sources').select('name').orderBy('id').execute()).toEqual([{ name: 'chat' }, { name: 'dev-list' }]);
    expect(await dst.db.selectFrom('messages').select('id').execute()).toHaveLength(4);
  });

  it('says what is wrong with the arguments', async () => {
    expect((await runCli(['migrate', '--from', join(tempDir(), 'missing.db'), '--to', target.url])).err).toMatch(/no SQLite file/);
    expect((await runCli(['migrate', '--from', sqlitePath, '--to', join(tempDir(), 'x.db')])).err).toMatch(/must be a postgres:\/\/ URL/);
    const src = await openDb(sqlitePath);
    open.push(src);
    await expect(copyStore(src.db, src.db)).rejects.toThrow(/from a SQLite file to PostgreSQL/);
  });
});
