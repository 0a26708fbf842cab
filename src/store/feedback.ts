// The feedback repository: items and their tags. Human decisions (status, added and removed tags)
// win over every automatic re-run, forever.
import type { Kysely } from 'kysely';
import { dbKind } from './db.js';
import type { Database } from './schema.js';
import type { AutoTag, ConversationMessage, DetectedFeedback } from '../pipeline/feedback.js';

export async function loadConversationMessages(db: Kysely<Database>, conversationIds: number[]): Promise<Map<number, ConversationMessage[]>> {
  const out = new Map<number, ConversationMessage[]>();
  for (let i = 0; i < conversationIds.length; i += 400) {
    const part = conversationIds.slice(i, i + 400);
    const rows = await db
      .selectFrom('messages as m')
      .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
      .innerJoin('identities as idn', 'idn.id', 'm.identity_id')
      .innerJoin('people as p', 'p.id', 'idn.person_id')
      .select(['m.id', 'm.conversation_id', 'm.clean_text', 'm.subject', 'ch.name as channel', 'm.is_bot', 'idn.is_bot as identityBot', 'm.labels'])
      .where('m.conversation_id', 'in', part)
      .where('m.copy_of', 'is', null)
      .where('m.deleted', '=', 0)
      .orderBy('m.sent_at')
      .orderBy('m.id')
      .execute();
    for (const r of rows) {
      const list = out.get(r.conversation_id!) ?? [];
      list.push({ id: r.id, text: r.clean_text, subject: r.subject, channel: r.channel ?? '', isBot: r.is_bot === 1 || r.identityBot === 1, labels: r.labels ? (JSON.parse(r.labels) as string[]) : [] });
      out.set(r.conversation_id!, list);
    }
  }
  return out;
}

/**
 * Saves the detection for a conversation. A human "not feedback" or a confirmed item is kept as the
 * human left it; automatic tags are replaced, except that a tag a human removed never comes back.
 * Returns the item id when the conversation is (still) feedback.
 */
export async function saveDetection(db: Kysely<Database>, conversationId: number, d: DetectedFeedback | null, now: number): Promise<number | null> {
  return db.transaction().execute((trx) => saveDetectionIn(trx, conversationId, d, now));
}

export interface DetectionToSave {
  conversationId: number;
  detected: DetectedFeedback | null;
  /** The item's short summary, when one was written for it. */
  summary?: { text: string; version: string } | null;
}

/** Saves a batch of detections (as saveDetection each) in one transaction; returns the item id per conversation. */
export async function saveDetections(db: Kysely<Database>, list: readonly DetectionToSave[], now: number): Promise<Map<number, number | null>> {
  return db.transaction().execute(async (trx) => {
    const out = new Map<number, number | null>();
    for (const { conversationId, detected, summary } of list) {
      const id = await saveDetectionIn(trx, conversationId, detected, now);
      out.set(conversationId, id);
      if (id !== null && summary) await trx.updateTable('feedback_items').set({ summary: summary.text, summary_version: summary.version, updated_at: now }).where('id', '=', id).execute();
    }
    return out;
  });
}

/**
 * Whether a conversation still exists. On PostgreSQL its row is held (FOR SHARE) until the transaction
 * ends, so an ingest merging it away waits for this item rather than leaving it on a deleted
 * conversation; SQLite runs one writer at a time anyway.
 */
async function conversationExists(trx: Kysely<Database>, id: number): Promise<boolean> {
  const q = trx.selectFrom('conversations').select('id').where('id', '=', id);
  const row = await (dbKind(trx) === 'postgres' ? q.forShare() : q).executeTakeFirst();
  return row !== undefined;
}

async function saveDetectionIn(trx: Kysely<Database>, conversationId: number, d: DetectedFeedback | null, now: number): Promise<number | null> {
  const existing = await trx.selectFrom('feedback_items').selectAll().where('conversation_id', '=', conversationId).executeTakeFirst();
  if (existing && existing.status !== 'auto') {
    // A human decided; only refresh automatic tags on a confirmed item.
    if (existing.status === 'confirmed' && d) await replaceAutoTags(trx, existing.id, d.tags, now);
    return existing.status === 'not_feedback' ? null : existing.id;
  }
  if (!d || !d.isFeedback) {
    if (existing) {
      await trx.deleteFrom('tags').where('item_id', '=', existing.id).where('provenance', '!=', 'human').execute();
      const humanTags = await trx.selectFrom('tags').select('id').where('item_id', '=', existing.id).executeTakeFirst();
      if (!humanTags) {
        // The item first: a cluster worker holding it (FOR SHARE) makes this wait, and its placement,
        // committed by then, is removed by the next statement.
        await trx.deleteFrom('feedback_items').where('id', '=', existing.id).execute();
        await trx.deleteFrom('cluster_items').where('item_id', '=', existing.id).execute();
        return null;
      }
      return existing.id;
    }
    return null;
  }
  let id: number;
  if (!existing && !(await conversationExists(trx, conversationId))) {
    // Merged into another conversation by a concurrent ingest: that one is enriched in its turn.
    return null;
  }
  if (existing) {
    id = existing.id;
    await trx
      .updateTable('feedback_items')
      .set({ message_id: d.messageId, kind: d.kind, kind_confidence: d.kindConfidence, sentiment: d.sentiment, model_version: d.modelVersion, updated_at: now })
      .where('id', '=', id)
      .execute();
  } else {
    const row = await trx
      .insertInto('feedback_items')
      .values({ conversation_id: conversationId, message_id: d.messageId, kind: d.kind, kind_confidence: d.kindConfidence, sentiment: d.sentiment, status: 'auto', model_version: d.modelVersion, created_at: now, updated_at: now })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    id = row.id;
  }
  await replaceAutoTags(trx, id, d.tags, now);
  return id;
}

async function replaceAutoTags(trx: Kysely<Database>, itemId: number, tags: AutoTag[], now: number): Promise<void> {
  const human = await trx.selectFrom('tags').select(['tag', 'state']).where('item_id', '=', itemId).where('provenance', '=', 'human').execute();
  const removedByHuman = new Set(human.filter((h) => h.state === 'removed').map((h) => h.tag));
  await trx.deleteFrom('tags').where('item_id', '=', itemId).where('provenance', '!=', 'human').execute();
  const keep = tags.filter((t) => !removedByHuman.has(t.tag));
  if (keep.length) {
    await trx
      .insertInto('tags')
      .values(keep.map((t) => ({ item_id: itemId, tag: t.tag, provenance: t.provenance, confidence: t.confidence, version: t.version, actor: null, state: 'active', created_at: now })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}
