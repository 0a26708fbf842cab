// Copies and threads for chat streams, before storage. Pure: the shell passes the batch and the
// recent lines the store holds; this returns which new messages are copies of which, and which
// unthreaded lines reply to which earlier line.
import { contentKey, contentKeyHash, hash64, stripBridgePrefix } from './dedupe/index.js';
import { Disentangler, type DisentangleModel } from './disentangle/index.js';
import { agreesWithPrevious, isGreeting } from './classify/community.js';
import { MATRIX_PUPPET } from '../model/index.js';

/** How long after a message a repeat of it still counts as a copy (cross-post, relay, paste twice). */
export const COPY_WINDOW_MS = 30 * 60_000;
/** Lines of a channel's history given to the disentangler as context before new lines. */
export const THREAD_CONTEXT_LINES = 60;
/**
 * A line never replies to a line older than this: the model was trained on busy hour-long windows, and
 * in a quiet channel the previous line may be days old (that is a new conversation, not a reply).
 */
export const THREAD_MAX_GAP_MS = 3 * 3600_000;
/** An agreement line ("same here", "+1") the model left alone answers the last other speaker's line within this. */
export const AGREEMENT_GAP_MS = 3600_000;

export interface StreamMessage {
  key: string;
  channel: string;
  author: string;
  text: string;
  at: number;
  /** Has a native thread or reply link: threaded already, but still context for others. */
  threaded: boolean;
}

/** Copy lookups go by the hour: a message's copy key within its hour is its slot. */
export const COPY_SLOT_MS = 3600_000;

/** The slot stored with a message (migration 0009 computes the same in SQL: truncating integer division). */
export function copySlotOf(copyKey: string, at: number): string {
  return `${Math.trunc(at / COPY_SLOT_MS)}:${copyKey}`;
}

/**
 * The slots a message's copies and their runs' first messages are in: its hour and the hours either
 * side, so at least an hour each way (COPY_WINDOW_MS is half that). `hours`: only those of these hours.
 */
export function copySlotsAround(copyKey: string, at: number, hours?: { from: number; to: number }): string[] {
  const out: string[] = [];
  for (const t of [at - COPY_SLOT_MS, at, at + COPY_SLOT_MS]) {
    const hour = Math.trunc(t / COPY_SLOT_MS);
    if (!hours || (hour >= hours.from && hour <= hours.to)) out.push(copySlotOf(copyKey, t));
  }
  return out;
}

/**
 * The name a bridge speaks for a person under: the nick on IRC, the localpart of a Matrix id (an IRC
 * puppet's nick for `@libera_<nick>:server`), the relayed nick of a puppet line (`nick[m]`), else the
 * display name. Lower-cased; a trailing puppet suffix (`[m]`) goes.
 */
export function speakerKeyOf(author: { id: string; name?: string | null }): string {
  const puppet = MATRIX_PUPPET.exec(author.id);
  const local = /^@([^:]+):/.exec(author.id);
  const raw = puppet?.[1] ?? local?.[1] ?? author.name ?? author.id;
  return raw
    .toLowerCase()
    .replace(/\[[a-z]\]$/, '')
    .trim();
}

