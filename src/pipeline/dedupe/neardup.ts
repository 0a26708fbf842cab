// "Reported before?": a similarity index over feedback reports (title + text).
//
// Ranking is BM25F (title and text as two fields with their own length normalisation, the title
// weighted more) over word unigrams, word bigrams and code-identifier terms, with IDF taken from
// the documents added so far. Candidates come from two places: MinHash/LSH (near-verbatim copies,
// cheap at any size) and an inverted index over the query's rarest terms (everything else). The
// union is scored exactly from a forward index, then optionally re-ranked with one round of
// pseudo-relevance feedback fused with the first ranking by reciprocal rank. Extra rankers re-order
// that pool, fused by reciprocal rank: a TF-IDF cosine over the same terms, and the need ranker,
// grouping's need-space cosine of the reports' need texts (without code fences and stack-trace lines;
// words, the word model's nearest words, character 3-5-grams).

import { hash32 } from './hash.js';
import { LshIndex } from './lsh.js';
import { MinHasher } from './minhash.js';
import { tokenizeReport } from './tokenize.js';
import { NEARDUP_DEFAULTS, type NearDupOptions } from './neardup-options.js';
import { needTextOf } from '../need-text.js';
import { DEFAULT_CONCEPT_WEIGHT, DEFAULT_NEIGHBOURS, DEFAULT_WORD_WEIGHT, MODEL_WORD_WEIGHT, NeedSpace, type NeedVector, type Tf } from '../need-space.js';

export type { NearDupOptions } from './neardup-options.js';

export interface NearDupDoc {
  title?: string;
  text: string;
  /** When it was reported (ms). Optional: with recencyBoost > 0, reports close in time rank higher. */
  at?: number;
}

export interface NearDupIndex {
  add(id: string, doc: NearDupDoc): void;
  /**
   * Most similar earlier docs, best first. `score` is the fused ranking score (higher is better),
   * comparable within one query only, not an absolute similarity. With k >= size() - 1 every doc
   * sharing a term with the query is ranked (evaluation); otherwise candidates are pruned for speed.
   */
  query(doc: NearDupDoc, k: number, opts?: { exclude?: string }): Array<{ id: string; score: number }>;
  size(): number;
}

const KIND_WORD = 0;
const KIND_BIGRAM = 1;
const KIND_IDENT = 2;

/** A document's or query's terms with per-field frequencies. */
interface TermBag {
  /** term id -> packed (titleTf << 16 | textTf); unknown query terms are left out. */
  tf: Map<number, number>;
  titleLen: number;
  textLen: number;
}

/** Postings of one term, interleaved: doc, (titleTf << 16) | textTf, doc, ... (one array per term keeps GC light). */
type Postings = number[];

class Bm25fIndex implements NearDupIndex {
  private readonly o: Required<NearDupOptions>;
  private readonly termIds = new Map<string, number>();
  private readonly termKind: number[] = [];
  private readonly postings: Postings[] = [];
  private readonly ids: string[] = [];
  private readonly idToDoc = new Map<string, number>();
  // Forward index: per doc its term ids (ascending) and packed tfs.
  private readonly fwdTerms: Int32Array[] = [];
  private readonly fwdTfs: Uint32Array[] = [];
  private readonly times: number[] = [];
  private readonly norms: number[] = [];
  private readonly normAtN: number[] = [];
  private titleLens: number[] = [];
  private textLens: number[] = [];
  private sumTitle = 0;
  private sumText = 0;
  private readonly lsh: LshIndex;
  private readonly hasher: MinHasher;
  private readonly sigBuf: Uint32Array;
  private acc = new Float64Array(1024);
  private queryAt = NaN;
  // The need space (need-space.ts) of the need ranker: per doc its frequencies and its vector, cached
  // with the collection size it was computed at (recomputed once the collection has grown by a tenth).
  private readonly space: NeedSpace | null;
  private readonly needTfs: Tf[] = [];
  private readonly needVec: Array<NeedVector | undefined> = [];
  private readonly needAtN: number[] = [];

  constructor(opts: NearDupOptions) {
    this.o = { ...NEARDUP_DEFAULTS, ...opts };
    this.lsh = new LshIndex({ bands: this.o.lshBands, rows: this.o.lshRows, capacity: this.o.capacity });
    this.hasher = new MinHasher(this.o.lshBands * this.o.lshRows);
    this.sigBuf = new Uint32Array(this.hasher.numPerm);
    // Grouping's need space with grouping's defaults (grouping.ts).
    const model = this.o.wordModel;
    this.space = this.o.needRankWeight > 0 ? new NeedSpace(model ? MODEL_WORD_WEIGHT : DEFAULT_WORD_WEIGHT, DEFAULT_CONCEPT_WEIGHT, model ? { model, ...DEFAULT_NEIGHBOURS } : null) : null;
  }

