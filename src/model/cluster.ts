// What the cluster stage's plans say (src/pipeline/cluster-plan.ts) and the store applies
// (src/store/cluster-apply.ts): placements of items in clusters, with the merges and emptied clusters
// of a re-grouping, and the clusters' descriptions.
import type { FeedbackKind } from './index.js';

export interface NewAssignment {
  itemId: number;
  /** An existing cluster id, or a negative key: a cluster to create. */
  clusterKey: number;
}

/** What a re-grouping changes beyond placements: clusters left empty, and merges to record. */
export interface Regrouping {
  emptied: readonly number[];
  merges: ReadonlyArray<{ from: number; into: number; score: number; items: readonly number[] }>;
}

/** The placing half of a cluster run, written in one transaction. */
export interface PlacementPlan {
  /** Items to place: into an existing cluster, or a new one (negative key). */
  place: readonly NewAssignment[];
  /** The new items' need texts (what grouping compares; `gleaner items --format json` shows it). */
  needTexts?: ReadonlyMap<number, string>;
  /** With a re-grouping, items a human did not place may move; without, a placed item stays. */
  regroup?: Regrouping;
}

export interface ClusterSeen {
  firstSeen: number | null;
  lastSeen: number | null;
}

export interface ClusterDescription extends ClusterSeen {
  title: string;
  summary: string | null;
  kind: FeedbackKind | null;
}
