// Cluster shell: apply the people/orgs config (once per process, idempotent), then read -> plan -> apply
// twice. Placing: the store reads the job's unplaced items (src/store/clusters.ts), the in-memory index
// (built from the store on first use, re-synced when a human or another worker changed the clusters)
// and the pure src/pipeline/cluster-plan.ts decide the placements, merges and emptied clusters, and
// src/store/cluster-apply.ts writes them in one transaction if the clusters did not change meanwhile
// (else placed again). Describing (src/stages/describe.ts): the touched clusters' first members are
// read, the plan gives their title, summary, kind and first/last seen, and one transaction writes them
// and marks the job done; while other items wait to be placed, only new clusters are described and the
// others are recorded as owing it, described once the backlog is placed. Pinned items and pinned titles
// are never touched.
import type { Kysely } from 'kysely';
import { ClusterPayloadSchema } from '../model/jobs.js';
import type { ClusterDescription, ClusterSeen } from '../model/cluster.js';
import { PermanentJobError } from '../queue/port.js';
import { loadWordNeighbours } from '../models/word-neighbours.js';
import { NeedGrouper, type GroupingOptions, type NeedDoc, type Placement } from '../pipeline/grouping.js';
import { needDoc, placedOutcome, planPlacement, type Placed } from '../pipeline/cluster-plan.js';
import { embedNeeds } from '../llm/embeddings.js';
import { clusterStateVersion, loadAssignments, loadItemsForDocs, unclusteredItems } from '../store/clusters.js';
import { applyDescriptions, applyPlacements, ClusterStateConflict, type PlacementResult } from '../store/cluster-apply.js';
import { clustersOfItems, otherItemsPending, pendingItems, stillClusterPending } from '../store/pending.js';
import { describeClusters, describeOwedClusters } from './describe.js';
import { resolvePeople } from './people.js';
import type { Database } from '../store/schema.js';
import type { ClusterIndexState } from './caches.js';
import type { StageContext } from './context.js';
import { cooperativeYield } from '../yield.js';
import { afterPlacement } from '../webhooks/events.js';

export { describeClusters } from './describe.js';

type IndexState = ClusterIndexState;

const CONFLICT_ATTEMPTS = 20;

function placements(assignments: ReadonlyArray<{ itemId: number; clusterId: number; pinned: boolean }>): Map<number, Placement> {
  return new Map(assignments.map((a) => [a.itemId, { clusterId: a.clusterId, pinned: a.pinned }]));
}

async function buildIndex(db: Kysely<Database>, opts: GroupingOptions): Promise<IndexState> {
  const version = await clusterStateVersion(db);
  const assignments = await loadAssignments(db);
  const grouper = new NeedGrouper(opts);
  const tick = cooperativeYield(); // a big store's first build must not starve BullMQ's lock renewal
  const ids = assignments.map((a) => a.itemId);
  for (let i = 0; i < ids.length; i += 1000) {
    await tick();
    grouper.add((await loadItemsForDocs(db, ids.slice(i, i + 1000))).map(needDoc).sort((a, b) => a.at - b.at || a.itemId - b.itemId));
  }
  grouper.setPlacements(placements(assignments));
  return { grouper, version };
}

/** Brings the index in line with the store after someone else wrote (human curation, another worker). */
async function resync(db: Kysely<Database>, state: IndexState): Promise<void> {
  const version = await clusterStateVersion(db);
  if (version === state.version) return;
  const assignments = await loadAssignments(db);
  const unknown = assignments.filter((a) => !state.grouper.has(a.itemId)).map((a) => a.itemId);
  if (unknown.length) state.grouper.add((await loadItemsForDocs(db, unknown)).map(needDoc));
  state.grouper.setPlacements(placements(assignments));
  state.version = version;
}

/**
 * `takePending`: the job also places the items still pending placement (those of the cluster jobs queued
 * behind it, oldest conversations first), up to this many items in all. Queued cluster jobs run one at
 * a time across workers, each carrying one enrich batch's items: a backlog of them cost a job's fixed
 * reads, regrouping and describing each, and the jobs found done later end after a few reads.
 */
