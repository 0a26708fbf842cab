// What the cluster stage's plans say (src/pipeline/cluster-plan.ts) and the store applies
// (src/store/cluster-apply.ts): placements of items in clusters, with the merges and emptied clusters
// of a re-grouping, and the clusters' descriptions. Also the stored items and clusters the digest's plan
// reads (src/pipeline/digest-plan.ts).
import type { FeedbackKind } from './index.js';
import type { PriorityMessage } from './records.js';

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

export interface ItemMessage extends PriorityMessage {
  subject: string | null;
  /** The mail's Message-ID (or the platform's message id): what an archive's link is made from. */
  externalId?: string;
  /** The channel's platform id (a mailing list's List-Id), which archive links are configured by. */
  channelExternal?: string;
}

export interface StoredItem {
  itemId: number;
  conversationId: number;
  reportMessageId: number;
  kind: FeedbackKind | null;
  /** Need-group probabilities (problem, request, question, praise); one-hot when a human set the kind. */
  kindGroups?: number[] | null;
  subject: string | null;
  /** Active tags (human removals applied, no `kind:` tags). */
  tags: string[];
  /** A language model's summary of the item (`llm:` versions only), when one was written. */
  llmSummary?: string | null;
  /** The conversation's messages, oldest first: no copies, nothing deleted. */
  messages: ItemMessage[];
}

export interface ClusterRecord {
  id: number;
  title: string;
  pinnedTitle: boolean;
  summary: string | null;
  kind: FeedbackKind | null;
  firstSeen: number | null;
  lastSeen: number | null;
}
