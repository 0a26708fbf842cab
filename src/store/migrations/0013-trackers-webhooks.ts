// Migration 0013 (trackers and webhooks): a cluster's link to an issue in a tracker (one row per
// cluster and tracker: the unique key is what keeps two concurrent pushes to one issue; the claim
// columns let one push work while the other waits), the cluster's resolution as the tracker reports
// it, and the webhook outbox (a delivery survives a crash: it is a row until it is delivered or given up).
import type { Kysely, Migration } from 'kysely';

export const m0013: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('tracker_links')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('cluster_id', 'integer', (c) => c.notNull())
      .addColumn('tracker', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text')
      .addColumn('issue_key', 'text')
      .addColumn('url', 'text')
      .addColumn('state', 'text')
      .addColumn('claim_token', 'text')
      .addColumn('claim_until', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('last_error_code', 'text')
      .addColumn('pushed_at', 'bigint')
      .addColumn('synced_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('tracker_links_cluster_tracker', ['cluster_id', 'tracker'])
      .execute();
    await db.schema
      .createTable('cluster_resolutions')
      .addColumn('cluster_id', 'integer', (c) => c.primaryKey())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reference', 'text')
      .addColumn('reference_url', 'text')
      .addColumn('resolved_at', 'bigint')
      .addColumn('regressed_at', 'bigint')
      .addColumn('regression_items', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('webhook', 'text', (c) => c.notNull())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('event_key', 'text', (c) => c.notNull())
      .addColumn('delivery_id', 'text', (c) => c.notNull().unique())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_until', 'bigint')
      .addColumn('response_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .addUniqueConstraint('webhook_deliveries_event_once', ['webhook', 'event_key'])
      .execute();
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  },
};
