// One batch through the ingest stage: read -> plan -> apply, in one transaction. The store reads
// (src/store/ingest.ts), the plan is pure (src/pipeline/ingest-plan.ts), the store applies it
// (src/store/ingest-apply.ts). Linking unthreaded chat lines sits between the reads: a channel's
// stream is linked by the threader kept in this process, or taken from the helper that linked it ahead.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { RawMessage } from '../model/index.js';
import type { IngestRefs } from '../model/ingest.js';
import {
  ingestTransaction,
  readConversationsOfKeys,
  readConversationsOfSubjects,
  readCopyCandidates,
  readOriginals,
  readStoredVersions,
  readStreamTail,
  type IngestBatch,
  type IngestResult,
} from '../store/ingest.js';
import { applyIngest } from '../store/ingest-apply.js';
import {
  authorsOf,
  batchInTimeOrder,
  channelStreams,
  channelsOf,
  copySlotsWanted,
  draftThreads,
  globalKeysOf,
  latestVersions,
  nativeRefKeys,
  planCopies,
  planIngest,
  planVersions,
  threadLookups,
  withEdits,
  type VersionPlan,
} from '../pipeline/ingest-plan.js';
import { THREAD_CONTEXT_LINES, type ChannelThreader, type StreamMessage } from '../pipeline/chat-threads.js';
import { cooperativeYield, type Yielder } from '../yield.js';

export type { IngestBatch, IngestResult } from '../store/ingest.js';

/** Stream lines linked between two yields to the event loop (about 0.5 ms each). */
const LINK_SLICE = 200;

export interface IngestOptions {
  /** Threads unthreaded chat lines (IRC, busy channels, room timelines); without it they start conversations. */
  threader?: ChannelThreader;
  /** Links found ahead of time for a channel's lines (see src/threads/link-ahead.ts); undefined: link here. */
  ahead?: {
    take(sourceId: number, channel: string, lastStoredKey: string | null, lines: readonly StreamMessage[]): Promise<Map<number, string> | undefined>;
    /** After linking a channel here: whether the helper wants the store's lines, and handing them over. */
    wants(sourceId: number, channel: string): boolean;
    seed(sourceId: number, channel: string, context: StreamMessage[], lines: StreamMessage[]): void;
  };
}

/**
 * Where ingest time goes in this process, summed over batches (ms of wall time on this thread): the
 * transaction with the batch's channels and authors (`ensure`), the store's reads, linking unthreaded
 * lines, the pure plan, the plan's writes and the commit. The benchmarks print it per stage.
 */
export interface IngestStageTimes {
  batches: number;
  messages: number;
  ensure: number;
  read: number;
  link: number;
  plan: number;
  apply: number;
  commit: number;
}

const STAGES = ['ensure', 'read', 'link', 'plan', 'apply', 'commit'] as const;
type Stage = (typeof STAGES)[number];

const stageTimes: IngestStageTimes = { batches: 0, messages: 0, ensure: 0, read: 0, link: 0, plan: 0, apply: 0, commit: 0 };

/** A copy of this process's ingest stage times so far. */
export function ingestStageTimes(): IngestStageTimes {
  return { ...stageTimes };
}

/** Milliseconds per stage between two readings of ingestStageTimes (with concurrent jobs: all of them), rounded to 0.1. */
export function stageMsSince(before: IngestStageTimes, after: IngestStageTimes): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of STAGES) out[k] = Math.round((after[k] - before[k]) * 10) / 10;
  return out;
}

/**
 * The most messages stored in one transaction. A bigger batch (a job posted by hand, a huge export
 * page) is stored as consecutive parts of this size in time order, yielding between them: planning
 * one costs about 1.5 ms of unbroken CPU per 100 messages, and a worker whose event loop is blocked
 * longer than half its lock duration lets another take its job as stalled. Imports and pulls send
 * batches well below it (IMPORT_BATCH), so they are stored as one.
 */
export const MAX_TRANSACTION_MESSAGES = 8000;

