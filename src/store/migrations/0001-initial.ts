// Migration 0001: the initial schema.
import type { Kysely, Migration } from 'kysely';

const id = 'integer';

export const m0001: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('sources')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('platform', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('ok'))
      .addColumn('last_pull_at', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('channels')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('source_id', id, (c) => c.notNull().references('sources.id'))
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('first_at', 'bigint')
      .addColumn('last_at', 'bigint')
      .addUniqueConstraint('channels_source_ext', ['source_id', 'external_id'])
      .execute();
    await db.schema
      .createTable('raw_items')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('source_id', id, (c) => c.notNull().references('sources.id'))
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('normalizer_version', 'integer', (c) => c.notNull())
      .addColumn('fetched_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('raw_items_source_ext', ['source_id', 'external_id'])
      .execute();
    await db.schema
      .createTable('people')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('org_id', id)
      .addColumn('is_staff', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('identities')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addColumn('email', 'text')
      .addColumn('is_bot', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('person_id', id, (c) => c.notNull().references('people.id'))
      .addColumn('link_evidence', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('identities_kind_value', ['kind', 'value'])
      .execute();
    await db.schema.createIndex('identities_email').on('identities').column('email').execute();
    await db.schema.createIndex('identities_person').on('identities').column('person_id').execute();
    await db.schema
      .createTable('orgs')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('segment', 'text', (c) => c.notNull())
      .addColumn('domains', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();
    await db.schema
      .createTable('conversations')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('channel_id', id, (c) => c.notNull().references('channels.id'))
      .addColumn('root_message_id', id)
      .addColumn('subject', 'text')
      .addColumn('subject_key', 'text')
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('last_at', 'bigint', (c) => c.notNull())
      .addColumn('message_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('participant_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('conversations_last_at').on('conversations').column('last_at').execute();
    await db.schema.createIndex('conversations_subject').on('conversations').columns(['channel_id', 'subject_key']).execute();
    await db.schema
      .createTable('messages')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('source_id', id, (c) => c.notNull().references('sources.id'))
      .addColumn('channel_id', id, (c) => c.notNull().references('channels.id'))
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('ref_key', 'text', (c) => c.notNull())
      .addColumn('identity_id', id, (c) => c.notNull().references('identities.id'))
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('clean_text', 'text', (c) => c.notNull())
      .addColumn('content_hash', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'bigint', (c) => c.notNull())
      .addColumn('edited_at', 'bigint')
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('is_bot', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('subject', 'text')
      .addColumn('permalink', 'text')
      .addColumn('reactions', 'text')
      .addColumn('attachments', 'text')
      .addColumn('labels', 'text')
      .addColumn('relay', 'text')
      .addColumn('copy_of', id)
      .addColumn('conversation_id', id)
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('messages_source_ext', ['source_id', 'external_id'])
      .execute();
    await db.schema.createIndex('messages_ref_key').on('messages').column('ref_key').execute();
    await db.schema.createIndex('messages_conversation').on('messages').columns(['conversation_id', 'sent_at']).execute();
    await db.schema.createIndex('messages_sent_at').on('messages').column('sent_at').execute();
    await db.schema
      .createTable('message_refs')
      .addColumn('message_id', id, (c) => c.notNull())
      .addColumn('ref_key', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('message_refs_pk', ['message_id', 'ref_key'])
      .execute();
    await db.schema.createIndex('message_refs_ref').on('message_refs').column('ref_key').execute();
    await db.schema
      .createTable('feedback_items')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('conversation_id', id, (c) => c.notNull().unique())
      .addColumn('message_id', id, (c) => c.notNull())
      .addColumn('kind', 'text')
      .addColumn('kind_confidence', 'real')
      .addColumn('sentiment', 'text')
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('auto'))
      .addColumn('model_version', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('tags')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('item_id', id, (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('provenance', 'text', (c) => c.notNull())
      .addColumn('confidence', 'real')
      .addColumn('version', 'text')
      .addColumn('actor', 'text')
      .addColumn('state', 'text', (c) => c.notNull().defaultTo('active'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('tags_item_tag_prov', ['item_id', 'tag', 'provenance'])
      .execute();
    await db.schema.createIndex('tags_tag').on('tags').column('tag').execute();
    await db.schema
      .createTable('clusters')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('pinned_title', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('summary', 'text')
      .addColumn('kind', 'text')
      .addColumn('first_seen', 'bigint')
      .addColumn('last_seen', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('cluster_items')
      .addColumn('cluster_id', id, (c) => c.notNull())
      .addColumn('item_id', id, (c) => c.notNull().unique())
      .addColumn('pinned', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('cluster_items_cluster').on('cluster_items').column('cluster_id').execute();
    await db.schema
      .createTable('digests')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('team', 'text', (c) => c.notNull())
      .addColumn('period_start', 'bigint', (c) => c.notNull())
      .addColumn('period_end', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('json', 'text', (c) => c.notNull())
      .addColumn('html', 'text', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('curation', 'text')
      .addColumn('message_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('approved_at', 'bigint')
      .addColumn('approved_by', 'text')
      .addColumn('sent_at', 'bigint')
      .addUniqueConstraint('digests_team_period', ['team', 'period_start'])
      .execute();
    await db.schema
      .createTable('checkpoints')
      .addColumn('source_id', id, (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('cursor', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('checkpoints_pk', ['source_id', 'key'])
      .execute();
    await db.schema
      .createTable('gaps')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('source_id', id, (c) => c.notNull())
      .addColumn('channel', 'text')
      .addColumn('from_at', 'bigint', (c) => c.notNull())
      .addColumn('to_at', 'bigint')
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('quarantine')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('source_id', id)
      .addColumn('location', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('excerpt', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
