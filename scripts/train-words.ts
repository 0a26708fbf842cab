// Trains the word-neighbour model grouping uses to see paraphrases ("hangs chrome" / "freezes Firefox",
// "ssh into the runner" / "web terminal") and writes models/word-neighbours.json.
//   npx tsx scripts/train-words.ts [--dims N] [--window N] [--min-count N] [--neighbours N] [--min-sim X] [--out path]
// Data (both CC BY 4.0, attribution in the model file and the README):
//   - the Ubuntu IRC disentanglement corpus (Kummerfeld et al. 2019; Gouravajhala et al. 2023): people
//     telling a support channel what breaks, in their own words;
//   - GitBugs (Patil 2025), the Apache Hadoop JIRA reports of the visible split: bug reports' words.
// Method: word co-occurrence counts in a small window over the same stemmed words grouping compares
// (tokenizeReport), positive PMI with smoothed context counts, a randomized truncated SVD, and for each
// word its nearest words by cosine. The talk around a need (greetings, thanks, praise and blame words,
// hedges, "anyone", "problem": TALK below) is left out of the model, as keys and as neighbours:
// linking "great" to "good" or "thanks" to "ok" would make any two messages alike (two thank-you
// notes about different features). Deterministic: seeded PRNG, files in sorted order.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sharedDir, modelsDir } from '../src/paths.js';
import { parseIrcLog } from '../src/eval/irc-log.js';
import { parseCsvRecords } from '../src/eval/csv.js';
import { tokenizeReport } from '../src/pipeline/dedupe/index.js';
import { mulberry32 } from '../src/pipeline/classify/linear.js';
import { WORD_MODEL_FORMAT, type WordNeighbourModel } from '../src/pipeline/word-neighbours.js';

