// Cluster shell: apply the people/orgs config (once per process, idempotent), place the new feedback
// items in clusters (the in-memory index is built from the store on first use and re-synced when a
// human or another worker changed the clusters), save, and refresh the touched clusters' title,
// summary, kind and first/last seen. Pinned items and pinned titles are never touched.
import type { Kysely } from 'kysely';
import { ClusterPayloadSchema } from '../model/jobs.js';
import { PermanentJobError } from '../queue/port.js';
import { type ClusterIndex, type ClusterDoc, type DescribeItem, type ItemForDoc, clusterKind, clusterSummary, clusterTitle, itemDoc, textScorer } from '../pipeline/cluster.js';
import { NeedGrouper, type GroupingOptions, type NeedDoc, type Placement } from '../pipeline/grouping.js';
import { needText, othersText } from '../pipeline/need-text.js';
import { embedNeeds } from '../llm/embeddings.js';
import { ClusterStateConflict, clusterStateVersion, firstClusterMembers, loadAssignments, loadItemsForDocs, saveAssignments, saveDescriptions, saveNeedTexts, unclusteredItems, clusterSeen, type ClusterDescription, type ClusterSeen } from '../store/clusters.js';
import { resolvePeople } from './people.js';
import type { Database } from '../store/schema.js';
import type { ClusterIndexState } from './caches.js';
import type { StageContext } from './context.js';
import { cooperativeYield } from '../yield.js';
import { clearClusterPending, clustersOfItems, stillClusterPending } from '../store/pending.js';
import { afterPlacement } from '../webhooks/events.js';


type IndexState = ClusterIndexState;

const CONFLICT_ATTEMPTS = 20;

/** What grouping compares of a stored item: its need text and what the thread's other people added. */
export function needDoc(item: ItemForDoc): NeedDoc {
  const report = item.messages.find((m) => m.messageId === item.reportMessageId);
  return { itemId: item.itemId, title: item.subject, need: needText(item), others: othersText(item), at: report?.at ?? item.messages[0]?.at ?? 0, kind: item.kind };
}

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

/** Items a cluster's title, summary and kind are drawn from: its first (oldest ids) DESCRIBE_ITEMS. */
const DESCRIBE_ITEMS = 200;
/**
 * A cluster that only gained items is described again when it has grown by a quarter since this
 * process last described it (always while it is small); in between only its first/last seen move.
 * A mid-size cluster is touched by nearly every batch, and re-reading all its items each time cost
 * more than placing them; its title does not flap from batch to batch either.
 */
const REDESCRIBE_GROWTH = 1.25;
const REDESCRIBE_BELOW = 10;

/**
 * Title, summary, kind and first/last seen of clusters, from their items. With `fresh` (the items just
 * placed, per cluster): a cluster whose first DESCRIBE_ITEMS items did not change keeps its title,
 * summary and kind, and only its first/last seen move to take in the new items (a big cluster is
 * touched by nearly every batch; re-reading its items each time cost more than the placing).
 */
