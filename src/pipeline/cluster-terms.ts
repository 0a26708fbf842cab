// The term vocabulary and vectors clustering compares: document frequencies, log-tf vectors, cluster centroids.
// Pure: no I/O. Split out of cluster.ts.
import { tokenizeReport, type ReportTerms } from './dedupe/index.js';
import { grown } from './arena.js';

export interface Vec {
  terms: Int32Array;
  weights: Float32Array; // log-tf (title occurrences count double); idf applied at comparison time
}

/** A term vocabulary with document frequencies, shared by item vectors, centroids, titles and summaries. */
export class TermStats {
  private readonly ids = new Map<string, number>();
  // Small at first, grown as terms come: a cluster's description makes stats of its few texts (tens of
  // thousands of them per big batch: zeroing 12 KB for each was needless).
  private df: Int32Array = new Int32Array(64);
  /** Scratch for `vector`: a term's weight by id while the ids are sorted. */
  private parked = new Float64Array(64);
  /** Scratch for `addTermsOf`: which ids the document has (stamped), their summed occurrences, and the ids in the order met. */
  private stamp = new Int32Array(0);
  private round = 0;
  private sums = new Float64Array(0);
  private metIds = new Int32Array(0);
  private met = 0;
  docs = 0;

  /** Terms of a text: stemmed words and identifiers (see tokenizeReport). */
  terms(title: string | null | undefined, text: string, maxTerms = 300, tags: readonly string[] = []): Map<string, number> {
    return this.termsOf(title ? tokenizeReport(title) : null, tokenizeReport(text), maxTerms, tags);
  }

  /** {@link terms} of a title's and a text's tokens (tokenizeReport), when the caller has them at hand. */
  termsOf(title: ReportTerms | null, body: ReportTerms, maxTerms = 300, tags: readonly string[] = []): Map<string, number> {
    const tf = new Map<string, number>();
    const put = (t: string, w: number) => tf.set(t, (tf.get(t) ?? 0) + w);
    for (const t of tags) put('@' + t, 2);
    if (title) {
      for (const w of title.words) put(w, 2);
      for (const x of title.extras) put('#' + x, 2);
    }
    const n = Math.min(body.words.length, maxTerms);
    for (let i = 0; i < n; i++) put(body.words[i]!, 1);
    for (let i = 0; i < Math.min(body.extras.length, maxTerms); i++) put('#' + body.extras[i]!, 1);
    return tf;
  }

  /**
   * {@link add} of {@link termsOf}(title, body's tokens then more's, maxTerms), without the Map of
   * terms between them: the same new ids (in the order the terms are first met), counts and weights.
   */
  addTermsOf(title: ReportTerms | null, body: ReportTerms, more: ReportTerms | null, maxTerms = 300): Vec {
    this.docs++;
    if (++this.round === 0x7fffffff) {
      this.stamp.fill(0);
      this.round = 1;
    }
    this.met = 0;
    if (title) {
      for (const w of title.words) this.meet(w, 2);
      for (const x of title.extras) this.meet('#' + x, 2);
    }
    const words = Math.min(body.words.length + (more?.words.length ?? 0), maxTerms);
    for (let i = 0; i < words; i++) this.meet(i < body.words.length ? body.words[i]! : more!.words[i - body.words.length]!, 1);
    const extras = Math.min(body.extras.length + (more?.extras.length ?? 0), maxTerms);
    for (let i = 0; i < extras; i++) this.meet('#' + (i < body.extras.length ? body.extras[i]! : more!.extras[i - body.extras.length]!), 1);
    const n = this.met;
    const terms = this.metIds.slice(0, n).sort();
    const weights = new Float32Array(n);
    for (let i = 0; i < n; i++) weights[i] = 1 + Math.log(this.sums[terms[i]!]!);
    return { terms, weights };
  }

  /** A term of the document {@link addTermsOf} counts: its id (new ones numbered as met), counted once, its occurrences summed. */
  private meet(term: string, w: number): void {
    const id = this.idFor(term);
    if (id >= this.stamp.length) {
      const size = Math.max(this.stamp.length * 2, id + 1, 1024);
      this.stamp = grown(this.stamp, size);
      this.sums = grown(this.sums, size);
    }
    if (this.stamp[id] !== this.round) {
      this.stamp[id] = this.round;
      this.sums[id] = 0 + w;
      this.df[id]!++;
      if (this.met === this.metIds.length) this.metIds = grown(this.metIds, Math.max(this.met * 2, 256));
      this.metIds[this.met++] = id;
    } else this.sums[id]! += w;
  }

  /** Adds a document's terms to the frequencies and returns its vector. */
  add(tf: ReadonlyMap<string, number>): Vec {
    this.docs++;
    return this.vector(tf, true);
  }

  /** {@link add} without making the vector (the same ids and frequencies). */
  count(tf: ReadonlyMap<string, number>): void {
    this.docs++;
    for (const term of tf.keys()) this.df[this.idFor(term)]!++;
  }

