// The ingest stage's plan: what a batch of normalized messages changes in the store, computed from
// what the store holds (read first by src/store/ingest.ts) and applied in one transaction by
// src/store/ingest-apply.ts. Pure: no I/O, no clock; the steps run in the order the shell
// (src/stages/ingest-batch.ts) calls them, each given what the store answered for the one before.
//
//   versions  the last version of each external id; new, edited or unchanged against the store
//   copies    cross-posts, relays and pastes of the same text: one original, the others linked to it
//   threads   native links, inferred replies (linked by the shell), conversations joined or started
//   rows      the conversations and messages to insert, with their counts, originals and references
import type { RawMessage } from '../model/index.js';
import type { AuthorWanted, ChannelWanted, IngestPlan, MessageUpdate, NewConversation, NewMessage, OriginalRef, RefKind, StoredCopy, StoredVersion } from '../model/ingest.js';
import { contentHash } from './hash.js';
import { orgHintsOf } from './people.js';
import { assignConversations, subjectKey, type ThreadInput } from './thread.js';
import { COPY_SLOT_MS, COPY_WINDOW_MS, copyKeyOf, copySlotOf, copySlotsAround, inChannelStream, resolveCopies, type CopyEntry, type StreamMessage } from './chat-threads.js';

/** How far back a mail reply's subject may find its conversation. */
export const SUBJECT_WINDOW_MS = 60 * 24 * 3600 * 1000;

/** The key a message is referred to by: its global key (a Message-ID) or its id within its source. */
export function refKeyOf(sourceId: number, m: Pick<RawMessage, 'globalKey'>, id: string): string {
  return m.globalKey ? `g:${id}` : `s${sourceId}:${id}`;
}

export function ownKey(sourceId: number, m: RawMessage): string {
  return m.globalKey ? `g:${m.globalKey}` : `s${sourceId}:${m.externalId}`;
}

function refsOf(sourceId: number, m: RawMessage): Array<{ key: string; kind: RefKind }> {
  const out: Array<{ key: string; kind: RefKind }> = [];
  const seen = new Set<string>();
  const own = ownKey(sourceId, m);
  const push = (id: string | null | undefined, kind: RefKind) => {
    if (!id) return;
    const key = refKeyOf(sourceId, m, id);
    if (seen.has(key) || key === own) return;
    seen.add(key);
    out.push({ key, kind });
  };
  push(m.replyTo, 'reply');
  push(m.threadId, 'thread');
  for (const r of m.references ?? []) push(r, 'reference');
  return out;
}

export function messageHash(m: RawMessage): string {
  return contentHash(m.text, m.cleanText, m.editedAt, m.deleted ? 1 : 0, m.subject, JSON.stringify(m.reactions ?? null), m.permalink, m.author.name);
}

/** The last version of each external id in a batch (an edit later in the same page wins), in batch order. */
export function latestVersions(messages: readonly RawMessage[]): RawMessage[] {
  const byExt = new Map<string, RawMessage>();
  for (const m of messages) byExt.set(m.externalId, m);
  return [...byExt.values()];
}

/** The new messages of a batch as the plan orders them when none is stored yet: the last version of each external id, oldest first. */
export function batchInTimeOrder(messages: readonly RawMessage[]): RawMessage[] {
  return latestVersions(messages).sort((a, b) => a.sentAt - b.sentAt);
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
    g.lines.push({
      key: ownKey(sourceId, m),
      channel: m.channel,
      author: m.author.name ?? m.author.id,
      text: m.cleanText ?? m.text,
      at: m.sentAt,
      threaded: Boolean(m.threadId || m.replyTo || m.references?.length),
    });
  });
  return [...byChannel.values()].filter((g) => g.lines.some((l) => !l.threaded));
}

// ---- what the batch refers to: channels and authors ----

export function channelsOf(msgs: readonly RawMessage[]): ChannelWanted[] {
  const names = new Map<string, string | null>();
  for (const m of msgs) if (!names.has(m.channel) || !names.get(m.channel)) names.set(m.channel, m.channelName ?? null);
  return [...names].map(([externalId, name]) => ({ externalId, name }));
}

