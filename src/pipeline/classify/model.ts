// The classifier's weight file: a plain JSON object (validated with zod), decoded once into
// typed arrays that inference reads. Pure: no fs, no clock.
import { z } from 'zod';
import { IdIndex, type LinearWeights, type Vocabulary } from './linear.js';
import { DEFAULT_FEATURE_CONFIG, type FeatureConfig } from './text.js';

export type FeedbackKind = 'bug' | 'feature' | 'question' | 'docs' | 'praise' | 'complaint';
export type Label = FeedbackKind | 'none';
export const FEEDBACK_KINDS: readonly FeedbackKind[] = ['bug', 'feature', 'question', 'docs', 'praise', 'complaint'];
export const LABELS: readonly Label[] = [...FEEDBACK_KINDS, 'none'];

export const MODEL_FORMAT = 'gleaner-classifier/1';

const featureConfigSchema = z.object({
  hashBits: z.number().int().min(8).max(32),
  charMin: z.number().int().min(1).max(8),
  charMax: z.number().int().min(1).max(8),
  bodyMaxChars: z.number().int().positive(),
  titleWeight: z.number().min(0),
  bodyWeight: z.number().min(0),
  charWeight: z.number().min(0),
  shapeWeight: z.number().min(0),
  titleCharWeight: z.number().min(0).default(0),
  sentimentFeatures: z.boolean().default(false),
});

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');

export const classifierModelSchema = z.object({
  format: z.literal(MODEL_FORMAT),
  version: z.string().min(1),
  labels: z.array(z.enum(LABELS as [Label, ...Label[]])).min(2),
  features: featureConfigSchema,
  /** Sorted hashed feature ids, little-endian uint32, base64. */
  vocab: base64,
  /** One idf per vocab entry, float32, base64. */
  idf: base64,
  /** vocab.length x labels.length weights, int16 times weightScale, base64. */
  weights: base64,
  weightScale: z.number().positive(),
  bias: z.array(z.number()),
  /** How it was trained and measured; informational. */
  meta: z.record(z.string(), z.unknown()).optional(),
});

export type ClassifierModel = z.infer<typeof classifierModelSchema>;

/** The decoded form inference uses, built once per model object. */
export interface RuntimeModel {
  labels: Label[];
  features: FeatureConfig;
  vocab: Vocabulary;
  linear: LinearWeights;
  version: string;
}

const runtimes = new WeakMap<ClassifierModel, RuntimeModel>();

function bytes(b64: string): Uint8Array {
  const buf = Buffer.from(b64, 'base64');
  // Copy into a fresh, aligned buffer so typed views over it are valid.
  const out = new Uint8Array(buf.length);
  out.set(buf);
  return out;
}

function toBase64(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

function decode(m: ClassifierModel): RuntimeModel {
  const vb = bytes(m.vocab);
  const ib = bytes(m.idf);
  const wb = bytes(m.weights);
  const C = m.labels.length;
  if (vb.length % 4 !== 0) throw new Error('classifier model: vocab is not a whole number of uint32 values');
  const ids = new Uint32Array(vb.buffer, 0, vb.length / 4);
  const F = ids.length;
  if (ib.length !== F * 4) throw new Error(`classifier model: idf has ${ib.length / 4} values, vocab has ${F}`);
  if (wb.length !== F * C * 2) throw new Error(`classifier model: weights have ${wb.length / 2} values, expected ${F} x ${C}`);
  if (m.bias.length !== C) throw new Error(`classifier model: bias has ${m.bias.length} values, expected ${C}`);
  if (new Set(m.labels).size !== C) throw new Error('classifier model: duplicate labels');
  if (m.features.charMin > m.features.charMax) throw new Error('classifier model: charMin > charMax');
  const idf = new Float32Array(ib.buffer, 0, F);
  const q = new Int16Array(wb.buffer, 0, F * C);
  const weights = new Float32Array(F * C);
  for (let i = 0; i < q.length; i++) weights[i] = (q[i] ?? 0) * m.weightScale;
  const column = new IdIndex(ids);
  return {
    labels: [...m.labels],
    features: { ...DEFAULT_FEATURE_CONFIG, ...m.features },
    vocab: { column, idf },
    linear: { weights, bias: Float64Array.from(m.bias), classes: C, features: F },
    version: m.version,
  };
}

/** Validates a parsed JSON value as a classifier model; throws with the reason on junk. */
export function parseClassifierModel(json: unknown): ClassifierModel {
  const r = classifierModelSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`not a Gleaner classifier model (${MODEL_FORMAT}): ${issues}`);
  }
  const model = r.data;
  runtimes.set(model, decode(model));
  return model;
}

export function runtimeOf(model: ClassifierModel): RuntimeModel {
  let rt = runtimes.get(model);
  if (!rt) {
    rt = decode(model);
    runtimes.set(model, rt);
  }
  return rt;
}

/** Packs a trained runtime model into the JSON weight file, int16-quantised. */
export function encodeModel(rt: RuntimeModel, meta?: Record<string, unknown>): ClassifierModel {
  const F = rt.linear.features;
  const C = rt.linear.classes;
  const ids = rt.vocab.column.ids;
  let max = 0;
  for (const w of rt.linear.weights) max = Math.max(max, Math.abs(w));
  const weightScale = max > 0 ? max / 32767 : 1;
  const q = new Int16Array(F * C);
  for (let i = 0; i < q.length; i++) q[i] = Math.round((rt.linear.weights[i] ?? 0) / weightScale);
  const model: ClassifierModel = {
    format: MODEL_FORMAT,
    version: rt.version,
    labels: [...rt.labels],
    features: { ...rt.features },
    vocab: toBase64(ids),
    idf: toBase64(Float32Array.from(rt.vocab.idf)),
    weights: toBase64(q),
    weightScale,
    bias: Array.from(rt.linear.bias, (b) => Math.round(b * 1e6) / 1e6),
    ...(meta ? { meta } : {}),
  };
  return model;
}