// matrix-appservice-irc's reply templates, as IRC sees a Matrix reply: `nick: text` (short) and
// `<nick> "quoted start..." <- text` (long; the `<nick>` is gone by now with the bridge prefix).
const LONG_REPLY = /^\s*"[^"\n]{0,300}"\s*<-\s*/u;
const SHORT_REPLY = /^\s*@?[\w.\-[\]|`^{}]{1,32}(?:\[[a-z]\])?:\s+(?=\S)/u;

/** A chat line without a bridge's reply template: what the person wrote in the reply. */
export function withoutReplyTemplate(text: string): string {
  const t = stripBridgePrefix(text);
  const long = LONG_REPLY.exec(t);
  if (long) return t.slice(long[0].length);
  const short = SHORT_REPLY.exec(t);
  return short ? t.slice(short[0].length) : t;
}

/**
 * The copy key stored with each message: a hash of the normalised text (a bridge's prefix and reply
 * template removed). A short text ("good morning all", "+1") gets a key only with its speaker's name
 * in it: the same few words from the same name on both sides of a bridge are one message, the same
 * few words from two people are two.
 */
export function copyKeyOf(text: string, speaker?: { id: string; name?: string | null } | null): string | null {
  const t = withoutReplyTemplate(text);
  const long = contentKeyHash(t, { stripBridgePrefix: false });
  // Three words or more: the key's words are one space apart.
  if (long.length >= 20 && long.spaces >= 2) return long.hash;
  const who = speaker ? speakerKeyOf(speaker) : '';
  if (!who || !long.length) return null;
  return hash64(`\u0001${who}\u0001${contentKey(t, { stripBridgePrefix: false })}`);
}

export interface CopyEntry {
  key: string;
  copyKey: string;
  channel: string;
  author: string;
  at: number;
  /** Relayed by a bridge: never the original when the message itself is there too. */
  relay: boolean;
}

/**
 * Copies among messages with the same copy key: within COPY_WINDOW_MS of each other, the original is
 * the message that was not relayed by a bridge, else the earliest; the others are its copies, except
 * a message in the original's own channel by another author (two people saying the same thing in one
 * room are two voices). Works over stored and new messages alike, whatever order they arrived in.
 * Returns key -> original key for every copy.
 */
export function resolveCopies(entries: readonly CopyEntry[]): Map<string, string> {
  const groups = new Map<string, CopyEntry[]>();
  for (const e of entries) {
    const g = groups.get(e.copyKey);
    if (g) g.push(e);
    else groups.set(e.copyKey, [e]);
  }
  const out = new Map<string, string>();
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    g.sort((a, b) => a.at - b.at || a.key.localeCompare(b.key));
    // Runs of messages each within the window of the run's first message.
    let start = 0;
    while (start < g.length) {
      let end = start + 1;
      while (end < g.length && g[end]!.at - g[start]!.at <= COPY_WINDOW_MS) end++;
      const run = g.slice(start, end);
      const original = run.find((e) => !e.relay) ?? run[0]!;
      for (const e of run) {
        if (e === original) continue;
        if (e.channel === original.channel && e.author !== original.author) continue;
        out.set(e.key, original.key);
      }
      start = end;
    }
  }
  return out;
}

/** Whether a message is part of its channel's main stream (a thread reply lives in its thread). */
export function inChannelStream(m: { externalId: string; threadId?: string | null }): boolean {
  return !m.threadId || m.threadId === m.externalId;
}

interface ChannelState {
  d: Disentangler;
  keys: string[];
  times: number[];
  authors: string[];
  /** Push index of keys[0]. */
  base: number;
  lastKey: string;
  lastAt: number;
}

const KEEP = 256;

/**
 * Links unthreaded lines of channel streams to the earlier line each answers, keeping each channel's
 * disentangler state between batches: when a batch continues right where the last one ended, no
 * history is pushed again. Bounded: the least recently used channels are forgotten.
 */
export class ChannelThreader {
  private readonly states = new Map<string, ChannelState>();

  constructor(
    private readonly model: DisentangleModel,
    private readonly maxChannels = 2000,
  ) {}

  /** The key of the last line the state for `channel` holds; null when there is no state for it. */
  lastKey(channel: string): string | null {
    return this.states.get(channel)?.lastKey ?? null;
  }

  /** Drops the state for `channel` (its lines were linked elsewhere: the next batch starts from the store's). */
  forget(channel: string): void {
    this.states.delete(channel);
  }

  /** True when the state for `channel` ends at `lastStoredKey` (the newest stored stream line before the batch). */
  canContinue(channel: string, lastStoredKey: string | null): boolean {
    const st = this.states.get(channel);
    return st !== undefined && lastStoredKey !== null && st.lastKey === lastStoredKey;
  }

  /**
   * `context`: the channel's recent stream (oldest first) when the state cannot continue, else null.
   * `batch`: new stream lines of the channel, oldest first. Returns batch index -> parent key.
   */
  link(channel: string, context: readonly StreamMessage[] | null, batch: readonly StreamMessage[]): Map<number, string> {
    let st = this.states.get(channel);
    if (context !== null || !st) {
      st = { d: new Disentangler(this.model), keys: [], times: [], authors: [], base: 0, lastKey: '', lastAt: -Infinity };
      const first = batch[0]?.at ?? 0;
      for (const c of context ?? []) if (c.at >= first - THREAD_MAX_GAP_MS) this.push(st, c, false);
    }
    this.states.delete(channel);
    this.states.set(channel, st);
    if (this.states.size > this.maxChannels) this.states.delete(this.states.keys().next().value!);
    const out = new Map<number, string>();
    batch.forEach((m, i) => {
      const own = st.base + st.keys.length;
      // A line threaded already is context for the others: its own parent is not asked for.
      const parent = this.push(st, m, !m.threaded);
      const j = parent - st.base;
      // A greeting, a sign-off or "brb" is said to the room: it answers no earlier line.
      if (!m.threaded && parent !== own && j >= 0 && !isGreeting(m.text) && j < st.keys.length - 1 && m.at - st.times[j]! <= THREAD_MAX_GAP_MS) out.set(i, st.keys[j]!);
      else if (!m.threaded && agreesWithPrevious(m.text)) {
        // "same error on our side" said to the room agrees with the last line another person said.
        for (let k = st.keys.length - 2; k >= 0 && m.at - st.times[k]! <= AGREEMENT_GAP_MS; k--) {
          if (st.authors[k] !== m.author) {
            out.set(i, st.keys[k]!);
            break;
          }
        }
      }
    });
    return out;
  }

  /** Adds a line to the channel's state; returns its parent's push index when `link` (else its own). */
  private push(st: ChannelState, m: StreamMessage, link: boolean): number {
    const line = { author: m.author, text: m.text, at: m.at };
    const own = st.base + st.keys.length;
    let parent = own;
    if (link) parent = st.d.push(line);
    else st.d.observe(line);
    st.keys.push(m.key);
    st.times.push(m.at);
    st.authors.push(m.author);
    st.lastKey = m.key;
    st.lastAt = m.at;
    if (st.keys.length > KEEP * 2) {
      st.keys.splice(0, KEEP);
      st.times.splice(0, KEEP);
      st.authors.splice(0, KEEP);
      st.base += KEEP;
    }
    return parent;
  }
}

/** One-off linking without kept state (tests, evaluation). */
export function linkUnthreaded(model: DisentangleModel, context: readonly StreamMessage[], batch: readonly StreamMessage[]): Map<number, string> {
  return new ChannelThreader(model, 1).link('x', context, batch);
}
