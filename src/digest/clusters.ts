// Digest entries from clusters, read -> plan: the clusters someone voiced a need in during a period are
// read a chunk at a time (records, members, items with their conversations), each cluster's entry is
// planned by src/pipeline/digest-plan.ts, and only the best `top` are kept. Shared by the digest
// (buildDigest), `gleaner clusters` and the web UI's cluster pages (src/web/clusters.ts).
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { StoredItem } from '../model/cluster.js';
import { clusterMembers, clustersWithActivity, getClusters, loadItems, periodAuthors } from '../store/clusters.js';
import { clusterEntry, keepBest, scoreBound, type ClusterEntry, type ClusterEntryOptions } from '../pipeline/digest-plan.js';
import type { Period } from '../pipeline/period.js';

/** Clusters whose items are loaded together: bounds the memory of a big store's pass. */
const CLUSTERS_PER_CHUNK = 200;
/** Items whose messages are loaded together (a bigger cluster is loaded alone). */
const ITEMS_PER_LOAD = 2000;

/**
 * Entries of the given clusters for the period, a chunk of clusters at a time (in the order of `ids`;
 * clusters that no longer exist or where nothing was said before the period's end are left out).
 */
export async function* clusterEntryChunks(db: Kysely<Database>, ids: readonly number[], period: Period, opts: ClusterEntryOptions = {}): AsyncGenerator<ClusterEntry[]> {
  for (let k = 0; k < ids.length; k += CLUSTERS_PER_CHUNK) {
    const part = ids.slice(k, k + CLUSTERS_PER_CHUNK);
    const members = await clusterMembers(db, part);
    const records = new Map((await getClusters(db, part)).map((c) => [c.id, c]));
    // Loaded a few thousand items at a time (a big cluster alone): what is in memory stays bounded.
    let group: number[] = [];
    let size = 0;
    const groups: number[][] = [];
    for (const id of part) {
      const n = members.get(id)?.length ?? 0;
      if (group.length && size + n > ITEMS_PER_LOAD) {
        groups.push(group);
        group = [];
        size = 0;
      }
      group.push(id);
      size += n;
    }
    if (group.length) groups.push(group);
    for (const g of groups) {
      const allItems = new Map(
        (
          await loadItems(
            db,
            g.flatMap((id) => members.get(id) ?? []),
          )
        ).map((i) => [i.itemId, i]),
      );
      const out: ClusterEntry[] = [];
      for (const id of g) {
        const record = records.get(id);
        if (!record) continue;
        const items = (members.get(id) ?? []).map((i) => allItems.get(i)).filter((i): i is StoredItem => i !== undefined);
        const e = clusterEntry(record, items, period, opts);
        if (e) out.push(e);
      }
      yield out;
    }
  }
}

/** Clusters whose entries are planned together when only the best are kept: the next are left out as soon as none of them can make it. */
const CLUSTERS_PER_STEP = 50;

/**
 * The clusters active in the period (someone voiced the need in it), best score first. With `top`, the
 * clusters are visited by the weight of the people who wrote in their conversations in the period, most
 * first: a cluster scores at most that (scoreBound), and once the best `top` so far all score more, it
 * (and every cluster after it) cannot make the list and is not read. The
 * entries kept are the same as when every cluster is planned (the order of entries is total).
 */
export async function clusterEntries(db: Kysely<Database>, period: Period, opts: ClusterEntryOptions = {}): Promise<ClusterEntry[]> {
  const active = await clustersWithActivity(db, period.start, period.end);
  // Only the best `top` so far are kept (each holds its items and messages): a big store's active
  // clusters all held at once took gigabytes, for a digest of ten.
  const top = opts.top ?? Infinity;
  const out: ClusterEntry[] = [];
  const keep = (chunk: readonly ClusterEntry[]) => {
    for (const e of chunk) {
      if (!e.active) continue;
      if (opts.withItems === false) e.items = [];
      keepBest(out, e, top);
    }
  };
  if (!Number.isFinite(top)) {
    for await (const chunk of clusterEntryChunks(db, active, period, opts)) keep(chunk);
    return out;
  }
  const authors = await periodAuthors(db, period.start, period.end);
  const bounds = new Map([...authors].map(([id, list]) => [id, scoreBound(list, opts.segments)]));
  const boundOf = (id: number) => bounds.get(id) ?? 0;
  const ids = [...active].sort((a, b) => boundOf(b) - boundOf(a) || a - b);
  for (let k = 0; k < ids.length; k += CLUSTERS_PER_STEP) {
    let part = ids.slice(k, k + CLUSTERS_PER_STEP);
    if (out.length >= top) {
      const worst = out[out.length - 1]!.entry.score;
      part = part.filter((id) => boundOf(id) >= worst);
      // Visited by bound, highest first: the clusters after these bound no more.
      if (!part.length) break;
    }
    for await (const chunk of clusterEntryChunks(db, part, period, opts)) keep(chunk);
  }
  return out;
}
