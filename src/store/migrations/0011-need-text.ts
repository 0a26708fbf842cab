// Migration 0010: the need's own text of a feedback item (what grouping compares; shown for debugging)
// and the record of automatic cluster merges (which cluster went into which, with its items, so a
// curator can see and undo it).
import type { Kysely, Migration } from 'kysely';

export const m0011: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('feedback_items').addColumn('need_text', 'text').execute();
    await db.schema
      .createTable('cluster_merges')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('into_id', 'integer', (c) => c.notNull())
      .addColumn('from_id', 'integer', (c) => c.notNull())
      .addColumn('item_ids', 'text', (c) => c.notNull())
      .addColumn('score', 'real', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('undone_at', 'bigint')
      .execute();
    await db.schema.createIndex('cluster_merges_into').on('cluster_merges').column('into_id').execute();
  },
};
