// The need space grouping compares in: word and character 3-5-gram frequencies, TF-IDF vectors under
// the current idf, and which kinds can voice the same need. Pure: no I/O. Split out of grouping.ts.
import { tokenizeReport, type ReportTerms } from './dedupe/tokenize.js';
import { hash32 } from './dedupe/hash.js';
import { conceptsOf } from './concepts.js';
import type { WordNeighbours } from './word-neighbours.js';
import { NEED_GROUP_OF, type FeedbackKind } from '../model/index.js';
import { grown } from './arena.js';

/**
 * Kinds that can voice the same need (NEED_GROUP_OF): a bug and a complaint about it; a question and
 * the docs gap. A bug and a feature request on the same object are different needs ("CSV export is
 * broken" vs "add Parquet export").
 */
const NEED_KIND = NEED_GROUP_OF;

/**
 * How much a pair's similarity keeps when their likeliest kinds voice different needs: `penalty` when
 * both kinds are sure, more as the chance grows that they are in the same group after all (the sum
 * over groups of both probabilities). Without probabilities, `penalty`.
 */
export function kindFactor(penalty: number, a: readonly number[] | null | undefined, b: readonly number[] | null | undefined): number {
  if (!a || !b || a.length !== b.length) return penalty;
  let same = 0;
  for (let i = 0; i < a.length; i++) same += a[i]! * b[i]!;
  return penalty + (1 - penalty) * Math.min(1, same);
}

export function needKindsCompatible(a: FeedbackKind | null, b: FeedbackKind | null): boolean {
  return a === null || b === null || NEED_KIND[a] === NEED_KIND[b];
}

export function NEED_KIND_OF(k: FeedbackKind | null): number {
  return k === null ? -1 : NEED_KIND[k];
}
const CHAR_BITS = 20;
const CHAR_MASK = (1 << CHAR_BITS) - 1;

export interface Tf {
  words: Int32Array;
  wordTf: Float32Array;
  chars: Int32Array;
  charTf: Float32Array;
}

/**
 * A need vector: word ids then character n-gram ids, each part ascending, with their weights at an
 * offset of one shared array (the grouping index keeps an item's frequencies and vector in one array
 * and the item itself is the vector: no view or object per part and item).
 */
export interface NeedVector {
  ids: Int32Array;
  /** How many of `ids` (the first) are words. */
  nWords: number;
  /** The weight of ids[i] is w[off + i]. */
  w: Float32Array;
  off: number;
}

/**
 * Weighted occurrence counts by id for one text at a time, in flat arrays indexed by id (a Map per
 * text and part was most of the cost of `tf` and of the garbage it left): sums in the order added, as
 * a Map's would be. Module-level scratch: `tf` is synchronous.
 */
class DenseCounts {
  private acc = new Float64Array(0);
  private stamp = new Int32Array(0);
  private round = 0;
  private ids = new Int32Array(256);
  private n = 0;

  begin(): void {
    this.n = 0;
    if (++this.round === 0x7fffffff) {
      this.stamp.fill(0);
      this.round = 1;
    }
  }

  add(id: number, v: number): void {
    if (id >= this.acc.length) this.grow(id + 1);
    if (this.stamp[id] !== this.round) {
      this.stamp[id] = this.round;
      this.acc[id] = 0;
      if (this.n === this.ids.length) this.ids = grown(this.ids, this.n * 2);
      this.ids[this.n++] = id;
    }
    this.acc[id]! += v;
  }

  /** The ids in order with 1 + log of their sublinear tf: weighted occurrences of at least one as 1 + log(tf), below one as exp(tf - 1). */
  sortedPairs(): [Int32Array, Float32Array] {
    const ids = this.ids.slice(0, this.n).sort();
    const w = new Float32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const v = this.acc[ids[i]!]!;
      w[i] = 1 + Math.log(v < 1 ? Math.exp(v - 1) : v);
    }
    return [ids, w];
  }

  private grow(size: number): void {
    const n = Math.max(size, this.acc.length * 2, 1024);
    this.acc = grown(this.acc, n);
    this.stamp = grown(this.stamp, n);
  }
}

const wordCounts = new DenseCounts();
/**
 * Character n-gram counts for one text at a time, a part at a time (every occurrence counts its
 * part's weight, any number of parts): each occurrence summed into its id's entry of a
 * small open-addressing table (sized to the text, not to all 2^20 ids: {@link DenseCounts}' arrays
 * over them were 12 MB and a cache miss or two per occurrence), then only the distinct ids sorted.
 * Parts come one after the other, so an id's sum is its parts' weights added in part order: the sums
 * {@link DenseCounts} makes in the order added.
 */
