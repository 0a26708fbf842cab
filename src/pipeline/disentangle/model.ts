// The disentanglement model: a one-hidden-layer MLP scoring (line, candidate parent) pairs from
// binary features; the line links to the highest-scoring candidate (itself = new conversation).
import { z } from 'zod';
import { DIST_TIME_COUNT, DIST_TIME_FIRST, FEATURE_COUNT, FEATURE_NAMES, type Extraction, type FeatureConfig, type LineInfo } from './features.js';

export const MODEL_FORMAT = 'gleaner-disentangle/1';

const finite = z.number().finite();

export const DisentangleModelSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  version: z.string().min(1),
  features: z.array(z.string()),
  config: z.object({
    window: z.number().int().min(1).max(10_000),
    hidden: z.number().int().min(1).max(1024),
    idf: z.record(z.string(), finite),
    idfUnknown: finite,
  }),
  /** first layer, row-major: features.length rows of `hidden` weights */
  w1: z.array(finite),
  b1: z.array(finite),
  /** output layer: `hidden` weights (no bias: the score is only compared within one line's candidates) */
  w2: z.array(finite),
  /** free-form: training data, seed, hyper-parameters, dev figures */
  meta: z.record(z.string(), z.unknown()).optional(),
});

export type DisentangleModel = z.infer<typeof DisentangleModelSchema>;

/** Validates a parsed JSON model; throws an Error saying what is wrong. */
export function parseDisentangleModel(json: unknown): DisentangleModel {
  const r = DisentangleModelSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`invalid disentanglement model: ${issues}`);
  }
  const m = r.data;
  if (m.features.length !== FEATURE_COUNT || m.features.some((f, i) => f !== FEATURE_NAMES[i])) {
    throw new Error(`invalid disentanglement model: trained with a different feature set (${m.features.length} features, this code has ${FEATURE_COUNT}); retrain it with scripts/train-threads.ts`);
  }
  const h = m.config.hidden;
  if (m.w1.length !== FEATURE_COUNT * h) throw new Error(`invalid disentanglement model: w1 has ${m.w1.length} weights, expected ${FEATURE_COUNT * h}`);
  if (m.b1.length !== h) throw new Error(`invalid disentanglement model: b1 has ${m.b1.length} weights, expected ${h}`);
  if (m.w2.length !== h) throw new Error(`invalid disentanglement model: w2 has ${m.w2.length} weights, expected ${h}`);
  return m;
}

export function featureConfig(m: DisentangleModel): FeatureConfig {
  return { window: m.config.window, idf: m.config.idf, idfUnknown: m.config.idfUnknown };
}

/** Distinct candidate feature sets whose vectors are shared (a line's features take one of a few thousand). */
const MAX_SHARED_VECS = 4096;

/** The model's weights in typed arrays, for scoring. */
export class Scorer {
  readonly hidden: number;
  private readonly w1: Float64Array;
  private readonly b1: Float64Array;
  private readonly w2: Float64Array;
  private readonly srcVec: Float64Array;
  private readonly h: Float64Array;
  /** per line: source vector + distance x time row, computed on first use */
  private readonly base: Float64Array;
  private readonly baseStamp: Int32Array;
  private stamp = 0;

  constructor(w1: ArrayLike<number>, b1: ArrayLike<number>, w2: ArrayLike<number>) {
    this.hidden = b1.length;
    this.w1 = Float64Array.from(w1);
    this.b1 = Float64Array.from(b1);
    this.w2 = Float64Array.from(w2);
    this.srcVec = new Float64Array(this.hidden);
    this.h = new Float64Array(this.hidden);
    this.base = new Float64Array(DIST_TIME_COUNT * this.hidden);
    this.baseStamp = new Int32Array(DIST_TIME_COUNT);
  }

  /** Candidate vectors by their features (`candFeatures` joined): lines with the same features share one, and its number. */
  private readonly vecs = new Map<string, { vec: Float64Array; id: number }>();
  private nextVecId = 0;
  /** Per line: the candidates scored so far by their inputs (vector number, pair features), to skip repeats. */
  private seenStamp = new Int32Array(256);
  private seenCand = new Int32Array(256);
  private seenLine = 0;

