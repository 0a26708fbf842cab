// What the enrich stage saves, and the plan it is saved by: shared by the plan (src/pipeline/enrich-plan.ts)
// and the store that reads for it and applies it (src/store/feedback.ts, src/store/feedback-apply.ts).
import type { AutoTag, DetectedFeedback } from './records.js';

export interface DetectionToSave {
  conversationId: number;
  detected: DetectedFeedback | null;
  /** The item's short summary, when one was written for it. */
  summary?: { text: string; version: string } | null;
}

/** A conversation's stored feedback item: its id and status ('auto', or a human's 'confirmed' / 'not_feedback'). */
export interface StoredItem {
  id: number;
  status: string;
}

/** Human tags on items: which items a human tagged at all, and the tags a human removed per item. */
export interface HumanTags {
  tagged: ReadonlySet<number>;
  removed: ReadonlyMap<number, ReadonlySet<string>>;
}

/** An automatic tag to insert: on a known item, or (itemId null) on the item inserted for the conversation. */
export interface PlannedTag {
  itemId: number | null;
  conversationId: number;
  tag: AutoTag;
}

/** One run of detections to write, in the order the store applies it (one transaction). */
export interface DetectionPlan {
  /** The item id (or null) per conversation, except the items inserted by this plan (the store adds them). */
  result: Map<number, number | null>;
  /** Items whose automatic tags are deleted. */
  untag: number[];
  /** Automatic items no longer feedback and not human-tagged: deleted with their placement (ascending). */
  drop: number[];
  /** Automatic items whose detection fields are rewritten. */
  update: Array<{ id: number; detected: DetectedFeedback }>;
  /** New automatic items, in list order. */
  insert: Array<{ conversationId: number; detected: DetectedFeedback; summary: { text: string; version: string } | null }>;
  /** Automatic tags to insert (none a human removed), in list order. */
  tags: PlannedTag[];
  /** Summaries written on items that already existed. */
  summaries: Array<{ id: number; text: string; version: string }>;
}