export async function describeClusters(
  db: Kysely<Database>,
  index: ClusterIndex | null,
  clusterIds: readonly number[],
  fresh?: ReadonlyMap<number, ReadonlyArray<ClusterDoc & DescribeItem>>,
  described?: Map<number, number>,
): Promise<Map<number, ClusterDescription | ClusterSeen>> {
  // The first DESCRIBE_ITEMS + 1 ids tell both what to describe and whether the cluster is bigger.
  const members = await firstClusterMembers(db, clusterIds, DESCRIBE_ITEMS + 1);
  const out = new Map<number, ClusterDescription | ClusterSeen>();
  const stored = await clusterSeen(db, [...members.keys()]);
  const full = new Map<number, number[]>();
  for (const [clusterId, itemIds] of members) {
    const added = fresh?.get(clusterId);
    const first = itemIds.slice(0, DESCRIBE_ITEMS);
    const cutoff = first[first.length - 1] ?? 0;
    const prev = stored.get(clusterId);
    const last = described?.get(clusterId);
    if (added?.length && prev?.firstSeen != null && prev.lastSeen != null && ((itemIds.length > DESCRIBE_ITEMS && added.every((d) => d.itemId > cutoff)) || (last !== undefined && itemIds.length >= REDESCRIBE_BELOW && itemIds.length < last * REDESCRIBE_GROWTH))) {
      const ats = added.map((d) => d.at);
      out.set(clusterId, { firstSeen: Math.min(prev.firstSeen, ...ats), lastSeen: Math.max(prev.lastSeen, ...ats) });
    } else {
      full.set(clusterId, first);
      described?.set(clusterId, itemIds.length);
    }
  }
  // Every described cluster's items in one load (a query per cluster cost more than describing it),
  // but for the items just placed: their docs are at hand (a new cluster's are all there).
  const docs = new Map<number, ClusterDoc & DescribeItem>();
  for (const list of fresh?.values() ?? []) for (const d of list) docs.set(d.itemId, d);
  const missing = [...full.values()].flat().filter((id) => !docs.has(id));
  for (const i of await loadItemsForDocs(db, missing)) docs.set(i.itemId, itemDoc(i));
  for (const [clusterId, itemIds] of full) {
    const items = itemIds.flatMap((id) => (docs.has(id) ? [docs.get(id)!] : [])).sort((a, b) => a.at - b.at);
    if (!items.length) continue;
    const texts = items.map((i) => `${i.subject ?? ''}\n${i.text}`);
    const scorer = textScorer(texts, index?.stats);
    // Past DESCRIBE_ITEMS items, the stored first/last seen and the new items cover the rest.
    const ats = [...items.map((i) => i.at), ...(fresh?.get(clusterId) ?? []).map((d) => d.at)];
    const prev = members.get(clusterId)!.length > DESCRIBE_ITEMS ? stored.get(clusterId) : undefined;
    if (prev?.firstSeen != null) ats.push(prev.firstSeen);
    if (prev?.lastSeen != null) ats.push(prev.lastSeen);
    out.set(clusterId, { title: clusterTitle(items, scorer), summary: clusterSummary(items, scorer), kind: clusterKind(items), firstSeen: Math.min(...ats), lastSeen: Math.max(...ats) });
  }
  return out;
}

