// The ingest repository: upserts a batch of normalized messages with their raw items, cursor and
// quarantine entries in one transaction, and threads them into conversations. Idempotent on
// (source, externalId): re-reading a page changes nothing; an edit updates; a delete marks.
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { chunks, dbKind, StoreError } from './db.js';
import { insertRows } from './bulk.js';
import { cooperativeYield, type Yielder } from '../yield.js';
import type { QuarantineEntry, RawMessage, Gap } from '../model/index.js';
import { assignConversations, subjectKey, type RefKind, type ThreadInput } from '../pipeline/thread.js';
import { contentHash } from '../pipeline/hash.js';
import { orgHintsOf } from '../pipeline/people.js';
import { COPY_WINDOW_MS, THREAD_CONTEXT_LINES, copyKeyOf, copySlotOf, copySlotsAround, inChannelStream, resolveCopies, type ChannelThreader, type CopyEntry, type StreamMessage } from '../pipeline/chat-threads.js';

export interface IngestBatch {
  sourceId: number;
  platform: string;
  messages: RawMessage[];
  raw?: Array<{ externalId: string; payload: string }>;
  normalizerVersion: number;
  cursor?: { key: string; value: string };
  quarantine?: QuarantineEntry[];
  gaps?: Gap[];
}

export interface IngestResult {
  new: number;
  updated: number;
  unchanged: number;
  copies: number;
  quarantined: number;
  /** Conversations created or changed by this batch: what the enrich stage should look at. */
  conversationIds: number[];
}

const SUBJECT_WINDOW_MS = 60 * 24 * 3600 * 1000;
/** Stream lines linked between two yields to the event loop (about 0.5 ms each). */
const LINK_SLICE = 200;


const MESSAGE_COLUMNS = ['source_id', 'channel_id', 'external_id', 'ref_key', 'identity_id', 'text', 'clean_text', 'content_hash', 'sent_at', 'edited_at', 'deleted', 'is_bot', 'subject', 'permalink', 'reactions', 'attachments', 'labels', 'relay', 'copy_key', 'copy_slot', 'stream', 'copy_of', 'conversation_id', 'created_at', 'updated_at'] as const;

const CONVERSATION_COLUMNS = ['channel_id', 'root_message_id', 'root_key', 'subject', 'subject_key', 'started_at', 'last_at', 'message_count', 'participant_count', 'updated_at', 'enrich_pending'] as const;

export function refKeyOf(sourceId: number, m: Pick<RawMessage, 'globalKey'>, id: string): string {
  return m.globalKey ? `g:${id}` : `s${sourceId}:${id}`;
}

function ownKey(sourceId: number, m: RawMessage): string {
  return m.globalKey ? `g:${m.globalKey}` : `s${sourceId}:${m.externalId}`;
}

function refsOf(sourceId: number, m: RawMessage): Array<{ key: string; kind: RefKind }> {
  const out: Array<{ key: string; kind: RefKind }> = [];
  const seen = new Set<string>();
  const push = (id: string | null | undefined, kind: RefKind) => {
    if (!id) return;
    const key = refKeyOf(sourceId, m, id);
    if (seen.has(key) || key === ownKey(sourceId, m)) return;
    seen.add(key);
    out.push({ key, kind });
  };
  push(m.replyTo, 'reply');
  push(m.threadId, 'thread');
  for (const r of m.references ?? []) push(r, 'reference');
  return out;
}

function identityKind(platform: string, m: RawMessage): { kind: string; value: string } {
  if (platform === 'mail') return { kind: 'email', value: (m.author.email ?? m.author.id).toLowerCase() };
  return { kind: platform, value: m.author.id };
}

function messageHash(m: RawMessage): string {
  return contentHash(m.text, m.cleanText, m.editedAt, m.deleted ? 1 : 0, m.subject, JSON.stringify(m.reactions ?? null), m.permalink, m.author.name);
}

export interface IngestOptions {
  /** Threads unthreaded chat lines (IRC, busy channels, room timelines); without it they start conversations. */
  threader?: ChannelThreader;
  /** Links found ahead of time for a channel's lines (see src/stages/link-ahead.ts); undefined: link here. */
  ahead?: {
    take(sourceId: number, channel: string, lastStoredKey: string | null, lines: readonly StreamMessage[]): Promise<Map<number, string> | undefined>;
    /** After linking a channel here: whether the helper wants the store's lines, and handing them over. */
    wants(sourceId: number, channel: string): boolean;
    seed(sourceId: number, channel: string, context: StreamMessage[], lines: StreamMessage[]): void;
  };
}

/**
 * The new lines of each channel's main stream in a batch (`fresh`: the new messages, oldest first), as
 * the disentangler sees them, with their positions in `fresh`. Channels whose new stream lines all
 * have native threads are left out (nothing to link). The one definition of what gets linked: the
 * ingest and the helper that links ahead of it (which must see exactly the same lines) both use it.
 */
