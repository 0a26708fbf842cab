// npm run bench -- cluster: clustering speed on generated feedback items (the cluster stage's
// grouping: each batch added, then re-grouped with the window's unpinned items).
// Prints cluster.initial_100k_s (100,000 items clustered from nothing), cluster.incremental_5k_s
// (a new week of 5,000 joining the 100,000) and cluster.peak_rss_mb. The pure stage is timed (the
// in-memory index the cluster worker keeps); the store round-trips are the ingest bench's business.
import { loadWordNeighbours } from '../src/models/word-neighbours.js';
import { NeedGrouper, type NeedDoc } from '../src/pipeline/grouping.js';
import type { FeedbackKind } from '../src/model/index.js';
import { rng } from './support.js';

const SYL = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'qui', 'dor', 'lin', 'mar', 'sel', 'tor', 'ven', 'bal', 'cor', 'fen'];
const KINDS: FeedbackKind[] = ['bug', 'feature', 'question', 'docs', 'praise', 'complaint'];

/** Items about `topics` needs: each item uses some of its topic's words among common and rare filler. */
function generate(n: number, topics: number, seed: number, startAt: number): NeedDoc[] {
  const r = rng(seed);
  const word = (i: number) => {
    let w = '';
    let x = i + 7;
    do {
      w += SYL[x % SYL.length];
      x = Math.floor(x / SYL.length);
    } while (x > 0);
    return w;
  };
  const common = Array.from({ length: 300 }, (_, i) => word(i));
  const topicWords = (t: number) => Array.from({ length: 8 }, (_, j) => word(1000 + t * 8 + j));
  const out: NeedDoc[] = [];
  for (let i = 0; i < n; i++) {
    const t = Math.floor(Math.pow(r(), 1.6) * topics); // some needs are much more common than others
    const tw = topicWords(t);
    const words: string[] = [];
    for (let k = 0; k < 5; k++) words.push(tw[Math.floor(r() * tw.length)]!);
    for (let k = 0; k < 14; k++) words.push(common[Math.floor(r() * common.length)]!);
    for (let k = 0; k < 3; k++) words.push(word(200_000 + Math.floor(r() * 500_000)));
    words.sort(() => r() - 0.5);
    out.push({ itemId: seed * 10_000_000 + i, title: words.slice(0, 6).join(' '), need: words.join(' '), at: startAt + i * 6_000, kind: KINDS[t % KINDS.length]! });
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  let peak = process.memoryUsage().rss;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  const initial = generate(Number(process.env.N ?? 100_000), 8_000, 1, Date.UTC(2026, 0, 1));
  const week = generate(5_000, 8_000, 2, Date.UTC(2026, 2, 1));
  // The shipped word model, as the cluster stage uses it (--no-word-model: without).
  const index = new NeedGrouper({ wordModel: args.includes('--no-word-model') ? null : loadWordNeighbours() });
  let created = 0;
  /** Adds a batch, re-groups, and stores the plan as the stage would (new clusters numbered here). */
  const step = (batch: NeedDoc[]) => {
    index.add(batch);
    const plan = index.regroup(batch.map((d) => d.itemId));
    const ids = new Map<number, number>();
    for (const key of plan.place.values()) if (key < 0 && !ids.has(key)) ids.set(key, 1 + created++);
    index.commit(plan, ids);
    return plan;
  };
  const cpu0 = process.cpuUsage();
  let t = performance.now();
  // As the worker sees a backfill: batches of 500 items (one enrich job's worth).
  for (let i = 0; i < initial.length; i += 500) step(initial.slice(i, i + 500));
  const initialS = (performance.now() - t) / 1000;
  const cpu1 = process.cpuUsage(cpu0);
  t = performance.now();
  let joined = 0;
  const before = created;
  for (let i = 0; i < week.length; i += 500) step(week.slice(i, i + 500));
  for (const d of week) if ((index.clusterOf(d.itemId) ?? 0) <= before) joined++;
  const incS = (performance.now() - t) / 1000;
  const cpu2 = process.cpuUsage(cpu0);
  clearInterval(sample);
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(`cluster.initial_100k_s: ${initialS.toFixed(2)}`);
  console.log(`cluster.incremental_5k_s: ${incS.toFixed(2)}`);
  console.log(`cluster.peak_rss_mb: ${Math.round(peak / 1048576)}`);
  console.error(
    `# cluster: ${created} clusters after 105,000 items (8,000 generated needs); ${joined} of the new week's 5,000 joined existing clusters; CPU ${(cpu1.user / 1e6).toFixed(1)} s initial, ${((cpu2.user - cpu1.user) / 1e6).toFixed(1)} s incremental (wall times suffer when the machine is shared)`,
  );
}
