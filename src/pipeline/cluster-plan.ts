// The cluster stage's plans, pure: given what the store read (and the in-memory grouping index), which
// items go to which cluster (new clusters under negative keys), which clusters are merged or emptied,
// which clusters are described again and how. The store applies each plan in one transaction
// (src/store/cluster-apply.ts); the shell is src/stages/cluster.ts.
import { type ClusterDoc, type ClusterIndex, type DescribeItem, clusterKind, clusterSummary, clusterTitle, itemDoc, itemScorer } from './cluster.js';
import type { NeedDoc, NeedGrouper, RegroupPlan } from './grouping.js';
import { needText, othersText } from './need-text.js';
import type { ItemForDoc } from '../model/records.js';
import type { ClusterDescription, ClusterSeen, PlacementPlan } from '../model/cluster.js';

type FreshDocs = ReadonlyMap<number, ReadonlyArray<ClusterDoc & DescribeItem>>;

/** What grouping compares of a stored item: its need text and what the thread's other people added. */
export function needDoc(item: ItemForDoc): NeedDoc {
  const report = item.messages.find((m) => m.messageId === item.reportMessageId);
  return {
    itemId: item.itemId,
    title: item.subject,
    need: needText(item),
    others: othersText(item),
    at: report?.at ?? item.messages[0]?.at ?? 0,
    kind: item.kind,
    kindGroups: item.kindGroups ?? null,
  };
}

export interface Placing {
  /** What the store writes. */
  plan: PlacementPlan;
  /** The grouper's own plan, committed to the index once the store wrote it. */
  regroup: RegroupPlan;
  /** Clusters that lose items, or gain items placed before: described again in full. */
  losing: Set<number>;
}

/**
 * Places the new items (already added to the index): they and the recent items no human placed are
 * grouped again together, in batch.
 */
export function planPlacement(grouper: NeedGrouper, docs: readonly NeedDoc[]): Placing {
  const regroup = grouper.regroup(docs.map((d) => d.itemId));
  const losing = new Set<number>();
  for (const [item, key] of regroup.place) {
    const c = grouper.clusterOf(item);
    if (c !== undefined) {
      losing.add(c);
      if (key > 0) losing.add(key);
    }
  }
  for (const m of regroup.merges) losing.add(m.into);
  const place = [...regroup.place].map(([itemId, clusterKey]) => ({ itemId, clusterKey }));
  return { plan: { place, needTexts: new Map(docs.map((d) => [d.itemId, d.need])), regroup }, regroup, losing };
}

export interface Placed {
  /** Clusters to describe: those placed into, merged into or losing items (emptied ones left out). */
  touched: Set<number>;
  /** Of those, the ones whose items changed otherwise than by gaining new ones: described in full. */
  changed: Set<number>;
  /** The new items' docs per cluster they went to (for describing, at hand). */
  fresh: Map<number, Array<ClusterDoc & DescribeItem>>;
}

/** After the store wrote a placement (and the index took it): what is described next. */
export function placedOutcome(grouper: NeedGrouper, placing: Placing, docs: readonly NeedDoc[], items: readonly ItemForDoc[], ids: ReadonlyMap<number, number>, skipped: ReadonlySet<number>): Placed {
  const { regroup: plan, losing } = placing;
  const changed = new Set<number>();
  const touched = new Set([...plan.place].filter(([item]) => !skipped.has(item)).map(([, key]) => (key < 0 ? ids.get(key)! : key)));
  for (const m of plan.merges) touched.add(m.into);
  for (const c of losing) {
    touched.add(c);
    changed.add(c);
  }
  for (const c of plan.emptied) changed.delete(c);
  const fresh = new Map<number, Array<ClusterDoc & DescribeItem>>();
  const byId = new Map(items.map((i) => [i.itemId, i]));
  for (const d of docs) {
    const c = grouper.clusterOf(d.itemId);
    const item = byId.get(d.itemId);
    if (c === undefined || !item || skipped.has(d.itemId)) continue;
    const list = fresh.get(c) ?? [];
    list.push(itemDoc(item));
    fresh.set(c, list);
  }
  for (const c of plan.emptied) touched.delete(c);
  return { touched, changed, fresh };
}

/** Items a cluster's title, summary and kind are drawn from: its first (oldest ids) DESCRIBE_ITEMS. */
const DESCRIBE_ITEMS = 200;
/** Member ids to read per cluster: the first DESCRIBE_ITEMS + 1 tell both what to describe and whether the cluster is bigger. */
export const DESCRIBE_READ = DESCRIBE_ITEMS + 1;
/**
 * A cluster that only gained items is described again when it has grown by a quarter since this
 * process last described it (always while it is small); in between only its first/last seen move.
 * A mid-size cluster is touched by nearly every batch, and re-reading all its items each time cost
 * more than placing them; its title does not flap from batch to batch either.
 */
