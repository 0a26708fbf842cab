// Migration 0004: a one-line summary of a feedback item (written by the optional language model) and
// the version of what wrote it.
import type { Kysely, Migration } from 'kysely';

export const m0004: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('feedback_items').addColumn('summary', 'text').execute();
    await db.schema.alterTable('feedback_items').addColumn('summary_version', 'text').execute();
  },
};
