// Linking ahead for bulk imports. Linking unthreaded chat lines (the disentangler) was a fifth of an
// import's time on the thread that also stores. An in-process import knows its next batch before it
// stores the current one: it hands the next batch's channel streams to a helper thread (prefetch),
// which links them while this thread stores; when the store reaches that batch it takes the links
// for each channel if they continue from what the store holds (src/pipeline/link-ahead.ts says when),
// and otherwise links here as before and seeds the helper with the store's lines. A pull's batch (one
// at a time) is handed over as it arrives: the helper links it while this thread reads the store.
//
// The helper is one thread (the links of a channel depend on its order). It is used when detection
// helpers are (GLEANER_THREADS > 0) and its file is there; a helper that fails or does not answer is
// dropped and every batch is linked here.
import type { StreamMessage } from '../pipeline/chat-threads.js';
import { AheadCheck, type AheadLinks } from '../pipeline/link-ahead.js';
import { disentangleModelVersion } from '../models/disentangle.js';
import { detectThreads } from './detect-pool.js';
import { helperThreadPath, startHelperThread } from './helper-thread.js';
import { RequestChannel, ThreadCallError } from './channel.js';

/** Link batches of channels; or seed a channel's state and link its `relink` batches again after it. The reply: the links of each batch, in order. */
export type LinkRequest =
  | { kind: 'link'; modelVersion: string; channels: Array<{ channel: string; lines: StreamMessage[] }> }
  | { kind: 'seed'; modelVersion: string; channel: string; gen: number; context: StreamMessage[]; lines: StreamMessage[]; relink: StreamMessage[][] };

/** How long a batch's links may take before the helper is taken for stuck. */
const CALL_TIMEOUT_MS = 60_000;
/** How long the helper waits for the next batch before it is let go. */
const IDLE_MS = 10_000;
/** Links made ahead and not taken (a batch that failed) are forgotten past this many. */
const MAX_PENDING = 20_000;

const keyOf = (sourceId: number, channel: string, firstKey: string) => `${sourceId}\u0000${channel}\u0000${firstKey}`;
const channelOf = (sourceId: number, channel: string) => `${sourceId}\u0000${channel}`;

interface Pending {
  channel: string;
  lines: StreamMessage[];
  settle: (a: AheadLinks | undefined) => void;
  result: Promise<AheadLinks | undefined>;
}

function sameLines(a: readonly StreamMessage[], b: readonly StreamMessage[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.key !== b[i]!.key || a[i]!.text !== b[i]!.text) return false;
  return true;
}

function deferred(channel: string, lines: StreamMessage[]): Pending {
  let settle!: (a: AheadLinks | undefined) => void;
  const result = new Promise<AheadLinks | undefined>((resolve) => (settle = resolve));
  return { channel, lines, settle, result };
}

export class LinkAhead {
  private worker: RequestChannel<LinkRequest, AheadLinks[]> | null = null;
  private dead = false;
  /** Calls awaiting an answer, each with the batches its answer settles. */
  private readonly waiting = new Set<Array<(a: AheadLinks | undefined) => void>>();
  /** Links asked for and not taken yet, by source, channel and first line (with the lines, for a relink after a seed). */
  private readonly pending = new Map<string, Pending>();
  private readonly check = new AheadCheck();
  /** Channels the helper has seen lines of (only those need seeding after a miss). */
  private readonly seen = new Set<string>();
  /** Channel batches: links taken; linked here (none made ahead, or `rejected`: made ahead and not valid). */
  readonly stats = { taken: 0, missed: 0, rejected: 0 };

  constructor(private readonly onError: (message: string) => void = () => {}) {}

  /** Whether a helper can be used (threads wanted, worker file present, none failed). */
  get usable(): boolean {
    return !this.dead && detectThreads() > 0 && helperThreadPath('link-worker').present;
  }

  private helper(): RequestChannel<LinkRequest, AheadLinks[]> | null {
    if (this.worker || !this.usable) return this.worker;
    this.worker = new RequestChannel(startHelperThread('link-worker'), 'link-ahead thread', (err) =>
      this.fail(err instanceof ThreadCallError ? err.message : `link-ahead thread failed: ${err.message}`),
    );
    return this.worker;
  }

  private fail(message: string): void {
    if (this.dead) return;
    this.dead = true;
    this.onError(`${message}; chat lines are linked on the storing thread`);
    for (const settles of this.waiting) for (const settle of settles) settle(undefined);
    this.waiting.clear();
    for (const p of this.pending.values()) p.settle(undefined);
    this.pending.clear();
    this.worker?.kill(new Error(message));
    this.worker = null;
  }

  /**
   * After an import (nothing handed over for a while) the helper is let go with its channels' state:
   * its heap is memory the stages after the import can use. The next import starts one again, whose
   * first batch per channel is linked here and seeds it.
   */
  private idleTimer: NodeJS.Timeout | null = null;

