// Pair features for chat disentanglement: for each new line, every earlier line in a bounded window
// is a candidate parent; the new line itself is the "starts a new conversation" candidate.
// Pure and deterministic: no I/O, no clock, no randomness. All features are binary (bucketed), so a
// line/candidate pair is a short list of feature indices into FEATURE_NAMES.

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

// ---------------------------------------------------------------------------------------------
// Feature names. The order is the model's input layout; a model records the list it was trained with.

const DIST_BOUNDS = [1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 75]; // > 75 is the last bucket
const TIME_BOUNDS_S = [0, 30, 60, 120, 180, 300, 600, 1200, 3600]; // > 3600 is the last bucket
const LEN_BOUNDS = [0, 2, 5, 10, 20]; // content-free token counts
const COUNT_BOUNDS = [0, 1, 4]; // 0, 1, 2-4, 5+
const AGO_BOUNDS = [1, 5, 20]; // lines ago: 1, 2-5, 6-20, 21+ (plus "never")
const GAP_BOUNDS_S = [0, 60, 300, 1800]; // seconds: 0, <=1m, <=5m, <=30m, more (plus "never")
const OVERLAP_BOUNDS = [1, 2]; // 1, 2, 3+ (only when some word is shared)
const IDF_BOUNDS = [4, 8, 12, 18]; // summed idf of shared words
const JACCARD_BOUNDS = [0.1, 0.2, 0.35, 0.5];
const RANK_BOUNDS = [1, 2, 5]; // 1, 2, 3-5, 6+
const BETWEEN_BOUNDS = [0, 1]; // 0, 1, 2+

function bucketNames(prefix: string, bounds: number[]): string[] {
  return [...bounds.map((b) => `${prefix}<=${b}`), `${prefix}>${bounds[bounds.length - 1] ?? 0}`];
}

/** Line-level flags, used for the new line ("s.") and for a candidate ("c."). */
const LINE_FLAGS = ['system', 'action', 'question', 'url', 'thanks', 'greeting', 'ack', 'addresses', 'mentions', 'code', 'exclaim'] as const;

function buildNames(): string[] {
  const n: string[] = ['self'];
  for (const f of LINE_FLAGS) n.push(`s.${f}`);
  n.push(...bucketNames('s.len', LEN_BOUNDS));
  n.push(...bucketNames('s.author_lines', COUNT_BOUNDS));
  n.push('s.author_last_never', ...bucketNames('s.author_last_ago', AGO_BOUNDS));
  n.push('s.author_gap_never', ...bucketNames('s.author_gap_s', GAP_BOUNDS_S));
  n.push('s.addressed_never', ...bucketNames('s.addressed_ago', AGO_BOUNDS));
  n.push('s.joined_recently');
  n.push(...bucketNames('s.prev_gap_s', GAP_BOUNDS_S));
  for (const f of LINE_FLAGS) n.push(`c.${f}`);
  n.push(...bucketNames('c.len', LEN_BOUNDS));
  // Always present, so crossed: one row each instead of several (the scorer adds few rows per pair).
  // The distance x time cross comes first in every pair's list (the scorer caches it per line).
  for (const d of bucketNames('dist', DIST_BOUNDS)) for (const t of bucketNames('time_s', TIME_BOUNDS_S)) n.push(`p.${d},${t}`);
  for (const r of bucketNames('c_author_rank', RANK_BOUNDS))
    for (const a of bucketNames('s_author_between', BETWEEN_BOUNDS))
      for (const b of bucketNames('c_author_between_to_s', BETWEEN_BOUNDS)) n.push(`p.${r},${a},${b}`);
  n.push('p.same_author', 'p.s_addresses_c', 'p.s_mentions_c', 'p.c_addresses_s', 'p.c_mentions_s');
  n.push('p.c_author_last_addressed_s', 'p.s_author_last_addressed_c', 'p.c_is_last_line_to_s', 'p.c_is_last_line_from_s_to_c');
  n.push('p.c_author_is_prev_speaker', 'p.same_addressee');
  n.push(...bucketNames('p.overlap', OVERLAP_BOUNDS));
  n.push(...bucketNames('p.overlap_idf', IDF_BOUNDS));
  n.push(...bucketNames('p.jaccard', JACCARD_BOUNDS));
  n.push('p.rare_overlap');
  return n;
}

export const FEATURE_NAMES: readonly string[] = buildNames();
export const FEATURE_COUNT = FEATURE_NAMES.length;
const INDEX = new Map(FEATURE_NAMES.map((n, i) => [n, i]));


function fi(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new Error(`unknown feature ${name}`);
  return i;
}
function bucketBase(prefix: string, bounds: number[]): number {
  return fi(`${prefix}<=${bounds[0] ?? 0}`);
}
function bucket(x: number, bounds: number[]): number {
  for (let i = 0; i < bounds.length; i++) if (x <= (bounds[i] as number)) return i;
  return bounds.length;
}