export function channelStreams(sourceId: number, fresh: readonly RawMessage[]): Array<{ channel: string; idxs: number[]; lines: StreamMessage[] }> {
  const byChannel = new Map<string, { channel: string; idxs: number[]; lines: StreamMessage[] }>();
  fresh.forEach((m, i) => {
    if (!inChannelStream(m)) return;
    let g = byChannel.get(m.channel);
    if (!g) byChannel.set(m.channel, (g = { channel: m.channel, idxs: [], lines: [] }));
    g.idxs.push(i);
    g.lines.push({ key: ownKey(sourceId, m), channel: m.channel, author: m.author.name ?? m.author.id, text: m.cleanText ?? m.text, at: m.sentAt, threaded: Boolean(m.threadId || m.replyTo || m.references?.length) });
  });
  return [...byChannel.values()].filter((g) => g.lines.some((l) => !l.threaded));
}

/** The new messages of a batch as ingestBatch orders them when none is stored yet: the last version of each external id, oldest first. */
export function batchInTimeOrder(messages: readonly RawMessage[]): RawMessage[] {
  const byExt = new Map<string, RawMessage>();
  for (const m of messages) byExt.set(m.externalId, m);
  return [...byExt.values()].sort((a, b) => a.sentAt - b.sentAt);
}

export async function ingestBatch(db: Kysely<Database>, batch: IngestBatch, now: number, opts: IngestOptions = {}): Promise<IngestResult> {
  const clean = withoutNul(batch);
  if (dbKind(db) === 'sqlite') {
    // BEGIN IMMEDIATE takes the write lock first: several worker processes on one file then wait on the
    // busy timeout, where a deferred transaction whose read snapshot went stale fails with SQLITE_BUSY.
    return db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await ingestInTransaction(conn, clean, now, opts);
        await sql`commit`.execute(conn);
        return result;
      } catch (err: unknown) {
        await sql`rollback`.execute(conn).catch(() => undefined); // SQLite may have rolled back already (disk full)
        throw await explainSqliteError(conn, err);
      }
    });
  }
  // PostgreSQL: channels and authors first, in a short transaction of their own. Two workers meeting
  // the same new author or channel would otherwise wait for each other's whole batch (an insert of a
  // conflicting key waits for the other transaction to end). Both are idempotent: a batch that fails
  // after this leaves them for its retry.
  const refs = await db.transaction().execute(async (trx) => ({
    channelIds: await ensureChannels(trx, clean.sourceId, clean.messages),
    identityIds: await ensureIdentities(trx, clean.platform, clean.messages, now),
  }));
  return db.transaction().execute((trx) => ingestInTransaction(trx, clean, now, opts, refs));
}

// PostgreSQL text cannot hold U+0000 (SQLite can): drop it on both, so both store the same text.
const nul = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '') : s);
const nulOrNull = <T extends string | null | undefined>(s: T): T => (typeof s === 'string' ? (nul(s) as T) : s);

function withoutNul(batch: IngestBatch): IngestBatch {
  const hasNul = (s: string | null | undefined) => typeof s === 'string' && s.includes('\u0000');
  const dirty = (m: RawMessage) => hasNul(m.text) || hasNul(m.cleanText) || hasNul(m.subject) || hasNul(m.author.name) || hasNul(m.permalink);
  const anyDirty = batch.messages.some(dirty) || batch.raw?.some((r) => hasNul(r.payload)) || batch.quarantine?.some((q) => hasNul(q.location) || hasNul(q.reason) || hasNul(q.excerpt));
  if (!anyDirty) return batch;
  return {
    ...batch,
    messages: batch.messages.map((m) =>
      dirty(m) ? { ...m, text: nul(m.text), cleanText: nulOrNull(m.cleanText), subject: nulOrNull(m.subject), permalink: nulOrNull(m.permalink), author: { ...m.author, name: nulOrNull(m.author.name) } } : m,
    ),
    raw: batch.raw?.map((r) => ({ ...r, payload: nul(r.payload) })),
    quarantine: batch.quarantine?.map((q) => ({ ...q, location: nul(q.location), reason: nul(q.reason), excerpt: nul(q.excerpt) })),
  };
}

