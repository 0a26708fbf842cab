// Pair features for chat disentanglement: for each new line, every earlier line in a bounded window
// is a candidate parent; the new line itself is the "starts a new conversation" candidate.
// Pure and deterministic: no I/O, no clock, no randomness. All features are binary (bucketed), so a
// line/candidate pair is a short list of feature indices into FEATURE_NAMES.

import { AGO_BOUNDS, BETWEEN_BOUNDS, COUNT_BOUNDS, DIST_BOUNDS, F, GAP_BOUNDS_S, IDF_BOUNDS, JACCARD_BOUNDS, LEN_BOUNDS, OVERLAP_BOUNDS, RANK_BOUNDS, TIME_BOUNDS_S, bucket } from './feature-names.js';
import { ACK, CODE, GREETING, STOPWORDS, SYSTEM_NICK_CHANGE, THANKS, URL, hash32, nickKey, stripEdges, stripFirstAddress } from './line-text.js';

export { DIST_TIME_COUNT, DIST_TIME_FIRST, FEATURE_COUNT, FEATURE_NAMES } from './feature-names.js';
export { contentWords, nickKey } from './line-text.js';

export interface ChatLine {
  author: string;
  /** Plain text. An IRC /me action is written as "/me does something". */
  text: string;
  /** ms since epoch */
  at: number;
  /** join/part/quit/nick change and other service lines */
  system?: boolean;
}

/** What the feature extractor needs from a trained model: the word weights learned from the training data. */
export interface FeatureConfig {
  /** candidate window: how many earlier lines are considered as a parent */
  window: number;
  /** inverse document frequency (ln N/df) of the frequent words of the training data */
  idf: Record<string, number>;
  /** idf given to words not in the table (rare words) */
  idfUnknown: number;
}

/** Everything computed once per line; pair features only combine these. */
export interface LineInfo {
  /** push index in the stream (0-based) */
  index: number;
  at: number;
  author: string; // nick key
  system: boolean;
  action: boolean;
  /** unique content words */
  words: string[];
  /** idf of each word in `words` */
  weights: number[];
  /** 32-bit hashes of `words`, ascending, and the idf of each (for fast overlap by merging) */
  wordHash: Int32Array;
  wordIdf: Float64Array;
  /** Two of `words` share a hash (rare): overlap is then counted by merging, as it always was. */
  dupHash: boolean;
  /** nick keys mentioned anywhere (not the author) */
  mentions: string[];
  /** nick key addressed by the first word ("nick:" / "nick," / "nick ..."), if any */
  addressee: string | undefined;
  /** static feature indices of this line in the candidate slot */
  candFeatures: number[];
  /** the parent chosen for this line (push index); set by the caller after deciding */
  parent: number;
  /** author of the parent line when it is another line; '' when it started a conversation */
  parentAuthor: string;
  /** the new nick announced by a "x is now known as y" system line */
  newNick?: string;
  /** the author's state in the stream (set on commit) */
  authorState?: AuthorState;
  /** cached first-layer pre-activation of candFeatures, owned by the scorer (shared by lines with the same candFeatures) */
  vec?: Float64Array;
  /** the scorer's number for `vec` (-1: not set yet) */
  vecId: number;
}

interface AuthorState {
  /** lines by this author currently in the window */
  count: number;
  lastIndex: number;
  lastAt: number;
  /** last line (index) where someone else addressed or mentioned this author, and who */
  addressedAt: number;
  addressedBy: string;
  /** last line (index) where this author addressed someone, and whom */
  addressingAt: number;
  addressing: string;
  /** last join line of this author */
  joinedAt: number;
  /** scratch for extract(): how many of this author's lines were seen so far while scanning back from line `rankAt` */
  rankAt: number;
  rank: number;
}

function newAuthorState(): AuthorState {
  return { count: 0, lastIndex: NEVER, lastAt: 0, addressedAt: NEVER, addressedBy: '', addressingAt: NEVER, addressing: '', joinedAt: NEVER, rankAt: NEVER, rank: 0 };
}