export function authorsOf(platform: string, msgs: readonly RawMessage[]): AuthorWanted[] {
  const latest = new Map<string, { at: number; hints: string }>();
  for (const m of msgs) {
    const h = orgHintsOf({ team: m.author.team, roles: m.author.roles, admin: m.author.admin });
    if (!h) continue;
    const prev = latest.get(m.author.id);
    if (!prev || m.sentAt >= prev.at) latest.set(m.author.id, { at: m.sentAt, hints: JSON.stringify(h) });
  }
  const out = new Map<string, AuthorWanted>();
  for (const m of msgs) {
    if (out.has(m.author.id)) continue;
    const mail = platform === 'mail';
    out.set(m.author.id, {
      authorId: m.author.id,
      kind: mail ? 'email' : platform,
      value: mail ? (m.author.email ?? m.author.id).toLowerCase() : m.author.id,
      name: m.author.name ?? null,
      email: m.author.email?.toLowerCase() ?? null,
      isBot: Boolean(m.author.isBot),
      hints: latest.get(m.author.id)?.hints ?? null,
    });
  }
  return [...out.values()];
}

// ---- versions: new, edited, unchanged ----

export interface VersionPlan {
  /** The new messages, oldest first (so rowids follow time), with their keys, hashes and copy keys. */
  fresh: RawMessage[];
  keys: string[];
  hashes: string[];
  copyKeys: Array<string | null>;
  /** The references each new message makes itself (replies, threads, references), by position. */
  refs: Array<Array<{ key: string; kind: RefKind }>>;
  updates: MessageUpdate[];
  /** Earlier versions in the batch and versions the store already holds (or holds newer). */
  unchanged: number;
}

/**
 * An older version of a stored message: its batch was processed after a newer one's (another worker
 * took the edit's batch first, or a retry ran late). It must not overwrite the newer text.
 */
function isOlderVersion(m: RawMessage, stored: StoredVersion): boolean {
  if (stored.deleted && !m.deleted) return true; // a deletion is final
  if (m.deleted) return false;
  return stored.editedAt !== null && (m.editedAt ?? -Infinity) < stored.editedAt;
}

export function planVersions(sourceId: number, platform: string, batchSize: number, msgs: readonly RawMessage[], existing: ReadonlyMap<string, StoredVersion>): VersionPlan {
  const fresh: RawMessage[] = [];
  const hashOf = new Map<RawMessage, string>();
  const updates: MessageUpdate[] = [];
  let unchanged = batchSize - msgs.length;
  for (const m of msgs) {
    const e = existing.get(m.externalId);
    const hash = messageHash(m);
    if (!e) {
      fresh.push(m);
      hashOf.set(m, hash);
    } else if (e.contentHash === hash || isOlderVersion(m, e)) unchanged++;
    else updates.push({ id: e.id, conversationId: e.conversationId, m, hash });
  }
  fresh.sort((a, b) => a.sentAt - b.sentAt);
  return {
    fresh,
    keys: fresh.map((m) => ownKey(sourceId, m)),
    hashes: fresh.map((m) => hashOf.get(m)!),
    copyKeys: fresh.map((m) => (platform === 'mail' ? copyKeyOf(m.cleanText ?? m.text) : copyKeyOf(m.cleanText ?? m.text, m.author))),
    refs: fresh.map((m) => refsOf(sourceId, m)),
    updates,
    unchanged,
  };
}

/** Keys of the new messages that may be copies of a stored one by their global key (the same mail in several archives). */
export function globalKeysOf(v: VersionPlan): string[] {
  return v.fresh.flatMap((m, i) => (m.globalKey ? [v.keys[i]!] : []));
}

/**
 * The copy slots to look stored messages up by (around each new message), and the time span. The
 * lookup takes only messages sent within the span, so a slot of an hour outside it (the hour after a
 * message when the batch ends well before it) is not asked for: it could only answer rows left out.
 */
export function copySlotsWanted(v: VersionPlan): { slots: string[]; minAt: number; maxAt: number } | null {
  if (!v.fresh.length) return null;
  const minAt = v.fresh[0]!.sentAt - COPY_WINDOW_MS;
  const maxAt = v.fresh[v.fresh.length - 1]!.sentAt + COPY_WINDOW_MS;
  const hours = { from: Math.trunc(minAt / COPY_SLOT_MS), to: Math.trunc(maxAt / COPY_SLOT_MS) };
  const slots = new Set<string>();
  v.fresh.forEach((m, i) => {
    const copyKey = v.copyKeys[i];
    if (copyKey) for (const slot of copySlotsAround(copyKey, m.sentAt, hours)) slots.add(slot);
  });
  if (!slots.size) return null;
  return { slots: [...slots], minAt, maxAt };
}

// ---- copies ----