class GramCounts {
  /** Per table entry: 1 + the id (0: empty), and where its sum is in `sums`. */
  private keys = new Int32Array(1024);
  private at = new Int32Array(1024);
  private mask = 1023;
  /** The distinct ids in the order first met, their sums, and their table entries. */
  private ids = new Int32Array(512);
  private sums = new Float64Array(512);
  private pos = new Int32Array(512);
  private n = 0;
  private weight = 0;

  begin(): void {
    // Only the entries this text used are cleared.
    for (let i = 0; i < this.n; i++) this.keys[this.pos[i]!] = 0;
    this.n = 0;
  }

  part(weight: number): void {
    this.weight = weight;
  }

  add(id: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let h = Math.imul(id, 0x9e3779b1) & mask;
    for (;;) {
      const k = keys[h]!;
      if (k === id + 1) {
        this.sums[this.at[h]!]! += this.weight;
        return;
      }
      if (k === 0) break;
      h = (h + 1) & mask;
    }
    if (this.n === this.ids.length) {
      this.ids = grown(this.ids, this.n * 2);
      this.sums = grown(this.sums, this.n * 2);
      this.pos = grown(this.pos, this.n * 2);
    }
    const i = this.n++;
    this.ids[i] = id;
    this.sums[i] = 0;
    this.sums[i] += this.weight;
    keys[h] = id + 1;
    this.at[h] = i;
    this.pos[i] = h;
    // At most half full: probes stay short.
    if (2 * this.n > mask) this.rehash(2 * (mask + 1));
  }

  sortedPairs(): [Int32Array, Float32Array] {
    const ids = this.ids.slice(0, this.n).sort();
    const w = new Float32Array(ids.length);
    const keys = this.keys;
    const mask = this.mask;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      let h = Math.imul(id, 0x9e3779b1) & mask;
      while (keys[h] !== id + 1) h = (h + 1) & mask;
      const v = this.sums[this.at[h]!]!;
      w[k] = 1 + Math.log(v < 1 ? Math.exp(v - 1) : v);
    }
    return [ids, w];
  }

  private rehash(size: number): void {
    this.keys = new Int32Array(size);
    this.at = new Int32Array(size);
    this.mask = size - 1;
    for (let i = 0; i < this.n; i++) {
      let h = Math.imul(this.ids[i]!, 0x9e3779b1) & this.mask;
      while (this.keys[h] !== 0) h = (h + 1) & this.mask;
      this.keys[h] = this.ids[i]! + 1;
      this.at[h] = i;
      this.pos[i] = h;
    }
  }
}

const charCounts = new GramCounts();

/** The dot product of two vectors' parts: `a`'s ids [af, at) against `b`'s [bf, bt). */
function dot(a: NeedVector, af: number, at: number, b: NeedVector, bf: number, bt: number): number {
  const ai = a.ids;
  const bi = b.ids;
  const aw = a.w;
  const bw = b.w;
  const ao = a.off;
  const bo = b.off;
  let s = 0;
  for (let i = af, j = bf; i < at && j < bt;) {
    const x = ai[i]!;
    const y = bi[j]!;
    if (x < y) i++;
    else if (x > y) j++;
    else {
      s += aw[ao + i]! * bw[bo + j]!;
      i++;
      j++;
    }
  }
  return s;
}

/**
 * Cosines of one need vector against many ({@link NeedSpace.cosine} of the held one and each): the
 * held vector's weights spread by id once, the other's read through them (a merge of the two sorted id
 * lists per pair was most of placing's time). The same products summed in the same order (ascending
 * id), the ids the held vector lacks skipped (their product is zero): the same result to the bit.
 * Which ids the held vector has is also a bitmap, an eighth of a word per id: the other's ids are
 * looked up there (128 KB for the character n-grams, in the core's cache) and only the shared ones
 * in the weights (4 MB, which a lookup per id missed).
 */
export class CosineFrom {
  private words = new Float32Array(1024);
  private wordBits = new Int32Array(32);
  private readonly chars = new Float32Array(1 << CHAR_BITS);
  private readonly charBits = new Int32Array(1 << (CHAR_BITS - 5));
  private held: NeedVector | null = null;