const NEVER = -1;
const MAX_NICKS = 20_000;

/** One line's extraction: the new line, its line-level features and its candidates' pair features. */
export interface Extraction {
  info: LineInfo;
  /** feature indices of the new line (source slot), shared by every candidate */
  src: number[];
  /** candidates, newest first (cands[0] is the previous line) */
  cands: LineInfo[];
  /** pair features of candidate k: pairIdx[pairStart[k] .. pairStart[k+1]) */
  pairStart: Int32Array;
  pairIdx: Uint16Array;
}

/**
 * The incremental state of one chat stream: the last `window` lines, the nicks seen, who addressed
 * whom. Call `extract(line)` for each new line, decide its parent, then `commit(extraction, parent)`.
 */
export class FeatureStream {
  readonly window: number;
  private readonly idf: Map<string, number>;
  private readonly idfUnknown: number;
  private readonly ring: (LineInfo | undefined)[];
  private count = 0;
  private readonly authors = new Map<string, AuthorState>();
  private readonly nicks = new Map<string, number>(); // nick key -> last index seen
  private readonly cands: LineInfo[] = [];
  private pairStart: Int32Array;
  private pairIdx: Uint16Array;
  // scratch maps reused per line
  private readonly distBucket: Int32Array;
  // The window's lines by word hash (ascending line indices; lines whose words share a hash are left
  // out): the new line's words walk these lists, so the overlap with every candidate costs a step per
  // shared word rather than a probe per candidate word. Per distance: shared words, their summed idf
  // (added in ascending hash order, as the merge adds them), whether one was rare; stamped per line.
  private readonly postings = new Map<number, number[]>();
  private readonly ovStamp: Int32Array;
  private readonly ovShared: Int32Array;
  private readonly ovIdf: Float64Array;
  private readonly ovRare: Uint8Array;
  private ovLine = 0;

  constructor(cfg: FeatureConfig, window?: number) {
    this.window = Math.max(1, Math.floor(window ?? cfg.window));
    this.idf = new Map(Object.entries(cfg.idf));
    this.idfUnknown = cfg.idfUnknown;
    this.ring = new Array<LineInfo | undefined>(this.window).fill(undefined);
    this.pairStart = new Int32Array(this.window + 1);
    this.distBucket = Int32Array.from({ length: this.window + 1 }, (_, d) => bucket(d, DIST_BOUNDS));
    this.pairIdx = new Uint16Array(this.window * 48);
    this.ovStamp = new Int32Array(this.window + 1);
    this.ovShared = new Int32Array(this.window + 1);
    this.ovIdf = new Float64Array(this.window + 1);
    this.ovRare = new Uint8Array(this.window + 1);
  }

  /** Lines pushed so far. */
  get length(): number {
    return this.count;
  }

  private isCommonWord(w: string): boolean {
    if (STOPWORDS.has(w)) return true;
    const v = this.idf.get(w);
    return v !== undefined && v < 7;
  }

  /**
   * Known nick for a token (`key`: its nick key; `stripped`: that without edge punctuation), or
   * undefined. `strong` tokens (addressing form) may be common words.
   */
  private nickFor(key: string, stripped: string, strong: boolean): string | undefined {
    if (this.nicks.has(key)) return strong || !this.isCommonWord(key) ? key : undefined;
    if (stripped.length > 0 && stripped !== key && this.nicks.has(stripped)) {
      return strong || !this.isCommonWord(stripped) ? stripped : undefined;
    }
    return undefined;
  }

  /** "nic:" for "nickname": the most recent window author whose nick starts with the token. */
  private prefixNick(tok: string, self: string): string | undefined {
    if (tok.length < 3) return undefined;
    for (let k = 0; k < this.window && k < this.count; k++) {
      const c = this.ring[(this.count - 1 - k) % this.window];
      if (c && !c.system && c.author !== self && c.author.startsWith(tok)) return c.author;
    }
    return undefined;
  }

