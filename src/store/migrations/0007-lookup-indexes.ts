// Migration 0007: indexes that a million-message store showed missing. Copies are re-pointed by
// `copy_of` (a full scan per folded copy without one; partial, as nearly every message has none);
// mail threads are found by subject across the channels of a list (the 0001 index leads with the
// channel); a cluster's first items by id are read straight off an index.
import { sql, type Kysely, type Migration } from 'kysely';

export const m0007: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.createIndex('messages_copy_of').on('messages').column('copy_of').where(sql.ref('copy_of'), 'is not', null).execute();
    await db.schema.createIndex('conversations_subject_key').on('conversations').columns(['subject_key', 'last_at']).execute();
    await db.schema.createIndex('cluster_items_cluster_item').on('cluster_items').columns(['cluster_id', 'item_id']).execute();
  },
};
