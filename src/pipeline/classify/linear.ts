// Sparse TF-IDF vectors and a multinomial logistic regression trained by SGD. Pure and seeded.
import type { Blocks, Counts, FeatureConfig } from './text.js';

export interface SparseVec {
  idx: Int32Array;
  val: Float32Array;
}

/** Hashed feature id -> column: an open-addressing table (faster than a Map on the hot path). */
export class IdIndex {
  readonly ids: Uint32Array;
  private readonly keys: Uint32Array;
  private readonly cols: Int32Array;
  private readonly mask: number;

  /** `ids` holds distinct ids; column j is ids[j]. */
  constructor(ids: Uint32Array) {
    this.ids = ids;
    let size = 16;
    while (size < ids.length * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Uint32Array(size);
    this.cols = new Int32Array(size).fill(-1);
    ids.forEach((id, j) => {
      let slot = this.slotOf(id);
      while ((this.cols[slot] ?? -1) >= 0) slot = (slot + 1) & this.mask;
      this.keys[slot] = id;
      this.cols[slot] = j;
    });
  }

  private slotOf(id: number): number {
    return (Math.imul(id, 0x9e3779b1) >>> 7) & this.mask;
  }

  /** The column of `id`, or -1. */
  get(id: number): number {
    let slot = this.slotOf(id);
    for (;;) {
      const col = this.cols[slot] ?? -1;
      if (col < 0 || this.keys[slot] === id) return col;
      slot = (slot + 1) & this.mask;
    }
  }

  get size(): number {
    return this.ids.length;
  }
}

/** Everything needed to turn blocks into a vector: hashed id -> column, and the column's idf. */
export interface Vocabulary {
  column: IdIndex;
  idf: Float32Array;
}

/** Sublinear tf x idf per block, each block L2-normalised and weighted, then concatenated. */
export function vectorize(blocks: Blocks, vocab: Vocabulary, cfg: FeatureConfig): SparseVec {
  const idx: number[] = [];
  const val: number[] = [];
  const part = (counts: Counts, weight: number): void => {
    if (weight === 0) return;
    const start = idx.length;
    let norm = 0;
    for (let k = 0; k < counts.ids.length; k++) {
      const n = counts.counts[k]!;
      const j = vocab.column.get(counts.ids[k]!);
      if (j < 0) continue;
      const v = (1 + Math.log(n)) * (vocab.idf[j] ?? 1);
      idx.push(j);
      val.push(v);
      norm += v * v;
    }
    if (norm === 0) return;
    const k = weight / Math.sqrt(norm);
    for (let i = start; i < val.length; i++) val[i] = (val[i] ?? 0) * k;
  };
  part(blocks.title, cfg.titleWeight);
  part(blocks.body, cfg.bodyWeight);
  part(blocks.chars, cfg.charWeight);
  part(blocks.titleChars, cfg.titleCharWeight);
  part(blocks.shape, cfg.shapeWeight);
  return { idx: Int32Array.from(idx), val: Float32Array.from(val) };
}

// Scratch for predictBlocksInto, grown as needed: a typed array allocated per block cost more than the
// arithmetic (its memory lives outside the heap). Nothing is kept in it between calls.
let scratchCols = new Int32Array(1024);
let scratchVals = new Float64Array(1024);

/**
 * Softmax probabilities of a document's blocks, written into `out`: predictInto(m, vectorize(...)) without
 * building the vector, the same sums in the same order (each value rounded to float32, as the vector
 * holds it), so the result is identical. Inference runs this once per message a conversation offers.
 */
export function predictBlocksInto(m: LinearWeights, blocks: Blocks, vocab: Vocabulary, cfg: FeatureConfig, out: Float64Array): void {
  const C = m.classes;
  for (let c = 0; c < C; c++) out[c] = m.bias[c] ?? 0;
  addBlock(m, blocks.title, cfg.titleWeight, vocab, out);
  addBlock(m, blocks.body, cfg.bodyWeight, vocab, out);
  addBlock(m, blocks.chars, cfg.charWeight, vocab, out);
  addBlock(m, blocks.titleChars, cfg.titleCharWeight, vocab, out);
  addBlock(m, blocks.shape, cfg.shapeWeight, vocab, out);
  softmaxInPlace(out, C);
}

/** One block's share of the margins: its tf-idf values L2-normalised and weighted, times the weights. */
function addBlock(m: LinearWeights, counts: Counts, weight: number, vocab: Vocabulary, out: Float64Array): void {
  if (weight === 0 || counts.size === 0) return;
  if (scratchCols.length < counts.size) {
    scratchCols = new Int32Array(counts.size * 2);
    scratchVals = new Float64Array(counts.size * 2);
  }
  const cols = scratchCols;
  const vals = scratchVals;
  const { column, idf } = vocab;
  let n = 0;
  let norm = 0;
  const { ids, counts: tf } = counts;
  for (let k = 0; k < ids.length; k++) {
    const j = column.get(ids[k]!);
    if (j < 0) continue;
    const v = (1 + Math.log(tf[k]!)) * (idf[j] ?? 1);
    cols[n] = j;
    vals[n++] = v;
    norm += v * v;
  }
  // vectorize leaves such a block's values unscaled: all zero, they add nothing.
  if (norm === 0) return;
  const scale = weight / Math.sqrt(norm);
  const C = m.classes;
  const w = m.weights;
  for (let i = 0; i < n; i++) {
    const base = cols[i]! * C;
    const v = Math.fround(vals[i]! * scale);
    for (let c = 0; c < C; c++) out[c] = out[c]! + v * w[base + c]!;
  }
}

/** Every hashed id a document uses, once. */
export function documentIds(blocks: Blocks): Set<number> {
  const s = new Set<number>();
  for (const c of [blocks.title, blocks.body, blocks.chars, blocks.titleChars, blocks.shape]) for (const id of c.ids) s.add(id);
  return s;
}

/** Mulberry32: small, fast, good enough for shuffling. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SgdOptions {
  seed: number;
  epochs: number;
  /** L2 strength per example (the objective is mean loss + lambda/2 * |W|^2). */
  lambda: number;
  /** Initial learning rate; decays as lr0 / (1 + lr0 * lambda * t). */
  lr0: number;
}