/**
 * Stores a batch of normalized messages: idempotent on (source, externalId); an edit updates, a delete
 * marks. A batch over MAX_TRANSACTION_MESSAGES is stored in parts; the cursor, raw payloads and
 * quarantine go with the last, so the cursor moves only once every message is stored (a retry after a
 * failure between parts finds the earlier ones stored and leaves them unchanged).
 */
export async function ingestBatch(db: Kysely<Database>, batch: IngestBatch, now: number, opts: IngestOptions = {}): Promise<IngestResult> {
  if (batch.messages.length <= MAX_TRANSACTION_MESSAGES) return ingestOne(db, batch, now, opts);
  const ordered = batchInTimeOrder(batch.messages);
  const total: IngestResult = { new: 0, updated: 0, unchanged: batch.messages.length - ordered.length, copies: 0, quarantined: 0, conversationIds: [], stageMs: {} };
  const conversations = new Set<number>();
  for (let s = 0; s < ordered.length; s += MAX_TRANSACTION_MESSAGES) {
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    const last = s + MAX_TRANSACTION_MESSAGES >= ordered.length;
    const part: IngestBatch = last
      ? { ...batch, messages: ordered.slice(s) }
      : { sourceId: batch.sourceId, platform: batch.platform, normalizerVersion: batch.normalizerVersion, messages: ordered.slice(s, s + MAX_TRANSACTION_MESSAGES) };
    const r = await ingestOne(db, part, now, opts);
    total.new += r.new;
    total.updated += r.updated;
    total.unchanged += r.unchanged;
    total.copies += r.copies;
    total.quarantined += r.quarantined;
    for (const id of r.conversationIds) conversations.add(id);
    for (const [k, ms] of Object.entries(r.stageMs ?? {})) total.stageMs![k] = Math.round(((total.stageMs![k] ?? 0) + ms) * 10) / 10;
  }
  total.conversationIds = [...conversations];
  return total;
}

async function ingestOne(db: Kysely<Database>, batch: IngestBatch, now: number, opts: IngestOptions): Promise<IngestResult> {
  let last = performance.now();
  const mine: Record<Stage, number> = { ensure: 0, read: 0, link: 0, plan: 0, apply: 0, commit: 0 };
  const lap = (stage: Stage) => {
    const t = performance.now();
    mine[stage] += t - last;
    last = t;
  };
  const clean = withoutNul(batch);
  const { sourceId, platform } = clean;
  const msgs = latestVersions(clean.messages);
  const wanted = { channels: channelsOf(msgs), authors: authorsOf(platform, msgs) };
  lap('plan');
  const result = await ingestTransaction(db, sourceId, wanted, now, async (trx, refs) => {
    lap('ensure');
    const tick = cooperativeYield();
    const stored = await readStoredVersions(
      trx,
      sourceId,
      msgs.map((m) => m.externalId),
      tick,
    );
    lap('read');
    const versions = planVersions(sourceId, platform, clean.messages.length, msgs, stored);
    const globalKeys = globalKeysOf(versions);
    const slots = copySlotsWanted(versions);
    lap('plan');
    const originals = await readOriginals(trx, globalKeys);
    const candidates = await readCopyCandidates(trx, slots);
    lap('read');
    const copies = planCopies(versions, originals, candidates, refs.channelIds, refs.identityIds);
    const nativeKeys = nativeRefKeys(versions);
    lap('plan');
    // The conversations of the batch's own references do not depend on the links inferred for its chat
    // lines: read while the helper thread links them (a pull's batch), the rest once they are known.
    const byRef = await readConversationsOfKeys(trx, nativeKeys);
    lap('read');
    const replyOf = opts.threader && platform !== 'mail' ? await linkStreams(trx, sourceId, versions, refs, opts.threader, opts.ahead, tick) : new Map<number, string>();
    lap('link');
    const draft = draftThreads(versions, refs.channelIds, replyOf, copies);
    const look = threadLookups(versions, draft);
    const asked = new Set(nativeKeys);
    const inferredKeys = look.refKeys.filter((k) => !asked.has(k));
    lap('plan');
    if (inferredKeys.length) for (const [k, conv] of await readConversationsOfKeys(trx, inferredKeys)) byRef.set(k, conv);
    const convs = {
      byRef,
      bySubject: look.subjectKeys.length ? await readConversationsOfSubjects(trx, look.subjectKeys, look.subjectsFrom) : new Map<string, number>(),
    };
    lap('read');
    const plan = planIngest(versions, copies, draft, convs, refs.channelIds, refs.identityIds);
    lap('plan');
    const applied = await applyIngest(trx, clean, msgs, refs.channelIds, plan, now, tick);
    lap('apply');
    return applied;
  });
  lap('commit');
  stageTimes.batches++;
  stageTimes.messages += batch.messages.length;
  const stageMs: Record<string, number> = {};
  for (const k of STAGES) {
    stageTimes[k] += mine[k];
    stageMs[k] = Math.round(mine[k] * 10) / 10;
  }
  return { ...result, stageMs };
}

