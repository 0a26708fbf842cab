// The Matrix connector against the local fake homeserver (real matrix-js-sdk HTTP layer), and the
// Element export importer on an export written here.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connectorContract } from '../../test/contract/connector-contract.js';
import { startFakeMatrix, type FakeMatrixServer } from '../../test/fakes/matrix.js';
import { isSkip, type Connector, type Gap, type Page, type QuarantineEntry, type RawMessage } from '../../src/model/index.js';
import { abortableSleep, ConnectorError, type ConnectorDeps, type ImportItem } from '../types.js';
import { createMatrixConnector, ENCRYPTED_ROOM_REASON, elementExportImporter, matrixDefinition, matrixImporters, MATRIX_SKIP, type MatrixConfigInput, type MatrixCursor } from './index.js';
import { normalizeMatrix, stripReplyFallback } from './normalize.js';

const PAGE_SIZE = 10;

interface LogLine {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

function deps(logs: LogLine[] = []): ConnectorDeps {
  return { source: 'matrix-test', now: () => Date.now(), sleep: abortableSleep, log: (level, msg, fields) => logs.push({ level, msg, fields }) };
}

function connect(fake: FakeMatrixServer, extra: Partial<MatrixConfigInput> = {}, logs?: LogLine[]) {
  return createMatrixConnector({ homeserver: fake.url, accessToken: fake.accessToken, userId: fake.userId, pageSize: PAGE_SIZE, ...extra }, deps(logs));
}

connectorContract('matrix', {
  async start() {
    const fake = await startFakeMatrix();
    return { connector: connect(fake) as unknown as Connector<unknown>, fake, pageSize: PAGE_SIZE, stop: () => fake.stop() };
  },
  reconnect(under) {
    return connect(under.fake as FakeMatrixServer);
  },
});

interface Pulled {
  messages: RawMessage[];
  /** What ingest would hold: the last version of each external id. */
  byId: Map<string, RawMessage>;
  skipped: Record<string, number>;
  gaps: Gap[];
  cursor: MatrixCursor | undefined;
  pages: number;
  rateLimitedMs: number;
}

async function drain(pages: AsyncIterable<Page<MatrixCursor>>, conn: Connector<MatrixCursor>, opts: { maxPages?: number; until?: (p: Pulled) => boolean } = {}): Promise<Pulled> {
  const out: Pulled = { messages: [], byId: new Map(), skipped: {}, gaps: [], cursor: undefined, pages: 0, rateLimitedMs: 0 };
  for await (const page of pages) {
    for (const raw of page.items) {
      const m = await conn.normalize(raw, { source: 'test' });
      if (isSkip(m)) out.skipped[m.reason] = (out.skipped[m.reason] ?? 0) + 1;
      else {
        out.messages.push(m);
        out.byId.set(m.externalId, m);
      }
    }
    out.gaps.push(...(page.gaps ?? []));
    out.rateLimitedMs += page.rateLimitedMs ?? 0;
    out.cursor = JSON.parse(JSON.stringify(page.cursor)) as MatrixCursor;
    out.pages++;
    if (opts.maxPages && out.pages >= opts.maxPages) break;
    if (opts.until?.(out)) break;
  }
  return out;
}

const pull = (conn: Connector<MatrixCursor>, from?: MatrixCursor, opts: { maxPages?: number } = {}) => drain(conn.history(from, new AbortController().signal), conn, opts);

/** A room with everything the normalizer must handle, written through the fake. */
function seedLumen(fake: FakeMatrixServer) {
  const mei = '@mei:matrix.org';
  const sam = '@sam:matrix.org';
  const bot = '@lumen-ci:matrix.org';
  const room = fake.createRoom({ alias: '#lumen:localhost', name: 'Lumen', members: { [mei]: 'Mei Chen', [sam]: 'Sam Okafor', [bot]: 'lumen-ci' } });
  const root = fake.send(room, mei, 'After upgrading to 2.4, Okta sign-in loops back to the login page.');
  const inThread = fake.threadReply(room, sam, root, 'Seeing the same loop on 2.4.1 with Okta.');
  const reply = fake.reply(room, sam, root, 'Did you clear the session cookie?');
  const notice = fake.append(room, { type: 'm.room.message', sender: bot, content: { msgtype: 'm.notice', body: 'Build 2.4.1 passed' } });
  const html = fake.send(room, mei, 'The **quickstart** still says `pip install lumen`', {
    format: 'org.matrix.custom.html',
    formatted_body: 'The <strong>quickstart</strong> still says <code>pip install lumen</code>',
  });
  const typo = fake.send(room, sam, 'Thanks evryone');
  fake.edit(room, sam, typo, 'Thanks everyone');
  const spam = fake.send(room, sam, 'oops, wrong room');
  fake.redact(room, sam, spam, 'wrong room');
  fake.react(room, sam, root, '👍');
  fake.react(room, mei, root, '👍');
  fake.react(room, sam, root, '👀');
  fake.react(room, sam, root, '👍'); // the same sender twice counts once
  const emote = fake.append(room, { type: 'm.room.message', sender: mei, content: { msgtype: 'm.emote', body: 'waves' } });
  return { room, mei, sam, bot, root, inThread, reply, notice, html, typo, spam, emote };
}

describe('matrix connector', () => {
  let fake: FakeMatrixServer | undefined;
  afterEach(async () => {
    await fake?.stop();
    fake = undefined;
  });

  it('normalizes threads, replies, edits, redactions, reactions, notices, HTML and display names (first backfill)', async () => {
    fake = await startFakeMatrix();
    const s = seedLumen(fake);
    const got = await pull(connect(fake, { rooms: ['#lumen:localhost'] }));
    const m = (id: string) => got.byId.get(id)!;

    expect(m(s.root)).toMatchObject({ channel: s.room, channelName: 'Lumen', author: { id: s.mei, name: 'Mei Chen', isBot: false }, threadId: s.root, reactions: { '👍': 2, '👀': 1 } });
    expect(m(s.root).permalink).toBe(`https://matrix.to/#/${s.room}/${s.root}`);
    expect(m(s.inThread)).toMatchObject({ threadId: s.root, replyTo: null, author: { name: 'Sam Okafor' } });
    expect(m(s.reply)).toMatchObject({ replyTo: s.root, text: 'Did you clear the session cookie?' });
    expect(m(s.notice).author.isBot).toBe(true);
    expect(m(s.html).text).toBe('The quickstart still says pip install lumen');
    expect(m(s.typo)).toMatchObject({ text: 'Thanks everyone' });
    expect(m(s.typo).editedAt).toBeGreaterThan(m(s.typo).sentAt);
    expect(m(s.spam)).toMatchObject({ deleted: true, text: '' });
    expect(m(s.emote).text).toBe('* Mei Chen waves');
    // Every message once; relation events are folded, not emitted as messages.
    expect(got.messages.map((x) => x.externalId).sort()).toEqual([s.root, s.inThread, s.reply, s.notice, s.html, s.typo, s.spam, s.emote].sort());
    expect(got.skipped[MATRIX_SKIP.editFolded]).toBe(1);
    expect(got.skipped[MATRIX_SKIP.reactionFolded]).toBe(4);
    expect(got.skipped[MATRIX_SKIP.redactionFolded]).toBe(1);
    expect(got.skipped[MATRIX_SKIP.membership]).toBe(4);
    // The alias was resolved through the directory.
    expect(fake.countRequests('/directory/room/')).toBe(1);
  });

  it('edits, redactions and reactions between pulls update the original (same external id)', async () => {
    fake = await startFakeMatrix();
    const s = seedLumen(fake);
    const conn = connect(fake, { rooms: [s.room] });
    const first = await pull(conn);
    const fresh = fake.send(s.room, s.mei, 'Python SDK quickstart uses the old import path');
    fake.edit(s.room, s.mei, s.html, 'The quickstart still says pip install lumen-sdk');
    fake.redact(s.room, s.mei, s.emote);
    fake.react(s.room, s.bot, s.root, '👀');
    const un = fake.react(s.room, s.mei, s.reply, '🎉');
    fake.redact(s.room, s.mei, un); // un-react before the pull: served stripped, so nothing to count
    const second = await pull(connect(fake, { rooms: [s.room] }), first.cursor);
    const ids = second.messages.map((x) => x.externalId);
    expect(new Set(ids)).toEqual(new Set([fresh, s.html, s.emote, s.root]));
    expect(second.byId.get(fresh)!.text).toBe('Python SDK quickstart uses the old import path');
    expect(second.byId.get(s.html)).toMatchObject({ text: 'The quickstart still says pip install lumen-sdk', sentAt: first.byId.get(s.html)!.sentAt });
    expect(second.byId.get(s.html)!.editedAt).toBeGreaterThan(0);
    expect(second.byId.get(s.emote)).toMatchObject({ deleted: true, text: '' });
    expect(second.byId.get(s.root)!.reactions).toEqual({ '👍': 2, '👀': 2 });
    expect(second.byId.get(s.root)!.threadId).toBe(s.root);
    // A reaction and its removal read by the same connector: the target is re-counted.
    const conn3 = connect(fake, { rooms: [s.room] });
    const cheer = fake.react(s.room, s.mei, s.reply, '🎉');
    const withCheer = await pull(conn3, second.cursor);
    expect(withCheer.byId.get(s.reply)!.reactions).toEqual({ '🎉': 1 });
    fake.redact(s.room, s.mei, cheer);
    const withoutCheer = await pull(conn3, withCheer.cursor);
    expect(withoutCheer.byId.get(s.reply)!.reactions).toBeUndefined();
    expect(withoutCheer.byId.get(s.reply)!.text).toBe('Did you clear the session cookie?');
    // A third pull brings nothing.
    const third = await pull(connect(fake, { rooms: [s.room] }), withoutCheer.cursor);
    expect(third.messages).toEqual([]);
  });

  it('an interrupted backfill keeps reactions and edits met before their target', async () => {
    fake = await startFakeMatrix();
    const room = fake.mainRoom;
    const target = fake.send(room, fake.defaultSender, 'Retention: where do I set it?');
    fake.addMessages(PAGE_SIZE * 2);
    fake.react(room, '@bob:localhost', target, '➕');
    fake.edit(room, fake.defaultSender, target, 'Retention: where do I set the data retention period?');
    const first = await pull(connect(fake), undefined, { maxPages: 1 });
    expect(first.cursor!.rooms[room]!.pendingReactions).toEqual({ [target]: { '➕': ['@bob:localhost'] } });
    const rest = await pull(connect(fake), first.cursor);
    expect(rest.byId.get(target)).toMatchObject({ text: 'Retention: where do I set the data retention period?', reactions: { '➕': 1 } });
    expect(rest.cursor!.rooms[room]!.back).toBeUndefined();
    expect(rest.cursor!.rooms[room]!.pendingReactions).toBeUndefined();
  });

  it('stops the first backfill at the configured start date', async () => {
    fake = await startFakeMatrix({ startTs: Date.UTC(2026, 9, 1) });
    const old = fake.addMessages(3);
    fake.send(fake.mainRoom, fake.defaultSender, 'newer', {}, Date.UTC(2026, 10, 2));
    const got = await pull(connect(fake, { since: '2026-10-15' }));
    expect(got.messages.map((m) => m.text)).toEqual(['newer']);
    for (const id of old) expect(got.byId.has(id)).toBe(false);
  });

  it('reports an encrypted room as a gap, counts its undecryptable events as skipped, and still reads the others', async () => {
    fake = await startFakeMatrix();
    const secret = fake.createRoom({ name: 'Private', encrypted: true, members: { '@mei:matrix.org': 'Mei Chen' } });
    fake.sendEncrypted(secret, '@mei:matrix.org');
    fake.sendEncrypted(secret, '@mei:matrix.org');
    const open = fake.addMessages(2);
    const got = await pull(connect(fake));
    expect(got.gaps).toEqual([expect.objectContaining({ channel: secret, reason: ENCRYPTED_ROOM_REASON })]);
    expect(got.skipped[MATRIX_SKIP.encrypted]).toBe(2);
    for (const id of open) expect(got.byId.has(id)).toBe(true);
    expect([...got.byId.values()].some((m) => m.channel === secret)).toBe(false);
  });

  it('a forbidden room becomes a gap; the other rooms are still read', async () => {
    fake = await startFakeMatrix();
    const closed = fake.createRoom({ name: 'Staff' });
    fake.send(closed, '@jonas:localhost', 'staff only');
    fake.forbid(closed);
    const open = fake.addMessages(3);
    const got = await pull(connect(fake));
    expect(got.gaps).toHaveLength(1);
    expect(got.gaps[0]).toMatchObject({ channel: closed });
    expect(got.gaps[0]!.reason).toMatch(/forbidden.*M_FORBIDDEN/);
    for (const id of open) expect(got.byId.has(id)).toBe(true);
    // An alias that does not exist is a gap too, not a stop.
    const viaConfig = await pull(connect(fake, { rooms: ['#nope:localhost', fake.mainRoom] }));
    expect(viaConfig.gaps.map((g) => g.channel)).toEqual(['#nope:localhost']);
    expect(viaConfig.byId.size).toBe(3);
  });

  it('live /sync delivers new messages and resumes from next_batch after a restart', async () => {
    fake = await startFakeMatrix();
    const before = fake.addMessages(3);
    const ac = new AbortController();
    const conn = connect(fake, { syncTimeoutMs: 5_000 });
    const pages = conn.live(undefined, ac.signal)[Symbol.asyncIterator]();
    const seen: RawMessage[] = [];
    let cursor: MatrixCursor | undefined;
    const next = async () => {
      const r = await pages.next();
      if (r.done) throw new Error('live ended');
      cursor = r.value.cursor;
      for (const raw of r.value.items) {
        const m = conn.normalize(raw, { source: 't' });
        if (!isSkip(m)) seen.push(m);
      }
      return r.value;
    };
    // Catch-up: the backfill, then the page that fixes the first sync position.
    while (!cursor?.nextBatch) await next();
    for (const id of before) expect(seen.map((m) => m.externalId)).toContain(id);
    const syncsBefore = fake.countRequests('/sync');
    setTimeout(() => fake!.send(fake!.mainRoom, '@mei:matrix.org', 'Okta loop again after restart'), 150);
    const livePage = await next();
    expect(livePage.items).toHaveLength(1);
    expect(seen.at(-1)!.text).toBe('Okta loop again after restart');
    expect(fake.countRequests('/sync')).toBeGreaterThan(syncsBefore);
    ac.abort();
    await pages.return?.(undefined);

    // Restart from the saved cursor: nothing is delivered twice, and the sync resumes from next_batch.
    const saved = JSON.parse(JSON.stringify(cursor)) as MatrixCursor;
    const afterRestart = fake.send(fake.mainRoom, '@sam:matrix.org', 'the quickstart is fixed, thanks');
    const ac2 = new AbortController();
    const conn2 = connect(fake, { syncTimeoutMs: 200 });
    const requestsBefore = fake.requests.length;
    const got = drain(conn2.live(saved, ac2.signal), conn2);
    setTimeout(() => ac2.abort(), 1_000); // several long-polls
    const res = await got;
    expect(res.messages.map((m) => m.externalId)).toEqual([afterRestart]);
    const after = fake.requests.slice(requestsBefore);
    const syncs = after.filter((r) => r.path.endsWith('/sync'));
    expect(syncs[0]?.query.since).toBe(saved.nextBatch);
    expect(syncs.length).toBeGreaterThan(1);
    // No /messages on resume: the rooms were read up to the sync position.
    expect(after.filter((r) => r.path.endsWith('/messages'))).toEqual([]);
  });

  it('live after a history run catches up through /messages and takes a new sync position', async () => {
    fake = await startFakeMatrix();
    fake.addMessages(2);
    const first = await drain(connect(fake, { syncTimeoutMs: 100 }).live(undefined, AbortSignal.timeout(800)), connect(fake));
    expect(first.cursor?.nextBatch).toBeDefined();
    const between = fake.addMessages(1);
    const hist = await pull(connect(fake), first.cursor);
    expect(hist.messages.map((m) => m.externalId)).toEqual(between);
    const later = fake.send(fake.mainRoom, fake.defaultSender, 'after the history run');
    const conn = connect(fake, { syncTimeoutMs: 100 });
    const res = await drain(conn.live(hist.cursor, AbortSignal.timeout(800)), conn);
    expect(res.messages.map((m) => m.externalId)).toEqual([later]);
    expect(res.cursor!.nextBatch).not.toBe(first.cursor!.nextBatch);
  });

  it('a live /sync long-poll stops at once on abort', async () => {
    fake = await startFakeMatrix();
    const ac = new AbortController();
    const conn = connect(fake, { syncTimeoutMs: 60_000 });
    const t0 = Date.now();
    const done = drain(conn.live(undefined, ac.signal), conn);
    setTimeout(() => ac.abort(), 400);
    await done;
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('reports 429 waits in rateLimitedMs; tokens never appear in errors or logs', async () => {
    fake = await startFakeMatrix();
    fake.addMessages(3);
    fake.rateLimitNext(1);
    const logs: LogLine[] = [];
    const got = await pull(connect(fake, {}, logs));
    expect(got.rateLimitedMs).toBeGreaterThanOrEqual(1000);
    expect(got.byId.size).toBe(3);
    fake.revokeAuth();
    const err = await pull(connect(fake, {}, logs)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).kind).toBe('auth');
    const everything = JSON.stringify(logs) + String((err as Error).message) + String(((err as Error).cause as Error | undefined)?.message);
    expect(everything).not.toContain(fake.accessToken);
    expect(fake.requests.every((r) => r.hasAuth && !JSON.stringify(r.query).includes(fake!.accessToken))).toBe(true);
  });

  it('is registered with its config schema and secret keys', () => {
    expect(matrixDefinition.platform).toBe('matrix');
    expect(matrixDefinition.secretKeys).toEqual(['accessToken']);
    const bad = matrixDefinition.configSchema.safeParse({ homeserver: 'not a url', accessToken: '', rooms: ['lumen'] });
    expect(bad.success).toBe(false);
    if (!bad.success) expect(bad.error.issues.map((i) => i.path.join('.')).sort()).toEqual(['accessToken', 'homeserver', 'rooms.0']);
    expect(matrixImporters.map((i) => i.format)).toEqual(['element-export']);
  });
});

describe('matrix normalize', () => {
  it('strips the reply fallback lines and the blank line after them', () => {
    expect(stripReplyFallback('> <@a:x> first\n> second\n\nthe answer')).toBe('the answer');
    expect(stripReplyFallback('no quote here')).toBe('no quote here');
  });
  it("flags a bridge's puppet users as relays of the other network, and no one else", () => {
    const item = (sender: string) => ({
      kind: 'matrix',
      roomId: '!r:x',
      event: { type: 'm.room.message', sender, content: { msgtype: 'm.text', body: 'good morning all' }, origin_server_ts: 1, event_id: `$${sender}` },
    });
    const relayOf = (sender: string) => {
      const m = normalizeMatrix(item(sender), { source: 'test' });
      return isSkip(m) ? 'skip' : (m.relay ?? null);
    };
    expect(relayOf('@libera_velvet:libera.chat')).toEqual({ bot: '@libera_velvet:libera.chat', network: 'irc' });
    expect(relayOf('@_discord_1234:t2bot.io')).toEqual({ bot: '@_discord_1234:t2bot.io', network: 'discord' });
    expect(relayOf('@velvet:matrix.org')).toBeNull();
    expect(relayOf('@john_doe:matrix.org')).toBeNull();
  });
});

// An Element export written for this test (chronological, as Element writes it).
const ROOM = '!testroom:example.org';
const ev = (i: number, type: string, sender: string, content: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type,
  sender,
  content,
  origin_server_ts: Date.UTC(2026, 10, 10, 10, i),
  unsigned: { age: 100 },
  event_id: `$ev${i}`,
  room_id: ROOM,
  ...extra,
});
const exportDoc = {
  room_name: 'Test Room',
  room_creator: 'Rin',
  topic: 'a room for tests',
  export_date: '10/11/2026',
  exported_by: 'Rin',
  messages: [
    ev(0, 'm.room.member', '@rin:example.org', { membership: 'join', displayname: 'Rin' }, { state_key: '@rin:example.org' }),
    ev(1, 'm.room.member', '@kai:example.org', { membership: 'join', displayname: 'Kai' }, { state_key: '@kai:example.org' }),
    ev(2, 'm.room.message', '@rin:example.org', { msgtype: 'm.text', body: 'Does the exporter keep threads?' }),
    ev(3, 'm.room.message', '@kai:example.org', {
      msgtype: 'm.text',
      body: 'It does, look',
      'm.relates_to': { rel_type: 'm.thread', event_id: '$ev2', is_falling_back: true, 'm.in_reply_to': { event_id: '$ev2' } },
    }),
    ev(4, 'm.room.message', '@kai:example.org', {
      msgtype: 'm.text',
      body: '* It does, look at the thread',
      'm.new_content': { msgtype: 'm.text', body: 'It does, look at the thread' },
      'm.relates_to': { rel_type: 'm.replace', event_id: '$ev3' },
    }),
    ev(5, 'm.reaction', '@rin:example.org', { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$ev3', key: '🙏' } }),
    { type: 'm.room.message', sender: '@kai:example.org', content: { body: 'no id or time' } },
    ev(7, 'm.room.message', '@rin:example.org', { msgtype: 'm.text', body: '> <@kai:example.org> It does, look\n\nnice', 'm.relates_to': { 'm.in_reply_to': { event_id: '$ev3' } } }),
    ev(8, 'm.room.message', '@rin:example.org', {}, { unsigned: { redacted_because: { type: 'm.room.redaction', event_id: '$red', content: {} } } }),
    ev(9, 'm.room.message', '@bot:example.org', { msgtype: 'm.notice', body: 'nightly build passed' }),
  ],
};

describe('element export importer', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('folds edits and reactions, quarantines the malformed event with its location, and counts exactly', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gleaner-element-'));
    const file = join(dir, 'Element - Test Room - Chat Export - 2026-11-10T12-00-00.000Z.json');
    await writeFile(file, JSON.stringify(exportDoc, null, 2));
    expect(elementExportImporter.detect(file, Buffer.from(JSON.stringify(exportDoc, null, 2).slice(0, 64)))).toBe(true);
    expect(elementExportImporter.detect(join(dir, 'x.json'), Buffer.from('{"foo": 1}'))).toBe(false);

    const items: ImportItem[] = [];
    const quarantine: QuarantineEntry[] = [];
    for await (const page of elementExportImporter.read(file, { source: 'element', pageSize: 4 })) {
      items.push(...page.items);
      quarantine.push(...page.quarantine);
    }
    expect(quarantine).toHaveLength(1);
    expect(quarantine[0]!.location).toBe('Element - Test Room - Chat Export - 2026-11-10T12-00-00.000Z.json:messages[6]');
    const messages: RawMessage[] = [];
    const skipped: Record<string, number> = {};
    for (const item of items) {
      const m = await elementExportImporter.normalize(item.raw, { source: 'element' });
      if (isSkip(m)) skipped[m.reason] = (skipped[m.reason] ?? 0) + 1;
      else messages.push(m);
    }
    expect(items).toHaveLength(9);
    expect(messages.map((m) => m.externalId)).toEqual(['$ev2', '$ev3', '$ev7', '$ev8', '$ev9']);
    expect(skipped).toEqual({ [MATRIX_SKIP.membership]: 2, [MATRIX_SKIP.editFolded]: 1, [MATRIX_SKIP.reactionFolded]: 1 });
    const byId = new Map(messages.map((m) => [m.externalId, m]));
    expect(byId.get('$ev3')).toMatchObject({ text: 'It does, look at the thread', threadId: '$ev2', reactions: { '🙏': 1 }, author: { name: 'Kai' }, channel: ROOM, channelName: 'Test Room' });
    expect(byId.get('$ev3')!.editedAt).toBe(Date.UTC(2026, 10, 10, 10, 4));
    expect(byId.get('$ev7')).toMatchObject({ text: 'nice', replyTo: '$ev3' });
    expect(byId.get('$ev8')).toMatchObject({ deleted: true });
    expect(byId.get('$ev9')!.author.isBot).toBe(true);
  });

  it('reads the Lumen sample export exactly', async () => {
    const file = fileURLToPath(new URL('../../examples/matrix/lumen-element-export.json', import.meta.url));
    const messages: RawMessage[] = [];
    const skipped: Record<string, number> = {};
    let items = 0;
    let quarantined = 0;
    for await (const page of elementExportImporter.read(file, { source: 'lumen-matrix' })) {
      quarantined += page.quarantine.length;
      items += page.items.length;
      for (const item of page.items) {
        const m = await elementExportImporter.normalize(item.raw, { source: 'lumen-matrix' });
        if (isSkip(m)) skipped[m.reason] = (skipped[m.reason] ?? 0) + 1;
        else messages.push(m);
      }
    }
    expect({ items, quarantined, messages: messages.length }).toEqual({ items: 39, quarantined: 0, messages: 24 });
    expect(skipped).toEqual({ [MATRIX_SKIP.membership]: 5, [MATRIX_SKIP.state]: 1, [MATRIX_SKIP.reactionFolded]: 6, [MATRIX_SKIP.editFolded]: 2, [MATRIX_SKIP.redactionFolded]: 1 });
    const sso = messages.filter((m) => m.author.id === '@mei:matrix.org' && /login page|redirect URI/.test(m.text));
    expect(sso.map((m) => [new Date(m.sentAt).toISOString(), m.text])).toEqual([
      ['2026-11-10T09:14:05.000Z', 'After upgrading to 2.4, signing in through Okta redirects back to the login page forever.'],
      ['2026-11-10T09:14:52.000Z', 'Cleared cookies and tried a private window, same loop. Our Okta app still uses the default redirect URI.'],
    ]);
    expect(messages.every((m) => m.channel === '!hQpVbZkLmRtYwXcJnE:matrix.org' && m.channelName === 'Lumen')).toBe(true);
    expect(messages.filter((m) => m.author.isBot).map((m) => m.author.name)).toEqual(['lumen-ci', 'lumen-ci', 'lumen-ci']);
    expect(messages.filter((m) => m.threadId).length).toBe(3);
    expect(messages.filter((m) => m.replyTo).length).toBe(2);
    expect(messages.filter((m) => m.editedAt).length).toBe(2);
    expect(messages.filter((m) => m.deleted).length).toBe(1);
    expect(messages.filter((m) => m.reactions).length).toBe(5);
  });

  it('quarantines a file that is not an Element export', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gleaner-element-'));
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"room_name": "x", "messages": [');
    const pages = [];
    for await (const page of elementExportImporter.read(file, { source: 'element' })) pages.push(page);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.quarantine[0]!.location).toBe('broken.json:1');
  });
});