async function ingestInTransaction(trx: Kysely<Database>, batch: IngestBatch, now: number, opts: IngestOptions, refs?: { channelIds: Map<string, number>; identityIds: Map<string, number> }): Promise<IngestResult> {
  const { sourceId } = batch;
  const result: IngestResult = { new: 0, updated: 0, unchanged: 0, copies: 0, quarantined: 0, conversationIds: [] };
  const touched = new Set<number>();
  const tick = cooperativeYield();

  // The last version of each external id in the batch wins (an edit later in the same page).
  const byExt = new Map<string, RawMessage>();
  for (const m of batch.messages) byExt.set(m.externalId, m);
  const msgs = [...byExt.values()];
  result.unchanged += batch.messages.length - msgs.length;

  const channelIds = refs?.channelIds ?? (await ensureChannels(trx, sourceId, msgs));
  const identityIds = refs?.identityIds ?? (await ensureIdentities(trx, batch.platform, msgs, now));

  // What is already stored for these external ids.
  const existing = new Map<string, { id: number; content_hash: string; conversation_id: number | null; edited_at: number | null; deleted: number }>();
  for (const part of chunks(msgs.map((m) => m.externalId))) {
    await tick();
    const rows = await trx
      .selectFrom('messages')
      .select(['id', 'external_id', 'content_hash', 'conversation_id', 'edited_at', 'deleted'])
      .where('source_id', '=', sourceId)
      .where('external_id', 'in', part)
      .execute();
    for (const r of rows) existing.set(r.external_id, r);
  }

  // Copies of the same message stored from another source (the same mail in several archives).
  const originals = new Map<string, number>();
  const globalKeys = msgs.filter((m) => m.globalKey && !existing.has(m.externalId)).map((m) => ownKey(sourceId, m));
  for (const part of chunks(globalKeys)) {
    const rows = await trx
      .selectFrom('messages')
      .select(['id', 'ref_key', 'conversation_id'])
      .where('ref_key', 'in', part)
      .where('copy_of', 'is', null)
      .execute();
    for (const r of rows) if (!originals.has(r.ref_key)) originals.set(r.ref_key, r.id);
  }

  const fresh: RawMessage[] = [];
  const hashOf = new Map<RawMessage, string>();
  for (const m of msgs) {
    const e = existing.get(m.externalId);
    const hash = messageHash(m);
    if (!e) {
      fresh.push(m);
      hashOf.set(m, hash);
      continue;
    }
    if (e.content_hash === hash || isOlderVersion(m, e)) {
      result.unchanged++;
      continue;
    }
    await tick();
    result.updated++;
    if (e.conversation_id !== null) touched.add(e.conversation_id);
    await trx
      .updateTable('messages')
      .set({
        text: m.text,
        clean_text: m.cleanText ?? m.text,
        content_hash: hash,
        edited_at: m.editedAt ?? null,
        deleted: m.deleted ? 1 : 0,
        subject: m.subject ?? null,
        permalink: m.permalink ?? null,
        reactions: m.reactions ? JSON.stringify(m.reactions) : null,
        attachments: m.attachments?.length ? JSON.stringify(m.attachments) : null,
        labels: m.labels?.length ? JSON.stringify(m.labels) : null,
        updated_at: now,
      })
      .where('id', '=', e.id)
      .execute();
  }

  // New messages, in time order (so rowids follow time).
  fresh.sort((a, b) => a.sentAt - b.sentAt);
  const keyOf = fresh.map((m) => ownKey(sourceId, m));
  const copyKeys = fresh.map((m) => (batch.platform === 'mail' ? copyKeyOf(m.cleanText ?? m.text) : copyKeyOf(m.cleanText ?? m.text, m.author)));

  // Cross-posts, bridge relays and pastes of the same text within the window: one original, the rest
  // linked to it. Stored messages take part too: a relay stored first yields to the original.
  const stored: Array<CopyEntry & { id: number; copyOf: number | null; conversationId: number | null }> = [];
  // Looked up by slot (the copy key within an hour): around each new message, not over the batch's whole span.
  const wantedSlots = [...new Set(fresh.flatMap((m, i) => (copyKeys[i] ? copySlotsAround(copyKeys[i], m.sentAt) : [])))];
  if (wantedSlots.length) {
    const minAt = fresh[0]!.sentAt - COPY_WINDOW_MS;
    const maxAt = fresh[fresh.length - 1]!.sentAt + COPY_WINDOW_MS;
    for (const part of chunks(wantedSlots)) {
      const rows = await trx
        .selectFrom('messages')
        .select(['id', 'ref_key', 'channel_id', 'identity_id', 'sent_at', 'copy_key', 'copy_of', 'relay', 'conversation_id'])
        .where('copy_slot', 'in', part)
        .where('sent_at', '>=', minAt)
        .where('sent_at', '<=', maxAt)
        .execute();
      for (const r of rows) stored.push({ id: r.id, key: r.ref_key, copyKey: r.copy_key!, channel: String(r.channel_id), author: String(r.identity_id), at: Number(r.sent_at), relay: r.relay !== null, copyOf: r.copy_of, conversationId: r.conversation_id });
    }
  }
  // Entries are keyed by row (stored) or batch position (new): the same mail stored from several
  // archives shares one ref key, and those duplicates are already linked by their global key.
  const sharedRef = new Map<string, number>();
  for (const st of stored) sharedRef.set(st.key, (sharedRef.get(st.key) ?? 0) + 1);
  const storedEntries = stored.filter((st) => !(st.copyOf !== null && (sharedRef.get(st.key) ?? 0) > 1));
  const resolved = resolveCopies([
    ...storedEntries.map((st) => ({ ...st, key: `s${st.id}` })),
    ...fresh.flatMap((m, i) => (copyKeys[i] && !originals.has(keyOf[i]!) ? [{ key: `f${i}`, copyKey: copyKeys[i], channel: String(channelIds.get(m.channel)), author: String(identityIds.get(m.author.id)), at: m.sentAt, relay: Boolean(m.relay) }] : [])),
  ]);
  /** Original of a copy, as a stored id or a batch position. */
  const originalOf = (k: string): { id: number } | { fresh: number } | undefined => {
    const o = resolved.get(k);
    if (o === undefined) return undefined;
    return o.startsWith('s') ? { id: Number(o.slice(1)) } : { fresh: Number(o.slice(1)) };
  };
  const copyOfKey = new Map<number, { id: number } | { fresh: number }>();
  fresh.forEach((_, i) => {
    const o = originalOf(`f${i}`);
    if (o) copyOfKey.set(i, o);
  });
  const isCopy = (i: number) => originals.has(keyOf[i]!) || copyOfKey.has(i);

  // Unthreaded chat lines: link each to the earlier line it answers (a learned model over each
  // channel's main stream; thread replies live in their threads and are not part of it).
  const replyOf = new Map<number, string>();
  if (opts.threader && batch.platform !== 'mail') {
    for (const { channel, idxs, lines } of channelStreams(sourceId, fresh)) {
      await tick();
      const channelId = channelIds.get(channel)!;
      const first = lines[0]!.at;
      const recent = (limit: number) =>
        trx
          .selectFrom('messages as m')
          .innerJoin('identities as idn', 'idn.id', 'm.identity_id')
          .select(['m.ref_key', 'm.clean_text', 'm.sent_at', 'idn.display_name', 'idn.value'])
          .where('m.channel_id', '=', channelId)
          .where('m.stream', '=', 1)
          .where('m.sent_at', '<=', first)
          .orderBy('m.sent_at', 'desc')
          .orderBy('m.id', 'desc')
          .limit(limit)
          .execute();
      const last = await recent(1);
      const lastKey = last[0]?.ref_key ?? null;
      // Linked ahead on a helper thread (a bulk import), when it saw the same lines after the same stored line.
      const channelKey = `${sourceId}:${channelId}`;
      const ahead = await opts.ahead?.take(sourceId, channel, lastKey, lines);
      if (ahead) {
        for (const [j, parentKey] of ahead) replyOf.set(idxs[j]!, parentKey);
        opts.threader.forget(channelKey); // this thread's state for it is behind now
        continue;
      }
      const storedContext = async () => (last.length ? await recent(THREAD_CONTEXT_LINES) : []).reverse().map((r) => ({ key: r.ref_key, channel: String(channelId), author: r.display_name ?? r.value, text: r.clean_text, at: Number(r.sent_at), threaded: true }));
      let context: StreamMessage[] | null = null;
      if (!opts.threader.canContinue(channelKey, lastKey)) context = await storedContext();
      if (opts.ahead?.wants(sourceId, channel)) opts.ahead.seed(sourceId, channel, context ?? (await storedContext()), lines);
      // In slices (the threader keeps the channel's state between calls), yielding between them.
      for (let s = 0; s < lines.length; s += LINK_SLICE) {
        if (s) await tick();
        for (const [j, parentKey] of opts.threader.link(channelKey, s ? null : context, lines.slice(s, s + LINK_SLICE))) replyOf.set(idxs[s + j]!, parentKey);
      }
    }
  }

  // Thread: native links first, inferred replies next; look up what the store knows.
  const refRows: Array<{ key: string; ref_key: string; kind: string }> = [];
  const threadInputs: ThreadInput[] = fresh.map((m, i) => {
    const refs = refsOf(sourceId, m);
    const inferred = replyOf.get(i);
    if (inferred) refs.push({ key: inferred, kind: 'reply' });
    for (const r of refs) refRows.push({ key: keyOf[i]!, ref_key: r.key, kind: r.kind });
    const subj = subjectKey(m.subject);
    return { key: keyOf[i]!, refs, channelId: channelIds.get(m.channel)!, subjectKey: subj.key, isReplySubject: subj.isReply, sentAt: m.sentAt };
  });
  const convOfKey = new Map<string, number>();
  const wanted = [...new Set(threadInputs.flatMap((t) => t.refs.map((r) => r.key)))];
  for (const part of chunks(wanted)) {
    const rows = await trx.selectFrom('messages').select(['ref_key', 'conversation_id']).where('ref_key', 'in', part).where('conversation_id', 'is not', null).execute();
    for (const r of rows) convOfKey.set(r.ref_key, r.conversation_id!);
  }
  const convOfSubject = new Map<string, number>();
  const subjKeys = [...new Set(threadInputs.filter((t) => t.subjectKey).map((t) => t.subjectKey!))];
  if (subjKeys.length) {
    const minAt = fresh[0]!.sentAt - SUBJECT_WINDOW_MS;
    for (const part of chunks(subjKeys)) {
      // The oldest such conversation per channel and subject, grouped here: a subject many threads
      // share ("Re: build fails") returned thousands of rows a batch.
      const rows = await trx
        .selectFrom('conversations')
        .select((eb) => ['channel_id', 'subject_key', eb.fn.min<number>('id').as('id')])
        .where('subject_key', 'in', part)
        .where('last_at', '>=', minAt)
        .groupBy(['channel_id', 'subject_key'])
        .execute();
      for (const r of rows) {
        const k = `${r.channel_id}\u0000${r.subject_key}`;
        const id = Number(r.id);
        const had = convOfSubject.get(k);
        if (had === undefined || id < had) convOfSubject.set(k, id);
      }
    }
  }
  const threaded = assignConversations(threadInputs, { convOfKey, convOfSubject });

  // New conversations, inserted in bulk with their counts computed here.
  const freshStats = threaded.fresh.map((f) => ({ ...f, n: 0, people: new Set<number>(), first: Infinity, last: -Infinity }));
  fresh.forEach((m, i) => {
    const a = threaded.assign[i]!;
    if ('existing' in a) {
      touched.add(a.existing);
      return;
    }
    const st = freshStats[a.fresh]!;
    if (isCopy(i) || m.deleted) return;
    st.n++;
    st.people.add(identityIds.get(m.author.id)!);
    st.first = Math.min(st.first, m.sentAt);
    st.last = Math.max(st.last, m.sentAt);
  });
  const freshConvIds = new Array<number>(freshStats.length);
  for (let c = 0; c < freshStats.length; c += 200) {
    await tick();
    const part = freshStats.slice(c, c + 200);
    const rows = await insertRows(
      trx,
      'conversations',
      CONVERSATION_COLUMNS,
      part.map((f) => {
        const root = fresh[f.firstInput]!;
        return [f.channelId, null, keyOf[f.firstInput]!, root.subject ?? null, f.subjectKey, f.n ? f.first : root.sentAt, f.n ? f.last : root.sentAt, f.n, f.people.size, now, 1];
      }),
      { returning: ['id', 'root_key'] },
    );
    const idOfRoot = new Map(rows.map((r) => [r.root_key as string, Number(r.id)]));
    part.forEach((f, j) => (freshConvIds[c + j] = idOfRoot.get(keyOf[f.firstInput]!)!));
  }
  const convIdOf = (i: number): number => {
    const a = threaded.assign[i]!;
    return 'existing' in a ? a.existing : freshConvIds[a.fresh]!;
  };

  // Insert the messages with their conversation and (when known) their original.
  const insertedIds: number[] = [];
  for (let c = 0; c < fresh.length; c += 200) {
    await tick();
    const part = fresh.slice(c, c + 200);
    const rows = await insertRows(
      trx,
      'messages',
      MESSAGE_COLUMNS,
      part.map((m, j) => {
        const i = c + j;
        const key = keyOf[i]!;
        const orig = copyOfKey.get(i);
        const copyOf = originals.get(key) ?? (orig && 'id' in orig ? orig.id : null);
        return [
          sourceId,
          channelIds.get(m.channel)!,
          m.externalId,
          key,
          identityIds.get(m.author.id)!,
          m.text,
          m.cleanText ?? m.text,
          hashOf.get(m)!,
          m.sentAt,
          m.editedAt ?? null,
          m.deleted ? 1 : 0,
          m.author.isBot ? 1 : 0,
          m.subject ?? null,
          m.permalink ?? null,
          m.reactions && Object.keys(m.reactions).length ? JSON.stringify(m.reactions) : null,
          m.attachments?.length ? JSON.stringify(m.attachments) : null,
          m.labels?.length ? JSON.stringify(m.labels) : null,
          m.relay ? JSON.stringify(m.relay) : null,
          copyKeys[i] ?? null,
          copyKeys[i] ? copySlotOf(copyKeys[i], m.sentAt) : null,
          inChannelStream(m) ? 1 : 0,
          copyOf,
          convIdOf(i),
          now,
          now,
        ];
      }),
      { returning: ['id', 'ref_key'] },
    );
    const idOfKey = new Map(rows.map((r) => [r.ref_key as string, Number(r.id)]));
    part.forEach((_, j) => insertedIds.push(idOfKey.get(keyOf[c + j]!)!));
  }
  // Copies whose original is new in this batch: its id is known only now. Stored messages whose
  // standing changed (a relay stored before its original) are re-pointed, their threads recounted.
  const idOfFreshKey = new Map(keyOf.map((k, i) => [k, insertedIds[i]!]));
  for (const [i, orig] of copyOfKey) {
    if ('id' in orig) continue;
    const id = insertedIds[orig.fresh];
    if (id !== undefined && id !== insertedIds[i]) await trx.updateTable('messages').set({ copy_of: id }).where('id', '=', insertedIds[i]!).execute();
  }
  for (const st of storedEntries) {
    const orig = originalOf(`s${st.id}`);
    if (!orig) continue;
    const want = 'id' in orig ? orig.id : insertedIds[orig.fresh]!;
    if (want !== st.copyOf) {
      await trx.updateTable('messages').set({ copy_of: want, updated_at: now }).where('id', '=', st.id).execute();
      // Anything that pointed at it now points at the new original.
      await trx.updateTable('messages').set({ copy_of: want }).where('copy_of', '=', st.id).execute();
      if (st.conversationId !== null) touched.add(st.conversationId);
    }
  }
  result.new = fresh.filter((_, i) => !isCopy(i)).length;
  result.copies = fresh.length - result.new;
  if (freshConvIds.length) {
    for (const part of chunks(freshConvIds)) {
      await trx
        .updateTable('conversations')
        .set((eb) => ({ root_message_id: eb.selectFrom('messages').select('messages.id').whereRef('messages.ref_key', '=', 'conversations.root_key').limit(1) }))
        .where('id', 'in', part)
        .execute();
    }
  }

  // References, kept so that a parent arriving later can pull its replies into its conversation.
  for (const part of chunks(refRows, 300)) {
    await insertRows(
      trx,
      'message_refs',
      ['message_id', 'ref_key', 'kind'],
      part.map((r) => [idOfFreshKey.get(r.key)!, r.ref_key, r.kind]),
      { onConflict: 'on conflict do nothing' },
    );
  }

  // Replies stored before their parent arrived: merge their conversations into the parent's.
  for (const part of chunks(keyOf)) {
    await tick();
    // Three indexed lookups rather than one join: PostgreSQL planned the join as scans of messages.
    const refs = await trx.selectFrom('message_refs').select(['message_id', 'ref_key']).where('ref_key', 'in', part).execute();
    if (!refs.length) continue;
    const childConv = new Map<number, number | null>();
    for (const ids of chunks([...new Set(refs.map((r) => r.message_id))])) {
      for (const m of await trx.selectFrom('messages').select(['id', 'conversation_id']).where('id', 'in', ids).execute()) childConv.set(m.id, m.conversation_id);
    }
    const parentConvs = new Map<string, Array<number | null>>();
    for (const m of await trx.selectFrom('messages').select(['ref_key', 'conversation_id']).where('ref_key', 'in', [...new Set(refs.map((r) => r.ref_key))]).execute()) {
      parentConvs.set(m.ref_key, [...(parentConvs.get(m.ref_key) ?? []), m.conversation_id]);
    }
    const orphans = refs.flatMap((r) => (parentConvs.get(r.ref_key) ?? []).map((parentConv) => ({ childConv: childConv.get(r.message_id) ?? null, parentConv })));
    for (const o of orphans) {
      if (o.childConv === null || o.parentConv === null || o.childConv === o.parentConv) continue;
      await mergeConversations(trx, o.parentConv, o.childConv);
      touched.delete(o.childConv);
      touched.add(o.parentConv);
    }
  }

  await refreshConversations(trx, [...touched], now, tick);
  // Enrichment owed, recorded with the batch: a run that dies before enriching leaves it findable.
  await markEnrichPending(trx, [...touched]);
  await touchChannels(trx, sourceId, msgs, channelIds);

  if (batch.raw?.length) {
    for (const part of chunks(batch.raw, 200)) {
      await tick();
      await trx
        .insertInto('raw_items')
        .values(part.map((r) => ({ source_id: sourceId, external_id: r.externalId, payload: r.payload, normalizer_version: batch.normalizerVersion, fetched_at: now })))
        .onConflict((oc) => oc.columns(['source_id', 'external_id']).doUpdateSet((eb) => ({ payload: eb.ref('excluded.payload'), normalizer_version: eb.ref('excluded.normalizer_version'), fetched_at: eb.ref('excluded.fetched_at') })))
        .execute();
    }
  }
  for (const q of batch.quarantine ?? []) {
    await trx.insertInto('quarantine').values({ source_id: sourceId, location: q.location, reason: q.reason, excerpt: q.excerpt.slice(0, 2000), created_at: now }).execute();
    result.quarantined++;
  }
  for (const g of batch.gaps ?? []) {
    await trx.insertInto('gaps').values({ source_id: sourceId, channel: g.channel ?? null, from_at: g.from, to_at: g.to ?? null, reason: g.reason, created_at: now }).execute();
  }
  const cursor = batch.cursor;
  if (cursor) {
    await trx
      .insertInto('checkpoints')
      .values({ source_id: sourceId, key: cursor.key, cursor: cursor.value, updated_at: now })
      .onConflict((oc) => oc.columns(['source_id', 'key']).doUpdateSet({ cursor: cursor.value, updated_at: now }))
      .execute();
  }
  result.conversationIds = [...new Set([...touched, ...freshConvIds])].sort((a, b) => a - b);
  return result;
}