  private analyze(line: ChatLine): { info: LineInfo; flags: boolean[]; len: number } {
    const author = nickKey(line.author);
    const system = line.system === true;
    let text = line.text;
    const action = text.startsWith('/me ');
    if (action) text = text.slice(4);
    // Split on whitespace runs; only the first and last piece can be empty (leading, trailing space).
    const toks = text.split(/\s+/);
    if (toks.length && toks[toks.length - 1] === '') toks.pop();
    if (toks.length && toks[0] === '') toks.shift();
    const mentions: string[] = [];
    let addressee: string | undefined;
    const words: string[] = [];
    const weights: number[] = [];
    if (!system) {
      for (let i = 0; i < toks.length; i++) {
        const raw = toks[i] as string;
        const end = raw.charCodeAt(raw.length - 1);
        const addressing = end === 58 || end === 44; // "nick:" or "nick,"
        const strong = addressing || raw.startsWith('@');
        // Lower-cased and stripped once: the nick lookups and the content word are the same text.
        const key = nickKey(raw);
        const stripped = stripEdges(key);
        let nick = this.nickFor(key, stripped, i === 0 || strong);
        if (nick === author) nick = undefined;
        if (i === 0 && nick === undefined && addressing) {
          const p = this.prefixNick(stripped, author);
          if (p !== undefined) nick = p;
        }
        if (nick !== undefined) {
          if (i === 0) addressee = nick;
          if (!mentions.includes(nick)) mentions.push(nick);
          continue;
        }
        const w = stripped;
        if (w.length < 2 || STOPWORDS.has(w) || words.includes(w) || !/[a-z0-9]/.test(w)) continue;
        words.push(w);
        weights.push(this.idf.get(w) ?? this.idfUnknown);
      }
    }
    const flags = [
      system,
      action,
      !system && text.includes('?'),
      !system && URL.test(text),
      !system && THANKS.test(text),
      !system && GREETING.test(stripFirstAddress(text, addressee)),
      !system && ACK.test(stripFirstAddress(text, addressee)),
      addressee !== undefined,
      mentions.length > 0,
      !system && CODE.test(text),
      !system && text.includes('!'),
    ];
    const info: LineInfo = {
      index: this.count,
      at: line.at,
      author,
      system,
      action,
      words,
      weights,
      wordHash: new Int32Array(0),
      wordIdf: new Float64Array(0),
      dupHash: false,
      mentions,
      addressee,
      candFeatures: [],
      parent: this.count,
      parentAuthor: '',
      // Set later; present from the start so that every line has the same shape (monomorphic access).
      newNick: undefined,
      authorState: undefined,
      vec: undefined,
      vecId: -1,
    };
    if (words.length > 0) {
      // Positions sorted by hash (a stable sort: words sharing a hash keep their order), then filled in
      // by loops: TypedArray.from with a mapping function cost a fifth of this method.
      const nw = words.length;
      const hashes = new Int32Array(nw);
      for (let i = 0; i < nw; i++) hashes[i] = hash32(words[i] as string);
      const order = new Array<number>(nw);
      for (let i = 0; i < nw; i++) order[i] = i;
      if (nw > 32) order.sort((a, b) => (hashes[a] as number) - (hashes[b] as number));
      else {
        // A line's few words: an insertion sort, stable as Array.prototype.sort is (the same order).
        for (let i = 1; i < nw; i++) {
          const o = order[i] as number;
          const h = hashes[o] as number;
          let j = i - 1;
          for (; j >= 0 && (hashes[order[j] as number] as number) > h; j--) order[j + 1] = order[j] as number;
          order[j + 1] = o;
        }
      }
      const wordHash = new Int32Array(nw);
      const wordIdf = new Float64Array(nw);
      for (let i = 0; i < nw; i++) {
        const o = order[i] as number;
        wordHash[i] = hashes[o] as number;
        wordIdf[i] = weights[o] as number;
        if (i > 0 && wordHash[i] === wordHash[i - 1]) info.dupHash = true;
      }
      info.wordHash = wordHash;
      info.wordIdf = wordIdf;
    }
    if (system) {
      const m = SYSTEM_NICK_CHANGE.exec(text);
      if (m && m[1]) info.newNick = nickKey(stripEdges(m[1]));
    }
    const len = system ? 0 : toks.length;
    for (let i = 0; i < flags.length; i++) if (flags[i]) info.candFeatures.push(F.cFlag + i);
    info.candFeatures.push(F.cLen + bucket(len, LEN_BOUNDS));
    return { info, flags, len };
  }

