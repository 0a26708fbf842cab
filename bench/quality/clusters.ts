// Clustering quality on real bug reports (GitBugs, Apache Hadoop JIRA, visible split; CC BY 4.0):
// every report is clustered in the order it was filed, as the cluster stage would see it, and
//   clusters.gitbugs.pair_same_cluster  share of the gold duplicate pairs whose two reports share a cluster
//   clusters.gitbugs.pair_precision     share of co-clustered report pairs that are gold duplicates
//                                       (pairs within one connected component of the gold pair graph)
//   clusters.gitbugs.clusters, .singletons, .size_p50/_p90/_p99/_max: the cluster size distribution,
// so a high pair rate bought by collapsing unrelated reports shows. `--apart` prints the pairs kept apart and why.
import { loadWordNeighbours } from '../../src/models/word-neighbours.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsvRecords } from '../../src/eval/csv.js';
import { sharedDir } from '../../src/paths.js';
import { NeedGrouper, type NeedDoc } from '../../src/pipeline/grouping.js';
import { needTextOf } from '../../src/pipeline/need-text.js';

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** JIRA's "30/Sep/21 17:20". */
function jiraTime(s: string): number {
  const m = /^(\d{1,2})\/(\w{3})\/(\d{2}) (\d{1,2}):(\d{2})/.exec(s.trim());
  if (!m) return 0;
  return Date.UTC(2000 + Number(m[3]), MONTHS[m[2]!] ?? 0, Number(m[1]), Number(m[4]), Number(m[5]));
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function run(args: string[]): Promise<void> {
  const dir = join(sharedDir(), 'data', 'bug-duplicates-gitbugs', 'hadoop');
  const reportsFile = join(dir, 'hadoop_bugs.visible.csv');
  const pairsFile = join(dir, 'pairs-train.csv');
  if (!existsSync(reportsFile) || !existsSync(pairsFile)) {
    console.error(`clusters: skipped, ${dir} does not hold hadoop_bugs.visible.csv and pairs-train.csv`);
    return;
  }
  const thresholdArg = args.find((a) => a.startsWith('--threshold='));
  const threshold = thresholdArg ? Number(thresholdArg.split('=')[1]) : undefined;
  const started = performance.now();
  const reports = parseCsvRecords(readFileSync(reportsFile, 'utf8'));
  const pairs = parseCsvRecords(readFileSync(pairsFile, 'utf8')).map((p) => [Number(p['Issue id']), Number(p['Duplicate id'])] as const);
  // The Resolution column gives duplicates away: it is not used.
  // The need text as the cluster stage builds it (needTextOf): the summary, then the description's
  // sentences that state the need (no stack traces, logs or quotes), at most 600 characters.
  const docs: NeedDoc[] = reports
    .map((r) => ({ itemId: Number(r['Issue id']), title: r.Summary ?? '', need: needTextOf(r.Summary, [r.Description ?? '']), at: jiraTime(r.Created ?? ''), kind: 'bug' as const }))
    .sort((a, b) => a.at - b.at || a.itemId - b.itemId);
  // The shipped word model, as the cluster stage uses it (--no-word-model: without).
  const wordModel = args.includes('--no-word-model') ? null : loadWordNeighbours();
  const index = new NeedGrouper({ wordModel, ...(threshold !== undefined ? { threshold } : {}) });
  let next = 1;
  // Batches of 100, as enrich hands items to the cluster stage; each batch re-grouped with the window.
  for (let i = 0; i < docs.length; i += 100) {
    const batch = docs.slice(i, i + 100);
    index.add(batch);
    const plan = index.regroup(batch.map((d) => d.itemId));
    const ids = new Map<number, number>();
    for (const key of plan.place.values()) if (key < 0 && !ids.has(key)) ids.set(key, next++);
    index.commit(plan, ids);
  }

  const clusterOf = (id: number) => index.clusterOf(id);
  const present = pairs.filter(([a, b]) => clusterOf(a) !== undefined && clusterOf(b) !== undefined);
  const same = present.filter(([a, b]) => clusterOf(a) === clusterOf(b)).length;
  // Gold groups: connected components of the pair graph.
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while ((parent.get(r) ?? r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const [a, b] of present) parent.set(find(a), find(b));
  const sizes = new Map<number, number[]>();
  for (const d of docs) {
    const c = clusterOf(d.itemId)!;
    const list = sizes.get(c) ?? [];
    list.push(d.itemId);
    sizes.set(c, list);
  }
  let coPairs = 0;
  let goldCo = 0;
  for (const members of sizes.values()) {
    for (let i = 0; i < members.length; i++)
      for (let j = i + 1; j < members.length; j++) {
        coPairs++;
        if (find(members[i]!) === find(members[j]!)) goldCo++;
      }
  }
  const dist = [...sizes.values()].map((m) => m.length).sort((a, b) => a - b);
  console.log(`clusters.gitbugs.pair_same_cluster: ${(present.length ? same / present.length : 0).toFixed(3)}`);
  console.log(`clusters.gitbugs.pair_precision: ${(coPairs ? goldCo / coPairs : 0).toFixed(3)}`);
  console.log(`clusters.gitbugs.clusters: ${dist.length}`);
  console.log(`clusters.gitbugs.singletons: ${dist.filter((n) => n === 1).length}`);
  console.log(`clusters.gitbugs.size_p50: ${quantile(dist, 0.5)}`);
  console.log(`clusters.gitbugs.size_p90: ${quantile(dist, 0.9)}`);
  console.log(`clusters.gitbugs.size_p99: ${quantile(dist, 0.99)}`);
  console.log(`clusters.gitbugs.size_max: ${dist[dist.length - 1] ?? 0}`);
  // --apart: each gold pair kept apart (once per pair), with what kept it apart: the pair's similarity,
  // each report's cluster and size, its most similar candidate, and its average similarity to the rest
  // of its own cluster and to the other report's cluster.
  if (args.includes('--apart')) {
    const byId = new Map(docs.map((d) => [d.itemId, d]));
    const avgTo = (x: number, members: number[]) => {
      const others = members.filter((y) => y !== x);
      return others.length ? others.reduce((sum, y) => sum + index.similarity(x, y), 0) / others.length : NaN;
    };
    const shown = new Set<string>();
    for (const [a, b] of present) {
      const key = [a, b].sort((x, y) => x - y).join('-');
      if (clusterOf(a) === clusterOf(b) || shown.has(key)) continue;
      shown.add(key);
      console.log(`# apart: similarity ${index.similarity(a, b).toFixed(3)}`);
      for (const [x, y] of [
        [a, b],
        [b, a],
      ] as const) {
        const own = sizes.get(clusterOf(x)!)!;
        const other = sizes.get(clusterOf(y)!)!;
        const best = index.bestNear(x);
        console.log(
          `#   ${x} (cluster ${clusterOf(x)}, ${own.length} report${own.length === 1 ? '' : 's'}) ${new Date(byId.get(x)!.at).toISOString().slice(0, 10)} "${byId.get(x)!.title?.slice(0, 90)}": own ${avgTo(x, own).toFixed(3)}, other ${avgTo(x, other).toFixed(3)}, nearest ${best ? `${best.id} at ${best.sim.toFixed(3)}` : 'none'}`,
        );
      }
    }
  }
  console.error(
    `# clusters: ${docs.length} GitBugs Hadoop reports, ${present.length} gold pairs, ${same} together; ${coPairs} co-clustered pairs; threshold ${index.o.threshold}; ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