  static of(m: DisentangleModel): Scorer {
    return new Scorer(m.w1, m.b1, m.w2);
  }

  private candVec(c: LineInfo): Float64Array {
    if (c.vec && c.vecId >= 0 && c.vec.length === this.hidden) return c.vec;
    const key = c.candFeatures.join(',');
    let e = this.vecs.get(key);
    if (!e) {
      const H = this.hidden;
      const v = new Float64Array(H);
      const w1 = this.w1;
      for (const f of c.candFeatures) {
        const o = f * H;
        for (let j = 0; j < H; j++) v[j] = (v[j] as number) + (w1[o + j] as number);
      }
      e = { vec: v, id: this.nextVecId++ };
      // Bounded: past this many feature sets, a line's vector is its own (with a number of its own).
      if (this.vecs.size < MAX_SHARED_VECS) this.vecs.set(key, e);
    }
    c.vec = e.vec;
    c.vecId = e.id;
    return e.vec;
  }

  /**
   * Whether candidate k of `x` has the same inputs as one scored before it for this line (the same
   * candidate vector and pair features): its score would be the same sum, bit for bit, and a tie goes
   * to the newer candidate, scored first. Otherwise it is recorded. Older candidates often repeat one
   * another (the same distance and time buckets, no words shared): a quarter of the ingest bench's.
   */
  private repeats(x: Extraction, k: number, vecId: number): boolean {
    const idx = x.pairIdx;
    const p0 = x.pairStart[k] as number;
    const e = x.pairStart[k + 1] as number;
    let hsh = Math.imul(vecId + 1, 0x9e3779b1);
    for (let p = p0; p < e; p++) hsh = Math.imul(hsh ^ (idx[p] as number), 0x85ebca6b);
    hsh ^= hsh >>> 15;
    const mask = this.seenStamp.length - 1;
    const stamp = this.seenLine;
    let slot = hsh & mask;
    while (this.seenStamp[slot] === stamp) {
      const q = this.seenCand[slot] as number;
      const c = x.cands[q] as LineInfo;
      const q0 = x.pairStart[q] as number;
      if (c.vecId === vecId && (x.pairStart[q + 1] as number) - q0 === e - p0) {
        let same = true;
        for (let i = 0; i < e - p0; i++) {
          if (idx[q0 + i] !== idx[p0 + i]) {
            same = false;
            break;
          }
        }
        if (same) return true;
      }
      slot = (slot + 1) & mask;
    }
    this.seenStamp[slot] = stamp;
    this.seenCand[slot] = k;
    return false;
  }