export async function runCluster(ctx: StageContext, data: unknown): Promise<{ assigned: number; created: number }> {
  const parsed = ClusterPayloadSchema.safeParse(data);
  if (!parsed.success) throw new PermanentJobError(`cluster: bad payload: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const cache = ctx.services.cluster;
  const run = cache.lock.catch(() => undefined).then(() => clusterItems(ctx, parsed.data.itemIds));
  cache.lock = run;
  return run;
}

async function clusterItems(ctx: StageContext, itemIds: number[]): Promise<{ assigned: number; created: number }> {
  const { db } = ctx;
  const cache = ctx.services.cluster;
  await resolvePeople(ctx, 'cluster');
  let statePromise = cache.index;
  if (!statePromise) {
    const g = ctx.config.grouping;
    statePromise = buildIndex(db, { ...(g?.threshold !== undefined ? { threshold: g.threshold } : {}), ...(g?.windowDays !== undefined ? { windowDays: g.windowDays } : {}), ...(g?.embeddings ? { embeddingSameNeed: g.embeddings.sameNeed } : {}) });
    cache.index = statePromise;
  }
  let state: IndexState;
  try {
    state = await statePromise;
  } catch (err: unknown) {
    if (cache.index === statePromise) cache.index = null;
    throw err;
  }
  let placed: number;
  let created: number;
  let touched: Set<number>;
  const fresh = new Map<number, Array<ClusterDoc & DescribeItem>>();
  /** Clusters whose items changed otherwise than by gaining new ones: described again in full. */
  const changed = new Set<number>();
  // Items still marked pending but placed already: a run stopped between placing them and describing
  // their clusters. Their clusters are described below, then every item of the job is marked done.
  const flagged = await stillClusterPending(db, itemIds);
  let placedNow: ReadonlySet<number> | undefined;
  let createdIds: number[];
  for (let attempt = 1; ; attempt++) {
    await resync(db, state);
    const todo = await unclusteredItems(db, itemIds);
    if (!todo.length) {
      await describeInterrupted(ctx, flagged, new Set());
      await clearClusterPending(db, itemIds);
      return { assigned: 0, created: 0 };
    }
    placedNow = new Set(todo);
    const items = await loadItemsForDocs(db, todo);
    const docs = items.map(needDoc).sort((a, b) => a.at - b.at || a.itemId - b.itemId);
    const emb = ctx.config.grouping?.embeddings;
    if (emb?.enabled) {
      // Optional stronger vectors; when the endpoint fails, the shipped representation is used and the run goes on.
      const r = await embedNeeds({ baseUrl: emb.baseUrl, model: emb.model, timeoutMs: emb.timeoutMs, ...(emb.apiKey ? { apiKey: emb.apiKey } : {}) }, docs);
      for (const [id, v] of r.vectors) state.grouper.setEmbedding(id, v);
      if (r.error) ctx.log.warn({ stage: 'cluster', code: r.error.code, embedded: r.vectors.size, items: docs.length }, `embeddings endpoint failed, the shipped need vectors are used: ${r.error.message}`);
    }
    state.grouper.add(docs);
    await saveNeedTexts(db, new Map(docs.map((d) => [d.itemId, d.need])));
    // The new items and the recent items no human placed are grouped again together, in batch.
    const plan = state.grouper.regroup(docs.map((d) => d.itemId));
    // Clusters that lose items, and those that gain items placed before, are described again in full.
    const losing = new Set<number>();
    for (const [item, key] of plan.place) {
      const c = state.grouper.clusterOf(item);
      if (c !== undefined) {
        losing.add(c);
        if (key > 0) losing.add(key);
      }
    }
    for (const m of plan.merges) losing.add(m.into);
    const proposed = [...plan.place].map(([itemId, clusterKey]) => ({ itemId, clusterKey }));
    try {
      // Stored only if nobody changed the clusters since the resync (another worker placing the same
      // need would otherwise create a second cluster for it); else placed again against the new state.
      const saved = await saveAssignments(db, proposed, ctx.now(), state.version, plan);
      state.grouper.commit(plan, saved.ids, saved.skipped);
      state.version = saved.version;
      placed = todo.length - saved.skipped.size;
      created = saved.ids.size;
      createdIds = [...saved.ids.values()];
      touched = new Set([...plan.place].filter(([item]) => !saved.skipped.has(item)).map(([, key]) => (key < 0 ? saved.ids.get(key)! : key)));
      for (const m of plan.merges) touched.add(m.into);
      for (const c of losing) {
        touched.add(c);
        changed.add(c);
      }
      for (const c of plan.emptied) changed.delete(c);
      // The new items' docs are at hand for describing their clusters.
      const byId = new Map(items.map((i) => [i.itemId, i]));
      for (const d of docs) {
        const c = state.grouper.clusterOf(d.itemId);
        const item = byId.get(d.itemId);
        if (c === undefined || !item || saved.skipped.has(d.itemId)) continue;
        const list = fresh.get(c) ?? [];
        list.push(itemDoc(item));
        fresh.set(c, list);
      }
      for (const c of plan.emptied) touched.delete(c);
      if (plan.merges.length) ctx.log.info({ stage: 'cluster', merges: plan.merges.map((m) => ({ from: m.from, into: m.into, score: Number(m.score.toFixed(3)) })) }, 'clusters voicing the same need merged');
      break;
    } catch (err: unknown) {
      if (err instanceof ClusterStateConflict && attempt < CONFLICT_ATTEMPTS) {
        ctx.log.debug({ stage: 'cluster', attempt }, 'clusters changed meanwhile; placing again');
        continue;
      }
      // The index and the store disagree (a cluster was removed meanwhile): rebuild on the retry.
      cache.index = null;
      throw err;
    }
  }
  const described = cache.describedAt;
  // A cluster that only gained new items may keep its description (see describeClusters); one that lost or gained moved items is described again.
  await saveDescriptions(db, await describeClusters(db, null, [...touched], new Map([...fresh].filter(([c]) => !changed.has(c))), described), ctx.now());
  // Regressions (new reports in a resolved cluster) and cluster.created webhook events.
  await afterPlacement(ctx, createdIds, new Map([...fresh].map(([c, docs]) => [c, docs.map((d) => d.at)])));
  await describeInterrupted(ctx, flagged, placedNow ?? new Set());
  // Only now: a run that dies before this places (or describes) these items again.
  await clearClusterPending(db, itemIds);
  ctx.log.debug({ stage: 'cluster', assigned: placed, created }, 'clustered');
  return { assigned: placed, created };
}

/** Describes the clusters of items a stopped run placed without describing (pending, placed, not by this job). */
async function describeInterrupted(ctx: StageContext, flagged: ReadonlySet<number>, placedNow: ReadonlySet<number>): Promise<void> {
  const earlier = [...flagged].filter((id) => !placedNow.has(id));
  if (!earlier.length) return;
  const clusterIds = await clustersOfItems(ctx.db, earlier);
  if (clusterIds.length) await saveDescriptions(ctx.db, await describeClusters(ctx.db, null, clusterIds), ctx.now());
}
