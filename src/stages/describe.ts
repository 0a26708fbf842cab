// Describing clusters: title, summary, kind and first/last seen from their items, read (their first
// members and stored first/last seen, then the items not at hand) -> plan (src/pipeline/cluster-plan.ts)
// -> apply (src/store/cluster-apply.ts). The cluster stage describes what each batch touched, or, while
// a backlog is still being placed, records the clusters as owing a description and describes them once
// when the backlog is placed (describeOwedClusters); anything that shows descriptions (the digest)
// settles what is owed first.
import type { Kysely } from 'kysely';
import type { ClusterDescription, ClusterSeen } from '../model/cluster.js';
import type { ClusterDoc, ClusterIndex, DescribeItem } from '../pipeline/cluster.js';
import { DESCRIBE_READ, planDescribeWork, planDescriptions } from '../pipeline/cluster-plan.js';
import { clusterSeen, firstClusterMembers, loadItemsForDocs } from '../store/clusters.js';
import { applyDescriptions, clustersOwingDescription } from '../store/cluster-apply.js';
import type { Database } from '../store/schema.js';
import { cooperativeYield } from '../yield.js';

/** Clusters described per read of what is owed. */
const OWED_CHUNK = 500;

/**
 * Descriptions of clusters. With `fresh` (the items just placed, per cluster) a cluster that only
 * gained items may keep its description and only move its first/last seen; `described` (cluster ->
 * size when this process last described it) is brought up to date. `later` picks clusters not to
 * describe now (listed in `postponed`, when given).
 */
export async function describeClusters(
  db: Kysely<Database>,
  index: ClusterIndex | null,
  clusterIds: readonly number[],
  fresh?: ReadonlyMap<number, ReadonlyArray<ClusterDoc & DescribeItem>>,
  described?: Map<number, number>,
  later?: { pick: (clusterId: number) => boolean; postponed: number[] },
): Promise<Map<number, ClusterDescription | ClusterSeen>> {
  const members = await firstClusterMembers(db, clusterIds, DESCRIBE_READ);
  const stored = await clusterSeen(db, [...members.keys()]);
  const work = planDescribeWork(members, stored, fresh, described, later?.pick);
  later?.postponed.push(...work.postponed);
  for (const [clusterId, size] of work.sizes) described?.set(clusterId, size);
  // Every described cluster's items in one load (a query per cluster cost more than describing it),
  // but for the items just placed: their docs are at hand (a new cluster's are all there).
  return planDescriptions(work, await loadItemsForDocs(db, work.missing), members, stored, fresh, index);
}

/**
 * Describes every cluster that owes a description (a backlog's batches postponed it), OWED_CHUNK at a
 * time, and settles what each owed; a cluster marked again meanwhile stays owed. Returns how many were
 * described.
 */
export async function describeOwedClusters(db: Kysely<Database>, now: () => number, described?: Map<number, number>): Promise<number> {
  const tick = cooperativeYield(); // a long backlog's describing must not starve BullMQ's lock renewal
  let n = 0;
  let after = 0;
  for (;;) {
    await tick();
    // One pass in id order: a cluster marked again behind it is described by the next settling.
    const owed = await clustersOwingDescription(db, after, OWED_CHUNK);
    if (!owed.length) return n;
    after = owed[owed.length - 1]!.id;
    await applyDescriptions(
      db,
      await describeClusters(
        db,
        null,
        owed.map((o) => o.id),
        undefined,
        described,
      ),
      now(),
      [],
      { settled: owed },
    );
    n += owed.length;
  }
}
