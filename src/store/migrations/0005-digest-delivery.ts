// Migration 0005: the digest's delivery state (a claimed send with a lease, attempts, the last error,
// the recipients and the server's answer), and per-source events the digest's coverage footer reports
// (time spent waiting on rate limits, failed pulls).
import type { Kysely, Migration } from 'kysely';

export const m0005: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('digests').addColumn('send_phase', 'text').execute();
    await db.schema.alterTable('digests').addColumn('lease_until', 'bigint').execute();
    await db.schema.alterTable('digests').addColumn('claim_token', 'text').execute();
    await db.schema
      .alterTable('digests')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('digests').addColumn('last_error', 'text').execute();
    await db.schema.alterTable('digests').addColumn('next_attempt_at', 'bigint').execute();
    await db.schema.alterTable('digests').addColumn('recipients', 'text').execute();
    await db.schema.alterTable('digests').addColumn('smtp_response', 'text').execute();
    await db.schema.alterTable('digests').addColumn('updated_at', 'bigint').execute();
    await db.schema
      .createTable('source_events')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('source_id', 'integer', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull()) // 'rate_limited' | 'pull_failed'
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('duration_ms', 'bigint')
      .addColumn('detail', 'text')
      .execute();
    await db.schema.createIndex('source_events_at').on('source_events').columns(['at', 'source_id']).execute();
  },
};
