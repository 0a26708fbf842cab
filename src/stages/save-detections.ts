// The save side of the enrich stage: read -> plan -> apply, in one transaction. The store reads the
// conversations' items, human tags and live conversations (src/store/feedback.ts), the plan is pure
// (src/pipeline/enrich-plan.ts), the store applies it (src/store/feedback-apply.ts). Human decisions
// (status, added and removed tags) win over every automatic re-run, forever.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { DetectedFeedback } from '../model/records.js';
import type { DetectionToSave } from '../model/enrich.js';
import { detectionTransaction, readHumanTags, readItemsOfConversations, readLiveConversations } from '../store/feedback.js';
import { applyDetections } from '../store/feedback-apply.js';
import { detectionReads, detectionRuns, planDetections } from '../pipeline/enrich-plan.js';

export type { DetectionToSave } from '../model/enrich.js';

/**
 * Saves a batch of detections (as saveDetection each, in list order) in one transaction; returns the
 * item id per conversation. Each run of distinct conversations is read, planned and applied after the
 * runs before it.
 */
export async function saveDetections(db: Kysely<Database>, list: readonly DetectionToSave[], now: number): Promise<Map<number, number | null>> {
  return detectionTransaction(db, async (trx) => {
    const out = new Map<number, number | null>();
    for (const run of detectionRuns(list)) {
      const existing = await readItemsOfConversations(
        trx,
        run.map((e) => e.conversationId),
      );
      const want = detectionReads(run, existing);
      const human = await readHumanTags(trx, want.humanTagsOf);
      const alive = await readLiveConversations(trx, want.aliveOf);
      for (const [conversationId, id] of await applyDetections(trx, planDetections(run, existing, human, alive), now)) out.set(conversationId, id);
    }
    return out;
  });
}

/**
 * Saves the detection for a conversation. A human "not feedback" or a confirmed item is kept as the
 * human left it; automatic tags are replaced, except that a tag a human removed never comes back.
 * Returns the item id when the conversation is (still) feedback.
 */
export async function saveDetection(db: Kysely<Database>, conversationId: number, d: DetectedFeedback | null, now: number): Promise<number | null> {
  const saved = await saveDetections(db, [{ conversationId, detected: d }], now);
  return saved.get(conversationId) ?? null;
}