export interface CopyPlan {
  /** Original of each new message that is a copy (by position); by global key: `byGlobalKey`. */
  copyOf: Map<number, OriginalRef>;
  /** The conversation of a copy's stored original in another channel (by position). */
  originalConversation: Map<number, number>;
  /** New messages whose global key names a stored original. */
  byGlobalKey: ReadonlyMap<string, number>;
  repoint: IngestPlan['repoint'];
}

export function isCopy(v: VersionPlan, c: CopyPlan, i: number): boolean {
  return c.byGlobalKey.has(v.keys[i]!) || c.copyOf.has(i);
}

export function planCopies(
  v: VersionPlan,
  originals: ReadonlyMap<string, number>,
  stored: readonly StoredCopy[],
  channelIds: ReadonlyMap<string, number>,
  identityIds: ReadonlyMap<string, number>,
): CopyPlan {
  // Entries are keyed by row (stored) or batch position (new): the same mail stored from several
  // archives shares one ref key, and those duplicates are already linked by their global key.
  const sharedRef = new Map<string, number>();
  for (const st of stored) sharedRef.set(st.key, (sharedRef.get(st.key) ?? 0) + 1);
  const storedEntries = stored.filter((st) => !(st.copyOf !== null && (sharedRef.get(st.key) ?? 0) > 1));
  const entries: CopyEntry[] = storedEntries.map((st) => ({ key: `s${st.id}`, copyKey: st.copyKey, channel: String(st.channelId), author: String(st.identityId), at: st.at, relay: st.relay }));
  v.fresh.forEach((m, i) => {
    const copyKey = v.copyKeys[i];
    if (copyKey && !originals.has(v.keys[i]!))
      entries.push({ key: `f${i}`, copyKey, channel: String(channelIds.get(m.channel)), author: String(identityIds.get(m.author.id)), at: m.sentAt, relay: Boolean(m.relay) });
  });
  const resolved = resolveCopies(entries);
  const originalOf = (k: string): OriginalRef | undefined => {
    const o = resolved.get(k);
    if (o === undefined) return undefined;
    return o.startsWith('s') ? { id: Number(o.slice(1)) } : { fresh: Number(o.slice(1)) };
  };
  const copyOf = new Map<number, OriginalRef>();
  const storedById = new Map(stored.map((st) => [st.id, st]));
  const originalConversation = new Map<number, number>();
  v.fresh.forEach((m, i) => {
    const o = originalOf(`f${i}`);
    if (o) copyOf.set(i, o);
    // A copy in another channel (a bridge relay, a cross-post) belongs to its original's conversation.
    const st = o && 'id' in o ? storedById.get(o.id) : undefined;
    if (st && st.conversationId !== null && st.channelId !== channelIds.get(m.channel)) originalConversation.set(i, st.conversationId);
  });
  const repoint: CopyPlan['repoint'] = [];
  for (const st of storedEntries) {
    const to = originalOf(`s${st.id}`);
    if (to && ('fresh' in to || to.id !== st.copyOf)) repoint.push({ id: st.id, to, conversationId: st.conversationId });
  }
  return { copyOf, originalConversation, byGlobalKey: originals, repoint };
}

// ---- threads ----

export interface ThreadDraft {
  inputs: ThreadInput[];
  refs: IngestPlan['refs'];
}

/** `replyOf`: the earlier line each unthreaded chat line answers (by position), as the shell linked them. */
export function draftThreads(v: VersionPlan, channelIds: ReadonlyMap<string, number>, replyOf: ReadonlyMap<number, string>, copies?: CopyPlan): ThreadDraft {
  const refs: ThreadDraft['refs'] = [];
  const inputs = v.fresh.map((m, i): ThreadInput => {
    const inferred = replyOf.get(i);
    const own = inferred ? [...v.refs[i]!, { key: inferred, kind: 'reply' as const }] : v.refs[i]!;
    for (const r of own) refs.push({ fresh: i, refKey: r.key, kind: r.kind });
    const subj = subjectKey(m.subject);
    const orig = copies?.copyOf.get(i);
    const storedConv = copies?.originalConversation.get(i);
    // Only across channels: a repeat within one channel keeps its place in that channel's threads.
    const original = orig && 'fresh' in orig && v.fresh[orig.fresh]!.channel !== m.channel ? { key: v.keys[orig.fresh]! } : storedConv !== undefined ? { conversation: storedConv } : undefined;
    return { key: v.keys[i]!, refs: own, channelId: channelIds.get(m.channel)!, subjectKey: subj.key, isReplySubject: subj.isReply, sentAt: m.sentAt, ...(original ? { original } : {}) };
  });
  return { inputs, refs };
}