  /** Holds `v` (its ids as they are now; its weights must not change until {@link release}). */
  hold(v: NeedVector): void {
    this.release();
    const { ids, nWords, w, off } = v;
    const last = nWords ? ids[nWords - 1]! : 0;
    if (last >= this.words.length) {
      const size = Math.max(last + 1, this.words.length * 2);
      this.words = new Float32Array(size);
      this.wordBits = new Int32Array((size >>> 5) + 1);
    }
    const words = this.words;
    const wordBits = this.wordBits;
    const chars = this.chars;
    const charBits = this.charBits;
    for (let i = 0; i < nWords; i++) {
      const id = ids[i]!;
      words[id] = w[off + i]!;
      wordBits[id >>> 5]! |= 1 << (id & 31);
    }
    for (let i = nWords; i < ids.length; i++) {
      const id = ids[i]!;
      chars[id] = w[off + i]!;
      charBits[id >>> 5]! |= 1 << (id & 31);
    }
    this.held = v;
  }

  release(): void {
    const v = this.held;
    if (!v) return;
    const { ids, nWords } = v;
    for (let i = 0; i < nWords; i++) {
      const id = ids[i]!;
      this.words[id] = 0;
      this.wordBits[id >>> 5] = 0;
    }
    for (let i = nWords; i < ids.length; i++) {
      const id = ids[i]!;
      this.chars[id] = 0;
      this.charBits[id >>> 5] = 0;
    }
    this.held = null;
  }

  /** The held vector's cosine with `b`. */
  cosine(b: NeedVector): number {
    const { ids, nWords, w, off } = b;
    const words = this.words;
    const wordBits = this.wordBits;
    const n = words.length;
    let sw = 0;
    for (let j = 0; j < nWords; j++) {
      const id = ids[j]!;
      if (id < n && (wordBits[id >>> 5]! & (1 << (id & 31))) !== 0) sw += words[id]! * w[off + j]!;
    }
    const chars = this.chars;
    const charBits = this.charBits;
    let sc = 0;
    for (let j = nWords; j < ids.length; j++) {
      const id = ids[j]!;
      if ((charBits[id >>> 5]! & (1 << (id & 31))) !== 0) sc += chars[id]! * w[off + j]!;
    }
    return sw + sc;
  }
}

/** How much a concept token (concepts.ts) counts against a word in the word part. */
export const DEFAULT_CONCEPT_WEIGHT = 1;

/** The share of the word part in a need vector (the rest is character n-grams). */
export const DEFAULT_WORD_WEIGHT = 0.3;

/** The share of the word part when a word model adds nearest words to it, which gives the word part the paraphrases. */
export const MODEL_WORD_WEIGHT = 0.5;

/** How a need's words' nearest words (word-neighbours.ts) enter its word part. */
export interface NeighbourOptions {
  model: WordNeighbours;
  /** A neighbour counts as this share of its cosine against an occurrence of the word itself. */
  weight: number;
  /** Only neighbours at this cosine or above. */
  minSim: number;
  /** At most this many neighbours per word. */
  count: number;
}

/** The default share, cosine floor and number of a word's nearest words in its need's word part. */
export const DEFAULT_NEIGHBOURS: Omit<NeighbourOptions, 'model'> = { weight: 0.75, minSim: 0.65, count: 3 };

/** A part of a need's text for {@link NeedSpace.tf}: `terms`, when given, are tokenizeReport of its first 2,000 characters (the caller had them at hand). */
export interface TfPart {
  text: string;
  weight: number;
  terms?: ReportTerms;
}

/** Document frequencies whose idf is memoised per count of documents. */
const IDF_MEMO = 4096;

/** Ints in the character n-gram memo (1 MB): cleared whole when full. */
const GRAM_POOL = 1 << 18;

/** Word and character n-gram frequencies over a growing collection; vectors under the current idf. */
export class NeedSpace {
  private readonly wordIds = new Map<string, number>();
  private wordDf = new Int32Array(1024);
  private readonly charDf = new Int32Array(1 << CHAR_BITS);
  docs = 0;
  /** Per word id: 1 + where its character n-gram ids start in `gramPool` (0: not at hand). A word's n-grams are a function of the word: memoised while the pool lasts. */
  private gramAt = new Int32Array(1024);
  private readonly gramPool = new Int32Array(GRAM_POOL);
  private gramUsed = 0;
  /** Per word id: 1 + where its nearest words (ids, count first) start in `nbIds`/`nbSims` (0: not looked up yet). The model is fixed: looked up once per word. */
  private nbAt = new Int32Array(0);
  private nbIds = new Int32Array(0);
  private nbSims = new Float64Array(0);
  private nbUsed = 0;
  /** Scratch: the word ids of the part being counted; which ids are the part's own words (stamped). */
  private partIds = new Int32Array(256);
  private ownStamp = new Int32Array(0);
  private ownRound = 0;
  /** idf by document frequency (below IDF_MEMO), valid while `idfAt` holds 1 + the current count of documents. */
  private readonly idfMemo = new Float64Array(IDF_MEMO);
  private readonly idfAt = new Float64Array(IDF_MEMO);

