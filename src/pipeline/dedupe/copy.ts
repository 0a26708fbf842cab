// Windowed exact-copy detection over a time-ordered stream of messages.
import { contentKey, type ContentKeyOptions } from './normalize.js';

export interface CopyCandidate {
  id: string;
  author: string | null;
  text: string;
  at: number /* ms */;
  channel: string;
}

export interface CopyDetectorOptions extends ContentKeyOptions {
  /** How long after the last sighting a repeat still counts as a copy (default 15 minutes). */
  windowMs?: number;
  /** Normalised keys shorter than this are never copies: "ok", "+1", "thanks" (default 20). */
  minChars?: number;
  /** ...nor are keys of fewer words than this (default 3). */
  minWords?: number;
}

interface Seen {
  original: string;
  channel: string;
  author: string | null;
  lastAt: number;
}

const DEFAULT_WINDOW_MS = 15 * 60_000;

/**
 * Streams messages in time order and recognises copies: the same normalised text seen within
 * windowMs of its last sighting. Across channels that is a cross-post or a bridge relay (any
 * author: bridges post as themselves or as a puppet); in the same channel it is a paste twice,
 * which needs the same author (or an unknown one): two people writing the same sentence in one
 * room are two voices, not one. A chain of relays keeps pointing at the first message.
 *
 * Memory is bounded by the messages of one window: expired keys are dropped as time advances.
 */
export class CopyDetector {
  readonly windowMs: number;
  readonly minChars: number;
  readonly minWords: number;
  private readonly keyOpts: ContentKeyOptions;
  private readonly seen = new Map<string, Seen>();
  // Expiry queue in time order: key hash and the sighting time it was queued with.
  private qKeys: string[] = [];
  private qAt: number[] = [];
  private qHead = 0;
  private lastAt = -Infinity;

  constructor(opts: CopyDetectorOptions = {}) {
    this.windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
    this.minChars = opts.minChars ?? 20;
    this.minWords = opts.minWords ?? 3;
    this.keyOpts = { stripBridgePrefix: opts.stripBridgePrefix ?? true };
  }

  /** Returns the id of the original when m is a copy of a message seen within the window, else null. */
  check(m: CopyCandidate): string | null {
    return this.checkKey(m, contentKey(m.text, this.keyOpts));
  }

  /**
   * As check, with the normalised key computed elsewhere (e.g. on a worker thread with contentKey).
   * Messages must come in time order; a message older than the newest seen is still checked, but
   * expiry follows the newest time.
   */
  checkKey(m: Omit<CopyCandidate, 'text'>, key: string): string | null {
    if (m.at > this.lastAt) {
      this.lastAt = m.at;
      this.expire(m.at - this.windowMs);
    }
    if (key.length < this.minChars || !hasWords(key, this.minWords)) return null;
    // Keyed by the key itself: the window holds few keys, and V8 caches a string's hash.
    const h = key;
    const prev = this.seen.get(h);
    if (prev && m.at - prev.lastAt <= this.windowMs) {
      const sameRoom = prev.channel === m.channel;
      const samePerson = prev.author === null || m.author === null || prev.author === m.author;
      if (!sameRoom || samePerson) {
        prev.lastAt = Math.max(prev.lastAt, m.at);
        this.enqueue(h, prev.lastAt);
        return prev.original;
      }
    }
    this.seen.set(h, { original: m.id, channel: m.channel, author: m.author, lastAt: m.at });
    this.enqueue(h, m.at);
    return null;
  }

  /** Keys currently remembered (for tests and memory accounting). */
  size(): number {
    return this.seen.size;
  }

  private enqueue(h: string, at: number): void {
    this.qKeys.push(h);
    this.qAt.push(at);
  }

  private expire(before: number): void {
    let i = this.qHead;
    const n = this.qKeys.length;
    while (i < n && this.qAt[i]! < before) {
      const h = this.qKeys[i]!;
      const s = this.seen.get(h);
      // Only drop the entry if this queue record is its latest sighting.
      if (s && s.lastAt === this.qAt[i]) this.seen.delete(h);
      i++;
    }
    this.qHead = i;
    if (i > 4096 && i * 2 > n) {
      this.qKeys = this.qKeys.slice(i);
      this.qAt = this.qAt.slice(i);
      this.qHead = 0;
    }
  }
}

/** Whether a normalised key (single spaces) has at least min words. */
function hasWords(key: string, min: number): boolean {
  let words = key.length > 0 ? 1 : 0;
  for (let i = 0; i < key.length && words < min; i++) if (key.charCodeAt(i) === 32) words++;
  return words >= min;
}
