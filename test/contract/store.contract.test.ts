// One contract, two implementations: the store on a SQLite file and on a real PostgreSQL (a database of
// its own for this file). Ingest (idempotence, edits, deletes, copies, threading, quarantine and
// cursor in one transaction, rollback), feedback detection, curation, stats and search behave the same.
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { CompiledQuery, sql } from 'kysely';
import { ingestBatch, type IngestBatch } from '../../src/stages/ingest-batch.js';
import { conversationsInPeriod, ensureSource, feedbackFor, getCheckpoint, latestMessageAt, listQuarantine, markSourcePulled, quotesFor, storeStats } from '../../src/store/queries.js';
import { loadConversationMessages } from '../../src/store/feedback.js';
import { saveDetection } from '../../src/stages/save-detections.js';
import { addTag, confirmItem, markNotFeedback, mergeClusters, moveItem, removeTag, renameCluster, splitCluster, untaggedItems } from '../../src/store/curation.js';
import { NotFoundError } from '../../src/errors.js';
import { searchConversations } from '../../src/store/web/search.js';
import type { DbKind, OpenedDb } from '../../src/store/db.js';
import type { DetectedFeedback } from '../../src/pipeline/feedback.js';
import { freshStore, msg } from '../support/factories.js';
import { applyPeopleConfig } from '../../src/stages/people.js';
import { listPeopleWithIdentities, mailListsQuery, markPeopleUnresolved, readRoleMessages, readRoleSignals, readVoters, startedThreadsQuery, votersQuery } from '../../src/store/people.js';
import { roleSignalPeople } from '../../src/pipeline/people.js';
import { postgresSuiteStore, type SuiteStore } from '../support/stores.js';

const T0 = Date.UTC(2024, 0, 10, 12, 0, 0);
const HOUR = 3600_000;

type StoreUnderTest = SuiteStore;

function sqliteStore(): StoreUnderTest {
  return { beforeAll: async () => {}, fresh: () => freshStore(), afterAll: async () => {} };
}

const implementations: Array<[DbKind, () => StoreUnderTest]> = [
  ['sqlite', sqliteStore],
  ['postgres', postgresSuiteStore],
];