  constructor(
    private readonly wordWeight = DEFAULT_WORD_WEIGHT,
    private readonly conceptWeight = DEFAULT_CONCEPT_WEIGHT,
    private readonly neighbours: NeighbourOptions | null = null,
  ) {}

  private wordId(word: string): number {
    let id = this.wordIds.get(word);
    if (id === undefined) {
      id = this.wordIds.size;
      this.wordIds.set(word, id);
    }
    return id;
  }

  /** Term frequencies of a text; `weight` scales them (the thread's other voices count less). */
  tf(parts: ReadonlyArray<TfPart>): Tf {
    const w = wordCounts;
    const c = charCounts;
    w.begin();
    c.begin();
    for (const { text, weight, terms } of parts) {
      c.part(weight);
      const t = terms ?? tokenizeReport(text.slice(0, 2000));
      const words = t.words;
      if (words.length > this.partIds.length) this.partIds = new Int32Array(Math.max(words.length, this.partIds.length * 2));
      const partIds = this.partIds;
      for (let i = 0; i < words.length; i++) {
        const id = this.wordId(words[i]!);
        partIds[i] = id;
        w.add(id, weight);
      }
      for (const x of t.extras) w.add(this.wordId(x), weight);
      // Concept tokens (concepts.ts): "freezes" and "locks up" meet on one token, as words of their own.
      if (this.conceptWeight > 0) for (const k of conceptsOf(text.slice(0, 2000))) w.add(this.wordId(`\u0001${k}`), weight * this.conceptWeight);
      if (this.neighbours) this.addNeighbours(words, weight, w);
      // Character 3-5-grams within each stemmed word, padded with spaces at both ends.
      for (let i = 0; i < words.length; i++) this.addGrams(partIds[i]!, words[i]!, c);
    }
    const [words, wordTf] = w.sortedPairs();
    const [chars, charTf] = c.sortedPairs();
    return { words, wordTf, chars, charTf };
  }

  /** Adds the word's character n-gram ids (memoised by word id while the pool lasts). */
  private addGrams(id: number, word: string, c: GramCounts): void {
    if (id >= this.gramAt.length) this.gramAt = grown(this.gramAt, Math.max(this.gramAt.length * 2, id + 1));
    const pool = this.gramPool;
    let at = this.gramAt[id]! - 1;
    if (at < 0) {
      const p = ` ${word} `;
      const count = Math.max(0, p.length - 2) + Math.max(0, p.length - 3) + Math.max(0, p.length - 4);
      if (count + 1 > GRAM_POOL) {
        // Longer than the whole memo (the tokenizer keeps words short): counted as it comes.
        for (let n = 3; n <= 5; n++) for (let i = 0; i + n <= p.length; i++) c.add(hash32(p, n, i, i + n) & CHAR_MASK);
        return;
      }
      if (this.gramUsed + count + 1 > GRAM_POOL) {
        this.gramAt.fill(0);
        this.gramUsed = 0;
      }
      at = this.gramUsed;
      let k = at;
      pool[k++] = count;
      for (let n = 3; n <= 5; n++) for (let i = 0; i + n <= p.length; i++) pool[k++] = hash32(p, n, i, i + n) & CHAR_MASK;
      this.gramUsed = k;
      this.gramAt[id] = at + 1;
    }
    const end = at + 1 + pool[at]!;
    for (let j = at + 1; j < end; j++) c.add(pool[j]!);
  }