  /**
   * Features of the next line against the current window. Only records the author as a known nick;
   * the line joins the window on commit.
   */
  extract(line: ChatLine): Extraction {
    // The author is a known nick from its first line on (so a line can't be read as mentioning itself).
    const authorKey = nickKey(line.author);
    if (!this.nicks.has(authorKey)) this.rememberNick(authorKey);
    const { info, flags, len } = this.analyze(line);
    const src: number[] = [];
    for (let i = 0; i < flags.length; i++) if (flags[i]) src.push(F.sFlag + i);
    src.push(F.sLen + bucket(len, LEN_BOUNDS));

    const me = this.authors.get(info.author);
    const n = this.count;
    src.push(F.sAuthorLines + bucket(me?.count ?? 0, COUNT_BOUNDS));
    const lastIdx = me && me.lastIndex >= n - this.window ? me.lastIndex : NEVER;
    if (lastIdx === NEVER) src.push(F.sAuthorLastNever, F.sAuthorGapNever);
    else {
      src.push(F.sAuthorLastAgo + bucket(n - lastIdx, AGO_BOUNDS));
      src.push(F.sAuthorGap + bucket((info.at - (me?.lastAt ?? 0)) / 1000, GAP_BOUNDS_S));
    }
    const addrIdx = me && me.addressedAt >= n - this.window ? me.addressedAt : NEVER;
    if (addrIdx === NEVER) src.push(F.sAddressedNever);
    else src.push(F.sAddressedAgo + bucket(n - addrIdx, AGO_BOUNDS));
    if (me && me.joinedAt >= n - this.window && me.joinedAt > lastIdx) src.push(F.sJoinedRecently);
    const prev = n > 0 ? this.ring[(n - 1) % this.window] : undefined;
    src.push(F.sPrevGap + bucket(prev ? (info.at - prev.at) / 1000 : 0, GAP_BOUNDS_S));

    // Candidates, newest first, with their pair features.
    const cands = this.cands;
    cands.length = 0;
    // A service line (join, part, nick change) starts its own conversation: no candidates. Service
    // lines are never candidates either.
    const nc = info.system ? 0 : Math.min(n, this.window);
    let m = 0;
    if (this.pairIdx.length < nc * 48) this.pairIdx = new Uint16Array(nc * 48);
    const out = this.pairIdx;
    const start = this.pairStart;
    let p = 0;
    let sBetween = 0;
    let cToSBetween = 0;
    let seenLastToS = false;
    let seenLastFromSToC = false;
    let prevSpeaker: string | undefined;
    for (let k = 0; k < nc && prevSpeaker === undefined; k++) {
      const c = this.ring[(n - 1 - k) % this.window] as LineInfo;
      if (!c.system) prevSpeaker = c.author;
    }
    const sHash = info.wordHash;
    const sIdf = info.wordIdf;
    const sn = sHash.length;
    const posted = sn > 0 && !info.dupHash;
    const ovStamp = this.ovStamp;
    const stamp = (this.ovLine = (this.ovLine + 1) | 0 || 1);
    if (posted) {
      const ovShared = this.ovShared;
      const ovIdf = this.ovIdf;
      const ovRare = this.ovRare;
      for (let i = 0; i < sn; i++) {
        const list = this.postings.get(sHash[i] as number);
        if (list === undefined) continue;
        const w = sIdf[i] as number;
        const isRare = w >= this.idfUnknown ? 1 : 0;
        for (let q = 0; q < list.length; q++) {
          const d = n - (list[q] as number);
          if (ovStamp[d] !== stamp) {
            ovStamp[d] = stamp;
            ovShared[d] = 1;
            ovIdf[d] = 0 + w;
            ovRare[d] = isRare;
          } else {
            ovShared[d] = (ovShared[d] as number) + 1;
            ovIdf[d] = (ovIdf[d] as number) + w;
            ovRare[d] = (ovRare[d] as number) | isRare;
          }
        }
      }
    }
    const sAddrLast = me && me.addressingAt >= n - this.window ? me.addressing : undefined;
    const sAddrByLast = me && me.addressedAt >= n - this.window ? me.addressedBy : undefined;

    for (let k = 0; k < nc; k++) {
      const c = this.ring[(n - 1 - k) % this.window] as LineInfo;
      if (c.system) continue;
      cands.push(c);
      start[m++] = p;
      const d = n - c.index;
      out[p++] = F.distTime + (this.distBucket[d] as number) * (TIME_BOUNDS_S.length + 1) + bucket((info.at - c.at) / 1000, TIME_BOUNDS_S);
      const same = c.author === info.author;
      if (same) out[p++] = F.sameAuthor;
      const as = c.authorState as AuthorState;
      if (as.rankAt !== n) {
        as.rankAt = n;
        as.rank = 0;
      }
      const r = ++as.rank;
      const nb = BETWEEN_BOUNDS.length + 1;
      out[p++] = F.rankBetween + (bucket(r, RANK_BOUNDS) * nb + bucket(sBetween, BETWEEN_BOUNDS)) * nb + bucket(cToSBetween, BETWEEN_BOUNDS);
      // Most lines mention no one: the lookup is made once per candidate, and only when there are names.
      const cMentionsS = c.mentions.length > 0 && c.mentions.includes(info.author);
      if (!info.system && !same) {
        if (info.addressee === c.author) out[p++] = F.sAddressesC;
        else if (info.mentions.length > 0 && info.mentions.includes(c.author)) out[p++] = F.sMentionsC;
        if (c.addressee === info.author) out[p++] = F.cAddressesS;
        else if (cMentionsS) out[p++] = F.cMentionsS;
        if (sAddrByLast === c.author) out[p++] = F.cAuthorLastAddressedS;
        if (sAddrLast === c.author) out[p++] = F.sAuthorLastAddressedC;
        if (!seenLastToS && cMentionsS) {
          out[p++] = F.cIsLastLineToS;
          seenLastToS = true;
        }
        if (c.author === prevSpeaker) out[p++] = F.cAuthorIsPrevSpeaker;
      }
      if (same && !seenLastFromSToC && c.addressee !== undefined && c.addressee === info.addressee) {
        out[p++] = F.cIsLastLineFromSToC;
        seenLastFromSToC = true;
      }
      if (!same && c.addressee !== undefined && c.addressee === info.addressee) out[p++] = F.sameAddressee;
      // word overlap
      let shared = 0;
      let idfSum = 0;
      let rare = false;
      const cHash = c.wordHash;
      const cn = cHash.length;
      if (sn > 0 && cn > 0) {
        if (posted && !c.dupHash) {
          const d = n - c.index;
          if (ovStamp[d] === stamp) {
            shared = this.ovShared[d] as number;
            idfSum = this.ovIdf[d] as number;
            rare = this.ovRare[d] === 1;
          }
        } else {
          // both ascending: merge
          let i = 0;
          let j = 0;
          while (i < sn && j < cn) {
            const a = sHash[i] as number;
            const b = cHash[j] as number;
            if (a < b) i++;
            else if (a > b) j++;
            else {
              const w = sIdf[i] as number;
              shared++;
              idfSum += w;
              if (w >= this.idfUnknown) rare = true;
              i++;
              j++;
            }
          }
        }
      }
      if (shared > 0) {
        out[p++] = F.overlap + bucket(shared, OVERLAP_BOUNDS);
        out[p++] = F.overlapIdf + bucket(idfSum, IDF_BOUNDS);
        const union = sn + cn - shared;
        out[p++] = F.jaccard + bucket(shared / union, JACCARD_BOUNDS);
        if (rare) out[p++] = F.rareOverlap;
      }

      if (same) sBetween++;
      if (cMentionsS) cToSBetween++;
    }
    start[m] = p;
    return { info, src, cands, pairStart: start, pairIdx: out };
  }