/** The keys the new messages refer to themselves (replies, threads, references): threadLookups' refKeys before any inferred link. */
export function nativeRefKeys(v: VersionPlan): string[] {
  const keys = new Set<string>();
  for (const own of v.refs) for (const r of own) keys.add(r.key);
  return [...keys];
}

/** The keys whose stored conversation the threads need, and the subjects (with the oldest time) to look up. */
export function threadLookups(v: VersionPlan, d: ThreadDraft): { refKeys: string[]; subjectKeys: string[]; subjectsFrom: number } {
  return {
    refKeys: [...new Set(d.inputs.flatMap((t) => t.refs.map((r) => r.key)))],
    subjectKeys: [...new Set(d.inputs.filter((t) => t.subjectKey).map((t) => t.subjectKey!))],
    subjectsFrom: (v.fresh[0]?.sentAt ?? 0) - SUBJECT_WINDOW_MS,
  };
}

// ---- rows ----

/** `byRef`: the conversation of each stored message key; `bySubject`: of `${channelId}\u0000${subjectKey}` among recent ones. */
export function planIngest(
  v: VersionPlan,
  c: CopyPlan,
  d: ThreadDraft,
  stored: { byRef: ReadonlyMap<string, number>; bySubject: ReadonlyMap<string, number> },
  channelIds: ReadonlyMap<string, number>,
  identityIds: ReadonlyMap<string, number>,
): IngestPlan {
  const threaded = assignConversations(d.inputs, { convOfKey: stored.byRef, convOfSubject: stored.bySubject });
  const touched = new Set<number>();
  for (const u of v.updates) if (u.conversationId !== null) touched.add(u.conversationId);
  // New conversations with their counts computed here; copies and deleted messages do not count.
  const stats = threaded.fresh.map(() => ({ n: 0, people: new Set<number>(), first: Infinity, last: -Infinity }));
  v.fresh.forEach((m, i) => {
    const a = threaded.assign[i]!;
    if ('existing' in a) {
      touched.add(a.existing);
      return;
    }
    const st = stats[a.fresh]!;
    if (isCopy(v, c, i) || m.deleted) return;
    st.n++;
    st.people.add(identityIds.get(m.author.id)!);
    st.first = Math.min(st.first, m.sentAt);
    st.last = Math.max(st.last, m.sentAt);
  });
  const conversations = threaded.fresh.map((f, j): NewConversation => {
    const root = v.fresh[f.firstInput]!;
    const st = stats[j]!;
    return {
      channelId: f.channelId,
      rootKey: v.keys[f.firstInput]!,
      subject: root.subject ?? null,
      subjectKey: f.subjectKey,
      startedAt: st.n ? st.first : root.sentAt,
      lastAt: st.n ? st.last : root.sentAt,
      messageCount: st.n,
      participantCount: st.people.size,
    };
  });
  const messages = v.fresh.map((m, i): NewMessage => {
    const key = v.keys[i]!;
    const orig = c.copyOf.get(i);
    const copyKey = v.copyKeys[i] ?? null;
    return {
      m,
      key,
      channelId: channelIds.get(m.channel)!,
      identityId: identityIds.get(m.author.id)!,
      hash: v.hashes[i]!,
      copyKey,
      copySlot: copyKey ? copySlotOf(copyKey, m.sentAt) : null,
      stream: inChannelStream(m),
      copyOf: c.byGlobalKey.get(key) ?? (orig && 'id' in orig ? orig.id : null),
      conversation: threaded.assign[i]!,
    };
  });
  const copyFixes: Array<[number, number]> = [];
  for (const [i, orig] of c.copyOf) if ('fresh' in orig) copyFixes.push([i, orig.fresh]);
  const fresh = v.fresh.length;
  const news = v.fresh.filter((_, i) => !isCopy(v, c, i)).length;
  return {
    updates: v.updates,
    conversations,
    messages,
    copyFixes,
    repoint: c.repoint,
    refs: d.refs,
    touched,
    counts: { new: news, updated: v.updates.length, unchanged: v.unchanged, copies: fresh - news },
  };
}

/** Stored lines shown to the linker as context carry the text of their edit in this batch (the store applies it after). */
export function withEdits(context: StreamMessage[], v: VersionPlan, sourceId: number): StreamMessage[] {
  if (!v.updates.length) return context;
  const edited = new Map(v.updates.map((u) => [ownKey(sourceId, u.m), u.m.cleanText ?? u.m.text]));
  return context.map((c) => (edited.has(c.key) ? { ...c, text: edited.get(c.key)! } : c));
}