  /**
   * The chosen parent for the extracted line, as a push index: the best-scoring candidate, or the
   * line itself when "new conversation" scores highest. Ties go to the newer candidate.
   */
  choose(x: Extraction): number {
    const H = this.hidden;
    const w1 = this.w1;
    const w2 = this.w2;
    const s = this.srcVec;
    const h = this.h;
    s.set(this.b1);
    for (const f of x.src) {
      const o = f * H;
      for (let j = 0; j < H; j++) s[j] = (s[j] as number) + (w1[o + j] as number);
    }
    // self
    // "new conversation": the line with the self feature (row 0)
    let best = x.info.index;
    let bestScore = 0;
    for (let j = 0; j < H; j++) {
      const v = (s[j] as number) + (w1[j] as number);
      if (v > 0) bestScore += v * (w2[j] as number);
    }
    const idx = x.pairIdx;
    const start = x.pairStart;
    const base = this.base;
    const stamps = this.baseStamp;
    const stamp = (this.stamp = (this.stamp + 1) | 0);
    if (this.seenStamp.length < 2 * x.cands.length) {
      let size = this.seenStamp.length;
      while (size < 2 * x.cands.length) size *= 2;
      this.seenStamp = new Int32Array(size);
      this.seenCand = new Int32Array(size);
      this.seenLine = 0;
    }
    this.seenLine = (this.seenLine + 1) | 0 || 1;
    for (let k = 0; k < x.cands.length; k++) {
      const c = x.cands[k] as LineInfo;
      const cv = this.candVec(c);
      if (this.repeats(x, k, c.vecId)) continue;
      const p0 = start[k] as number;
      // the first pair feature is the distance x time cross: source + that row, cached per line
      const dt = (idx[p0] as number) - DIST_TIME_FIRST;
      const bo = dt * H;
      if (stamps[dt] !== stamp) {
        stamps[dt] = stamp;
        const o = (idx[p0] as number) * H;
        for (let j = 0; j < H; j++) base[bo + j] = (s[j] as number) + (w1[o + j] as number);
      }
      const e = start[k + 1] as number;
      let sc = 0;
      // Fused loops by the number of further rows (the sums are added in the same order in every
      // case: base, candidate, then each row; a ReLU unit below zero adds nothing).
      const n = e - p0;
      if (n === 1) {
        for (let j = 0; j < H; j++) {
          const v = (base[bo + j] as number) + (cv[j] as number);
          sc += v > 0 ? v * (w2[j] as number) : 0;
        }
      } else if (n === 2) {
        const o1 = (idx[p0 + 1] as number) * H;
        for (let j = 0; j < H; j++) {
          const v = (base[bo + j] as number) + (cv[j] as number) + (w1[o1 + j] as number);
          sc += v > 0 ? v * (w2[j] as number) : 0;
        }
      } else if (n === 3) {
        const o1 = (idx[p0 + 1] as number) * H;
        const o2 = (idx[p0 + 2] as number) * H;
        for (let j = 0; j < H; j++) {
          const v = (base[bo + j] as number) + (cv[j] as number) + (w1[o1 + j] as number) + (w1[o2 + j] as number);
          sc += v > 0 ? v * (w2[j] as number) : 0;
        }
      } else if (n === 4) {
        const o1 = (idx[p0 + 1] as number) * H;
        const o2 = (idx[p0 + 2] as number) * H;
        const o3 = (idx[p0 + 3] as number) * H;
        for (let j = 0; j < H; j++) {
          const v = (base[bo + j] as number) + (cv[j] as number) + (w1[o1 + j] as number) + (w1[o2 + j] as number) + (w1[o3 + j] as number);
          sc += v > 0 ? v * (w2[j] as number) : 0;
        }
      } else if (n === 5) {
        const o1 = (idx[p0 + 1] as number) * H;
        const o2 = (idx[p0 + 2] as number) * H;
        const o3 = (idx[p0 + 3] as number) * H;
        const o4 = (idx[p0 + 4] as number) * H;
        for (let j = 0; j < H; j++) {
          const v = (base[bo + j] as number) + (cv[j] as number) + (w1[o1 + j] as number) + (w1[o2 + j] as number) + (w1[o3 + j] as number) + (w1[o4 + j] as number);
          sc += v > 0 ? v * (w2[j] as number) : 0;
        }
      } else if (n === 6) {
        const o1 = (idx[p0 + 1] as number) * H;
        const o2 = (idx[p0 + 2] as number) * H;
        const o3 = (idx[p0 + 3] as number) * H;
        const o4 = (idx[p0 + 4] as number) * H;
        const o5 = (idx[p0 + 5] as number) * H;
        for (let j = 0; j < H; j++) {
          const v = (base[bo + j] as number) + (cv[j] as number) + (w1[o1 + j] as number) + (w1[o2 + j] as number) + (w1[o3 + j] as number) + (w1[o4 + j] as number) + (w1[o5 + j] as number);
          sc += v > 0 ? v * (w2[j] as number) : 0;
        }
      } else {
        for (let j = 0; j < H; j++) h[j] = (base[bo + j] as number) + (cv[j] as number);
        for (let p = p0 + 1; p < e; p++) {
          const o = (idx[p] as number) * H;
          for (let j = 0; j < H; j++) h[j] = (h[j] as number) + (w1[o + j] as number);
        }
        for (let j = 0; j < H; j++) {
          const v = h[j] as number;
          sc += v > 0 ? v * (w2[j] as number) : 0;
        }
      }
      if (sc > bestScore) {
        bestScore = sc;
        best = c.index;
      }
    }
    return best;
  }
}