  private rest(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const w = this.worker;
      if (!w || this.waiting.size) return this.rest();
      this.worker = null;
      for (const p of this.pending.values()) p.settle(undefined);
      this.pending.clear();
      this.seen.clear();
      void w.close();
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  /** Hands a batch's channel streams (as the store will see them if all its messages are new) to the helper. */
  prefetch(sourceId: number, streams: ReadonlyArray<{ channel: string; lines: StreamMessage[] }>): void {
    if (!streams.length) return;
    const w = this.helper();
    if (!w) return;
    this.rest();
    const entries: Pending[] = [];
    for (const st of streams) {
      const key = keyOf(sourceId, st.channel, st.lines[0]!.key);
      const had = this.pending.get(key);
      // Handed over already (a batch taken ahead is handed over again when it is stored): kept.
      if (had && sameLines(had.lines, st.lines)) continue;
      had?.settle(undefined);
      this.pending.delete(key);
      const p = deferred(channelOf(sourceId, st.channel), st.lines);
      this.pending.set(key, p);
      this.seen.add(p.channel);
      entries.push(p);
    }
    if (!entries.length) return;
    while (this.pending.size > MAX_PENDING) {
      const [oldest, p] = this.pending.entries().next().value!;
      p.settle(undefined);
      this.pending.delete(oldest);
    }
    this.send(
      w,
      entries.map((p) => p.settle),
      { kind: 'link', modelVersion: disentangleModelVersion(), channels: entries.map((p) => ({ channel: p.channel, lines: p.lines })) },
    );
  }

  /** Posts a request whose answer settles `settles` (one per linked batch, in order); none: no answer wanted. */
  private send(w: RequestChannel<LinkRequest, AheadLinks[]>, settles: Array<(a: AheadLinks | undefined) => void>, request: LinkRequest): void {
    if (!settles.length) return w.post(request);
    this.waiting.add(settles);
    w.call(request, CALL_TIMEOUT_MS).then(
      (links) => {
        this.waiting.delete(settles);
        settles.forEach((settle, i) => settle(links[i]));
      },
      (err: unknown) => {
        this.waiting.delete(settles);
        for (const settle of settles) settle(undefined);
        const e = err as Error;
        this.fail(err instanceof ThreadCallError && err.why === 'refused' ? `link-ahead thread refused a batch: ${e.message}` : e.message);
      },
    );
  }

  /** The links made ahead for these lines of a channel, if they may stand (else undefined: link here, then seed). */
  async take(sourceId: number, channel: string, lastStoredKey: string | null, lines: readonly StreamMessage[]): Promise<Map<number, string> | undefined> {
    if (!lines.length) return undefined;
    const key = keyOf(sourceId, channel, lines[0]!.key);
    const p = this.pending.get(key);
    if (!p) {
      if (this.seen.has(channelOf(sourceId, channel))) this.stats.missed++;
      return undefined;
    }
    let current = p;
    let ahead = await current.result;
    // A seed sent meanwhile had these lines linked again (a new entry): its links are the ones that count.
    for (let next = this.pending.get(key); next && next !== current; next = this.pending.get(key)) {
      current = next;
      ahead = await current.result;
    }
    this.pending.delete(key);
    if (!this.check.accept(channelOf(sourceId, channel), ahead, lastStoredKey, lines)) {
      this.stats.missed++;
      this.stats.rejected++;
      return undefined;
    }
    this.stats.taken++;
    return new Map(ahead!.links);
  }

  /** Whether the helper should be seeded after this channel was linked here. */
  wants(sourceId: number, channel: string): boolean {
    return this.worker !== null && this.seen.has(channelOf(sourceId, channel));
  }

  /**
   * The store linked `lines` of a channel itself, after `context`: the helper's state becomes that (a new
   * generation), and the channel's batches handed over and not taken yet are linked again after it.
   */
  seed(sourceId: number, channel: string, context: StreamMessage[], lines: StreamMessage[]): void {
    const w = this.worker;
    if (!w || !lines.length) return;
    const ch = channelOf(sourceId, channel);
    const gen = this.check.seeded(ch, lines[lines.length - 1]!.key);
    // The channel's later batches are linked again after the seed; ones that were not (a batch whose
    // lines turned out to be stored already, as here) are dropped.
    const end = lines[lines.length - 1]!;
    const again: Pending[] = [];
    for (const [key, p] of this.pending) {
      if (p.channel !== ch) continue;
      p.settle(undefined);
      if (p.lines[0]!.at < end.at || p.lines.some((l) => l.key === end.key)) {
        this.pending.delete(key);
        continue;
      }
      const q = deferred(ch, p.lines);
      this.pending.set(key, q);
      again.push(q);
    }
    this.send(
      w,
      again.map((q) => q.settle),
      { kind: 'seed', modelVersion: disentangleModelVersion(), channel: ch, gen, context, lines, relink: again.map((q) => q.lines) },
    );
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const w = this.worker;
    this.worker = null;
    this.dead = true;
    for (const p of this.pending.values()) p.settle(undefined);
    this.pending.clear();
    for (const settles of this.waiting) for (const settle of settles) settle(undefined);
    this.waiting.clear();
    if (w) await w.close();
  }
}