export interface LinearWeights {
  /** Row-major: weights[feature * classes + class]. */
  weights: Float32Array;
  bias: Float64Array;
  classes: number;
  features: number;
}

/** Softmax probabilities of one vector, written into `out`. */
export function predictInto(m: LinearWeights, x: SparseVec, out: Float64Array): void {
  const C = m.classes;
  for (let c = 0; c < C; c++) out[c] = m.bias[c] ?? 0;
  const { idx, val } = x;
  const w = m.weights;
  for (let k = 0; k < idx.length; k++) {
    const base = (idx[k] ?? 0) * C;
    const v = val[k] ?? 0;
    for (let c = 0; c < C; c++) out[c] = (out[c] ?? 0) + v * (w[base + c] ?? 0);
  }
  softmaxInPlace(out, C);
}

export function softmaxInPlace(z: Float64Array, n: number): void {
  let max = -Infinity;
  for (let c = 0; c < n; c++) max = Math.max(max, z[c] ?? 0);
  let sum = 0;
  for (let c = 0; c < n; c++) {
    const e = Math.exp((z[c] ?? 0) - max);
    z[c] = e;
    sum += e;
  }
  for (let c = 0; c < n; c++) z[c] = (z[c] ?? 0) / sum;
}

/**
 * SGD on the weighted multinomial log loss with L2, W kept as scale * V so the decay step is
 * O(1) (Bottou's trick). Deterministic: the visiting order comes from the seeded PRNG only.
 */
export function trainSoftmax(xs: SparseVec[], ys: Int32Array, sampleWeights: Float64Array, classes: number, features: number, opts: SgdOptions): LinearWeights {
  const C = classes;
  const v = new Float64Array(features * C);
  const bias = new Float64Array(C);
  let scale = 1;
  const rand = mulberry32(opts.seed);
  const order = Array.from({ length: xs.length }, (_, i) => i);
  const z = new Float64Array(C);
  let t = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const a = order[i] ?? 0;
      order[i] = order[j] ?? 0;
      order[j] = a;
    }
    for (const n of order) {
      const x = xs[n];
      if (!x) continue;
      const lr = opts.lr0 / (1 + opts.lr0 * opts.lambda * t);
      t++;
      for (let c = 0; c < C; c++) z[c] = bias[c] ?? 0;
      for (let k = 0; k < x.idx.length; k++) {
        const base = (x.idx[k] ?? 0) * C;
        const xv = (x.val[k] ?? 0) * scale;
        for (let c = 0; c < C; c++) z[c] = (z[c] ?? 0) + xv * (v[base + c] ?? 0);
      }
      softmaxInPlace(z, C);
      const y = ys[n] ?? 0;
      const sw = sampleWeights[n] ?? 1;
      for (let c = 0; c < C; c++) z[c] = sw * ((z[c] ?? 0) - (c === y ? 1 : 0));
      scale *= 1 - lr * opts.lambda;
      const step = lr / scale;
      for (let k = 0; k < x.idx.length; k++) {
        const base = (x.idx[k] ?? 0) * C;
        const xv = (x.val[k] ?? 0) * step;
        for (let c = 0; c < C; c++) v[base + c] = (v[base + c] ?? 0) - xv * (z[c] ?? 0);
      }
      for (let c = 0; c < C; c++) bias[c] = (bias[c] ?? 0) - lr * 0.1 * (z[c] ?? 0);
      if (scale < 1e-6) {
        for (let q = 0; q < v.length; q++) v[q] = (v[q] ?? 0) * scale;
        scale = 1;
      }
    }
  }
  const weights = new Float32Array(features * C);
  for (let q = 0; q < v.length; q++) weights[q] = (v[q] ?? 0) * scale;
  return { weights, bias, classes: C, features };
}

