// The save side of the enrich stage as a plan: given the detections and what the store holds (items,
// human tags, conversations still alive), which items to insert, update or delete, and which automatic
// tags to replace. Human decisions win over every automatic re-run, forever. Pure: no I/O.
import type { DetectionPlan, DetectionToSave, HumanTags, PlannedTag, StoredItem } from '../model/enrich.js';
import type { DetectedFeedback } from '../model/records.js';

/**
 * The list cut into runs in which no conversation appears twice (one run unless one does): each run is
 * saved as a whole, after the runs before it, so a conversation listed again is saved over its first
 * result, and items get their ids in list order, as one by one.
 */
export function detectionRuns(list: readonly DetectionToSave[]): DetectionToSave[][] {
  const out: DetectionToSave[][] = [];
  let run: DetectionToSave[] = [];
  let inRun = new Set<number>();
  for (const entry of list) {
    if (inRun.has(entry.conversationId)) {
      out.push(run);
      run = [];
      inRun = new Set();
    }
    run.push(entry);
    inRun.add(entry.conversationId);
  }
  if (run.length) out.push(run);
  return out;
}

interface Sorted {
  result: Map<number, number | null>;
  untag: number[];
  retag: Array<{ conversationId: number; itemId: number | null; tags: DetectedFeedback['tags'] }>;
  notFeedback: Array<{ entry: DetectionToSave; id: number }>;
  update: Array<{ id: number; detected: DetectedFeedback }>;
  wanted: Array<{ entry: DetectionToSave; d: DetectedFeedback }>;
}

/**
 * Per conversation of one run (conversations distinct):
 * - a human decided (status not 'auto'): a confirmed item only gets its automatic tags refreshed, a
 *   "not feedback" one is left alone (and gives null);
 * - not feedback (or nothing detected): an automatic item loses its automatic tags, and is deleted
 *   (with its placement) unless a human tagged it;
 * - feedback: the automatic item is updated or a new one inserted (unless the conversation was merged
 *   away meanwhile), and its automatic tags replaced, except the ones a human removed.
 */
function sortRun(entries: readonly DetectionToSave[], existing: ReadonlyMap<number, StoredItem>): Sorted {
  const s: Sorted = { result: new Map(), untag: [], retag: [], notFeedback: [], update: [], wanted: [] };
  for (const entry of entries) {
    const { conversationId, detected: d } = entry;
    const item = existing.get(conversationId);
    if (item && item.status !== 'auto') {
      if (item.status === 'confirmed' && d) {
        s.untag.push(item.id);
        s.retag.push({ conversationId, itemId: item.id, tags: d.tags });
      }
      s.result.set(conversationId, item.status === 'not_feedback' ? null : item.id);
    } else if (!d || !d.isFeedback) {
      s.result.set(conversationId, null);
      if (item) {
        s.untag.push(item.id);
        s.notFeedback.push({ entry, id: item.id });
      }
    } else if (item) {
      s.update.push({ id: item.id, detected: d });
      s.untag.push(item.id);
      s.retag.push({ conversationId, itemId: item.id, tags: d.tags });
      s.result.set(conversationId, item.id);
    } else {
      s.wanted.push({ entry, d });
      s.retag.push({ conversationId, itemId: null, tags: d.tags });
    }
  }
  return s;
}

/** What the plan of a run needs read beyond its items: the human tags of these items, whether these conversations are alive. */
export function detectionReads(entries: readonly DetectionToSave[], existing: ReadonlyMap<number, StoredItem>): { humanTagsOf: number[]; aliveOf: number[] } {
  const s = sortRun(entries, existing);
  return { humanTagsOf: s.untag, aliveOf: s.wanted.map((w) => w.entry.conversationId) };
}

/** The plan of one run, from its items, the human tags of the items it untags, and which new items' conversations are alive. */
export function planDetections(entries: readonly DetectionToSave[], existing: ReadonlyMap<number, StoredItem>, human: HumanTags, alive: ReadonlySet<number>): DetectionPlan {
  const s = sortRun(entries, existing);
  const { result } = s;
  // Human tags: any one keeps an item that is no longer feedback.
  const drop: number[] = [];
  for (const { entry, id } of s.notFeedback) {
    if (!human.tagged.has(id)) drop.push(id);
    else result.set(entry.conversationId, id);
  }
  drop.sort((a, b) => a - b);
  // A conversation without an item must still exist: one merged into another by a concurrent ingest gets no item.
  const insert = s.wanted.filter((w) => alive.has(w.entry.conversationId)).map(({ entry, d }) => ({ conversationId: entry.conversationId, detected: d, summary: entry.summary ?? null }));
  for (const w of s.wanted) if (!alive.has(w.entry.conversationId)) result.set(w.entry.conversationId, null);
  const inserted = new Set(insert.map((i) => i.conversationId));
  // A tag a human removed never comes back (a new item has no human tags).
  const tags: PlannedTag[] = [];
  for (const { conversationId, itemId, tags: list } of s.retag) {
    if (itemId === null && !inserted.has(conversationId)) continue; // merged away meanwhile
    const removed = itemId === null ? undefined : human.removed.get(itemId);
    for (const tag of list) if (!removed?.has(tag.tag)) tags.push({ itemId, conversationId, tag });
  }
  const summaries: DetectionPlan['summaries'] = [];
  for (const { conversationId, summary } of entries) {
    const id = result.get(conversationId);
    if (summary && id != null && !inserted.has(conversationId)) summaries.push({ id, text: summary.text, version: summary.version });
  }
  return { result, untag: s.untag, drop, update: s.update, insert, tags, summaries };
}
