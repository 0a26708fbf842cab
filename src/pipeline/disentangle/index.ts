// Chat disentanglement: thread a single stream of chat lines into conversations by linking each
// line to the earlier line it replies to (or to itself when it starts a conversation).
// Kummerfeld et al. 2019-style pair ranking with a small learned MLP; see scripts/train-threads.ts.
import { FeatureStream, type ChatLine } from './features.js';
import { Scorer, featureConfig, type DisentangleModel } from './model.js';

export type { ChatLine } from './features.js';
export { FEATURE_NAMES } from './features.js';
export { parseDisentangleModel, MODEL_FORMAT, type DisentangleModel } from './model.js';

const scorers = new WeakMap<DisentangleModel, Scorer>();
function scorerFor(model: DisentangleModel): Scorer {
  let s = scorers.get(model);
  if (!s) {
    s = Scorer.of(model);
    scorers.set(model, s);
  }
  return s;
}

/**
 * Incremental: push lines in order; each push returns the index (in push order, 0-based) of the line
 * it replies to, or its own index when it starts a new conversation. Keeps only a bounded window, so
 * live streams never re-thread history.
 */
export class Disentangler {
  private readonly stream: FeatureStream;
  private readonly scorer: Scorer;

  constructor(model: DisentangleModel, opts?: { window?: number }) {
    this.stream = new FeatureStream(featureConfig(model), opts?.window);
    this.scorer = scorerFor(model);
  }

  /** Lines pushed so far. */
  get length(): number {
    return this.stream.length;
  }

  /** Adds a line whose parent is not wanted (context, a line threaded already): the same state as push, without scoring it. */
  observe(line: ChatLine): void {
    this.stream.observe(line);
  }

  push(line: ChatLine): number {
    const x = this.stream.extract(line);
    const parent = this.scorer.choose(x);
    this.stream.commit(x, parent);
    return parent;
  }
}

/** Parent index per line (its own index for a line that starts a conversation). */
export function disentangle(lines: ChatLine[], model: DisentangleModel): number[] {
  const d = new Disentangler(model);
  return lines.map((l) => d.push(l));
}

/** Connected components of the parent links -> conversation id (index of the earliest line) per line. */
export function conversationsFromParents(parents: number[]): number[] {
  const n = parents.length;
  const root = new Int32Array(n);
  for (let i = 0; i < n; i++) root[i] = i;
  const find = (x: number): number => {
    let r = x;
    while (root[r] !== r) r = root[r] as number;
    while (root[x] !== r) {
      const next = root[x] as number;
      root[x] = r;
      x = next;
    }
    return r;
  };
  for (let i = 0; i < n; i++) {
    const p = parents[i];
    if (p === undefined || !Number.isInteger(p) || p < 0 || p >= n || p === i) continue;
    const a = find(i);
    const b = find(p);
    // keep the smaller index as the root, so the root is the earliest line of the component
    if (a < b) root[b] = a;
    else if (b < a) root[a] = b;
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = find(i);
  return out;
}