/** A full disk names the database file and says what to do; the batch was rolled back whole. */
async function explainSqliteError(db: Kysely<Database>, err: unknown): Promise<unknown> {
  if ((err as { code?: unknown }).code !== 'SQLITE_FULL') return err;
  const list = await sql<{ file: string }>`pragma database_list`.execute(db).catch(() => null);
  const file = list?.rows[0]?.file || 'the SQLite database';
  return new StoreError(`${file}: the disk is full (SQLite could not write): nothing of this batch was stored; free space on that disk (or move the database) and the batch is retried`, { cause: err });
}

/**
 * An older version of a stored message: its batch was processed after a newer one's (another worker
 * took the edit's batch first, or a retry ran late). It must not overwrite the newer text.
 */
function isOlderVersion(m: RawMessage, stored: { edited_at: number | null; deleted: number }): boolean {
  if (stored.deleted && !m.deleted) return true; // a deletion is final
  if (m.deleted) return false;
  return stored.edited_at !== null && (m.editedAt ?? -Infinity) < Number(stored.edited_at);
}

/**
 * Moves conversation `from` into `into`. Its feedback item moves along when `into` has none (keeping
 * its cluster and tags); otherwise it goes, with its placement and tags. The order matters with
 * concurrent workers on PostgreSQL: the conversation row goes first (an enrich holding it FOR SHARE
 * finishes first, or sees it gone), and the items before their placements (a cluster worker holding
 * an item FOR SHARE commits its placement first, which the last statements then remove).
 */