  /**
   * Adds a line whose parent is not wanted (context, or a line threaded already) to the window: what
   * extract then commit do for the lines after it, without its candidates' features. A line's chosen
   * parent is no feature of later lines.
   */
  observe(line: ChatLine): void {
    const authorKey = nickKey(line.author);
    if (!this.nicks.has(authorKey)) this.rememberNick(authorKey);
    this.add(this.analyze(line).info, this.count);
  }

  /** Add the extracted line to the window, with the parent (push index) chosen for it. */
  commit(x: Extraction, parent: number): void {
    this.add(x.info, parent);
  }

  private add(info: LineInfo, parent: number): void {
    const n = this.count;
    info.parent = parent >= 0 && parent <= n ? parent : n;
    info.parentAuthor = '';
    if (info.parent !== n) {
      const pl = n - info.parent <= this.window ? this.ring[info.parent % this.window] : undefined;
      if (pl && pl.index === info.parent) info.parentAuthor = pl.author;
    }
    const evicted = n >= this.window ? this.ring[n % this.window] : undefined;
    if (evicted) {
      const a = this.authors.get(evicted.author);
      if (a) a.count--;
      // The oldest line of the window: first in each of its words' lists.
      if (!evicted.dupHash) {
        for (let i = 0; i < evicted.wordHash.length; i++) {
          const h = evicted.wordHash[i] as number;
          const list = this.postings.get(h);
          if (list === undefined) continue;
          list.shift();
          if (!list.length) this.postings.delete(h);
        }
      }
    }
    this.ring[n % this.window] = info;
    if (!info.dupHash) {
      for (let i = 0; i < info.wordHash.length; i++) {
        const h = info.wordHash[i] as number;
        const list = this.postings.get(h);
        if (list === undefined) this.postings.set(h, [n]);
        else list.push(n);
      }
    }
    this.count = n + 1;

    const a = this.authorState(info.author);
    info.authorState = a;
    a.count++;
    this.rememberNick(info.author);
    if (info.system) {
      a.joinedAt = n;
      if (info.newNick !== undefined) this.rememberNick(info.newNick);
    } else {
      a.lastIndex = n;
      a.lastAt = info.at;
      const target = info.addressee ?? info.mentions[0];
      if (target !== undefined) {
        a.addressingAt = n;
        a.addressing = target;
        for (const m of info.mentions) {
          const t = this.authorState(m);
          t.addressedAt = n;
          t.addressedBy = info.author;
        }
      }
    }
    if (this.authors.size > 4 * this.window + 64) this.pruneAuthors();
  }

  private authorState(key: string): AuthorState {
    let a = this.authors.get(key);
    if (!a) {
      a = newAuthorState();
      this.authors.set(key, a);
    }
    return a;
  }

  private rememberNick(key: string): void {
    if (key.length === 0) return;
    this.nicks.delete(key);
    this.nicks.set(key, this.count);
    if (this.nicks.size > MAX_NICKS) {
      // Map keeps insertion order, and a re-seen nick is re-inserted: the first keys are the stalest.
      let drop = this.nicks.size - MAX_NICKS / 2;
      for (const k of this.nicks.keys()) {
        if (drop-- <= 0) break;
        this.nicks.delete(k);
      }
    }
  }

  private pruneAuthors(): void {
    const horizon = this.count - this.window;
    for (const [k, a] of this.authors) {
      if (a.count === 0 && a.lastIndex < horizon && a.addressedAt < horizon && a.addressingAt < horizon && a.joinedAt < horizon) {
        this.authors.delete(k);
      }
    }
  }
}