export async function runCluster(ctx: StageContext, data: unknown, opts: { takePending?: number } = {}): Promise<{ assigned: number; created: number }> {
  const parsed = ClusterPayloadSchema.safeParse(data);
  if (!parsed.success) throw new PermanentJobError(`cluster: bad payload: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const cache = ctx.services.cluster;
  const { itemIds } = parsed.data;
  const run = cache.lock.catch(() => undefined).then(async () => clusterItems(ctx, opts.takePending ? await withPending(ctx.db, itemIds, opts.takePending) : itemIds));
  cache.lock = run;
  return run;
}

/** `itemIds` and then the first pending items not among them, up to `upTo` in all. */
async function withPending(db: Kysely<Database>, itemIds: readonly number[], upTo: number): Promise<number[]> {
  if (itemIds.length >= upTo) return [...itemIds];
  const own = new Set(itemIds);
  const more = (await pendingItems(db, 0, upTo)).map((i) => i.id).filter((id) => !own.has(id));
  return [...itemIds, ...more.slice(0, upTo - itemIds.length)];
}

async function clusterItems(ctx: StageContext, itemIds: number[]): Promise<{ assigned: number; created: number }> {
  const { db } = ctx;
  const cache = ctx.services.cluster;
  await resolvePeople(ctx, 'cluster');
  const state = await clusterIndex(ctx);
  // Items still marked pending but placed already: a run stopped between placing them and describing
  // their clusters. Their clusters are described below, then every item of the job is marked done.
  const flagged = await stillClusterPending(db, itemIds);
  for (let attempt = 1; ; attempt++) {
    // Read: what someone else changed, the job's items still unplaced, and what grouping compares of them.
    await resync(db, state);
    const todo = await unclusteredItems(db, itemIds);
    if (!todo.length) {
      await finish(ctx, new Map(), flagged, new Set(), itemIds);
      if (!(await otherItemsPending(db, itemIds))) await describeOwedClusters(db, ctx.now, cache.describedAt);
      return { assigned: 0, created: 0 };
    }
    const items = await loadItemsForDocs(db, todo);
    const docs = items.map(needDoc).sort((a, b) => a.at - b.at || a.itemId - b.itemId);
    await embed(ctx, state, docs);
    // Plan: the new items and the recent items no human placed, grouped again together.
    state.grouper.add(docs);
    const placing = planPlacement(state.grouper, docs);
    let placed: Placed;
    let saved: PlacementResult;
    try {
      // Apply, only if nobody changed the clusters since the resync (another worker placing the same
      // need would otherwise create a second cluster for it); else placed again against the new state.
      saved = await applyPlacements(db, placing.plan, ctx.now(), state.version);
      state.grouper.commit(placing.regroup, saved.ids, saved.skipped);
      state.version = saved.version;
      placed = placedOutcome(state.grouper, placing, docs, items, saved.ids, saved.skipped);
    } catch (err: unknown) {
      if (err instanceof ClusterStateConflict && attempt < CONFLICT_ATTEMPTS) {
        ctx.log.debug({ stage: 'cluster', attempt }, 'clusters changed meanwhile; placing again');
        continue;
      }
      // The index and the store disagree (a cluster was removed meanwhile): rebuild on the retry.
      cache.index = null;
      throw err;
    }
    const { merges } = placing.regroup;
    if (merges.length) ctx.log.info({ stage: 'cluster', merges: merges.map((m) => ({ from: m.from, into: m.into, score: Number(m.score.toFixed(3)) })) }, 'clusters voicing the same need merged');
    // Describe: a cluster that only gained new items may keep its description (see describeClusters);
    // one that lost or gained moved items is described again. While other items wait to be placed (a
    // backlog), those are recorded as owing a description and described once when it is placed: a
    // cluster touched by many batches was described after each. New clusters are described now.
    const fresh = new Map([...placed.fresh].filter(([c]) => !placed.changed.has(c)));
    const backlog = await otherItemsPending(db, itemIds);
    const made = new Set(saved.ids.values());
    const postponed: number[] = [];
    const descriptions = await describeClusters(db, null, [...placed.touched], fresh, cache.describedAt, backlog ? { pick: (c) => !made.has(c), postponed } : undefined);
    const assigned = todo.length - saved.skipped.size;
    const created = saved.ids.size;
    await finish(ctx, descriptions, flagged, new Set(todo), itemIds, postponed);
    if (!backlog) await describeOwedClusters(db, ctx.now, cache.describedAt);
    // Regressions (new reports in a resolved cluster) and cluster.created webhook events (described by now).
    await afterPlacement(ctx, [...made], new Map([...placed.fresh].map(([c, list]) => [c, list.map((d) => d.at)])));
    ctx.log.debug({ stage: 'cluster', assigned, created }, 'clustered');
    return { assigned, created };
  }
}

/**
 * Applies this run's descriptions and records the clusters whose describing it postponed; then
 * describes the clusters of items a stopped run placed without describing (pending, placed, not by
 * this job). The job's items are marked done with the last write, only then: a run that dies before it
 * places (or describes) them again.
 */
async function finish(
  ctx: StageContext,
  descriptions: ReadonlyMap<number, ClusterDescription | ClusterSeen>,
  flagged: ReadonlySet<number>,
  placedNow: ReadonlySet<number>,
  itemIds: readonly number[],
  postponed: readonly number[] = [],
): Promise<void> {
  const earlier = [...flagged].filter((id) => !placedNow.has(id));
  const clusterIds = earlier.length ? await clustersOfItems(ctx.db, earlier) : [];
  if (!clusterIds.length) return applyDescriptions(ctx.db, descriptions, ctx.now(), itemIds, { postpone: postponed });
  await applyDescriptions(ctx.db, descriptions, ctx.now(), [], { postpone: postponed });
  await applyDescriptions(ctx.db, await describeClusters(ctx.db, null, clusterIds), ctx.now(), itemIds);
}

/** The index of this process, built from the store on first use (a failed build is tried again next job). */
async function clusterIndex(ctx: StageContext): Promise<IndexState> {
  const cache = ctx.services.cluster;
  let statePromise = cache.index;
  if (!statePromise) {
    const g = ctx.config.grouping;
    statePromise = buildIndex(ctx.db, {
      ...(g?.threshold !== undefined ? { threshold: g.threshold } : {}),
      ...(g?.windowDays !== undefined ? { windowDays: g.windowDays } : {}),
      ...(g?.conceptWeight !== undefined ? { conceptWeight: g.conceptWeight } : {}),
      ...(g?.lengthPivot !== undefined ? { lengthPivot: g.lengthPivot } : {}),
      ...(g?.questionFactor !== undefined ? { questionFactor: g.questionFactor } : {}),
      ...(g?.titleWeight !== undefined ? { titleWeight: g.titleWeight } : {}),
      ...(g?.refitFactor !== undefined ? { refitFactor: g.refitFactor } : {}),
      ...(g?.neighbourWeight !== undefined ? { neighbourWeight: g.neighbourWeight } : {}),
      wordModel: g?.neighbourWeight === 0 ? null : loadWordNeighbours(),
      ...(g?.embeddings ? { embeddingSameNeed: g.embeddings.sameNeed } : {}),
    });
    cache.index = statePromise;
  }
  try {
    return await statePromise;
  } catch (err: unknown) {
    if (cache.index === statePromise) cache.index = null;
    throw err;
  }
}

/** Optional stronger vectors; when the endpoint fails, the shipped representation is used and the run goes on. */
async function embed(ctx: StageContext, state: IndexState, docs: readonly NeedDoc[]): Promise<void> {
  const emb = ctx.config.grouping?.embeddings;
  if (!emb?.enabled) return;
  const r = await embedNeeds({ baseUrl: emb.baseUrl, model: emb.model, timeoutMs: emb.timeoutMs, ...(emb.apiKey ? { apiKey: emb.apiKey } : {}) }, docs);
  for (const [id, v] of r.vectors) state.grouper.setEmbedding(id, v);
  if (r.error)
    ctx.log.warn({ stage: 'cluster', code: r.error.code, embedded: r.vectors.size, items: docs.length }, `embeddings endpoint failed, the shipped need vectors are used: ${r.error.message}`);
}