const argv = process.argv.slice(2);
function opt(name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : dflt;
}
const DIMS = opt('dims', 100);
const WINDOW = opt('window', 4);
const MIN_COUNT = opt('min-count', 12);
const NEIGHBOURS = opt('neighbours', 8);
const MIN_SIM = opt('min-sim', 0.45);
/** General conversational words, not topics (stemmed as grouping stems them). */
const TALK = new Set(
  `ok okay thank thanks thx ty thanx cheers hi hello hey yes yeah yep nope sorry please lol oh ah wow hmm
  well good great nice cool fine awesome fantastic amazing excellent perfect bad better best worse worst
  love like hate happy glad sad annoying terrible horrible work works worked working doesn didn isn won
  need want think know guess maybe probably sure idea help anyone anybody someone somebody question
  problem issue thing stuff something anything everything nothing way really actually pretty quite just
  still already even also bit lot much many people guy guys team folks seem seems tried try trying
  get got getting make made look looks say said tell told mean means`
    .split(/\s+/)
    .flatMap((w) => tokenizeReport(w).words),
);
const outAt = argv.indexOf('--out');
const OUT = outAt >= 0 ? argv[outAt + 1]! : join(modelsDir(), 'word-neighbours.json');
const t0 = performance.now();
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${s}`);

// ---------------------------------------------------------------------------------------------
// corpus: one token list per chat line or report paragraph

function files(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => join(dir, f));
}

const data = join(sharedDir(), 'data');
const irc = join(data, 'irc-disentanglement');
const gitbugs = join(data, 'bug-duplicates-gitbugs', 'hadoop', 'hadoop_bugs.visible.csv');
const sentences: string[][] = [];
const seenLines = new Set<string>();
function addText(text: string): void {
  const words = tokenizeReport(text).words.filter((w) => !/^\d/.test(w));
  if (words.length >= 2) sentences.push(words);
}
const logs = [
  ...files(join(irc, 'ubuntu', 'train'), '.raw.txt'),
  ...files(join(irc, 'ubuntu', 'dev'), '.raw.txt'),
  ...files(join(irc, 'channel-two'), '.raw.txt'),
  ...files(join(irc, 'new-domains'), '.ascii.txt'),
];
for (const f of logs) {
  for (const line of parseIrcLog(readFileSync(f, 'utf8'))) {
    if (line.system) continue;
    // Samples overlap (each carries an hour of context): a line counts once.
    const key = `${line.at}\u0000${line.author}\u0000${line.text}`;
    if (seenLines.has(key)) continue;
    seenLines.add(key);
    // "nick: ..." addresses someone: the nick is not a word of the message.
    addText(line.text.replace(/^[\w[\]`^{}|-]+[:,]\s+/, ''));
  }
}
log(`IRC: ${logs.length} logs, ${sentences.length} lines`);
if (existsSync(gitbugs)) {
  const before = sentences.length;
  for (const r of parseCsvRecords(readFileSync(gitbugs, 'utf8'))) {
    addText(r['Summary'] ?? '');
    // Paragraphs, without code blocks and stack traces (lines that look like code).
    for (const para of (r['Description'] ?? '').split(/\n\s*\n/)) {
      const prose = para
        .split('\n')
        .filter((l) => !/^\s*(at |\{|\}|[\w.]+Exception|\$ |#|\||<|\/\/)/.test(l) && !/[;{}=]\s*$/.test(l))
        .join(' ');
      addText(prose);
    }
  }
  log(`GitBugs: ${sentences.length - before} paragraphs`);
}
if (sentences.length < 1000) throw new Error(`too little text to train on (${sentences.length} sentences): is ${data} there?`);

// ---------------------------------------------------------------------------------------------
// vocabulary and co-occurrence counts

const freq = new Map<string, number>();
for (const s of sentences) for (const w of s) freq.set(w, (freq.get(w) ?? 0) + 1);
const vocab = [...freq]
  .filter(([w, c]) => c >= MIN_COUNT && w.length >= 2)
  .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  .map(([w]) => w);
const V = vocab.length;
const idOf = new Map(vocab.map((w, i) => [w, i]));
const cooc = new Map<number, number>();
for (const s of sentences) {
  const ids = s.map((w) => idOf.get(w) ?? -1);
  for (let i = 0; i < ids.length; i++) {
    const a = ids[i]!;
    if (a < 0) continue;
    for (let j = i + 1; j <= i + WINDOW && j < ids.length; j++) {
      const b = ids[j]!;
      if (b < 0 || b === a) continue;
      const w = 1 / (j - i);
      cooc.set(a * V + b, (cooc.get(a * V + b) ?? 0) + w);
      cooc.set(b * V + a, (cooc.get(b * V + a) ?? 0) + w);
    }
  }
}
log(`vocabulary ${V} words (count >= ${MIN_COUNT}), ${cooc.size} co-occurring pairs`);

// PPMI with context counts smoothed by ^0.75 (Levy, Goldberg & Dagan 2015), as CSR rows.
const rowSum = new Float64Array(V);
const colSum = new Float64Array(V);
for (const [k, c] of cooc) {
  rowSum[Math.floor(k / V)]! += c;
  colSum[k % V]! += c;
}
let smoothTotal = 0;
for (let j = 0; j < V; j++) smoothTotal += colSum[j]! ** 0.75;
const entries = [...cooc].sort((a, b) => a[0] - b[0]);
const rowStart = new Int32Array(V + 1);
const colIdx: number[] = [];
const vals: number[] = [];
for (const [k, c] of entries) {
  const i = Math.floor(k / V);
  const j = k % V;
  const pmi = Math.log((c * smoothTotal) / (rowSum[i]! * colSum[j]! ** 0.75));
  if (pmi <= 0) continue;
  colIdx.push(j);
  vals.push(pmi);
  rowStart[i + 1]!++;
}
for (let i = 0; i < V; i++) rowStart[i + 1]! += rowStart[i]!;
const cols = Int32Array.from(colIdx);
const vs = Float32Array.from(vals);
log(`PPMI: ${vs.length} positive cells`);

// ---------------------------------------------------------------------------------------------
// randomized truncated SVD (Halko, Martinsson & Tropp 2011): M ~ U S V^T, word vectors U S^0.5

const K = DIMS + 20;
const rand = mulberry32(1);
const gauss = () => {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
};
/** out (V x K) = M x (V x K) */
function mulM(x: Float64Array<ArrayBufferLike>, transpose: boolean): Float64Array<ArrayBufferLike> {
  const out = new Float64Array(V * K);
  for (let i = 0; i < V; i++) {
    for (let p = rowStart[i]!; p < rowStart[i + 1]!; p++) {
      const j = cols[p]!;
      const v = vs[p]!;
      const [dst, src] = transpose ? [j, i] : [i, j];
      const d = dst * K;
      const s = src * K;
      for (let k = 0; k < K; k++) out[d + k]! += v * x[s + k]!;
    }
  }
  return out;
}
/** Orthonormalises the columns of a V x K matrix in place (modified Gram-Schmidt). */
function orthonormalise(q: Float64Array<ArrayBufferLike>): void {
  for (let a = 0; a < K; a++) {
    for (let b = 0; b < a; b++) {
      let d = 0;
      for (let i = 0; i < V; i++) d += q[i * K + a]! * q[i * K + b]!;
      for (let i = 0; i < V; i++) q[i * K + a]! -= d * q[i * K + b]!;
    }
    let n = 0;
    for (let i = 0; i < V; i++) n += q[i * K + a]! ** 2;
    n = Math.sqrt(n) || 1;
    for (let i = 0; i < V; i++) q[i * K + a]! /= n;
  }
}
let q: Float64Array<ArrayBufferLike> = new Float64Array(V * K);
for (let i = 0; i < q.length; i++) q[i] = gauss();
q = mulM(q, false);
orthonormalise(q);
for (let it = 0; it < 3; it++) {
  q = mulM(q, true);
  orthonormalise(q);
  q = mulM(q, false);
  orthonormalise(q);
}
// B^T = M^T Q (V x K); B B^T = Q^T M M^T Q (K x K), symmetric: its eigenvectors are B's left singular vectors.
const bt = mulM(q, true);
const bbt = new Float64Array(K * K);
for (let a = 0; a < K; a++)
  for (let b = a; b < K; b++) {
    let d = 0;
    for (let i = 0; i < V; i++) d += bt[i * K + a]! * bt[i * K + b]!;
    bbt[a * K + b] = d;
    bbt[b * K + a] = d;
  }
const { values, vectors } = jacobiEigen(bbt, K);
const order = [...values.keys()].sort((a, b) => values[b]! - values[a]!).slice(0, DIMS);
log(`SVD: top singular values ${order.slice(0, 5).map((o) => Math.sqrt(Math.max(0, values[o]!)).toFixed(1))}`);
// U = Q x eigenvectors; word vector = U S^0.5, normalised.
const vec = new Float32Array(V * DIMS);
for (let i = 0; i < V; i++) {
  let n = 0;
  for (let d = 0; d < DIMS; d++) {
    const o = order[d]!;
    let u = 0;
    for (let k = 0; k < K; k++) u += q[i * K + k]! * vectors[k * K + o]!;
    const x = u * Math.max(0, values[o]!) ** 0.25;
    vec[i * DIMS + d] = x;
    n += x * x;
  }
  n = Math.sqrt(n) || 1;
  for (let d = 0; d < DIMS; d++) vec[i * DIMS + d]! /= n;
}

/** Eigen-decomposition of a symmetric n x n matrix by cyclic Jacobi rotations: values, and vectors as columns. */
function jacobiEigen(m: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let r = p + 1; r < n; r++) off += a[p * n + r]! ** 2;
    if (off < 1e-18) break;
    for (let p = 0; p < n; p++)
      for (let r = p + 1; r < n; r++) {
        const apr = a[p * n + r]!;
        if (Math.abs(apr) < 1e-30) continue;
        const theta = (a[r * n + r]! - a[p * n + p]!) / (2 * apr);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akr = a[k * n + r]!;
          a[k * n + p] = c * akp - s * akr;
          a[k * n + r] = s * akp + c * akr;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const ark = a[r * n + k]!;
          a[p * n + k] = c * apk - s * ark;
          a[r * n + k] = s * apk + c * ark;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkr = v[k * n + r]!;
          v[k * n + p] = c * vkp - s * vkr;
          v[k * n + r] = s * vkp + c * vkr;
        }
      }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

// ---------------------------------------------------------------------------------------------
// nearest words

const neighbours: Record<string, Array<[string, number]>> = {};
const talk = vocab.map((w) => TALK.has(w));
const best = new Float32Array(NEIGHBOURS);
const bestId = new Int32Array(NEIGHBOURS);
for (let i = 0; i < V; i++) {
  best.fill(-1);
  bestId.fill(-1);
  const vi = i * DIMS;
  for (let j = 0; j < V; j++) {
    if (j === i || talk[j]) continue;
    const vj = j * DIMS;
    let d = 0;
    for (let k = 0; k < DIMS; k++) d += vec[vi + k]! * vec[vj + k]!;
    if (d <= best[NEIGHBOURS - 1]!) continue;
    let p = NEIGHBOURS - 1;
    while (p > 0 && best[p - 1]! < d) {
      best[p] = best[p - 1]!;
      bestId[p] = bestId[p - 1]!;
      p--;
    }
    best[p] = d;
    bestId[p] = j;
  }
  if (TALK.has(vocab[i]!)) continue;
  const list: Array<[string, number]> = [];
  for (let p = 0; p < NEIGHBOURS; p++) if (bestId[p]! >= 0 && best[p]! >= MIN_SIM) list.push([vocab[bestId[p]!]!, Math.round(best[p]! * 100) / 100]);
  if (list.length) neighbours[vocab[i]!] = list;
}
log(`neighbours: ${Object.keys(neighbours).length} of ${V} words have one at cosine >= ${MIN_SIM}`);
for (const w of ['hang', 'freez', 'chrome', 'firefox', 'ssh', 'termin', 'slow', 'crash', 'parallel', 'concurr', 'password', 'queue'])
  console.log(`  ${w}: ${(neighbours[w] ?? []).map(([n, s]) => `${n} ${s}`).join(', ')}`);

const model: WordNeighbourModel = {
  format: WORD_MODEL_FORMAT,
  about:
    'Nearest words by PPMI-SVD word vectors (scripts/train-words.ts). Trained on the Ubuntu IRC disentanglement corpus (Kummerfeld et al., ACL 2019; Gouravajhala et al., ALTA 2023; CC BY 4.0) and the GitBugs Apache Hadoop reports (Patil, arXiv:2504.09651, 2025; CC BY 4.0).',
  settings: { dims: DIMS, window: WINDOW, minCount: MIN_COUNT, neighbours: NEIGHBOURS, minSim: MIN_SIM, sentences: sentences.length, vocabulary: V },
  neighbours,
};
await writeFile(OUT, JSON.stringify(model) + '\n');
log(`wrote ${OUT}`);