  /**
   * The words' nearest words, each once with its best share, below the words themselves: "freezes
   * Firefox" meets "hangs chrome" on "freeze" and "chrome". Words of the text itself are not added
   * again. The words' ids are in `partIds`.
   */
  private addNeighbours(words: readonly string[], weight: number, w: DenseCounts): void {
    const partIds = this.partIds;
    const n = words.length;
    if (this.ownStamp.length < this.wordIds.size) this.ownStamp = grown(this.ownStamp, Math.max(this.wordIds.size, this.ownStamp.length * 2, 1024));
    if (++this.ownRound === 0x7fffffff) {
      this.ownStamp.fill(0);
      this.ownRound = 1;
    }
    const own = this.ownStamp;
    const round = this.ownRound;
    for (let i = 0; i < n; i++) own[partIds[i]!] = round;
    const add = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const id = partIds[i]!;
      // Each word once, in the order of its first occurrence.
      if (own[id] !== round) continue;
      own[id] = -round;
      const at = this.nearest(id, words[i]!);
      const end = at + 1 + this.nbIds[at]!;
      for (let j = at + 1; j < end; j++) {
        const nb = this.nbIds[j]!;
        const sim = this.nbSims[j]!;
        if (nb >= own.length || (own[nb] !== round && own[nb] !== -round)) add.set(nb, Math.max(add.get(nb) ?? 0, sim));
      }
    }
    for (const [id, sim] of add) w.add(id, weight * this.neighbours!.weight * sim);
  }

  /** Where a word's nearest words (at minSim or above, at most count; their ids given in the order met) start in `nbIds` (their count first). */
  private nearest(id: number, word: string): number {
    if (id >= this.nbAt.length) this.nbAt = grown(this.nbAt, Math.max(this.nbAt.length * 2, id + 1, 1024));
    const known = this.nbAt[id]!;
    if (known > 0) return known - 1;
    const { model, minSim, count } = this.neighbours!;
    const list: Array<readonly [string, number]> = [];
    for (const nb of model.of(word)) {
      if (nb[1] < minSim || list.length >= count) break;
      list.push(nb);
    }
    if (this.nbUsed + list.length + 1 > this.nbIds.length) {
      const size = Math.max(this.nbIds.length * 2, this.nbUsed + list.length + 1, 1024);
      this.nbIds = grown(this.nbIds, size);
      this.nbSims = grown(this.nbSims, size);
    }
    const at = this.nbUsed;
    this.nbIds[at] = list.length;
    for (let j = 0; j < list.length; j++) {
      this.nbIds[at + 1 + j] = this.wordId(list[j]![0]);
      this.nbSims[at + 1 + j] = list[j]![1];
    }
    this.nbUsed = at + 1 + list.length;
    this.nbAt[id] = at + 1;
    return at;
  }

  /** Counts a document in the frequencies. */
  count(tf: Tf, sign = 1): void {
    this.docs += sign;
    for (const id of tf.words) {
      if (id >= this.wordDf.length) this.wordDf = grown(this.wordDf, Math.max(this.wordDf.length * 2, id + 1));
      this.wordDf[id]! += sign;
    }
    for (const id of tf.chars) this.charDf[id]! += sign;
  }

  private idf(df: number): number {
    // Memoised for the smaller document frequencies under the current count (vectors are mostly
    // computed a few at a time under one count: the logarithm was much of their cost).
    if (df >= 0 && df < IDF_MEMO) {
      if (this.idfAt[df] === this.docs + 1) return this.idfMemo[df]!;
      const v = Math.log((1 + this.docs) / (1 + df)) + 1;
      this.idfMemo[df] = v;
      this.idfAt[df] = this.docs + 1;
      return v;
    }
    return Math.log((1 + this.docs) / (1 + df)) + 1;
  }

  /** The item's vector under the current idf: each part L2-normalised, scaled by the square root of its weight. */
  vector(tf: Tf): NeedVector {
    const nWords = tf.words.length;
    const n = nWords + tf.chars.length;
    const ids = new Int32Array(n);
    ids.set(tf.words);
    ids.set(tf.chars, nWords);
    const w = new Float32Array(2 * n);
    w.set(tf.wordTf);
    w.set(tf.charTf, nWords);
    const v = { ids, nWords, w, off: n };
    this.vectorFrom(v, 0);
    return v;
  }

  /** {@link vector} in place: `v`'s weights (at v.off) from its frequencies at `tfOff` of the same array (as long as its ids). */
  vectorFrom(v: NeedVector, tfOff: number): void {
    const { ids, nWords, w, off } = v;
    const part = (from: number, to: number, df: Int32Array, scale: number) => {
      let n = 0;
      for (let i = from; i < to; i++) {
        const x = w[tfOff + i]! * this.idf(df[ids[i]!] ?? 0);
        w[off + i] = x;
        n += x * x;
      }
      const k = n > 0 ? Math.sqrt(scale) / Math.sqrt(n) : 0;
      for (let i = from; i < to; i++) w[off + i]! *= k;
    };
    part(0, nWords, this.wordDf, this.wordWeight);
    part(nWords, ids.length, this.charDf, 1 - this.wordWeight);
  }

  static cosine(a: NeedVector, b: NeedVector): number {
    return dot(a, 0, a.nWords, b, 0, b.nWords) + dot(a, a.nWords, a.ids.length, b, b.nWords, b.ids.length);
  }
}