async function mergeConversations(trx: Kysely<Database>, into: number, from: number): Promise<void> {
  await trx.deleteFrom('conversations').where('id', '=', from).execute();
  await trx.updateTable('messages').set({ conversation_id: into }).where('conversation_id', '=', from).execute();
  await trx.updateTable('feedback_items').set({ conversation_id: into }).where('conversation_id', '=', from).where(({ not, exists, selectFrom }) => not(exists(selectFrom('feedback_items as f2').select('f2.id').where('f2.conversation_id', '=', into)))).execute();
  const gone = (await trx.deleteFrom('feedback_items').where('conversation_id', '=', from).returning('id').execute()).map((r) => r.id);
  if (gone.length) {
    await trx.deleteFrom('cluster_items').where('item_id', 'in', gone).execute();
    await trx.deleteFrom('tags').where('item_id', 'in', gone).execute();
  }
}

/** Conversations whose messages changed: their feedback is detected again (see migration 0010). */
export async function markEnrichPending(trx: Kysely<Database>, ids: readonly number[]): Promise<void> {
  for (const part of chunks([...ids].sort((a, b) => a - b))) {
    await trx
      .updateTable('conversations')
      .set((eb) => ({ enrich_pending: eb('enrich_pending', '+', 1) }))
      .where('id', 'in', part)
      .execute();
  }
}