const REDESCRIBE_GROWTH = 1.25;
const REDESCRIBE_BELOW = 10;

export interface DescribeWork {
  /** Clusters whose first/last seen only move. */
  seen: Map<number, ClusterSeen>;
  /** Clusters described from their items: their first DESCRIBE_ITEMS item ids. */
  full: Map<number, number[]>;
  /** Cluster -> its size now, for those described in full (what the caller remembers as "described at"). */
  sizes: Map<number, number>;
  /** Item ids to read for describing (not among the fresh docs). */
  missing: number[];
  /** Clusters to describe in full that `later` picked: described once a backlog is placed. */
  postponed: number[];
}

/**
 * Which clusters are described from their items, and which only move their first/last seen. With
 * `fresh` (the items just placed, per cluster): a cluster whose first DESCRIBE_ITEMS items did not
 * change keeps its title, summary and kind, and so does one that grew by less than a quarter since it
 * was last described (`described`: cluster -> size then). A cluster to describe in full that `later`
 * picks is postponed instead (the caller records it as owing a description).
 */
export function planDescribeWork(
  members: ReadonlyMap<number, readonly number[]>,
  stored: ReadonlyMap<number, ClusterSeen>,
  fresh?: FreshDocs,
  described?: ReadonlyMap<number, number>,
  later?: (clusterId: number) => boolean,
): DescribeWork {
  const seen = new Map<number, ClusterSeen>();
  const full = new Map<number, number[]>();
  const sizes = new Map<number, number>();
  const postponed: number[] = [];
  for (const [clusterId, itemIds] of members) {
    const added = fresh?.get(clusterId);
    const first = itemIds.slice(0, DESCRIBE_ITEMS);
    const cutoff = first[first.length - 1] ?? 0;
    const prev = stored.get(clusterId);
    const last = described?.get(clusterId);
    if (
      added?.length &&
      prev?.firstSeen != null &&
      prev.lastSeen != null &&
      ((itemIds.length > DESCRIBE_ITEMS && added.every((d) => d.itemId > cutoff)) || (last !== undefined && itemIds.length >= REDESCRIBE_BELOW && itemIds.length < last * REDESCRIBE_GROWTH))
    ) {
      const ats = added.map((d) => d.at);
      seen.set(clusterId, { firstSeen: Math.min(prev.firstSeen, ...ats), lastSeen: Math.max(prev.lastSeen, ...ats) });
    } else if (later?.(clusterId)) postponed.push(clusterId);
    else {
      full.set(clusterId, first);
      sizes.set(clusterId, itemIds.length);
    }
  }
  const known = new Set<number>();
  for (const list of fresh?.values() ?? []) for (const d of list) known.add(d.itemId);
  return { seen, full, sizes, missing: [...full.values()].flat().filter((id) => !known.has(id)), postponed };
}

/**
 * Title, summary, kind and first/last seen of the clusters described in full, from their items (the
 * fresh docs and those read), next to the clusters whose first/last seen only move.
 */
export function planDescriptions(
  work: DescribeWork,
  read: readonly ItemForDoc[],
  members: ReadonlyMap<number, readonly number[]>,
  stored: ReadonlyMap<number, ClusterSeen>,
  fresh?: FreshDocs,
  index?: ClusterIndex | null,
): Map<number, ClusterDescription | ClusterSeen> {
  const out = new Map<number, ClusterDescription | ClusterSeen>(work.seen);
  const docs = new Map<number, ClusterDoc & DescribeItem>();
  for (const list of fresh?.values() ?? []) for (const d of list) docs.set(d.itemId, d);
  for (const i of read) docs.set(i.itemId, itemDoc(i));
  for (const [clusterId, itemIds] of work.full) {
    const items = itemIds.flatMap((id) => (docs.has(id) ? [docs.get(id)!] : [])).sort((a, b) => a.at - b.at);
    if (!items.length) continue;
    const scorer = itemScorer(items, index?.stats);
    // Past DESCRIBE_ITEMS items, the stored first/last seen and the new items cover the rest.
    const ats = [...items.map((i) => i.at), ...(fresh?.get(clusterId) ?? []).map((d) => d.at)];
    const prev = members.get(clusterId)!.length > DESCRIBE_ITEMS ? stored.get(clusterId) : undefined;
    if (prev?.firstSeen != null) ats.push(prev.firstSeen);
    if (prev?.lastSeen != null) ats.push(prev.lastSeen);
    out.set(clusterId, { title: clusterTitle(items, scorer), summary: clusterSummary(items, scorer), kind: clusterKind(items), firstSeen: Math.min(...ats), lastSeen: Math.max(...ats) });
  }
  return out;
}
