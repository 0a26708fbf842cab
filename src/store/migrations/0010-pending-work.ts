// Migration 0010: follow-up work is recorded in the store, not only as jobs. A queued job held in
// memory (in-process runs) dies with its process: an import killed after storing its messages left
// them without feedback detection, and its items without clusters, for good.
// - conversations.enrich_pending: > 0 while the conversation's messages changed since its feedback was
//   last detected (ingest adds one in the batch's transaction; enrich sets it back to 0 when the value
//   it read is still there);
// - feedback_items.cluster_pending: 1 from the item's insert (the default) until the cluster stage has
//   seen it placed.
// Both are indexed partially, over the pending rows only: finding pending work reads just those.
import { sql, type Kysely, type Migration } from 'kysely';

export const m0010: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .alterTable('conversations')
      .addColumn('enrich_pending', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createIndex('conversations_enrich_pending')
      .on('conversations')
      .column('id')
      .where(sql<boolean>`enrich_pending > 0`)
      .execute();
    await db.schema
      .alterTable('feedback_items')
      .addColumn('cluster_pending', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    // Items of an existing store already placed (or set aside by a human) are done; any other is placed
    // by the next run, which also repairs a store an interrupted run left with unplaced items.
    await sql`UPDATE feedback_items SET cluster_pending = 0 WHERE status = 'not_feedback' OR EXISTS (SELECT 1 FROM cluster_items ci WHERE ci.item_id = feedback_items.id)`.execute(db);
    // By conversation: pending items are placed in conversation order, which an interrupted run keeps
    // (item ids follow the order detections were saved in, which does not survive an interruption).
    await db.schema
      .createIndex('feedback_items_cluster_pending')
      .on('feedback_items')
      .column('conversation_id')
      .where(sql<boolean>`cluster_pending = 1`)
      .execute();
  },
};
