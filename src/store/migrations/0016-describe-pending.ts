// Migration 0016: clusters owe a description (clusters.describe_pending). While items are still waiting
// to be placed (a backlog: an import, a worker catching up), the cluster stage places them and leaves
// the clusters that gained or lost items marked here, to be described once when the backlog is placed,
// instead of again after every batch (a cluster touched by a hundred batches was described a hundred
// times). A counter, not a flag: a describer clears only the count it read, so a mark made while it
// was describing is not lost. The partial index finds the owed ones without reading every cluster.
import { sql, type Kysely, type Migration } from 'kysely';

export const m0016: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .alterTable('clusters')
      .addColumn('describe_pending', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createIndex('clusters_describe_pending')
      .on('clusters')
      .column('id')
      .where(sql<boolean>`describe_pending > 0`)
      .execute();
  },
};