/** The distance x time cross: the first feature of every pair, in a block of this many rows. */
export const DIST_TIME_COUNT = (DIST_BOUNDS.length + 1) * (TIME_BOUNDS_S.length + 1);
export const DIST_TIME_FIRST = INDEX.get(`p.dist<=${DIST_BOUNDS[0]},time_s<=${TIME_BOUNDS_S[0]}`) as number;

const F = {
  self: fi('self'),
  sFlag: fi(`s.${LINE_FLAGS[0]}`),
  cFlag: fi(`c.${LINE_FLAGS[0]}`),
  sLen: bucketBase('s.len', LEN_BOUNDS),
  cLen: bucketBase('c.len', LEN_BOUNDS),
  sAuthorLines: bucketBase('s.author_lines', COUNT_BOUNDS),
  sAuthorLastNever: fi('s.author_last_never'),
  sAuthorLastAgo: bucketBase('s.author_last_ago', AGO_BOUNDS),
  sAuthorGapNever: fi('s.author_gap_never'),
  sAuthorGap: bucketBase('s.author_gap_s', GAP_BOUNDS_S),
  sAddressedNever: fi('s.addressed_never'),
  sAddressedAgo: bucketBase('s.addressed_ago', AGO_BOUNDS),
  sJoinedRecently: fi('s.joined_recently'),
  sPrevGap: bucketBase('s.prev_gap_s', GAP_BOUNDS_S),
  distTime: fi(`p.dist<=${DIST_BOUNDS[0]},time_s<=${TIME_BOUNDS_S[0]}`),
  rankBetween: fi(`p.c_author_rank<=${RANK_BOUNDS[0]},s_author_between<=${BETWEEN_BOUNDS[0]},c_author_between_to_s<=${BETWEEN_BOUNDS[0]}`),
  sameAuthor: fi('p.same_author'),
  sAddressesC: fi('p.s_addresses_c'),
  sMentionsC: fi('p.s_mentions_c'),
  cAddressesS: fi('p.c_addresses_s'),
  cMentionsS: fi('p.c_mentions_s'),
  cAuthorLastAddressedS: fi('p.c_author_last_addressed_s'),
  sAuthorLastAddressedC: fi('p.s_author_last_addressed_c'),
  cIsLastLineToS: fi('p.c_is_last_line_to_s'),
  cIsLastLineFromSToC: fi('p.c_is_last_line_from_s_to_c'),
  cAuthorIsPrevSpeaker: fi('p.c_author_is_prev_speaker'),
  sameAddressee: fi('p.same_addressee'),
  overlap: bucketBase('p.overlap', OVERLAP_BOUNDS),
  overlapIdf: bucketBase('p.overlap_idf', IDF_BOUNDS),
  jaccard: bucketBase('p.jaccard', JACCARD_BOUNDS),
  rareOverlap: fi('p.rare_overlap'),
};

// ---------------------------------------------------------------------------------------------
// Text analysis