/** Recomputes counts and time span; copies and deleted messages do not count. */
export async function refreshConversations(trx: Kysely<Database>, ids: number[], now: number, tick: Yielder = async () => {}): Promise<void> {
  for (const part of chunks(ids)) {
    await tick();
    const stats = await trx
      .selectFrom('messages')
      .select((eb) => [
        'conversation_id',
        eb.fn.countAll<number>().as('n'),
        eb.fn.count<number>('identity_id').distinct().as('people'),
        eb.fn.min<number>('sent_at').as('first'),
        eb.fn.max<number>('sent_at').as('last'),
      ])
      .where('conversation_id', 'in', part)
      .where('copy_of', 'is', null)
      .where('deleted', '=', 0)
      .groupBy('conversation_id')
      .execute();
    const seen = new Set<number>();
    for (const s of stats) {
      seen.add(s.conversation_id!);
      await trx
        .updateTable('conversations')
        .set({ message_count: Number(s.n), participant_count: Number(s.people), started_at: Number(s.first), last_at: Number(s.last), updated_at: now })
        .where('id', '=', s.conversation_id!)
        .execute();
    }
    const empty = part.filter((id) => !seen.has(id));
    if (empty.length) await trx.updateTable('conversations').set({ message_count: 0, participant_count: 0, updated_at: now }).where('id', 'in', empty).execute();
  }
}

