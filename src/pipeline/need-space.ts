// The need space grouping compares in: word and character 3-5-gram frequencies, TF-IDF vectors under
// the current idf, and which kinds can voice the same need. Pure: no I/O. Split out of grouping.ts.
import { tokenizeReport } from './dedupe/tokenize.js';
import { hash32 } from './dedupe/hash.js';
import { conceptsOf } from './concepts.js';
import type { WordNeighbours } from './word-neighbours.js';
import { NEED_GROUP_OF, type FeedbackKind } from '../model/index.js';

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

export interface NeedVector {
  words: Int32Array;
  wordW: Float32Array;
  chars: Int32Array;
  charW: Float32Array;
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
      if (this.n === this.ids.length) {
        const ids = new Int32Array(this.n * 2);
        ids.set(this.ids);
        this.ids = ids;
      }
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
    const acc = new Float64Array(n);
    acc.set(this.acc);
    this.acc = acc;
    const stamp = new Int32Array(n);
    stamp.set(this.stamp);
    this.stamp = stamp;
  }
}

const wordCounts = new DenseCounts();
const charCounts = new DenseCounts();

function dot(ai: Int32Array, aw: Float32Array, bi: Int32Array, bw: Float32Array): number {
  let s = 0;
  for (let i = 0, j = 0; i < ai.length && j < bi.length;) {
    const x = ai[i]!;
    const y = bi[j]!;
    if (x < y) i++;
    else if (x > y) j++;
    else {
      s += aw[i]! * bw[j]!;
      i++;
      j++;
    }
  }
  return s;
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

/** Word and character n-gram frequencies over a growing collection; vectors under the current idf. */
export class NeedSpace {
  private readonly wordIds = new Map<string, number>();
  private wordDf = new Int32Array(1024);
  private readonly charDf = new Int32Array(1 << CHAR_BITS);
  docs = 0;

  constructor(
    private readonly wordWeight = DEFAULT_WORD_WEIGHT,
    private readonly conceptWeight = DEFAULT_CONCEPT_WEIGHT,
    private readonly neighbours: NeighbourOptions | null = null,
  ) {}

  /** Term frequencies of a text; `weight` scales them (the thread's other voices count less). */
  tf(parts: ReadonlyArray<{ text: string; weight: number }>): Tf {
    const w = wordCounts;
    const c = charCounts;
    w.begin();
    c.begin();
    for (const { text, weight } of parts) {
      const t = tokenizeReport(text.slice(0, 2000));
      // Concept tokens (concepts.ts): "freezes" and "locks up" meet on one token, as words of their own.
      const concepts = this.conceptWeight > 0 ? conceptsOf(text.slice(0, 2000)).map((c) => `\u0001${c}`) : [];
      for (const word of [...t.words, ...t.extras, ...concepts]) {
        let id = this.wordIds.get(word);
        if (id === undefined) {
          id = this.wordIds.size;
          this.wordIds.set(word, id);
        }
        w.add(id, word.charCodeAt(0) === 1 ? weight * this.conceptWeight : weight);
      }
      if (this.neighbours) this.addNeighbours(t.words, weight, w);
      // Character 3-5-grams within each stemmed word, padded with spaces at both ends.
      for (const word of t.words) {
        const p = ` ${word} `;
        for (let n = 3; n <= 5; n++) {
          for (let i = 0; i + n <= p.length; i++) {
            const h = hash32(p, n, i, i + n) & CHAR_MASK;
            c.add(h, weight);
          }
        }
      }
    }
    const [words, wordTf] = w.sortedPairs();
    const [chars, charTf] = c.sortedPairs();
    return { words, wordTf, chars, charTf };
  }

  /**
   * The words' nearest words, each once with its best share, below the words themselves: "freezes
   * Firefox" meets "hangs chrome" on "freeze" and "chrome". Words of the text itself are not added again.
   */
  private addNeighbours(words: readonly string[], weight: number, w: DenseCounts): void {
    const { model, minSim, count } = this.neighbours!;
    const own = new Set(words);
    const add = new Map<string, number>();
    for (const word of own) {
      let k = 0;
      for (const [n, sim] of model.of(word)) {
        if (sim < minSim || k++ >= count) break;
        if (!own.has(n)) add.set(n, Math.max(add.get(n) ?? 0, sim));
      }
    }
    for (const [n, sim] of add) {
      let id = this.wordIds.get(n);
      if (id === undefined) {
        id = this.wordIds.size;
        this.wordIds.set(n, id);
      }
      w.add(id, weight * this.neighbours!.weight * sim);
    }
  }

  /** Counts a document in the frequencies. */
  count(tf: Tf, sign = 1): void {
    this.docs += sign;
    for (const id of tf.words) {
      if (id >= this.wordDf.length) {
        const grown = new Int32Array(Math.max(this.wordDf.length * 2, id + 1));
        grown.set(this.wordDf);
        this.wordDf = grown;
      }
      this.wordDf[id]! += sign;
    }
    for (const id of tf.chars) this.charDf[id]! += sign;
  }

  private idf(df: number): number {
    return Math.log((1 + this.docs) / (1 + df)) + 1;
  }

  /** The item's vector under the current idf: each part L2-normalised, scaled by the square root of its weight. */
  vector(tf: Tf): NeedVector {
    return this.vectorInto(tf, { words: tf.words, wordW: new Float32Array(tf.words.length), chars: tf.chars, charW: new Float32Array(tf.chars.length) });
  }

  /** {@link vector}, written into `out`'s weights (as long as the frequencies' ids): a cached vector recomputed in place. */
  vectorInto(tf: Tf, out: NeedVector): NeedVector {
    const part = (ids: Int32Array, tfs: Float32Array, df: Int32Array, scale: number, w: Float32Array) => {
      let n = 0;
      for (let i = 0; i < ids.length; i++) {
        const x = tfs[i]! * this.idf(df[ids[i]!] ?? 0);
        w[i] = x;
        n += x * x;
      }
      const k = n > 0 ? Math.sqrt(scale) / Math.sqrt(n) : 0;
      for (let i = 0; i < w.length; i++) w[i]! *= k;
    };
    part(tf.words, tf.wordTf, this.wordDf, this.wordWeight, out.wordW);
    part(tf.chars, tf.charTf, this.charDf, 1 - this.wordWeight, out.charW);
    return out;
  }

  static cosine(a: NeedVector, b: NeedVector): number {
    return dot(a.words, a.wordW, b.words, b.wordW) + dot(a.chars, a.charW, b.chars, b.charW);
  }
}
