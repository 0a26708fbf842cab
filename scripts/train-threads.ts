// Trains the chat-disentanglement model and writes models/disentangle.json.
//   npx tsx scripts/train-threads.ts [trainDir] [--subset] [--epochs N] [--hidden N] [--seed N] [--out path]
// Data: the Ubuntu IRC disentanglement corpus (Kummerfeld et al. 2019, CC-BY-4.0), official train split.
// Deterministic: seeded PRNG, files in sorted order, so re-running gives the same weight file.
// Prints the ubuntu/dev figures at the end when that folder exists.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sharedDir, modelsDir } from '../src/paths.js';
import { annotatedLogs, evalThreads } from '../src/eval/threads.js';
import { parseAnnotation, parseIrcLog } from '../src/eval/irc-log.js';
import { FEATURE_COUNT, FEATURE_NAMES, FeatureStream, contentWords, type FeatureConfig } from '../src/pipeline/disentangle/features.js';
import { MODEL_FORMAT, parseDisentangleModel, type DisentangleModel } from '../src/pipeline/disentangle/model.js';
import type { ChatLine } from '../src/pipeline/disentangle/index.js';
import { mulberry32 } from '../src/pipeline/classify/linear.js';

// ---------------------------------------------------------------------------------------------
// options

const argv = process.argv.slice(2);
function opt(name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : dflt;
}
function optStr(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const dataRoot = join(sharedDir(), 'data', 'irc-disentanglement');
const VALUE_OPTS = ['--epochs', '--hidden', '--seed', '--window', '--lr', '--batch', '--idf-words', '--dev', '--out'];
const positional = argv.filter((a, i) => !a.startsWith('--') && !VALUE_OPTS.includes(argv[i - 1] ?? ''));
const trainDir = positional[0] ?? join(dataRoot, 'ubuntu', 'train');
const devDir = optStr('dev') ?? join(dirname(trainDir), 'dev');
const outPath = optStr('out') ?? join(modelsDir(), 'disentangle.json');
const SUBSET = argv.includes('--subset');
const EPOCHS = opt('epochs', 8);
const HIDDEN = opt('hidden', 32);
const SEED = opt('seed', 20190728);
const WINDOW = opt('window', 100);
const LR = opt('lr', 0.002);
const BATCH = opt('batch', 16);
const IDF_WORDS = opt('idf-words', 2500);

// ---------------------------------------------------------------------------------------------
// seeded PRNG: mulberry32, imported above

/** Growable typed arrays for the flattened training set. */
class Grow<T extends Int32Array | Uint16Array | Uint8Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  done(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

// ---------------------------------------------------------------------------------------------
// data

interface LogFile {
  name: string;
  lines: ChatLine[];
  /** annotated line -> its gold parents (itself for a conversation start) */
  gold: Map<number, Set<number>>;
}

async function loadDir(dir: string, subset: boolean): Promise<LogFile[]> {
  let logs = await annotatedLogs(dir);
  if (subset) logs = logs.filter((_, i) => i % 8 === 0);
  const out: LogFile[] = [];
  for (const l of logs) {
    const lines = parseIrcLog(await readFile(l.log, 'utf8'));
    const gold = new Map<number, Set<number>>();
    for (const [s, t] of parseAnnotation(await readFile(l.annotation, 'utf8'))) {
      let g = gold.get(s);
      if (!g) gold.set(s, (g = new Set()));
      g.add(t);
    }
    out.push({ name: l.name, lines, gold });
  }
  return out;
}

function buildIdf(files: LogFile[]): { idf: Record<string, number>; idfUnknown: number; docs: number } {
  const df = new Map<string, number>();
  let docs = 0;
  for (const f of files) {
    for (const l of f.lines) {
      if (l.system) continue;
      docs++;
      for (const w of contentWords(l.text.startsWith('/me ') ? l.text.slice(4) : l.text)) df.set(w, (df.get(w) ?? 0) + 1);
    }
  }
  const top = [...df.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, IDF_WORDS);
  const idf: Record<string, number> = {};
  for (const [w, n] of top) idf[w] = Math.round(Math.log(docs / n) * 1000) / 1000;
  const minDf = top.length > 0 ? (top[top.length - 1] as [string, number])[1] : 1;
  const idfUnknown = Math.round(Math.log(docs / Math.max(1, minDf / 2)) * 1000) / 1000;
  return { idf, idfUnknown, docs };
}

/** The flattened training set: one instance per annotated line with its candidates. */
interface TrainSet {
  instances: number;
  // per instance
  srcStart: Int32Array; // into srcIdx, length instances + 1
  srcIdx: Uint16Array;
  candStart: Int32Array; // into candLine / pairStart, length instances + 1
  selfGold: Uint8Array;
  // per candidate
  candLine: Int32Array; // global line id (for static features)
  candGold: Uint8Array;
  pairStart: Int32Array; // into pairIdx, length candidates + 1
  pairIdx: Uint16Array;
  // per global line
  lineStart: Int32Array;
  lineIdx: Uint16Array;
}

function extractAll(files: LogFile[], cfg: FeatureConfig): TrainSet {
  const srcStart = new Grow(new Int32Array(1 << 16), (n) => new Int32Array(n));
  const srcIdx = new Grow(new Uint16Array(1 << 20), (n) => new Uint16Array(n));
  const candStart = new Grow(new Int32Array(1 << 16), (n) => new Int32Array(n));
  const selfGold = new Grow(new Uint8Array(1 << 16), (n) => new Uint8Array(n));
  const candLine = new Grow(new Int32Array(1 << 22), (n) => new Int32Array(n));
  const candGold = new Grow(new Uint8Array(1 << 22), (n) => new Uint8Array(n));
  const pairStart = new Grow(new Int32Array(1 << 22), (n) => new Int32Array(n));
  const pairIdx = new Grow(new Uint16Array(1 << 24), (n) => new Uint16Array(n));
  const lineStart = new Grow(new Int32Array(1 << 18), (n) => new Int32Array(n));
  const lineIdx = new Grow(new Uint16Array(1 << 20), (n) => new Uint16Array(n));
  let lineBase = 0;
  let skipped = 0;
  for (const f of files) {
    const stream = new FeatureStream(cfg);
    for (let i = 0; i < f.lines.length; i++) {
      const x = stream.extract(f.lines[i] as ChatLine);
      lineStart.push(lineIdx.length);
      for (const k of x.info.candFeatures) lineIdx.push(k);
      const g = f.gold.get(i);
      // Service lines have no candidates (they always start their own conversation): nothing to learn.
      if (g && !x.info.system) {
        const inWindow = g.has(i) || x.cands.some((c) => g.has(c.index));
        if (!inWindow) skipped++;
        else {
          srcStart.push(srcIdx.length);
          for (const k of x.src) srcIdx.push(k);
          candStart.push(candLine.length);
          selfGold.push(g.has(i) ? 1 : 0);
          for (let k = 0; k < x.cands.length; k++) {
            const c = x.cands[k]!;
            candLine.push(lineBase + c.index);
            candGold.push(g.has(c.index) ? 1 : 0);
            pairStart.push(pairIdx.length);
            for (let p = x.pairStart[k]!; p < x.pairStart[k + 1]!; p++) pairIdx.push(x.pairIdx[p]!);
          }
        }
      }
      // The stream's state does not depend on the parent chosen (no parent features), so any will do.
      stream.commit(x, i);
    }
    lineBase += f.lines.length;
  }
  srcStart.push(srcIdx.length);
  candStart.push(candLine.length);
  pairStart.push(pairIdx.length);
  lineStart.push(lineIdx.length);
  if (skipped > 0) console.log(`train: ${skipped} annotated lines have no gold parent in the window (skipped)`);
  return {
    instances: selfGold.length,
    srcStart: srcStart.done(),
    srcIdx: srcIdx.done(),
    candStart: candStart.done(),
    selfGold: selfGold.done(),
    candLine: candLine.done(),
    candGold: candGold.done(),
    pairStart: pairStart.done(),
    pairIdx: pairIdx.done(),
    lineStart: lineStart.done(),
    lineIdx: lineIdx.done(),
  };
}

// ---------------------------------------------------------------------------------------------
// model and training (softmax over each line's candidates, -log of the gold candidates' mass)

function train(ts: TrainSet, rand: () => number): { w1: Float64Array; b1: Float64Array; w2: Float64Array } {
  const H = HIDDEN;
  const D = FEATURE_COUNT;
  const P = D * H + H + H; // w1, b1, w2 in one vector
  const theta = new Float64Array(P);
  const W1 = 0;
  const B1 = D * H;
  const W2 = D * H + H;
  const a1 = 0.15;
  for (let i = 0; i < D * H; i++) theta[W1 + i] = (rand() * 2 - 1) * a1;
  for (let j = 0; j < H; j++) theta[B1 + j] = 0.05;
  const a2 = Math.sqrt(6 / (H + 1));
  for (let j = 0; j < H; j++) theta[W2 + j] = (rand() * 2 - 1) * a2;
  const grad = new Float64Array(P);
  const m1 = new Float64Array(P);
  const m2 = new Float64Array(P);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  let step = 0;

  let maxCands = 1;
  for (let i = 0; i < ts.instances; i++) maxCands = Math.max(maxCands, 1 + ts.candStart[i + 1]! - ts.candStart[i]!);
  const hs = new Float64Array(maxCands * H);
  const scores = new Float64Array(maxCands);
  const hS = new Float64Array(H);
  const dS = new Float64Array(H);
  const order = Int32Array.from({ length: ts.instances }, (_, i) => i);

  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const t0 = performance.now();
    // Fisher-Yates with the seeded PRNG
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    let loss = 0;
    let correct = 0;
    const lr = LR * (epoch > EPOCHS - 2 ? 0.3 : 1);
    for (let b = 0; b < order.length; b += BATCH) {
      grad.fill(0);
      const end = Math.min(order.length, b + BATCH);
      for (let oi = b; oi < end; oi++) {
        const inst = order[oi]!;
        const c0 = ts.candStart[inst]!;
        const c1 = ts.candStart[inst + 1]!;
        const K = c1 - c0 + 1; // slot 0 = self
        // forward
        for (let j = 0; j < H; j++) hS[j] = theta[B1 + j]!;
        for (let p = ts.srcStart[inst]!; p < ts.srcStart[inst + 1]!; p++) {
          const o = ts.srcIdx[p]! * H;
          for (let j = 0; j < H; j++) hS[j] = hS[j]! + theta[W1 + o + j]!;
        }
        for (let k = 0; k < K; k++) {
          const base = k * H;
          for (let j = 0; j < H; j++) hs[base + j] = hS[j]!;
          if (k === 0) {
            for (let j = 0; j < H; j++) hs[base + j] = hs[base + j]! + theta[W1 + j]!; // feature 0 = self
          } else {
            const ci = c0 + k - 1;
            const line = ts.candLine[ci]!;
            for (let p = ts.lineStart[line]!; p < ts.lineStart[line + 1]!; p++) {
              const o = ts.lineIdx[p]! * H;
              for (let j = 0; j < H; j++) hs[base + j] = hs[base + j]! + theta[W1 + o + j]!;
            }
            for (let p = ts.pairStart[ci]!; p < ts.pairStart[ci + 1]!; p++) {
              const o = ts.pairIdx[p]! * H;
              for (let j = 0; j < H; j++) hs[base + j] = hs[base + j]! + theta[W1 + o + j]!;
            }
          }
          let sc = 0;
          for (let j = 0; j < H; j++) {
            const v = hs[base + j]!;
            if (v > 0) sc += v * theta[W2 + j]!;
          }
          scores[k] = sc;
        }
        let mx = -Infinity;
        let arg = 0;
        for (let k = 0; k < K; k++)
          if (scores[k]! > mx) {
            mx = scores[k]!;
            arg = k;
          }
        let z = 0;
        let zg = 0;
        for (let k = 0; k < K; k++) {
          const e = Math.exp(scores[k]! - mx);
          scores[k] = e;
          z += e;
          const gold = k === 0 ? ts.selfGold[inst]! : ts.candGold[c0 + k - 1]!;
          if (gold) zg += e;
        }
        loss -= Math.log(zg / z);
        const argGold = arg === 0 ? ts.selfGold[inst]! : ts.candGold[c0 + arg - 1]!;
        if (argGold) correct++;
        // backward: d score_k = p_k - q_k
        dS.fill(0);
        for (let k = 0; k < K; k++) {
          const gold = k === 0 ? ts.selfGold[inst]! : ts.candGold[c0 + k - 1]!;
          const pk = scores[k]! / z;
          const g = pk - (gold ? scores[k]! / zg : 0);
          if (Math.abs(g) < 1e-7) continue;
          const base = k * H;
          // dh = g * w2 (for active units); dw2 += g * relu(h)
          for (let j = 0; j < H; j++) {
            const v = hs[base + j]!;
            if (v > 0) {
              grad[W2 + j] = grad[W2 + j]! + g * v;
              hs[base + j] = g * theta[W2 + j]!; // reuse as dh
            } else hs[base + j] = 0;
          }
          for (let j = 0; j < H; j++) dS[j] = dS[j]! + hs[base + j]!;
          if (k === 0) {
            for (let j = 0; j < H; j++) grad[W1 + j] = grad[W1 + j]! + hs[base + j]!;
          } else {
            const ci = c0 + k - 1;
            const line = ts.candLine[ci]!;
            for (let p = ts.lineStart[line]!; p < ts.lineStart[line + 1]!; p++) {
              const o = ts.lineIdx[p]! * H;
              for (let j = 0; j < H; j++) grad[W1 + o + j] = grad[W1 + o + j]! + hs[base + j]!;
            }
            for (let p = ts.pairStart[ci]!; p < ts.pairStart[ci + 1]!; p++) {
              const o = ts.pairIdx[p]! * H;
              for (let j = 0; j < H; j++) grad[W1 + o + j] = grad[W1 + o + j]! + hs[base + j]!;
            }
          }
        }
        for (let j = 0; j < H; j++) grad[B1 + j] = grad[B1 + j]! + dS[j]!;
        for (let p = ts.srcStart[inst]!; p < ts.srcStart[inst + 1]!; p++) {
          const o = ts.srcIdx[p]! * H;
          for (let j = 0; j < H; j++) grad[W1 + o + j] = grad[W1 + o + j]! + dS[j]!;
        }
      }
      // Adam
      step++;
      const n = end - b;
      const bc1 = 1 - Math.pow(beta1, step);
      const bc2 = 1 - Math.pow(beta2, step);
      for (let i = 0; i < P; i++) {
        const g = grad[i]! / n;
        m1[i] = beta1 * m1[i]! + (1 - beta1) * g;
        m2[i] = beta2 * m2[i]! + (1 - beta2) * g * g;
        theta[i] = theta[i]! - (lr * (m1[i]! / bc1)) / (Math.sqrt(m2[i]! / bc2) + eps);
      }
    }
    console.log(`epoch ${epoch}: loss ${(loss / ts.instances).toFixed(4)}, train link accuracy ${((100 * correct) / ts.instances).toFixed(1)}%, ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  }
  return { w1: theta.slice(W1, W1 + D * H), b1: theta.slice(B1, B1 + H), w2: theta.slice(W2, W2 + H) };
}

const round = (x: number): number => Number(x.toPrecision(6));

// ---------------------------------------------------------------------------------------------

const t0 = performance.now();
const files = await loadDir(trainDir, SUBSET);
if (files.length === 0) throw new Error(`no annotated logs in ${trainDir}`);
const { idf, idfUnknown, docs } = buildIdf(files);
const cfg: FeatureConfig = { window: WINDOW, idf, idfUnknown };
const ts = extractAll(files, cfg);
const tFeat = performance.now();
console.log(
  `train: ${files.length} logs, ${files.reduce((s, f) => s + f.lines.length, 0)} lines, ${ts.instances} annotated lines, ${ts.candLine.length} candidate pairs; features in ${((tFeat - t0) / 1000).toFixed(1)}s`,
);
const rand = mulberry32(SEED);
const w = train(ts, rand);
const tTrain = performance.now();

const model: DisentangleModel = {
  format: MODEL_FORMAT,
  version: `ff-h${HIDDEN}-w${WINDOW}-s${SEED}`,
  features: [...FEATURE_NAMES],
  config: { window: WINDOW, hidden: HIDDEN, idf, idfUnknown },
  w1: Array.from(w.w1, round),
  b1: Array.from(w.b1, round),
  w2: Array.from(w.w2, round),
  meta: {
    description: "Chat disentanglement: 1-hidden-layer ReLU MLP over binary (line, candidate parent) features, softmax over each line's candidates (the previous `window` lines and itself).",
    trainedBy: 'scripts/train-threads.ts',
    data: `Ubuntu IRC disentanglement corpus, official train split (${SUBSET ? 'train-subset rule: i % 8 == 0 of the 153 sorted samples' : 'all 153 samples'}): ${files.length} logs, ${ts.instances} annotated lines. Kummerfeld et al., ACL 2019, doi:10.18653/v1/P19-1374; data CC-BY-4.0 (github.com/jkkummerfeld/irc-disentanglement, data/).`,
    trainDir: basename(trainDir),
    idfDocs: docs,
    seed: SEED,
    epochs: EPOCHS,
    hidden: HIDDEN,
    learningRate: LR,
    batch: BATCH,
    optimizer: 'Adam, learning rate x0.3 for the last 2 epochs',
    notes: 'Service lines (joins, parts, nick changes) always start their own conversation and are never candidates.',
  },
};
parseDisentangleModel(model); // what we write must load

// Dev figures go into the model's metadata too (they are deterministic, like the weights).
if (existsSync(devDir)) {
  const t1 = performance.now();
  const figures = await evalThreads([devDir], model);
  for (const [name, value] of figures) console.log(`dev ${name}: ${value}`);
  console.log(`dev eval ${((performance.now() - t1) / 1000).toFixed(1)}s`);
  model.meta = { ...model.meta, dev: { data: `ubuntu/${basename(devDir)} (10 logs, 2,500 annotated lines)`, ...Object.fromEntries(figures) } };
}
await writeFile(outPath, JSON.stringify(model) + '\n');
console.log(`wrote ${outPath}; features ${((tFeat - t0) / 1000).toFixed(1)}s, training ${((tTrain - tFeat) / 1000).toFixed(1)}s`);
