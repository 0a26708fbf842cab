// Disentanglement quality on gold-annotated IRC logs, with the definitions of Kummerfeld et al. 2019
// (their tools/evaluation graph-eval and conversation-eval; this is an independent implementation):
// - link P/R/F over (line, parent) pairs of the annotated lines; a line starting a conversation is
//   the pair (line, line); a gold line may have several parents, the system gives one;
// - conversations are the connected components of the links of the annotated lines (links into
//   the unannotated context still join lines), restricted to lines >= the first annotated line;
// - VI reported as 100 * (1 - VI / log n); one-to-one overlap (best one-to-one matching of system
//   and gold conversations); exact-match conversation P/R/F ignoring 1-line conversations.
// All figures are pooled over the files, as the official scripts do.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { disentangle, type DisentangleModel } from '../pipeline/disentangle/index.js';
import { loadDisentangleModel } from '../models/disentangle.js';
import { parseAnnotation, parseIrcLog } from './irc-log.js';

export type Link = [source: number, target: number];

export interface Prf {
  p: number;
  r: number;
  f: number;
}

function prf(matched: number, auto: number, gold: number): Prf {
  const p = auto > 0 ? (100 * matched) / auto : 0;
  const r = gold > 0 ? (100 * matched) / gold : 0;
  const f = matched > 0 ? (2 * p * r) / (p + r) : 0;
  return { p, r, f };
}

/** Link precision/recall/F (percent), pooled over files; pairs are deduplicated per file. */
export function linkScores(files: Array<{ gold: Link[]; auto: Link[] }>): Prf {
  let g = 0;
  let a = 0;
  let m = 0;
  for (const file of files) {
    const gold = new Set(file.gold.map(([s, t]) => `${s} ${t}`));
    const auto = new Set(file.auto.map(([s, t]) => `${s} ${t}`));
    g += gold.size;
    a += auto.size;
    for (const k of auto) if (gold.has(k)) m++;
  }
  return prf(m, a, g);
}

/**
 * Conversations (sorted line numbers, ordered by first line) from links: connected components over
 * every line the links touch, keeping only lines >= the smallest source (the annotated region).
 */
export function clustersFromLinks(links: Link[]): number[][] {
  if (links.length === 0) return [];
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r) as number;
    while (x !== r) {
      const next = parent.get(x) as number;
      parent.set(x, r);
      x = next;
    }
    return r;
  };
  let cutoff = Infinity;
  for (const [s, t] of links) {
    if (!parent.has(s)) parent.set(s, s);
    if (!parent.has(t)) parent.set(t, t);
    cutoff = Math.min(cutoff, s);
  }
  for (const [s, t] of links) {
    const a = find(s);
    const b = find(t);
    if (a !== b) parent.set(Math.max(a, b), Math.min(a, b));
  }
  const groups = new Map<number, number[]>();
  for (const n of [...parent.keys()].sort((x, y) => x - y)) {
    if (n < cutoff) continue;
    const r = find(n);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = []));
    g.push(n);
  }
  return [...groups.values()].sort((x, y) => (x[0] as number) - (y[0] as number));
}

export interface ConversationScores {
  /** 100 * (1 - VI / log n) */
  vi: number;
  oneToOne: number;
  exact: Prf;
}

/** Maximum-weight one-to-one matching of rows to columns (Hungarian algorithm); returns the total weight. */
export function maxWeightMatching(weights: number[][]): number {
  let w = weights;
  if (w.length === 0 || (w[0]?.length ?? 0) === 0) return 0;
  if (w.length > (w[0] as number[]).length) w = (w[0] as number[]).map((_, j) => w.map((row) => row[j] as number));
  const n = w.length;
  const m = (w[0] as number[]).length;
  // minimise cost = -weight; potentials u (rows), v (cols); p[j] = row matched to column j (1-based)
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0] as number;
      let delta = Infinity;
      let j1 = 0;
      const row = w[i0 - 1] as number[];
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = -(row[j - 1] as number) - (u[i0] as number) - (v[j] as number);
        if (cur < (minv[j] as number)) {
          minv[j] = cur;
          way[j] = j0;
        }
        if ((minv[j] as number) < delta) {
          delta = minv[j] as number;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j] as number] = (u[p[j] as number] as number) + delta;
          v[j] = (v[j] as number) - delta;
        } else minv[j] = (minv[j] as number) - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0] as number;
      p[j0] = p[j1] as number;
      j0 = j1;
    } while (j0);
  }
  let total = 0;
  for (let j = 1; j <= m; j++) {
    const i = p[j] as number;
    if (i > 0) total += (w[i - 1] as number[])[j - 1] as number;
  }
  return total;
}

const key = (c: number[]): string => c.join(' ');