describe.each(implementations)('store contract: %s', (kind, make) => {
  const impl = make();
  let store: OpenedDb;
  let src: number;
  const ingest = (b: Omit<IngestBatch, 'sourceId' | 'normalizerVersion'> & { sourceId?: number }, now = T0) => ingestBatch(store.db, { sourceId: src, normalizerVersion: 1, ...b }, now);
  const conversationOf = async (externalId: string) =>
    (await store.db.selectFrom('messages').select('conversation_id').where('external_id', '=', externalId).executeTakeFirstOrThrow()).conversation_id;

  beforeAll(() => impl.beforeAll());
  afterAll(() => impl.afterAll());
  beforeEach(async () => {
    store = await impl.fresh();
    expect(store.kind).toBe(kind);
    src = await ensureSource(store.db, 'chat', 'slack', T0);
  });
  afterEach(async () => {
    await store.close();
  });

  describe('ingest', () => {
    it('importing the same batch twice adds nothing', async () => {
      const batch = [msg({ externalId: 'a' }), msg({ externalId: 'b' })];
      const first = await ingest({ platform: 'slack', messages: batch });
      const second = await ingest({ platform: 'slack', messages: batch }, T0 + 1);
      expect(first).toMatchObject({ new: 2, updated: 0, unchanged: 0 });
      expect(second).toMatchObject({ new: 0, updated: 0, unchanged: 2, conversationIds: [] });
      expect((await storeStats(store.db)).messages).toBe(2);
    });

    it('a changed message is updated, not duplicated; a deleted one stops counting', async () => {
      await ingest({ platform: 'slack', messages: [msg({ externalId: 'a', text: 'the CLI crashs' })] });
      const r = await ingest({ platform: 'slack', messages: [msg({ externalId: 'a', text: 'the CLI crashes', editedAt: T0 + 5000 })] }, T0 + 1);
      expect(r).toMatchObject({ new: 0, updated: 1 });
      const rows = await store.db.selectFrom('messages').select(['text', 'edited_at']).execute();
      expect(rows).toEqual([{ text: 'the CLI crashes', edited_at: T0 + 5000 }]);
      await ingest({ platform: 'slack', messages: [msg({ externalId: 'a', text: '', deleted: true })] }, T0 + 2);
      expect((await storeStats(store.db)).messages).toBe(0);
      expect(await store.db.selectFrom('messages').select('deleted').executeTakeFirstOrThrow()).toEqual({ deleted: 1 });
      const conv = await store.db.selectFrom('conversations').select(['message_count', 'participant_count']).executeTakeFirstOrThrow();
      expect(conv).toEqual({ message_count: 0, participant_count: 0 });
    });

    it('the same mail from two archives is stored once and the copy is linked to it', async () => {
      const other = await ensureSource(store.db, 'archive-2', 'mail', T0);
      const mail = (s: number) => [msg({ externalId: 'x@y', globalKey: 'x@y', author: { id: 'a@b.org', email: 'a@b.org' }, text: `body ${s}` })];
      await ingest({ platform: 'mail', messages: mail(1) });
      const r = await ingest({ sourceId: other, platform: 'mail', messages: mail(2) });
      expect(r).toMatchObject({ new: 0, copies: 1 });
      const rows = await store.db.selectFrom('messages').select(['id', 'copy_of', 'source_id']).orderBy('id').execute();
      expect(rows[1]!.copy_of).toBe(rows[0]!.id);
      expect((await storeStats(store.db)).messages).toBe(1);
      // The same address on both sides is one identity, one person.
      expect(await store.db.selectFrom('people').select('id').execute()).toHaveLength(1);
    });

    it('threads replies by reference, even when a reply arrives before its parent', async () => {
      const reply = msg({ externalId: 'r1', replyTo: 'root', sentAt: T0 + 60_000, author: { id: 'U2' } });
      await ingest({ platform: 'slack', messages: [reply] });
      const root = msg({ externalId: 'root', sentAt: T0 });
      const reply2 = msg({ externalId: 'r2', threadId: 'root', sentAt: T0 + 120_000, author: { id: 'U3' } });
      await ingest({ platform: 'slack', messages: [root, reply2] });
      const c = await conversationOf('root');
      expect(await conversationOf('r1')).toBe(c);
      expect(await conversationOf('r2')).toBe(c);
      const conv = await store.db.selectFrom('conversations').selectAll().execute();
      expect(conv).toHaveLength(1);
      expect(conv[0]).toMatchObject({ message_count: 3, participant_count: 3, started_at: T0, last_at: T0 + 120_000 });
      const rootRow = await store.db.selectFrom('messages').select('id').where('external_id', '=', 'root').executeTakeFirstOrThrow();
      expect(conv[0]!.root_message_id).toBe(rootRow.id);
    });

    it('replies stored before their parent bring their feedback along: the first item moves, a second goes with its tags and placement', async () => {
      const detected = (messageId: number, tag: string): DetectedFeedback => ({
        messageId,
        isFeedback: true,
        kind: 'bug',
        kindConfidence: 0.8,
        feedbackConfidence: 0.9,
        sentiment: 'negative',
        modelVersion: 'test-1',
        tags: [{ tag, provenance: 'rule', confidence: null, version: 'r1' }],
      });
      const stored = async (e: string) => store.db.selectFrom('messages').select(['id', 'conversation_id']).where('external_id', '=', e).executeTakeFirstOrThrow();
      await ingest({ platform: 'slack', messages: [msg({ externalId: 'r1', replyTo: 'root', text: 'export fails', sentAt: T0 + 60_000, author: { id: 'U2' } })] });
      await ingest({ platform: 'slack', messages: [msg({ externalId: 'r2', replyTo: 'root', text: 'export fails here too', sentAt: T0 + 120_000, author: { id: 'U3' } })] });
      const [r1, r2] = [await stored('r1'), await stored('r2')];
      expect(r2.conversation_id).not.toBe(r1.conversation_id);
      const item1 = (await saveDetection(store.db, r1.conversation_id!, detected(r1.id, 'area:one'), T0))!;
      const item2 = (await saveDetection(store.db, r2.conversation_id!, detected(r2.id, 'area:two'), T0))!;
      const cluster = await store.db
        .insertInto('clusters')
        .values({ title: 'Exports', pinned_title: 0, summary: null, kind: 'bug', first_seen: T0, last_seen: T0, created_at: T0, updated_at: T0 })
        .returning('id')
        .executeTakeFirstOrThrow();
      await store.db
        .insertInto('cluster_items')
        .values([
          { cluster_id: cluster.id, item_id: item1, pinned: 0 },
          { cluster_id: cluster.id, item_id: item2, pinned: 0 },
        ])
        .execute();
      const r = await ingest({ platform: 'slack', messages: [msg({ externalId: 'root', text: 'exports?', sentAt: T0 })] }, T0 + 1);
      const c = await conversationOf('root');
      expect([await conversationOf('r1'), await conversationOf('r2')]).toEqual([c, c]);
      expect(r.conversationIds).toEqual([c]);
      expect(await store.db.selectFrom('conversations').select(['id', 'message_count']).execute()).toEqual([{ id: c, message_count: 3 }]);
      // The first reply's item moved into the parent's conversation; the second's went, with its tags and placement.
      expect(await store.db.selectFrom('feedback_items').select(['id', 'conversation_id']).execute()).toEqual([{ id: item1, conversation_id: c }]);
      expect(await store.db.selectFrom('tags').select(['item_id', 'tag']).execute()).toEqual([{ item_id: item1, tag: 'area:one' }]);
      expect(await store.db.selectFrom('cluster_items').select(['cluster_id', 'item_id']).execute()).toEqual([{ cluster_id: cluster.id, item_id: item1 }]);
    });

    it('keeps a thread whose first message is not stored as one conversation, across batches', async () => {
      // A forum post's thread exported alone: every message names the thread, none of them is its starter.
      const t = (id: string, s: number, user: string) => msg({ externalId: id, threadId: 'thread-9', sentAt: T0 + s * 60_000, author: { id: user } });
      await ingest({ platform: 'discord', messages: [t('t1', 0, 'U1'), t('t2', 15, 'U2')] });
      await ingest({ platform: 'discord', messages: [t('t3', 40, 'U3')] });
      const c = await conversationOf('t1');
      expect(await conversationOf('t2')).toBe(c);
      expect(await conversationOf('t3')).toBe(c);
    });

    it('falls back to the subject for mail replies without known references', async () => {
      const a = msg({ externalId: 'a@x', globalKey: 'a@x', subject: '[dev] Build fails on Windows', sentAt: T0 });
      const b = msg({ externalId: 'b@x', globalKey: 'b@x', subject: 'Re: [dev] Build fails on Windows', sentAt: T0 + 1000, replyTo: 'missing@x' });
      const c = msg({ externalId: 'c@x', globalKey: 'c@x', subject: 'Build fails on Windows', sentAt: T0 + 2000 });
      await ingest({ platform: 'mail', messages: [a, b, c] });
      expect(await conversationOf('b@x')).toBe(await conversationOf('a@x'));
      // Same subject without a reply marker is a new conversation.
      expect(await conversationOf('c@x')).not.toBe(await conversationOf('a@x'));
    });

    it('stores raw items, quarantine entries, gaps and the cursor in the same transaction', async () => {
      await ingest({
        platform: 'slack',
        messages: [msg({ externalId: 'm1' })],
        raw: [{ externalId: 'm1', payload: '{"ts":"1.2"}' }],
        cursor: { key: 'C1', value: '{"v":1,"ts":"1.2"}' },
        quarantine: [{ location: 'x.json:3', reason: 'not JSON', excerpt: '{oops' }],
        gaps: [{ channel: 'general', from: T0 - HOUR, to: T0, reason: 'downtime' }],
      });
      expect(await getCheckpoint(store.db, src, 'C1')).toBe('{"v":1,"ts":"1.2"}');
      expect(await store.db.selectFrom('quarantine').select(['location', 'reason']).execute()).toEqual([{ location: 'x.json:3', reason: 'not JSON' }]);
      // Re-reading the page moves the cursor and replaces the raw payload, adds no message.
      const again = await ingest(
        { platform: 'slack', messages: [msg({ externalId: 'm1' })], raw: [{ externalId: 'm1', payload: '{"ts":"1.2","x":1}' }], cursor: { key: 'C1', value: '{"v":1,"ts":"1.3"}' } },
        T0 + 1,
      );
      expect(again.new).toBe(0);
      expect(await getCheckpoint(store.db, src, 'C1')).toBe('{"v":1,"ts":"1.3"}');
      expect(await store.db.selectFrom('raw_items').select(['payload', 'fetched_at']).execute()).toEqual([{ payload: '{"ts":"1.2","x":1}', fetched_at: T0 + 1 }]);
      const stats = await storeStats(store.db);
      expect(stats.quarantined).toBe(1);
      expect(stats.sources[0]!.gaps).toEqual([{ channel: 'general', from: T0 - HOUR, to: T0, reason: 'downtime' }]);
    });

    it('a failing batch leaves nothing half-written', async () => {
      const good = msg({ externalId: 'ok' });
      // A time that is not a number cannot be stored: the whole batch rolls back.
      const bad = { ...msg({ externalId: 'bad' }), sentAt: Number.NaN };
      await expect(ingest({ platform: 'slack', messages: [good, bad], cursor: { key: 'C', value: '1' }, quarantine: [{ location: 'f:1', reason: 'r', excerpt: 'e' }] })).rejects.toThrow();
      expect(await store.db.selectFrom('messages').select('id').execute()).toEqual([]);
      expect(await store.db.selectFrom('conversations').select('id').execute()).toEqual([]);
      expect(await store.db.selectFrom('quarantine').select('id').execute()).toEqual([]);
      expect(await getCheckpoint(store.db, src, 'C')).toBeNull();
      // The store is still usable after the rollback.
      expect(await ingest({ platform: 'slack', messages: [good] })).toMatchObject({ new: 1 });
    });

    it('stores text with NUL characters and odd Unicode the same way (NUL dropped)', async () => {
      const text = "nul\u0000here — ünïcødé 🚀 \\ %_ 'quote'";
      await ingest({
        platform: 'slack',
        messages: [msg({ externalId: 'n', text, subject: 'a\u0000b' })],
        raw: [{ externalId: 'n', payload: 'raw\u0000bytes' }],
        quarantine: [{ location: 'f\u0000:1', reason: 'bad', excerpt: '\u0000x' }],
      });
      const row = await store.db.selectFrom('messages').select(['text', 'clean_text', 'subject']).executeTakeFirstOrThrow();
      expect(row).toEqual({ text: text.replace('\u0000', ''), clean_text: text.replace('\u0000', ''), subject: 'ab' });
      expect((await store.db.selectFrom('raw_items').select('payload').executeTakeFirstOrThrow()).payload).toBe('rawbytes');
      // Unchanged on re-read (the hash is of the stored text).
      expect(await ingest({ platform: 'slack', messages: [msg({ externalId: 'n', text, subject: 'a\u0000b' })] })).toMatchObject({ unchanged: 1 });
    });

    it('new authors: one person per email, whether the other identity is stored or new in the same batch; orgs placed by domain', async () => {
      const list = await ensureSource(store.db, 'list', 'mail', T0);
      await ingest({ platform: 'slack', messages: [msg({ externalId: 's1', author: { id: 'U1', name: 'Ada', email: 'ada@acme.io' } })] });
      await ingest({
        sourceId: list,
        platform: 'mail',
        messages: [
          msg({ externalId: 'm1@x', globalKey: 'm1@x', author: { id: 'ada@acme.io', name: 'Ada L', email: 'ada@acme.io' } }),
          msg({ externalId: 'm2@x', globalKey: 'm2@x', author: { id: 'bo@else.org', name: 'Bo', email: 'bo@else.org' } }),
        ],
      });
      await ingest({
        platform: 'slack',
        messages: [
          msg({ externalId: 's2', author: { id: 'U2', name: 'Bo', email: 'bo@else.org' } }),
          msg({ externalId: 's3', author: { id: 'U3', name: 'Cy', email: 'cy@acme.io' } }),
          msg({ externalId: 's4', author: { id: 'U4', name: 'Cy too', email: 'cy@acme.io' } }),
          msg({ externalId: 's5', author: { id: 'U5', name: 'Di' } }),
        ],
      });
      const ids = await store.db.selectFrom('identities').select(['value', 'person_id', 'link_evidence']).orderBy('id').execute();
      const personOf = new Map(ids.map((i) => [i.value, i.person_id]));
      expect(ids.map((i) => i.value)).toEqual(['U1', 'ada@acme.io', 'bo@else.org', 'U2', 'U3', 'U4', 'U5']);
      expect(personOf.get('ada@acme.io')).toBe(personOf.get('U1'));
      expect(personOf.get('U2')).toBe(personOf.get('bo@else.org'));
      expect(personOf.get('U4')).toBe(personOf.get('U3'));
      expect(new Set(personOf.values()).size).toBe(4);
      expect((await store.db.selectFrom('people').select('id').execute()).length).toBe(4);
      const evidence = new Map(ids.map((i) => [i.value, i.link_evidence]));
      for (const joined of ['ada@acme.io', 'U2', 'U4']) expect(JSON.parse(evidence.get(joined)!)).toMatchObject({ rule: 'same-email' });
      for (const own of ['U1', 'bo@else.org', 'U3', 'U5']) expect(evidence.get(own)).toBeNull();

      const orgs = [{ name: 'Acme', segment: 'customer', domains: ['acme.io'] }];
      await applyPeopleConfig(store.db, { people: [], orgs }, T0);
      const placed = async () =>
        (await listPeopleWithIdentities(store.db))
          .map((p) => ({ who: p.identities.map((i) => i.value).join(','), org: p.org, staff: p.isStaff, resolved: p.orgEvidence !== null }))
          .sort((a, b) => a.who.localeCompare(b.who));
      const first = await placed();
      expect(first.filter((p) => p.org === 'Acme').map((p) => p.who)).toEqual(['U1,ada@acme.io', 'U3,U4']);
      expect(first.every((p) => !p.staff && p.resolved)).toBe(true);
      await applyPeopleConfig(store.db, { people: [], orgs }, T0 + 1);
      expect(await placed()).toEqual(first);
    });

    it('applying the config links identities of two people that share an email (as two workers storing new authors at once leave them), and removes the person left empty', async () => {
      // Two workers storing the same new address in concurrent batches each make a person for it.
      const person = async (name: string) =>
        (await store.db.insertInto('people').values({ display_name: name, org_id: null, is_staff: 0, created_at: T0 }).returning('id').executeTakeFirstOrThrow()).id;
      const identity = async (value: string, email: string, personId: number) =>
        store.db.insertInto('identities').values({ kind: 'slack', value, display_name: value, email, is_bot: 0, person_id: personId, link_evidence: null, created_at: T0, org_hints: null }).execute();
      await identity('U1', 'Ada@Acme.io', await person('Ada'));
      await identity('U2', 'ada@acme.io', await person('Ada L'));
      await identity('U3', 'bo@else.org', await person('Bo'));
      const personOf = async () => new Map((await store.db.selectFrom('identities').select(['value', 'person_id']).execute()).map((i) => [i.value, i.person_id]));
      const before = await personOf();
      expect(before.get('U1')).not.toBe(before.get('U2'));
      expect((await store.db.selectFrom('people').select('id').execute()).length).toBe(3);

      await applyPeopleConfig(store.db, { people: [], orgs: [] }, T0);
      const after = await personOf();
      expect(after.get('U2')).toBe(after.get('U1'));
      expect(after.get('U3')).toBe(before.get('U3'));
      expect((await store.db.selectFrom('people').select('id').orderBy('id').execute()).map((p) => p.id)).toEqual([...new Set(after.values())].sort((a, b) => a - b));
      const moved = await store.db
        .selectFrom('identities')
        .select('link_evidence')
        .where('value', '=', after.get('U1') === before.get('U1') ? 'U2' : 'U1')
        .executeTakeFirstOrThrow();
      expect(JSON.parse(moved.link_evidence!)).toMatchObject({ rule: 'same-slack-profile-email', email: 'ada@acme.io' });
      // Again: nothing left to link, nothing written.
      await applyPeopleConfig(store.db, { people: [], orgs: [] }, T0 + 1);
      expect(await personOf()).toEqual(after);
    });

    it('placed people whose new messages show a maintainer sign are unresolved again, and only they', async () => {
      const list = await ensureSource(store.db, 'list', 'mail', T0);
      const mail = (externalId: string, from: string, channel: string, subject: string, text: string, minutes: number, replyTo: string | null = null) =>
        msg({
          externalId,
          globalKey: externalId,
          channel,
          author: { id: from, email: from, name: from.split('@')[0] },
          subject,
          text,
          cleanText: text,
          sentAt: T0 + minutes * 60_000,
          replyTo,
          references: replyTo ? [replyTo] : [],
        });
      const OTHER = 'users.other.example';
      const DEV = 'dev.foo.example.org';
      // Everyone first writes a reply on another host's list (no sign), and is placed: nobody is staff.
      const who = ['ann@a.example', 'bob@b.example', 'cat@c.example', 'dan@d.example', 'fred@example.org', 'gus@g.example'];
      await ingest({
        sourceId: list,
        platform: 'mail',
        messages: [mail('o0@x', 'xav@x.example', OTHER, 'Hello', 'Hi all', 0), ...who.map((w, i) => mail(`o${i + 1}@x`, w, OTHER, 'Re: Hello', `Hi from ${w}`, i + 1, 'o0@x'))],
      });
      await ingest({ platform: 'slack', messages: [msg({ externalId: 's1', author: { id: 'U9', name: 'Yo' } }), msg({ externalId: 's2', author: { id: 'U5', name: 'Eve' }, replyTo: 's1' })] });
      await applyPeopleConfig(store.db, { people: [], orgs: [] }, T0);
      expect((await store.db.selectFrom('people').select('id').where('is_staff', '=', 1).execute()).length).toBe(0);
      expect((await store.db.selectFrom('people').select('id').where('org_resolved_at', 'is', null).execute()).length).toBe(0);
      // Later: Ann starts a thread speaking for the project, Bob replies to it, Gus starts one asking a
      // question, Dan calls a vote and Cat votes, Fred (at the list's host) replies on the host's list;
      // Eve starts a chat thread (no list: no sign).
      await ingest({
        sourceId: list,
        platform: 'mail',
        messages: [
          mail('q1@x', 'ann@a.example', DEV, 'Java 7', 'I propose we drop Java 7 support in 2.0.', 100),
          mail('g1@x', 'gus@g.example', DEV, 'Build fails', 'Why does the build fail on Windows?', 100),
          mail('q2@x', 'bob@b.example', DEV, 'Re: Java 7', 'Fine with me.', 101, 'q1@x'),
          mail('q3@x', 'fred@example.org', DEV, 'Re: Build fails', 'Fixed in trunk.', 102, 'g1@x'),
          mail('v1@x', 'dan@d.example', DEV, '[VOTE] Release Foo 1.0', 'Please vote.', 103),
          mail('v2@x', 'cat@c.example', DEV, 'Re: [VOTE] Release Foo 1.0', '+1', 104, 'v1@x'),
        ],
      });
      await ingest({ platform: 'slack', messages: [msg({ externalId: 's3', author: { id: 'U5', name: 'Eve' }, text: 'Is the build broken?' })] });
      const convs = [await conversationOf('q1@x'), await conversationOf('g1@x'), await conversationOf('v1@x'), await conversationOf('s3')].map((c) => c!);
      const mark = async (ids: number[]) => markPeopleUnresolved(store.db, roleSignalPeople(await readRoleSignals(store.db, ids)));
      expect(await mark(convs)).toBe(4);
      const unresolved = await store.db
        .selectFrom('people as p')
        .innerJoin('identities as i', 'i.person_id', 'p.id')
        .select('i.value')
        .where('p.org_resolved_at', 'is', null)
        .orderBy('i.value')
        .execute();
      expect(unresolved.map((u) => u.value)).toEqual(['ann@a.example', 'cat@c.example', 'dan@d.example', 'fred@example.org']);
      // Marked already: not read as signs again, nothing more to write.
      expect(await readRoleSignals(store.db, convs)).toEqual(expect.not.arrayContaining([expect.objectContaining({ email: 'ann@a.example' })]));
      expect(await mark(convs)).toBe(0);
      expect(await mark([])).toBe(0);
    });

    it('who voted is read off the vote-subject index, not by passing over every message', async () => {
      const list = await ensureSource(store.db, 'list', 'mail', T0);
      const mail = (externalId: string, from: string, subject: string, minutes: number) =>
        msg({ externalId, globalKey: externalId, channel: 'dev.foo.example.org', author: { id: from, email: from, name: from }, subject, text: 'text', sentAt: T0 + minutes * 60_000 });
      await ingest({
        sourceId: list,
        platform: 'mail',
        messages: [
          mail('v1@x', 'dan@d.example', '[VOTE] Release Foo 1.0', 1),
          mail('v2@x', 'cat@c.example', 'Re: [vote] Release Foo 1.0', 2),
          mail('r1@x', 'ann@a.example', '[RESULT] Release Foo 1.0', 3),
          mail('n1@x', 'gus@g.example', 'Build fails', 4),
        ],
      });
      const personOf = async (email: string) => (await store.db.selectFrom('identities').select('person_id').where('value', '=', email).executeTakeFirstOrThrow()).person_id;
      expect([...(await readVoters(store.db))].sort((a, b) => a - b)).toEqual((await Promise.all(['dan@d.example', 'cat@c.example', 'ann@a.example'].map(personOf))).sort((a, b) => a - b));
      const q = votersQuery(store.db).compile();
      const plan =
        kind === 'sqlite'
          ? (await store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]))).rows.map((r) => r.detail)
          : // A handful of rows: PostgreSQL would scan them all anyway; without that choice the plan shows whether the index can serve the query.
            await store.db.transaction().execute(async (trx) => {
              await sql`set local enable_seqscan = off`.execute(trx);
              return (await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${q.sql}`, [...q.parameters]))).rows.map((r) => r['QUERY PLAN']);
            });
      expect(plan.join('\n')).toContain('messages_vote_subject');
    });

    it("a person's lists and started threads are read off the mail-author index, not by passing over every message", async () => {
      const list = await ensureSource(store.db, 'list', 'mail', T0);
      const chat = await ensureSource(store.db, 'chat', 'slack', T0);
      const mail = (externalId: string, subject: string, minutes: number, inReplyTo?: string) =>
        msg({
          externalId,
          globalKey: externalId,
          channel: 'dev.foo.example.org',
          author: { id: 'eve@e.example', email: 'eve@e.example', name: 'Eve' },
          subject,
          text: `mail ${externalId}`,
          sentAt: T0 + minutes * 60_000,
          ...(inReplyTo ? { replyTo: inReplyTo } : {}),
        });
      await ingest({ sourceId: list, platform: 'mail', messages: [mail('s1@x', 'Status report', 1), mail('s2@x', 'Re: Build fails', 3, 'b1@x'), mail('b1@x', 'Build fails', 2)] });
      await ingest({ sourceId: chat, platform: 'slack', messages: [msg({ externalId: 'c1', channel: 'general', author: { id: 'U1', name: 'u1' }, text: 'a chat line', sentAt: T0 })] });
      const eve = (await store.db.selectFrom('identities').select('person_id').where('value', '=', 'eve@e.example').executeTakeFirstOrThrow()).person_id;
      const roles = (await readRoleMessages(store.db, [eve])).get(eve) ?? [];
      expect(roles.filter((r) => r.listId !== null && r.email === 'eve@e.example').map((r) => r.listId)).toEqual(['dev.foo.example.org']);
      // The threads she started, not her reply.
      expect(roles.filter((r) => r.subject !== null).map((r) => r.subject)).toEqual(['Status report', 'Build fails']);
      for (const q of [mailListsQuery(store.db, [eve]).compile(), startedThreadsQuery(store.db, [eve]).compile()]) {
        const plan =
          kind === 'sqlite'
            ? (await store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]))).rows.map((r) => r.detail)
            : await store.db.transaction().execute(async (trx) => {
                await sql`set local enable_seqscan = off`.execute(trx);
                return (await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${q.sql}`, [...q.parameters]))).rows.map((r) => r['QUERY PLAN']);
              });
        expect(plan.join('\n')).toContain('messages_subject_author');
      }
    });

    it('a batch of 3,000 messages in 40 threads is stored whole (chunked statements)', async () => {
      const messages = Array.from({ length: 3000 }, (_, i) =>
        msg({
          externalId: `big${i}`,
          channel: `c${i % 7}`,
          author: { id: `U${i % 97}`, name: `user ${i % 97}` },
          text: `line ${i} about topic ${i % 40}`,
          sentAt: T0 + i * 1000,
          threadId: i % 75 === 0 ? null : `big${i - (i % 75)}`,
        }),
      );
      const r = await ingest({ platform: 'slack', messages });
      expect(r).toMatchObject({ new: 3000, copies: 0 });
      expect(r.conversationIds).toHaveLength(40);
      const stats = await storeStats(store.db);
      expect(stats).toMatchObject({ messages: 3000, conversations: 40 });
      expect(stats.sources[0]).toMatchObject({ messages: 3000, from: T0, to: T0 + 2999 * 1000 });
      expect(stats.sources[0]!.channels).toHaveLength(7);
      expect(await ingest({ platform: 'slack', messages })).toMatchObject({ new: 0, unchanged: 3000 });
    });
  });

  describe('copies and unthreaded chat', () => {
    it('a cross-post and a bridge relay within the window are copies; the same words much later are not', async () => {
      const text = 'After upgrading to 2.4 the Okta login redirects back to the login page forever';
      await ingest({ platform: 'slack', messages: [msg({ externalId: 'orig', channel: 'help', text, sentAt: T0, author: { id: 'U1' } })] });
      const r = await ingest({
        platform: 'slack',
        messages: [
          msg({ externalId: 'xpost', channel: 'general', text: `  ${text.toUpperCase()} `, sentAt: T0 + 3 * 60_000, author: { id: 'U1' } }),
          msg({ externalId: 'relay', channel: 'irc-bridge', text: `<priya> ${text}`, sentAt: T0 + 4 * 60_000, author: { id: 'bridge' } }),
          msg({ externalId: 'later', channel: 'general', text, sentAt: T0 + 3 * HOUR, author: { id: 'U2' } }),
          msg({ externalId: 'short', channel: 'general', text: 'thanks!', sentAt: T0 + 5 * 60_000, author: { id: 'U3' } }),
        ],
      });
      expect(r).toMatchObject({ new: 2, copies: 2 });
      const rows = await store.db.selectFrom('messages').select(['external_id', 'copy_of', 'id']).orderBy('id').execute();
      const id = (e: string) => rows.find((x) => x.external_id === e)!;
      expect(id('xpost').copy_of).toBe(id('orig').id);
      expect(id('relay').copy_of).toBe(id('orig').id);
      expect(id('later').copy_of).toBeNull();
      expect(id('short').copy_of).toBeNull();
      expect((await storeStats(store.db)).messages).toBe(3);
    });

    it('a copy of a message earlier in the same batch links to it', async () => {
      const text = 'Webhooks are delivered twice when the receiver answers slowly, every time';
      await ingest({ platform: 'slack', messages: [msg({ externalId: 'p1', channel: 'a', text, sentAt: T0 }), msg({ externalId: 'p2', channel: 'b', text, sentAt: T0 + 60_000 })] });
      const rows = await store.db.selectFrom('messages').select(['external_id', 'copy_of', 'id']).orderBy('sent_at').execute();
      expect(rows[1]!.copy_of).toBe(rows[0]!.id);
    });

    it('links an unthreaded line to the line it answers with the shipped model, without re-threading history', async () => {
      const { loadDisentangleModel } = await import('../../src/models/disentangle.js');
      const { ChannelThreader } = await import('../../src/pipeline/chat-threads.js');
      const model = loadDisentangleModel();
      const threader = new ChannelThreader(model);
      const line = (id: string, nick: string, text: string, s: number) => msg({ externalId: id, channel: '#lumen', author: { id: nick, name: nick }, text, sentAt: T0 + s * 1000 });
      await ingestBatch(
        store.db,
        {
          sourceId: src,
          platform: 'irc',
          messages: [line('1', 'priya', 'anyone know why the okta login loops after upgrading to 2.4?', 0), line('2', 'sam', 'what is the best way to set retention to 30 days', 20)],
          normalizerVersion: 1,
        },
        T0,
        { threader },
      );
      const before = await conversationOf('1');
      // The same process continues the channel's stream; a fresh one (a restarted worker) reads it back.
      await ingestBatch(store.db, { sourceId: src, platform: 'irc', messages: [line('3', 'jberg', 'priya: can you send the server logs from the login attempt?', 40)], normalizerVersion: 1 }, T0, {
        threader,
      });
      expect(await conversationOf('3')).toBe(before);
      await ingestBatch(store.db, { sourceId: src, platform: 'irc', messages: [line('4', 'priya', 'jberg: sure, sending them in a minute', 55)], normalizerVersion: 1 }, T0, {
        threader: new ChannelThreader(model),
      });
      expect(await conversationOf('4')).toBe(before);
      expect(await conversationOf('2')).not.toBe(before);
    });

    it('joins "same error on our side" said to the room to the line it agrees with', async () => {
      const { loadDisentangleModel } = await import('../../src/models/disentangle.js');
      const { ChannelThreader } = await import('../../src/pipeline/chat-threads.js');
      const threader = new ChannelThreader(loadDisentangleModel());
      const line = (id: string, nick: string, text: string, s: number) => msg({ externalId: id, channel: '#help', author: { id: nick, name: nick }, text, sentAt: T0 + s * 1000 });
      await ingestBatch(
        store.db,
        {
          sourceId: src,
          platform: 'discord',
          messages: [line('a1', 'tessa', 'Since Monday our deploy jobs fail at the AWS login step: Not authorized to perform AssumeRoleWithWebIdentity', 0)],
          normalizerVersion: 1,
        },
        T0,
        { threader },
      );
      await ingestBatch(
        store.db,
        {
          sourceId: src,
          platform: 'discord',
          messages: [line('a2', 'dkowal', 'same error on our side, all our deploys to Frankfurt are blocked', 900), line('a3', 'mo', 'how do I rotate an org secret without downtime?', 5000)],
          normalizerVersion: 1,
        },
        T0,
        { threader },
      );
      expect(await conversationOf('a2')).toBe(await conversationOf('a1'));
      expect(await conversationOf('a3')).not.toBe(await conversationOf('a1'));
    });
  });

  describe('feedback and curation', () => {
    const detection = (messageId: number, over: Partial<DetectedFeedback> = {}): DetectedFeedback => ({
      messageId,
      isFeedback: true,
      kind: 'bug',
      kindConfidence: 0.8731,
      feedbackConfidence: 0.91,
      sentiment: 'negative',
      modelVersion: 'test-1',
      tags: [
        { tag: 'area:auth', provenance: 'rule', confidence: null, version: 'r1' },
        { tag: 'okta', provenance: 'model', confidence: 0.6, version: 'm1' },
      ],
      ...over,
    });

    /** Two conversations (an Okta bug thread and a retention question), detected as feedback. */
    async function twoItems(): Promise<{ convA: number; convB: number; itemA: number; itemB: number; msgA: number; msgB: number }> {
      await ingest({
        platform: 'slack',
        messages: [
          msg({ externalId: 'a1', text: 'Okta login loops after upgrading to 2.4', sentAt: T0, author: { id: 'U1', name: 'Priya' } }),
          msg({ externalId: 'a2', threadId: 'a1', text: 'same here on 2.4.1', sentAt: T0 + 60_000, author: { id: 'U2', name: 'Sam' } }),
          msg({ externalId: 'b1', channel: 'help', text: 'How do I set retention to 30 days?', sentAt: T0 + HOUR, author: { id: 'U3', name: 'Mei' } }),
        ],
      });
      const ids = await store.db.selectFrom('messages').select(['id', 'external_id', 'conversation_id']).execute();
      const m = (e: string) => ids.find((x) => x.external_id === e)!;
      const itemA = (await saveDetection(store.db, m('a1').conversation_id!, detection(m('a1').id), T0))!;
      const itemB = (await saveDetection(store.db, m('b1').conversation_id!, detection(m('b1').id, { kind: 'question', tags: [] }), T0))!;
      return { convA: m('a1').conversation_id!, convB: m('b1').conversation_id!, itemA, itemB, msgA: m('a1').id, msgB: m('b1').id };
    }

    it('saves a detection with its automatic tags; re-running it replaces them and keeps the id', async () => {
      const { convA, itemA, msgA } = await twoItems();
      const item = await store.db.selectFrom('feedback_items').selectAll().where('id', '=', itemA).executeTakeFirstOrThrow();
      expect(item).toMatchObject({ conversation_id: convA, message_id: msgA, kind: 'bug', kind_confidence: 0.8731, sentiment: 'negative', status: 'auto', created_at: T0 });
      const again = await saveDetection(store.db, convA, detection(msgA, { kind: 'complaint', tags: [{ tag: 'area:sso', provenance: 'rule', confidence: null, version: 'r2' }] }), T0 + 1);
      expect(again).toBe(itemA);
      const tags = await store.db.selectFrom('tags').select(['tag', 'provenance']).where('item_id', '=', itemA).execute();
      expect(tags).toEqual([{ tag: 'area:sso', provenance: 'rule' }]);
      expect((await feedbackFor(store.db, [convA])).get(convA)).toEqual({ kind: 'complaint', tags: ['area:sso'] });
      const msgs = await loadConversationMessages(store.db, [convA]);
      expect(msgs.get(convA)!.map((x) => x.text)).toEqual(['Okta login loops after upgrading to 2.4', 'same here on 2.4.1']);
      expect(msgs.get(convA)![0]).toMatchObject({ isBot: false, labels: [] });
    });

    it('a conversation that is no longer feedback loses its automatic item', async () => {
      const { convB, itemB } = await twoItems();
      expect(await saveDetection(store.db, convB, null, T0 + 1)).toBeNull();
      expect(await store.db.selectFrom('feedback_items').select('id').where('id', '=', itemB).executeTakeFirst()).toBeUndefined();
    });

    it('human decisions win over every re-run: removed tags, added kinds, "not feedback"', async () => {
      const { convA, convB, itemA, itemB, msgA, msgB } = await twoItems();
      await removeTag(store.db, itemA, 'okta', 'devrel', T0 + 1);
      await addTag(store.db, itemA, 'Customer Impact', 'devrel', T0 + 2);
      await saveDetection(store.db, convA, detection(msgA), T0 + 3);
      const active = (await feedbackFor(store.db, [convA])).get(convA)!;
      expect(active.tags.sort()).toEqual(['area:auth', 'customer-impact']);

      await addTag(store.db, itemB, 'kind:docs', 'devrel', T0 + 4);
      let b = await store.db.selectFrom('feedback_items').select(['kind', 'status']).where('id', '=', itemB).executeTakeFirstOrThrow();
      expect(b).toEqual({ kind: 'docs', status: 'confirmed' });
      await saveDetection(store.db, convB, detection(msgB, { kind: 'question' }), T0 + 5);
      b = await store.db.selectFrom('feedback_items').select(['kind', 'status']).where('id', '=', itemB).executeTakeFirstOrThrow();
      expect(b).toEqual({ kind: 'docs', status: 'confirmed' });

      await markNotFeedback(store.db, itemA, 'devrel', T0 + 6);
      expect(await saveDetection(store.db, convA, detection(msgA), T0 + 7)).toBeNull();
      expect(await feedbackFor(store.db, [convA])).toEqual(new Map());
      expect((await storeStats(store.db)).feedbackItems).toBe(1);
    });

    it('confirming an item turns its automatic tags into human ones; the inbox lists what is left', async () => {
      const { itemA, itemB } = await twoItems();
      const inbox = await untaggedItems(store.db);
      expect(inbox.map((i) => i.id)).toEqual([itemB, itemA]); // newest first
      expect(inbox[1]).toMatchObject({ kind: 'bug', confidence: 0.8731, channel: 'general', at: T0 });
      expect(inbox[1]!.tags).toEqual([
        { tag: 'area:auth', provenance: 'rule', confidence: null },
        { tag: 'okta', provenance: 'model', confidence: 0.6 },
      ]);
      await confirmItem(store.db, itemA, 'devrel', T0 + 1);
      expect((await untaggedItems(store.db)).map((i) => i.id)).toEqual([itemB]);
      const human = await store.db.selectFrom('tags').select('tag').where('item_id', '=', itemA).where('provenance', '=', 'human').orderBy('tag').execute();
      expect(human.map((h) => h.tag)).toEqual(['area:auth', 'okta']);
      await expect(confirmItem(store.db, 9999, 'devrel', T0)).rejects.toBeInstanceOf(NotFoundError);
      await expect(addTag(store.db, itemA, 'bad tag!', 'devrel', T0)).rejects.toThrow(/not a valid tag/);
    });

    it('merges, splits, moves and renames clusters; every move is pinned', async () => {
      const { itemA, itemB } = await twoItems();
      const cluster = async (title: string) =>
        (
          await store.db
            .insertInto('clusters')
            .values({ title, pinned_title: 0, summary: null, kind: 'bug', first_seen: T0, last_seen: T0, created_at: T0, updated_at: T0 })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id;
      const c1 = await cluster('Okta login loop');
      const c2 = await cluster('Retention');
      await store.db
        .insertInto('cluster_items')
        .values([
          { cluster_id: c1, item_id: itemA, pinned: 0 },
          { cluster_id: c2, item_id: itemB, pinned: 0 },
        ])
        .execute();
      const members = async () => store.db.selectFrom('cluster_items').select(['cluster_id', 'item_id', 'pinned']).orderBy('item_id').execute();

      await mergeClusters(store.db, c1, c2, T0 + 1);
      expect(await members()).toEqual([
        { cluster_id: c1, item_id: itemA, pinned: 1 },
        { cluster_id: c1, item_id: itemB, pinned: 1 },
      ]);
      expect(await store.db.selectFrom('clusters').select('id').execute()).toEqual([{ id: c1 }]);

      const c3 = await splitCluster(store.db, c1, [itemB], null, T0 + 2);
      expect(c3).toBeGreaterThan(c2); // ids are never reused
      expect(await store.db.selectFrom('clusters').select(['title', 'pinned_title']).where('id', '=', c3).executeTakeFirstOrThrow()).toEqual({ title: 'Okta login loop (split)', pinned_title: 0 });
      await expect(splitCluster(store.db, c1, [itemA], null, T0)).rejects.toThrow(/at least one item/);

      await moveItem(store.db, itemB, c1, T0 + 3);
      expect(await members()).toEqual([
        { cluster_id: c1, item_id: itemA, pinned: 1 },
        { cluster_id: c1, item_id: itemB, pinned: 1 },
      ]);
      await renameCluster(store.db, c1, '  Okta   SSO loop ', true, T0 + 4);
      expect(await store.db.selectFrom('clusters').select(['title', 'pinned_title', 'updated_at']).where('id', '=', c1).executeTakeFirstOrThrow()).toEqual({
        title: 'Okta SSO loop',
        pinned_title: 1,
        updated_at: T0 + 4,
      });
      await expect(mergeClusters(store.db, c1, 9999, T0)).rejects.toBeInstanceOf(NotFoundError);

      await markNotFeedback(store.db, itemB, 'devrel', T0 + 5);
      expect(await members()).toEqual([{ cluster_id: c1, item_id: itemA, pinned: 1 }]);
      expect((await storeStats(store.db)).clusters).toBe(2);
    });
  });

  describe('reads', () => {
    async function week(): Promise<void> {
      await ingest({
        platform: 'slack',
        messages: [
          msg({ externalId: 'w1', text: 'Exporting to CSV drops the header row', sentAt: T0, author: { id: 'U1', name: 'Priya' } }),
          msg({ externalId: 'w2', threadId: 'w1', text: 'confirmed on 3.1', sentAt: T0 + HOUR, author: { id: 'U2', name: 'Sam' } }),
          msg({ externalId: 'w3', threadId: 'w1', text: 'fixed in nightly', sentAt: T0 + 2 * HOUR, author: { id: 'bot', name: 'CI', isBot: true } }),
          msg({ externalId: 'w4', threadId: 'w1', text: '   ', sentAt: T0 + 3 * HOUR, author: { id: 'U2', name: 'Sam' } }),
          msg({ externalId: 'old', channel: 'help', text: 'Dark mode when?', sentAt: T0 - 10 * 24 * HOUR, author: { id: 'U3', name: 'Mei' } }),
        ],
        quarantine: [
          { location: 'a:1', reason: 'one', excerpt: 'x' },
          { location: 'a:2', reason: 'two', excerpt: 'y' },
        ],
      });
    }
    const period = { start: T0 - HOUR, end: T0 + 24 * HOUR };

    it('counts a period: conversations with human activity, distinct people, quotes in time order', async () => {
      await week();
      const convs = await conversationsInPeriod(store.db, period);
      expect(convs).toHaveLength(1);
      expect(convs[0]).toMatchObject({
        subject: null,
        channel: 'general',
        channelExternalId: 'general',
        source: 'chat',
        platform: 'slack',
        startedAt: T0,
        lastAt: T0 + 3 * HOUR,
        messages: 3,
        participants: 2,
      });
      const quotes = await quotesFor(store.db, [convs[0]!.id], 5, period);
      expect(quotes.map((q) => [q.text, q.author, q.at])).toEqual([
        ['Exporting to CSV drops the header row', 'Priya', T0],
        ['confirmed on 3.1', 'Sam', T0 + HOUR],
      ]);
      expect(await quotesFor(store.db, [convs[0]!.id], 1)).toHaveLength(1);
      expect(await quotesFor(store.db, [], 1)).toEqual([]);
    });

    it('store stats, with and without a period; quarantine list; latest message; source state', async () => {
      await week();
      const all = await storeStats(store.db);
      expect(all).toMatchObject({ messages: 5, conversations: 2, feedbackItems: 0, clusters: 0, quarantined: 2 });
      expect(all.sources).toEqual([{ name: 'chat', platform: 'slack', channels: ['general', 'help'], messages: 5, from: T0 - 10 * 24 * HOUR, to: T0 + 3 * HOUR, gaps: [] }]);
      const inPeriod = await storeStats(store.db, period);
      expect(inPeriod).toMatchObject({ messages: 4, conversations: 1 });
      expect(await latestMessageAt(store.db)).toBe(T0 + 3 * HOUR);
      expect((await listQuarantine(store.db)).map((q) => [q.location, q.createdAt])).toEqual([
        ['a:2', T0],
        ['a:1', T0],
      ]);
      await markSourcePulled(store.db, src, T0 + 5, 'token expired');
      expect(await store.db.selectFrom('sources').select(['status', 'last_pull_at', 'last_error']).executeTakeFirstOrThrow()).toEqual({
        status: 'error',
        last_pull_at: T0 + 5,
        last_error: 'token expired',
      });
      await expect(ensureSource(store.db, 'chat', 'mail', T0)).rejects.toThrow(/is a slack source/);
    });

    it('full-text search: every word, prefixes, any case; deleted messages and copies are not found', async () => {
      await week();
      await ingest({ platform: 'slack', messages: [msg({ externalId: 'gone', channel: 'x', text: 'exporting pdf crashes', sentAt: T0 + 5 * HOUR })] });
      await ingest({ platform: 'slack', messages: [msg({ externalId: 'gone', channel: 'x', text: '', deleted: true })] }, T0 + 1);
      const conv = async (e: string) => (await conversationOf(e))!;
      expect(await searchConversations(store.db, 'csv header')).toEqual([await conv('w1')]);
      expect(await searchConversations(store.db, 'EXPORT')).toEqual([await conv('w1')]); // prefix, case
      expect(await searchConversations(store.db, 'dark mod')).toEqual([await conv('old')]);
      expect(await searchConversations(store.db, 'csv dark')).toEqual([]);
      expect(await searchConversations(store.db, 'pdf')).toEqual([]);
      expect(await searchConversations(store.db, '  "%_ ')).toEqual([]);
      expect(await searchConversations(store.db, 'nightly OR')).toEqual([]); // words, not operators
      // An edit is searchable by its new words.
      await ingest({ platform: 'slack', messages: [msg({ externalId: 'old', channel: 'help', text: 'Light theme when?', sentAt: T0 - 10 * 24 * HOUR, author: { id: 'U3', name: 'Mei' } })] }, T0 + 2);
      expect(await searchConversations(store.db, 'theme')).toEqual([await conv('old')]);
      expect(await searchConversations(store.db, 'dark')).toEqual([]);
    });
  });
});