  /** A term's id, a new one (the next number, its frequency slot made) when it has none yet. */
  private idFor(term: string): number {
    let id = this.ids.get(term);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(term, id);
      if (id >= this.df.length) this.df = grown(this.df, this.df.length * 2);
    }
    return id;
  }

  /** The id of a term, if it has one. */
  idOf(term: string): number | undefined {
    return this.ids.get(term);
  }

  /** How many terms have ids (ids run from 0 to this, less one). */
  get size(): number {
    return this.ids.size;
  }

  vector(tf: ReadonlyMap<string, number>, count = false): Vec {
    // Ids sorted as numbers, each one's weight parked by id meanwhile (ids are unique): no pair objects.
    const ids = new Int32Array(tf.size);
    let n = 0;
    for (const [term, f] of tf) {
      const id = count ? this.idFor(term) : this.ids.get(term);
      if (id === undefined) continue;
      if (count) this.df[id]!++;
      if (id >= this.parked.length) this.parked = grown(this.parked, Math.max(this.parked.length * 2, id + 1));
      this.parked[id] = 1 + Math.log(f);
      ids[n++] = id;
    }
    const terms = n === ids.length ? ids.sort() : ids.slice(0, n).sort();
    const weights = new Float32Array(n);
    for (let i = 0; i < n; i++) weights[i] = this.parked[terms[i]!]!;
    return { terms, weights };
  }

  /** Takes a counted document back out of the frequencies (its placement was not stored). */
  remove(v: Vec): void {
    this.docs--;
    for (let i = 0; i < v.terms.length; i++) this.df[v.terms[i]!]!--;
  }

  idf(id: number): number {
    const df = this.df[id] ?? 0;
    return Math.log((1 + this.docs) / (1 + df)) + 1;
  }

  /** Cosine of two vectors under the current idf. */
  cosine(a: Vec, b: Vec): number {
    const dot = this.dot(a, b);
    if (dot === 0) return 0;
    return dot / (this.norm(a) * this.norm(b));
  }

  /** The dot product of two vectors under the current idf ({@link cosine} before the norms). */
  dot(a: Vec, b: Vec): number {
    let dot = 0;
    for (let i = 0, j = 0; i < a.terms.length && j < b.terms.length;) {
      const x = a.terms[i]!;
      const y = b.terms[j]!;
      if (x < y) i++;
      else if (x > y) j++;
      else {
        const w = this.idf(x);
        dot += a.weights[i]! * b.weights[j]! * w * w;
        i++;
        j++;
      }
    }
    return dot;
  }

  norm(v: Vec): number {
    return this.normOf(v.terms, v.weights, 0, v.terms.length);
  }

  /** The norm of the vector stored at `from`..`to` of `terms` and `weights`. */
  normOf(terms: Int32Array, weights: Float32Array, from: number, to: number): number {
    let s = 0;
    for (let i = from; i < to; i++) {
      const w = weights[i]! * this.idf(terms[i]!);
      s += w * w;
    }
    return Math.sqrt(s) || 1;
  }
}

/** A cluster's summed term weights: the centroid that guards against chains of pairwise matches. */
export class Centroid {
  readonly sum = new Map<number, number>();
  size = 0;
  // The norm is cached and recomputed once the cluster or the collection has grown by a tenth
  // (a big cluster's centroid has thousands of terms; the idf drifts slowly).
  private norm = 0;
  private normAtSize = 0;
  private normAtDocs = 0;
  add(v: Vec): void {
    this.size++;
    for (let i = 0; i < v.terms.length; i++) this.sum.set(v.terms[i]!, (this.sum.get(v.terms[i]!) ?? 0) + v.weights[i]!);
  }
  remove(v: Vec): void {
    this.size--;
    for (let i = 0; i < v.terms.length; i++) {
      const t = v.terms[i]!;
      const left = (this.sum.get(t) ?? 0) - v.weights[i]!;
      if (left > 1e-9) this.sum.set(t, left);
      else this.sum.delete(t);
    }
    this.normAtSize = 0; // recomputed on the next comparison
  }
  cosine(v: Vec, stats: TermStats): number {
    let dot = 0;
    let nv = 0;
    for (let i = 0; i < v.terms.length; i++) {
      const t = v.terms[i]!;
      const idf = stats.idf(t);
      const w = v.weights[i]! * idf;
      nv += w * w;
      const c = this.sum.get(t);
      if (c !== undefined) dot += w * c * idf;
    }
    if (dot === 0) return 0;
    if (this.normAtSize === 0 || this.size > this.normAtSize * 1.1 || stats.docs > this.normAtDocs * 1.1) {
      let nc = 0;
      for (const [t, c] of this.sum) {
        const w = c * stats.idf(t);
        nc += w * w;
      }
      this.norm = Math.sqrt(nc);
      this.normAtSize = this.size;
      this.normAtDocs = stats.docs;
    }
    return dot / (Math.sqrt(nv) * this.norm || 1);
  }
}
