// Migration 0017 (PostgreSQL; nothing on SQLite): less work per stored message and per ANALYZE.
// - Search reads an expression index on the same tsvector (to_tsvector('simple', left(clean_text, 20000)))
//   instead of a stored generated column with a GIN index on it: the vector is computed once per row
//   for the index either way, but no longer also written into the row (a third of the table's bytes in
//   the e2e bench's 100k messages, written, logged and read by every scan of messages).
// - messages_updated_at goes: only SQLite's search index (an FTS5 table caught up by updated_at) reads it.
// - ANALYZE skips the statistics of text columns no statement filters, joins or groups on (message
//   text, links, reactions, attachments, labels, raw payloads, item texts) and of the search expression:
//   the store analyzes its tables as they grow (src/store/planner-stats.ts), and an ANALYZE of the
//   bench's 100k messages took 0.55-0.68 s with them, 0.3 s without.
import { SqliteAdapter, sql, type Kysely, type Migration } from 'kysely';

export const m0017: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    if (db.getExecutor().adapter instanceof SqliteAdapter) return;
    await sql`DROP INDEX IF EXISTS messages_search`.execute(db);
    await sql`ALTER TABLE messages DROP COLUMN IF EXISTS search_vector`.execute(db);
    await sql`CREATE INDEX messages_search ON messages USING gin (to_tsvector('simple', left(clean_text, 20000)))`.execute(db);
    await sql`ALTER INDEX messages_search ALTER COLUMN 1 SET STATISTICS 0`.execute(db);
    await sql`DROP INDEX IF EXISTS messages_updated_at`.execute(db);
    await sql`ALTER TABLE messages ALTER COLUMN text SET STATISTICS 0, ALTER COLUMN clean_text SET STATISTICS 0, ALTER COLUMN permalink SET STATISTICS 0, ALTER COLUMN reactions SET STATISTICS 0, ALTER COLUMN attachments SET STATISTICS 0, ALTER COLUMN labels SET STATISTICS 0`.execute(
      db,
    );
    await sql`ALTER TABLE raw_items ALTER COLUMN payload SET STATISTICS 0`.execute(db);
    await sql`ALTER TABLE feedback_items ALTER COLUMN need_text SET STATISTICS 0, ALTER COLUMN summary SET STATISTICS 0`.execute(db);
  },
};