async function ensureChannels(trx: Kysely<Database>, sourceId: number, msgs: RawMessage[]): Promise<Map<string, number>> {
  const names = new Map<string, string | null>();
  for (const m of msgs) if (!names.has(m.channel) || !names.get(m.channel)) names.set(m.channel, m.channelName ?? null);
  const out = new Map<string, number>();
  if (!names.size) return out;
  await trx
    .insertInto('channels')
    .values([...names].map(([ext, name]) => ({ source_id: sourceId, external_id: ext, name: name ?? ext, first_at: null, last_at: null })))
    .onConflict((oc) => oc.columns(['source_id', 'external_id']).doNothing())
    .execute();
  for (const part of chunks([...names.keys()])) {
    const rows = await trx.selectFrom('channels').select(['id', 'external_id']).where('source_id', '=', sourceId).where('external_id', 'in', part).execute();
    for (const r of rows) out.set(r.external_id, r.id);
  }
  return out;
}

async function touchChannels(trx: Kysely<Database>, sourceId: number, msgs: RawMessage[], ids: Map<string, number>): Promise<void> {
  const span = new Map<string, { first: number; last: number }>();
  for (const m of msgs) {
    const s = span.get(m.channel);
    if (!s) span.set(m.channel, { first: m.sentAt, last: m.sentAt });
    else {
      s.first = Math.min(s.first, m.sentAt);
      s.last = Math.max(s.last, m.sentAt);
    }
  }
  for (const [ch, s] of span) {
    const id = ids.get(ch)!;
    const row = await trx.selectFrom('channels').select(['first_at', 'last_at']).where('id', '=', id).where('source_id', '=', sourceId).executeTakeFirst();
    const first = row?.first_at == null ? s.first : Math.min(Number(row.first_at), s.first);
    const last = row?.last_at == null ? s.last : Math.max(Number(row.last_at), s.last);
    await trx.updateTable('channels').set({ first_at: first, last_at: last }).where('id', '=', id).execute();
  }
}

