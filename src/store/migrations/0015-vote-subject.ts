// Migration 0015: the vote-thread mails ("[VOTE]", "[RESULT]" subjects) by author, as a partial index.
// The people resolution reads who voted (readVoters) whenever people are unresolved: with workers
// about once a job while an import adds authors, and each read passed over every message (lower()
// of each subject; 130 ms of PostgreSQL CPU at 100k messages). The condition is the text of
// VOTE_SUBJECT in src/store/people.ts without its alias: both databases use a partial index only for
// a query whose condition is the index's own.
import { sql, type Kysely, type Migration } from 'kysely';

export const m0015: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createIndex('messages_vote_subject')
      .on('messages')
      .column('identity_id')
      .where(sql<boolean>`(lower(subject) like '%[vote]%' or lower(subject) like '%[result]%')`)
      .execute();
  },
};