/**
 * Unthreaded chat lines: each linked to the earlier line it answers (a learned model over each
 * channel's main stream; thread replies live in their threads and are not part of it). Returns the
 * parent key of each linked new message, by position.
 */
async function linkStreams(
  trx: Kysely<Database>,
  sourceId: number,
  v: VersionPlan,
  refs: IngestRefs,
  threader: ChannelThreader,
  ahead: IngestOptions['ahead'],
  tick: Yielder,
): Promise<Map<number, string>> {
  const replyOf = new Map<number, string>();
  for (const { channel, idxs, lines } of channelStreams(sourceId, v.fresh)) {
    await tick();
    const channelId = refs.channelIds.get(channel)!;
    const first = lines[0]!.at;
    const last = await readStreamTail(trx, channelId, first, 1);
    const lastKey = last[0]?.key ?? null;
    // Linked ahead on a helper thread (a bulk import), when it saw the same lines after the same stored line.
    const channelKey = `${sourceId}:${channelId}`;
    const linked = await ahead?.take(sourceId, channel, lastKey, lines);
    if (linked) {
      for (const [j, parentKey] of linked) replyOf.set(idxs[j]!, parentKey);
      threader.forget(channelKey); // this thread's state for it is behind now
      continue;
    }
    const storedContext = async (): Promise<StreamMessage[]> =>
      withEdits(
        (last.length ? await readStreamTail(trx, channelId, first, THREAD_CONTEXT_LINES) : [])
          .reverse()
          .map((r) => ({ key: r.key, channel: String(channelId), author: r.author, text: r.text, at: r.at, threaded: true })),
        v,
        sourceId,
      );
    let context: StreamMessage[] | null = null;
    if (!threader.canContinue(channelKey, lastKey)) context = await storedContext();
    if (ahead?.wants(sourceId, channel)) ahead.seed(sourceId, channel, context ?? (await storedContext()), lines);
    // In slices (the threader keeps the channel's state between calls), yielding between them.
    for (let s = 0; s < lines.length; s += LINK_SLICE) {
      if (s) await tick();
      for (const [j, parentKey] of threader.link(channelKey, s ? null : context, lines.slice(s, s + LINK_SLICE))) replyOf.set(idxs[s + j]!, parentKey);
    }
  }
  return replyOf;
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
      dirty(m)
        ? { ...m, text: nul(m.text), cleanText: nulOrNull(m.cleanText), subject: nulOrNull(m.subject), permalink: nulOrNull(m.permalink), author: { ...m.author, name: nulOrNull(m.author.name) } }
        : m,
    ),
    raw: batch.raw?.map((r) => ({ ...r, payload: nul(r.payload) })),
    quarantine: batch.quarantine?.map((q) => ({ ...q, location: nul(q.location), reason: nul(q.reason), excerpt: nul(q.excerpt) })),
  };
}