/** The org hints (Slack team, Discord roles) of each author, from their latest message in the batch that carries any. */
function authorHints(msgs: RawMessage[]): Map<string, string> {
  const latest = new Map<string, { at: number; hints: string }>();
  for (const m of msgs) {
    const h = orgHintsOf({ team: m.author.team, roles: m.author.roles });
    if (!h) continue;
    const prev = latest.get(m.author.id);
    if (!prev || m.sentAt >= prev.at) latest.set(m.author.id, { at: m.sentAt, hints: JSON.stringify(h) });
  }
  return new Map([...latest].map(([k, v]) => [k, v.hints]));
}

async function ensureIdentities(trx: Kysely<Database>, platform: string, msgs: RawMessage[], now: number): Promise<Map<string, number>> {
  // author.id -> identity id
  const want = new Map<string, { kind: string; value: string; m: RawMessage }>();
  for (const m of msgs) if (!want.has(m.author.id)) want.set(m.author.id, { ...identityKind(platform, m), m });
  const hints = authorHints(msgs);
  const out = new Map<string, number>();
  const byKindValue = new Map<string, { id: number; personId: number; hints: string | null }>();
  const kinds = new Set([...want.values()].map((w) => w.kind));
  for (const kind of kinds) {
    const values = [...want.values()].filter((w) => w.kind === kind).map((w) => w.value);
    for (const part of chunks(values)) {
      const rows = await trx.selectFrom('identities').select(['id', 'kind', 'value', 'person_id', 'org_hints']).where('kind', '=', kind).where('value', 'in', part).execute();
      for (const r of rows) byKindValue.set(`${r.kind}\u0000${r.value}`, { id: r.id, personId: r.person_id, hints: r.org_hints });
    }
  }
  for (const [authorId, w] of want) {
    const k = `${w.kind}\u0000${w.value}`;
    const known = byKindValue.get(k);
    let id = known?.id;
    const h = hints.get(authorId) ?? null;
    if (known && h !== null && h !== known.hints) {
      // The platform says something new (a role given or taken): the person's org is resolved again.
      await trx.updateTable('identities').set({ org_hints: h }).where('id', '=', known.id).execute();
      await trx.updateTable('people').set({ org_resolved_at: null }).where('id', '=', known.personId).execute();
      known.hints = h;
    }
    if (id === undefined) {
      const email = w.m.author.email?.toLowerCase() ?? null;
      // The same email seen on another platform is clear evidence of the same person.
      let personId: number | undefined;
      let evidence: string | null = null;
      if (email) {
        const other = await trx.selectFrom('identities').select(['person_id']).where('email', '=', email).executeTakeFirst();
        if (other) {
          personId = other.person_id;
          evidence = JSON.stringify({ rule: 'same-email', email });
        }
      }
      let newPerson: number | undefined;
      if (personId === undefined) {
        const p = await trx
          .insertInto('people')
          .values({ display_name: w.m.author.name || w.value, org_id: null, is_staff: 0, created_at: now })
          .returning(['id'])
          .executeTakeFirstOrThrow();
        personId = newPerson = p.id;
      }
      const row = await trx
        .insertInto('identities')
        .values({ kind: w.kind, value: w.value, display_name: w.m.author.name ?? null, email, is_bot: w.m.author.isBot ? 1 : 0, person_id: personId, link_evidence: evidence, created_at: now, org_hints: h })
        .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
        .returning(['id'])
        .executeTakeFirst();
      if (!row) {
        // Another worker stored this author meanwhile (PostgreSQL, concurrent batches): use theirs.
        if (newPerson !== undefined) await trx.deleteFrom('people').where('id', '=', newPerson).execute();
        const theirs = await trx.selectFrom('identities').select(['id', 'person_id']).where('kind', '=', w.kind).where('value', '=', w.value).executeTakeFirstOrThrow();
        byKindValue.set(k, { id: theirs.id, personId: theirs.person_id, hints: h });
        out.set(authorId, theirs.id);
        continue;
      }
      id = row.id;
      byKindValue.set(k, { id, personId, hints: h });
      // A new identity may place its person (joined by the same email) elsewhere: resolve again.
      if (evidence) await trx.updateTable('people').set({ org_resolved_at: null }).where('id', '=', personId).execute();
    }
    out.set(authorId, id);
  }
  return out;
}
