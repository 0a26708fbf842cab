// Migration 0009: copies are looked up by their copy key within the hour (`copy_slot`: the hour of
// sent_at, then the copy key), not by the copy key alone. The copy key is a hash: each new message
// landed on a random page of the old (copy_key, sent_at) index, and a 2,000-message batch wrote some
// 1,800 pages of it at its commit (a million-message import: half its commit time, a quarter of its
// insert time). Slots follow time, as a bulk import and a live channel do, so their pages are few.
// Lookups probe a message's hour and the hours either side (see copySlotsAround).
import { sql, type Kysely, type Migration } from 'kysely';

export const m0009: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('messages').addColumn('copy_slot', 'text').execute();
    // The same definition as copySlotOf in src/pipeline/chat-threads.ts (integer division truncates on both databases).
    await sql`UPDATE messages SET copy_slot = CAST(sent_at / 3600000 AS TEXT) || ':' || copy_key WHERE copy_key IS NOT NULL`.execute(db);
    await db.schema.createIndex('messages_copy_slot').on('messages').column('copy_slot').execute();
    await db.schema.dropIndex('messages_copy_key').execute();
  },
};