  size(): number {
    return this.ids.length;
  }

  add(id: string, doc: NearDupDoc): void {
    const { tf, titleLen, textLen, words } = this.analyze(doc, true);
    const d = this.ids.length;
    this.ids.push(id);
    if (!this.idToDoc.has(id)) this.idToDoc.set(id, d);
    const terms = Int32Array.from(tf.keys()).sort();
    const tfs = new Uint32Array(terms.length);
    for (let i = 0; i < terms.length; i++) {
      const t = terms[i]!;
      const v = tf.get(t)!;
      tfs[i] = v;
      this.postings[t]!.push(d, v);
    }
    this.fwdTerms.push(terms);
    this.fwdTfs.push(tfs);
    this.times.push(doc.at ?? NaN);
    this.norms.push(0);
    this.normAtN.push(0);
    this.titleLens.push(titleLen);
    this.textLens.push(textLen);
    this.sumTitle += titleLen;
    this.sumText += textLen;
    this.lsh.insert(this.signature(words));
    if (this.space) {
      const ntf = this.needTf(doc);
      this.space.count(ntf);
      this.needTfs.push(ntf);
      this.needVec.push(undefined);
      this.needAtN.push(0);
    }
    if (this.acc.length < this.ids.length) {
      const grown = new Float64Array(this.acc.length * 2);
      this.acc = grown;
    }
  }

  query(doc: NearDupDoc, k: number, opts: { exclude?: string } = {}): Array<{ id: string; score: number }> {
    const n = this.ids.length;
    if (n === 0 || k <= 0) return [];
    const q = this.analyze(doc, false);
    const excluded = opts.exclude === undefined ? -1 : (this.idToDoc.get(opts.exclude) ?? -1);
    const exhaustive = k >= n - 1;
    const qWeights = this.queryWeights(q.tf);
    this.queryAt = doc.at ?? NaN;
    const pool = Math.max(this.o.pool, 2 * k);
    let ranked = this.rank(qWeights, exhaustive, pool, excluded, q.words);
    if (this.o.prfDocs > 0 && ranked.length > 1) {
      const expanded = this.feedback(qWeights, ranked);
      const second = this.rank(expanded, exhaustive, pool, excluded, q.words);
      ranked = fuse([ranked, second], [1, 1], this.o.rrfK);
    }
    if (this.o.titleRankWeight > 0 || this.o.cosineRankWeight > 0 || this.space) {
      // The extra rankers re-order the pool the first ranking found (all of it when exhaustive).
      const docs = exhaustive ? ranked : ranked.slice(0, pool);
      const lists = [ranked];
      const weights = [1];
      if (this.o.titleRankWeight > 0) {
        lists.push(this.titleRank(q.tf, docs));
        weights.push(this.o.titleRankWeight);
      }
      if (this.o.cosineRankWeight > 0) {
        lists.push(this.cosineRank(q.tf, docs));
        weights.push(this.o.cosineRankWeight);
      }
      if (this.space) {
        lists.push(this.needRank(doc, docs));
        weights.push(this.o.needRankWeight);
      }
      ranked = fuse(lists, weights, this.o.rrfK);
    }
    const out: Array<{ id: string; score: number }> = [];
    for (let i = 0; i < ranked.length && out.length < k; i++) {
      const r = ranked[i]!;
      out.push({ id: this.ids[r.doc]!, score: r.score });
    }
    return out;
  }

  /** Term ids with query weights: (1 + ln qtf) x kind weight x title boost. */
  private queryWeights(tf: Map<number, number>): Map<number, number> {
    const out = new Map<number, number>();
    for (const [t, packed] of tf) {
      const qt = packed >>> 16;
      const qx = packed & 0xffff;
      let w = 1 + Math.log(qt + qx);
      if (qt > 0) w *= this.o.queryTitleBoost;
      const kind = this.termKind[t]!;
      if (kind === KIND_BIGRAM) w *= this.o.bigramWeight;
      else if (kind === KIND_IDENT) w *= this.o.identifierWeight;
      out.set(t, w);
    }
    return out;
  }