export interface SvmOptions {
  seed: number;
  /** Passes over the data per class. */
  epochs: number;
  /** Soft-margin cost (liblinear's C). */
  cost: number;
  /**
   * NBSVM (Wang & Manning 2012): scale each feature, per class, by its naive-Bayes log-count
   * ratio before fitting; the ratios are folded back into the weights, so the result is still one
   * linear model over the unscaled features. 0 turns it off; the value is the add-alpha smoothing.
   */
  nbAlpha?: number;
}

/** Per-class NB log-count ratios over binarised features (one Float64Array per class). */
function nbRatios(xs: SparseVec[], ys: Int32Array, classes: number, features: number, alpha: number): Float64Array[] {
  const counts = Array.from({ length: classes }, () => new Float64Array(features));
  const all = new Float64Array(features);
  xs.forEach((x, i) => {
    const c = counts[ys[i] ?? 0];
    for (const f of x.idx) {
      if (c) c[f] = (c[f] ?? 0) + 1;
      all[f] = (all[f] ?? 0) + 1;
    }
  });
  let allSum = 0;
  for (const v of all) allSum += v;
  return counts.map((p) => {
    let pSum = 0;
    for (const v of p) pSum += v;
    const qSum = allSum - pSum;
    const r = new Float64Array(features);
    const pNorm = pSum + alpha * features;
    const qNorm = qSum + alpha * features;
    for (let f = 0; f < features; f++) {
      const pf = (p[f] ?? 0) + alpha;
      const qf = (all[f] ?? 0) - (p[f] ?? 0) + alpha;
      r[f] = Math.abs(Math.log(pf / pNorm / (qf / qNorm)));
    }
    return r;
  });
}

/**
 * One-vs-rest L2-regularised squared-hinge SVMs by dual coordinate descent (Hsieh et al. 2008,
 * as in liblinear), a constant 1 feature standing in for the bias. Deterministic.
 */
export function trainOvrSvm(xs: SparseVec[], ys: Int32Array, sampleWeights: Float64Array, classes: number, features: number, opts: SvmOptions): LinearWeights {
  const C = classes;
  const weights = new Float32Array(features * C);
  const bias = new Float64Array(C);
  const n = xs.length;
  const qii = new Float64Array(n);
  xs.forEach((x, i) => {
    let s = 1; // the bias feature
    for (const v of x.val) s += v * v;
    qii[i] = s;
  });
  const w = new Float64Array(features);
  const alpha = new Float64Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  const ratios = opts.nbAlpha ? nbRatios(xs, ys, C, features, opts.nbAlpha) : undefined;
  for (let c = 0; c < C; c++) {
    const r = ratios?.[c];
    if (r) {
      xs.forEach((x, i) => {
        let s = 1;
        for (let k = 0; k < x.idx.length; k++) {
          const v = (x.val[k] ?? 0) * (r[x.idx[k] ?? 0] ?? 1);
          s += v * v;
        }
        qii[i] = s;
      });
    }
    w.fill(0);
    alpha.fill(0);
    let b = 0;
    const rand = mulberry32(opts.seed + c);
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        const a = order[i] ?? 0;
        order[i] = order[j] ?? 0;
        order[j] = a;
      }
      let maxPg = 0;
      for (const i of order) {
        const x = xs[i];
        if (!x) continue;
        const y = ys[i] === c ? 1 : -1;
        const dii = 1 / (2 * opts.cost * (sampleWeights[i] ?? 1));
        let dot = b;
        if (r) for (let k = 0; k < x.idx.length; k++) dot += (x.val[k] ?? 0) * (r[x.idx[k] ?? 0] ?? 1) * (w[x.idx[k] ?? 0] ?? 0);
        else for (let k = 0; k < x.idx.length; k++) dot += (x.val[k] ?? 0) * (w[x.idx[k] ?? 0] ?? 0);
        const a = alpha[i] ?? 0;
        const g = y * dot - 1 + dii * a;
        const pg = a === 0 ? Math.min(g, 0) : g;
        maxPg = Math.max(maxPg, Math.abs(pg));
        if (pg === 0) continue;
        const next = Math.max(a - g / ((qii[i] ?? 1) + dii), 0);
        const d = (next - a) * y;
        alpha[i] = next;
        if (d === 0) continue;
        for (let k = 0; k < x.idx.length; k++) {
          const f = x.idx[k] ?? 0;
          w[f] = (w[f] ?? 0) + d * (x.val[k] ?? 0) * (r ? (r[f] ?? 1) : 1);
        }
        b += d;
      }
      if (maxPg < 1e-3) break;
    }
    for (let f = 0; f < features; f++) weights[f * C + c] = (w[f] ?? 0) * (r ? (r[f] ?? 1) : 1);
    bias[c] = b;
  }
  return { weights, bias, classes: C, features };
}
