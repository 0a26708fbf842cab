// Migration 0012: how likely each need group is for a feedback item's report (problem, request,
// question, praise), as the classifier scored it: grouping keeps two items apart by kind only as far
// as their kinds are sure.
import type { Kysely, Migration } from 'kysely';

export const m0012: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('feedback_items').addColumn('kind_groups', 'text').execute();
  },
};