  private idf(t: number): number {
    const n = this.ids.length;
    const df = this.postings[t]!.length >> 1;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** BM25F contribution of one occurrence record (packed tfs) in doc d, before idf. */
  private fieldScore(packed: number, d: number, avgTitle: number, avgText: number): number {
    const o = this.o;
    const tt = packed >>> 16;
    const tx = packed & 0xffff;
    let w = 0;
    if (tt > 0) w += (o.titleWeight * tt) / (1 - o.bTitle + (o.bTitle * this.titleLens[d]!) / avgTitle);
    if (tx > 0) w += tx / (1 - o.bText + (o.bText * this.textLens[d]!) / avgText);
    return (w * (o.k1 + 1)) / (o.k1 + w);
  }

  private rank(qWeights: Map<number, number>, exhaustive: boolean, pool: number, excluded: number, words: string[]): Array<{ doc: number; score: number }> {
    const n = this.ids.length;
    const avgTitle = Math.max(1e-9, this.sumTitle / n);
    const avgText = Math.max(1e-9, this.sumText / n);
    // Query terms ordered by weight x idf: the rarest, most telling ones first.
    const terms: Array<{ t: number; w: number }> = [];
    for (const [t, w] of qWeights) terms.push({ t, w: w * this.idf(t) });
    terms.sort((a, b) => b.w - a.w);
    const acc = this.acc;
    const touched: number[] = [];
    const limit = exhaustive ? terms.length : Math.min(terms.length, this.o.maxQueryTerms);
    const maxDf = exhaustive ? Infinity : Math.max(64, this.o.maxCandidateDf * n);
    let pruned = limit < terms.length;
    for (let i = 0; i < limit; i++) {
      const { t, w } = terms[i]!;
      const p = this.postings[t]!;
      // Keep at least the three best terms whatever their df, so a query of common words still finds something.
      if (p.length >> 1 > maxDf && i >= 3) {
        pruned = true;
        continue;
      }
      for (let j = 0; j < p.length; j += 2) {
        const d = p[j]!;
        if (acc[d] === 0) touched.push(d);
        acc[d]! += w * this.fieldScore(p[j + 1]!, d, avgTitle, avgText);
      }
    }
    let scored: Array<{ doc: number; score: number }> = [];
    for (const d of touched) {
      if (d !== excluded) scored.push({ doc: d, score: acc[d]! });
      acc[d] = 0;
    }
    if (!exhaustive) {
      // The pool: the best by the pruned score, plus what LSH finds (near-verbatim copies whose
      // distinctive terms fell outside the pruned query), all scored exactly over every query term.
      scored.sort((a, b) => b.score - a.score);
      if (scored.length > pool) scored = scored.slice(0, pool);
      const inPool = new Set(scored.map((s) => s.doc));
      let added = 0;
      this.lsh.candidates(this.signature(words), (d) => {
        if (!inPool.has(d) && d !== excluded) {
          scored.push({ doc: d, score: 0 });
          inPool.add(d);
          added++;
        }
        return added < pool;
      });
      if (pruned || added > 0) {
        for (const s of scored) s.score = this.exactScore(qWeights, s.doc, avgTitle, avgText);
      }
    }
    if (this.o.recencyBoost > 0 && !Number.isNaN(this.queryAt)) for (const s of scored) s.score *= this.prior(s.doc);
    scored.sort((a, b) => b.score - a.score || a.doc - b.doc);
    return scored;
  }

  /** The time prior of doc d for the current query (1 when either time is unknown). */
  private prior(d: number): number {
    const at = this.times[d]!;
    if (Number.isNaN(at) || Number.isNaN(this.queryAt)) return 1;
    const days = Math.abs(at - this.queryAt) / 86_400_000;
    return 1 + this.o.recencyBoost / (1 + days / this.o.recencyDays);
  }

  private exactScore(qWeights: Map<number, number>, d: number, avgTitle: number, avgText: number): number {
    const terms = this.fwdTerms[d]!;
    const tfs = this.fwdTfs[d]!;
    let s = 0;
    // Walk the shorter side: a chat line's query has a few dozen terms, a long report hundreds.
    if (qWeights.size < terms.length) {
      for (const [t, w] of qWeights) {
        const i = lowerBound(terms, t);
        if (i < terms.length && terms[i] === t) s += w * this.idf(t) * this.fieldScore(tfs[i]!, d, avgTitle, avgText);
      }
      return s;
    }
    for (let i = 0; i < terms.length; i++) {
      const w = qWeights.get(terms[i]!);
      if (w !== undefined) s += w * this.idf(terms[i]!) * this.fieldScore(tfs[i]!, d, avgTitle, avgText);
    }
    return s;
  }

  /** BM25 of the query's title terms against document titles only. */
  private titleRank(qtf: Map<number, number>, docs: Array<{ doc: number }>): Array<{ doc: number; score: number }> {
    const n = this.ids.length;
    const avgTitle = Math.max(1e-9, this.sumTitle / n);
    const { k1, bTitle } = this.o;
    const out: Array<{ doc: number; score: number }> = [];
    for (const { doc: d } of docs) {
      const terms = this.fwdTerms[d]!;
      const tfs = this.fwdTfs[d]!;
      const norm = 1 - bTitle + (bTitle * this.titleLens[d]!) / avgTitle;
      let s = 0;
      for (let i = 0; i < terms.length; i++) {
        const tt = tfs[i]! >>> 16;
        if (tt === 0) continue;
        const q = qtf.get(terms[i]!);
        if (q === undefined || q >>> 16 === 0) continue;
        const w = tt / norm;
        s += this.kindWeight(terms[i]!) * this.idf(terms[i]!) * ((w * (k1 + 1)) / (k1 + w));
      }
      if (s > 0) out.push({ doc: d, score: s });
    }
    return out.sort((a, b) => b.score - a.score || a.doc - b.doc);
  }

  /** TF-IDF cosine (log tf, title occurrences counted titleWeight times) over all terms. */
  private cosineRank(qtf: Map<number, number>, docs: Array<{ doc: number }>): Array<{ doc: number; score: number }> {
    // Query vector as parallel arrays sorted by term id, merged against each doc's sorted terms.
    const qTerms = Int32Array.from(qtf.keys()).sort();
    const qW = new Float64Array(qTerms.length);
    let qn = 0;
    for (let i = 0; i < qTerms.length; i++) {
      const t = qTerms[i]!;
      const w = this.cosineWeight(qtf.get(t)!, t);
      qW[i] = w;
      qn += w * w;
    }
    qn = Math.sqrt(qn) || 1;
    const out: Array<{ doc: number; score: number }> = [];
    for (const { doc: d } of docs) {
      const terms = this.fwdTerms[d]!;
      const tfs = this.fwdTfs[d]!;
      let dot = 0;
      for (let i = 0, j = 0; i < qTerms.length && j < terms.length;) {
        const a = qTerms[i]!;
        const b = terms[j]!;
        if (a < b) i++;
        else if (a > b) j++;
        else {
          dot += qW[i]! * this.cosineWeight(tfs[j]!, b);
          i++;
          j++;
        }
      }
      if (dot > 0) {
        const score = dot / (qn * this.docNorm(d));
        out.push({ doc: d, score: score * (this.o.recencyBoost > 0 ? this.prior(d) : 1) });
      }
    }
    return out.sort((a, b) => b.score - a.score || a.doc - b.doc);
  }

  /** The need space's cosine (need-space.ts: words, their model neighbours, character 3-5-grams). */
  private needRank(doc: NearDupDoc, docs: Array<{ doc: number }>): Array<{ doc: number; score: number }> {
    const space = this.space!;
    const q = space.vector(this.needTf(doc));
    const n = this.ids.length;
    const out: Array<{ doc: number; score: number }> = [];
    for (const { doc: d } of docs) {
      let v = this.needVec[d];
      const at = this.needAtN[d]!;
      if (v === undefined || n > at * 1.1) {
        // A vector keeps its frequencies ahead of its weights (need-space.ts): recomputed in place.
        if (v) space.vectorFrom(v, 0);
        else v = space.vector(this.needTfs[d]!);
        this.needVec[d] = v;
        this.needAtN[d] = n;
      }
      const score = NeedSpace.cosine(q, v);
      if (score > 0) out.push({ doc: d, score: score * (this.o.recencyBoost > 0 ? this.prior(d) : 1) });
    }
    return out.sort((a, b) => b.score - a.score || a.doc - b.doc);
  }

  /** The need space's frequencies of a doc's need text (need-text.ts: title and need sentences, as grouping compares). */
  private needTf(doc: NearDupDoc): Tf {
    return this.space!.tf([{ text: needTextOf(doc.title, [doc.text]), weight: 1 }]);
  }

  private cosineWeight(packed: number, t: number): number {
    const tf = this.o.titleWeight * (packed >>> 16) + (packed & 0xffff);
    return (1 + Math.log(tf)) * this.idf(t) * this.kindWeight(t);
  }

  /** A doc's TF-IDF vector norm, cached; recomputed once the collection has grown by a tenth (IDF drifts). */
  private docNorm(d: number): number {
    const n = this.ids.length;
    const at = this.normAtN[d] ?? 0;
    if (at > 0 && n <= at * 1.1) return this.norms[d]!;
    const terms = this.fwdTerms[d]!;
    const tfs = this.fwdTfs[d]!;
    let s = 0;
    for (let i = 0; i < terms.length; i++) {
      const w = this.cosineWeight(tfs[i]!, terms[i]!);
      s += w * w;
    }
    const norm = Math.sqrt(s) || 1;
    this.norms[d] = norm;
    this.normAtN[d] = n;
    return norm;
  }

  private kindWeight(t: number): number {
    const kind = this.termKind[t]!;
    return kind === KIND_BIGRAM ? this.o.bigramWeight : kind === KIND_IDENT ? this.o.identifierWeight : 1;
  }

  /** Rocchio-style expansion: add the terms that weigh most in the top results. */
  private feedback(qWeights: Map<number, number>, ranked: Array<{ doc: number; score: number }>): Map<number, number> {
    const n = this.ids.length;
    const avgTitle = Math.max(1e-9, this.sumTitle / n);
    const avgText = Math.max(1e-9, this.sumText / n);
    const gain = new Map<number, number>();
    const top = Math.min(this.o.prfDocs, ranked.length);
    for (let r = 0; r < top; r++) {
      const d = ranked[r]!.doc;
      const terms = this.fwdTerms[d]!;
      const tfs = this.fwdTfs[d]!;
      for (let i = 0; i < terms.length; i++) {
        const t = terms[i]!;
        if (this.termKind[t] !== KIND_WORD) continue;
        const g = this.idf(t) * this.fieldScore(tfs[i]!, d, avgTitle, avgText);
        gain.set(t, (gain.get(t) ?? 0) + g / top);
      }
    }
    const best = [...gain].sort((a, b) => b[1] - a[1]).slice(0, this.o.prfTerms);
    const maxGain = best[0]?.[1] ?? 1;
    const out = new Map(qWeights);
    for (const [t, g] of best) out.set(t, (out.get(t) ?? 0) + (this.o.prfWeight * g) / maxGain);
    return out;
  }

  private signature(words: string[]): Uint32Array {
    const hashes = new Uint32Array(words.length);
    for (let i = 0; i < words.length; i++) hashes[i] = hash32(words[i]!);
    this.hasher.signature(hashes, hashes.length, this.sigBuf, 0);
    return this.sigBuf;
  }

  /** Terms of a doc. When adding, unseen terms get ids; when querying they are skipped (df 0). */
  private analyze(doc: NearDupDoc, adding: boolean): TermBag & { words: string[] } {
    const tf = new Map<number, number>();
    const put = (term: string, kind: number, title: boolean): void => {
      let t = this.termIds.get(term);
      if (t === undefined) {
        if (!adding) return;
        t = this.termKind.length;
        this.termIds.set(term, t);
        this.termKind.push(kind);
        this.postings.push([]);
      }
      const prev = tf.get(t) ?? 0;
      const tt = Math.min(0xffff, (prev >>> 16) + (title ? 1 : 0));
      const tx = Math.min(0xffff, (prev & 0xffff) + (title ? 0 : 1));
      tf.set(t, ((tt << 16) | tx) >>> 0);
    };
    const title = tokenizeReport(doc.title ?? '');
    const body = tokenizeReport(doc.text);
    if (body.words.length > this.o.maxTextTerms) body.words.length = this.o.maxTextTerms;
    if (body.extras.length > this.o.maxTextTerms) body.extras.length = this.o.maxTextTerms;
    const field = (terms: typeof title, isTitle: boolean): void => {
      const w = terms.words;
      for (let i = 0; i < w.length; i++) {
        put(w[i]!, KIND_WORD, isTitle);
        if (i > 0) put(w[i - 1]! + ' ' + w[i]!, KIND_BIGRAM, isTitle);
      }
      for (const x of terms.extras) put('#' + x, KIND_IDENT, isTitle);
    };
    field(title, true);
    field(body, false);
    return { tf, titleLen: title.words.length, textLen: body.words.length, words: [...title.words, ...body.words] };
  }
}

function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Weighted reciprocal-rank fusion. */
function fuse(rankings: Array<Array<{ doc: number; score: number }>>, weights: number[], k: number): Array<{ doc: number; score: number }> {
  const score = new Map<number, number>();
  rankings.forEach((ranking, j) => {
    const w = weights[j] ?? 1;
    ranking.forEach((r, i) => score.set(r.doc, (score.get(r.doc) ?? 0) + w / (k + i + 1)));
  });
  return [...score].map(([doc, s]) => ({ doc, score: s })).sort((a, b) => b.score - a.score || a.doc - b.doc);
}

export function createNearDupIndex(opts: NearDupOptions = {}): NearDupIndex {
  return new Bm25fIndex(opts);
}
