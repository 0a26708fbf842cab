// Migration 0014 (out): a curator's resolution of a cluster, the digest's chat posts (one row per edition
// and destination: the claim that makes a post happen once) and the loop's replies (one draft per
// cluster and source thread, claimed the same way when it is sent).
import type { Kysely, Migration } from 'kysely';

export const m0014: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('clusters').addColumn('resolved_at', 'bigint').execute();
    await db.schema.alterTable('clusters').addColumn('resolved_by', 'text').execute();
    await db.schema.alterTable('clusters').addColumn('resolution', 'text').execute();
    await db.schema.alterTable('clusters').addColumn('resolution_url', 'text').execute();
    await db.schema
      .createTable('digest_posts')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('digest_id', 'integer', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('platform', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull()) // pending | sending | sent | failed | unknown
      .addColumn('phase', 'text') // claimed | transmitting
      .addColumn('claim_token', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('external_id', 'text') // Slack ts, Discord message id, Matrix event id
      .addColumn('posted_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('digest_posts_once', ['digest_id', 'source', 'channel'])
      .execute();
    await db.schema
      .createTable('loop_replies')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('cluster_id', 'integer', (c) => c.notNull())
      .addColumn('conversation_id', 'integer', (c) => c.notNull())
      .addColumn('source_id', 'integer', (c) => c.notNull())
      .addColumn('platform', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull()) // JSON: where the reply goes (thread, message, mail headers)
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull()) // draft | approved | sending | sent | failed | unknown | dismissed
      .addColumn('phase', 'text')
      .addColumn('claim_token', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('external_id', 'text')
      .addColumn('link', 'text')
      .addColumn('approved_by', 'text')
      .addColumn('approved_at', 'bigint')
      .addColumn('sent_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('loop_replies_once', ['cluster_id', 'conversation_id'])
      .execute();
    await db.schema.createIndex('loop_replies_status').on('loop_replies').columns(['status', 'cluster_id']).execute();
  },
};
