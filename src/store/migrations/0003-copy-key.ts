// Migration 0003: conversations' root keys, a channel/time index for threading context, and the
// normalised content key of each message, so that cross-posts, bridge relays and
// pastes of the same text within a time window are linked to the first one and not counted twice.
import type { Kysely, Migration } from 'kysely';

export const m0003: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('messages').addColumn('copy_key', 'text').execute();
    await db.schema.createIndex('messages_copy_key').on('messages').columns(['copy_key', 'sent_at']).execute();
    // The root message's key, so new conversations can be inserted in bulk before their messages.
    await db.schema.alterTable('conversations').addColumn('root_key', 'text').execute();
    // Whether a message is part of its channel's main stream (thread replies live in their threads).
    await db.schema
      .alterTable('messages')
      .addColumn('stream', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema.createIndex('messages_channel_stream_time').on('messages').columns(['channel_id', 'stream', 'sent_at']).execute();
  },
};