const STOPWORDS = new Set(
  (
    'a an the and or but if then so of to in on at by for with from as is are was were be been being am ' +
    'i me my you your he she it its we our they them their this that these those there here what which who ' +
    'whom how why when where do does did done doing have has had having not no yes can could will would should ' +
    'shall may might must just also too very really only all any some more most other such than into about up ' +
    'out over again once off own same s t don dont im ive its it\'s i\'m don\'t can\'t cant you\'re thats that\'s ' +
    'get got go going one now know think like want need use using try well oh ok okay yeah yep lol hmm hm u ur'
  ).split(/\s+/),
);
const THANKS = /\b(thanks|thank|thx|thnx|ty|cheers|appreciated?)\b/i;
const GREETING = /^(hi|hello|hey|howdy|yo|greetings|morning|evening|good (morning|evening|afternoon))\b/i;
const ACK = /^(ok|okay|k|yes|yeah|yep|yup|no|nope|nah|sure|right|ah|oh|hmm|hm|cool|great|nice|lol|true|exactly|indeed|np)\b/i;
const URL = /(https?:\/\/|www\.)\S/i;
const CODE = /[/~$|`]|\b(sudo|apt-get|apt|dpkg|ls|cd|grep|cat|mount)\b/;
const SYSTEM_NICK_CHANGE = /\bis now known as (\S+)/i;

/** Lowercased nick key, as IRC compares nicks. */
export function nickKey(nick: string): string {
  return nick.toLowerCase();
}

const EDGE_PUNCT = /^[("'[{<@]+|[)"'\]}>:,.;!?]+$/g;
function stripEdges(tok: string): string {
  return tok.replace(EDGE_PUNCT, '');
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
  /** cached first-layer pre-activation of candFeatures, owned by the scorer */
  vec?: Float64Array;
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

  constructor(cfg: FeatureConfig, window?: number) {
    this.window = Math.max(1, Math.floor(window ?? cfg.window));
    this.idf = new Map(Object.entries(cfg.idf));
    this.idfUnknown = cfg.idfUnknown;
    this.ring = new Array<LineInfo | undefined>(this.window).fill(undefined);
    this.pairStart = new Int32Array(this.window + 1);
    this.distBucket = Int32Array.from({ length: this.window + 1 }, (_, d) => bucket(d, DIST_BOUNDS));
    this.pairIdx = new Uint16Array(this.window * 48);
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

  /** Known nick for a raw token, or undefined. `strong` tokens (addressing form) may be common words. */
  private nickFor(raw: string, strong: boolean): string | undefined {
    const key = nickKey(raw);
    if (this.nicks.has(key)) return strong || !this.isCommonWord(key) ? key : undefined;
    const stripped = stripEdges(key);
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
    const toks = text.split(/\s+/).filter((t) => t.length > 0);
    const mentions: string[] = [];
    let addressee: string | undefined;
    const words: string[] = [];
    const weights: number[] = [];
    const seen = new Set<string>();
    if (!system) {
      for (let i = 0; i < toks.length; i++) {
        const raw = toks[i] as string;
        const strong = /[:,]$/.test(raw) || raw.startsWith('@');
        let nick = this.nickFor(raw, i === 0 || strong);
        if (nick === author) nick = undefined;
        if (i === 0 && nick === undefined && /[:,]$/.test(raw)) {
          const p = this.prefixNick(stripEdges(nickKey(raw)), author);
          if (p !== undefined) nick = p;
        }
        if (nick !== undefined) {
          if (i === 0) addressee = nick;
          if (!mentions.includes(nick)) mentions.push(nick);
          continue;
        }
        const w = stripEdges(raw.toLowerCase());
        if (w.length < 2 || STOPWORDS.has(w) || seen.has(w) || !/[a-z0-9]/.test(w)) continue;
        seen.add(w);
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
      mentions,
      addressee,
      candFeatures: [],
      parent: this.count,
      parentAuthor: '',
    };
    if (words.length > 0) {
      const order = words.map((w, i) => [hash32(w), weights[i] as number] as const).sort((a, b) => a[0] - b[0]);
      info.wordHash = Int32Array.from(order, (o) => o[0]);
      info.wordIdf = Float64Array.from(order, (o) => o[1]);
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
      if (!c.system && !info.system && !same) {
        if (info.addressee === c.author) out[p++] = F.sAddressesC;
        if (info.addressee !== c.author && info.mentions.includes(c.author)) out[p++] = F.sMentionsC;
        if (c.addressee === info.author) out[p++] = F.cAddressesS;
        if (c.addressee !== info.author && c.mentions.includes(info.author)) out[p++] = F.cMentionsS;
        if (sAddrByLast === c.author) out[p++] = F.cAuthorLastAddressedS;
        if (sAddrLast === c.author) out[p++] = F.sAuthorLastAddressedC;
        if (!seenLastToS && c.mentions.includes(info.author)) {
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
      if (shared > 0) {
        out[p++] = F.overlap + bucket(shared, OVERLAP_BOUNDS);
        out[p++] = F.overlapIdf + bucket(idfSum, IDF_BOUNDS);
        const union = sn + cn - shared;
        out[p++] = F.jaccard + bucket(shared / union, JACCARD_BOUNDS);
        if (rare) out[p++] = F.rareOverlap;
      }

      if (same) sBetween++;
      if (c.mentions.includes(info.author)) cToSBetween++;
    }
    start[m] = p;
    return { info, src, cands, pairStart: start, pairIdx: out };
  }

  /** Add the extracted line to the window, with the parent (push index) chosen for it. */
  commit(x: Extraction, parent: number): void {
    const info = x.info;
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
    }
    this.ring[n % this.window] = info;
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

/** FNV-1a, 32-bit, signed. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

function stripFirstAddress(text: string, addressee: string | undefined): string {
  if (addressee === undefined) return text;
  const sp = text.indexOf(' ');
  return sp < 0 ? '' : text.slice(sp + 1).trimStart();
}

/** Words of a line as the idf table counts them (for building the table at training time). */
export function contentWords(text: string): string[] {
  const out = new Set<string>();
  for (const raw of text.split(/\s+/)) {
    const w = stripEdges(raw.toLowerCase());
    if (w.length < 2 || STOPWORDS.has(w) || !/[a-z0-9]/.test(w)) continue;
    out.add(w);
  }
  return [...out];
}
