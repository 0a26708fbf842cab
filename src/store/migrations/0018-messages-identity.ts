// Migration 0018: mails and forum posts (messages with a subject) by author. The people resolution
// reads, for a page of people, the lists they mailed and the threads they started (readRoleMessages in
// src/store/people.ts); without an index on the author each read passed over every message (0.5-1 s a
// read at a million messages, several reads a stage while an import adds authors). Chat lines have no
// subject and are left out, so storing them costs nothing more; with the channel in the index the
// lists read is answered from the index alone. The condition is the queries' own: both databases use a
// partial index only for a query that states it.
import { sql, type Kysely, type Migration } from 'kysely';

export const m0018: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createIndex('messages_subject_author')
      .on('messages')
      .columns(['identity_id', 'channel_id'])
      .where(sql<boolean>`subject is not null`)
      .execute();
  },
};