/** VI, one-to-one and exact-match scores of system conversations against gold ones, pooled over files. */
export function conversationScores(files: Array<{ gold: number[][]; auto: number[][] }>): ConversationScores {
  let total = 0;
  let hJoint = 0;
  let mutual = 0;
  let overlap = 0;
  let goldCount = 0;
  let autoCount = 0;
  let matched = 0;
  const cells: Array<{ n: number; a: number; g: number }> = [];
  const rowSums: number[] = [];
  const colSums: number[] = [];
  for (const file of files) {
    const goldOf = new Map<number, number>();
    file.gold.forEach((c, gi) => c.forEach((x) => goldOf.set(x, gi)));
    const table: number[][] = file.auto.map(() => new Array<number>(file.gold.length).fill(0));
    file.auto.forEach((c, ai) => {
      for (const x of c) {
        const gi = goldOf.get(x);
        if (gi !== undefined) (table[ai] as number[])[gi] = ((table[ai] as number[])[gi] as number) + 1;
      }
    });
    const rowBase = rowSums.length;
    const colBase = colSums.length;
    for (const c of file.auto) rowSums.push(c.length);
    for (const c of file.gold) colSums.push(c.length);
    table.forEach((row, ai) => row.forEach((n, gi) => n > 0 && cells.push({ n, a: rowBase + ai, g: colBase + gi })));
    overlap += maxWeightMatching(table);
    // exact match, ignoring single-line conversations
    const autoKeys = new Set(file.auto.map(key));
    for (const c of file.gold) {
      if (c.length === 1) continue;
      goldCount++;
      if (autoKeys.has(key(c))) matched++;
    }
    for (const c of file.auto) if (c.length !== 1) autoCount++;
  }
  for (const r of rowSums) total += r;
  for (const { n, a, g } of cells) {
    hJoint -= (n / total) * Math.log(n / total);
    mutual += (n / total) * Math.log((n * total) / ((rowSums[a] as number) * (colSums[g] as number)));
  }
  const vi = hJoint - mutual;
  return {
    vi: total > 1 ? 100 * (1 - vi / Math.log(total)) : 100,
    oneToOne: total > 0 ? (100 * overlap) / total : 0,
    exact: prf(matched, autoCount, goldCount),
  };
}

/** One annotated file: gold links and the system's links for the annotated lines. */
export interface ThreadFile {
  name: string;
  gold: Link[];
  auto: Link[];
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The threads.* figures for a set of files, in the documented order. */
export function scoreThreads(files: ThreadFile[]): Array<[string, number]> {
  const conv = conversationScores(files.map((f) => ({ gold: clustersFromLinks(f.gold), auto: clustersFromLinks(f.auto) })));
  const link = linkScores(files);
  return [
    ['threads.vi', round1(conv.vi)],
    ['threads.one_to_one', round1(conv.oneToOne)],
    ['threads.exact_p', round1(conv.exact.p)],
    ['threads.exact_r', round1(conv.exact.r)],
    ['threads.exact_f', round1(conv.exact.f)],
    ['threads.link_p', round1(link.p)],
    ['threads.link_r', round1(link.r)],
    ['threads.link_f', round1(link.f)],
  ];
}

/** System links for the annotated lines of one log: the model runs over the whole file as a live stream would. */
export function threadFile(name: string, log: string, annotation: string, model: DisentangleModel): ThreadFile {
  const lines = parseIrcLog(log);
  const gold = parseAnnotation(annotation);
  const parents = disentangle(lines, model);
  const sources = [...new Set(gold.map(([s]) => s))].sort((a, b) => a - b);
  const auto: Link[] = sources.filter((s) => s < parents.length).map((s) => [s, parents[s] as number]);
  return { name, gold, auto };
}

/** Annotated logs in a folder: base name -> (log path, annotation path), sorted by name. */
export async function annotatedLogs(dir: string): Promise<Array<{ name: string; log: string; annotation: string }>> {
  const names = (await readdir(dir)).sort();
  const out: Array<{ name: string; log: string; annotation: string }> = [];
  for (const n of names) {
    if (!n.endsWith('.annotation.txt')) continue;
    const base = n.slice(0, -'.annotation.txt'.length);
    const log = names.find((x) => x === `${base}.raw.txt`) ?? names.find((x) => x === `${base}.ascii.txt`);
    if (log) out.push({ name: base, log: join(dir, log), annotation: join(dir, n) });
  }
  return out;
}

/**
 * Runs the model over every annotated log (`*.raw.txt` / `*.ascii.txt` with `*.annotation.txt`) in
 * the folders and returns, in this order: threads.vi, threads.one_to_one, threads.exact_p,
 * threads.exact_r, threads.exact_f, threads.link_p, threads.link_r, threads.link_f (percent).
 */
export async function evalThreads(dirs: string[], model?: DisentangleModel): Promise<Array<[string, number]>> {
  const m = model ?? loadDisentangleModel();
  const files: ThreadFile[] = [];
  for (const dir of dirs) {
    for (const f of await annotatedLogs(dir)) {
      const [log, ann] = await Promise.all([readFile(f.log, 'utf8'), readFile(f.annotation, 'utf8')]);
      files.push(threadFile(f.name, log, ann, m));
    }
  }
  if (files.length === 0) throw new Error(`no annotated logs in ${dirs.join(', ')}`);
  return scoreThreads(files);
}
