// Message search: each database's own full-text search (an FTS5 table on SQLite, kept in step by
// syncSearchIndex; a GIN index on the messages' tsvector on PostgreSQL, migration 0017).
import { sql } from 'kysely';
import { getSetting, setSetting } from './accounts.js';
import { isSqlite, w, type Db } from './tables.js';

// Search ------------------------------------------------------------------------------------------

const SEARCH_WATERMARK = 'search.updated_at';
const SEARCH_TEXT_CHARS = 20_000;

/** Brings the FTS5 index up to date with messages inserted, edited or deleted since the last call. */
export async function syncSearchIndex(db: Db): Promise<number> {
  if (!isSqlite(db)) return 0;
  // Keyset watermark "updated_at:id": an insert or an edit moves a message past it.
  const [u0, i0] = ((await getSetting(db, SEARCH_WATERMARK)) ?? '-1:0').split(':').map(Number) as [number, number];
  let u = u0;
  let id = i0;
  let done = 0;
  for (;;) {
    const rows = await db
      .selectFrom('messages')
      .select(['id', 'clean_text', 'deleted', 'copy_of', 'updated_at'])
      .where((eb) => eb.or([eb('updated_at', '>', u), eb.and([eb('updated_at', '=', u), eb('id', '>', id)])]))
      .orderBy('updated_at')
      .orderBy('id')
      .limit(2000)
      .execute();
    if (!rows.length) break;
    const last = rows[rows.length - 1]!;
    u = Number(last.updated_at);
    id = last.id;
    await db.transaction().execute(async (trx) => {
      for (const r of rows) {
        await w(trx).deleteFrom('message_search').where('rowid', '=', r.id).execute();
        if (!r.deleted && r.copy_of == null)
          await w(trx)
            .insertInto('message_search')
            .values({ rowid: r.id, text: r.clean_text.slice(0, SEARCH_TEXT_CHARS) })
            .execute();
      }
      await setSetting(trx, SEARCH_WATERMARK, `${u}:${id}`);
    });
    done += rows.length;
    if (rows.length < 2000) break;
  }
  return done;
}

/** Words of a user's query as an FTS5 expression: each word quoted (no operators), prefix-matched, all required. */
export function ftsQuery(q: string): string | null {
  const words = q.match(/[\p{L}\p{N}_]+/gu)?.slice(0, 12) ?? [];
  if (!words.length) return null;
  return words.map((x) => `"${x.replace(/"/g, '""')}"*`).join(' ');
}

/** The same words as a PostgreSQL tsquery: each a quoted prefix lexeme (no operators), all required. */
export function tsQuery(q: string): string | null {
  const words = q.match(/[\p{L}\p{N}_]+/gu)?.slice(0, 12) ?? [];
  if (!words.length) return null;
  return words.map((x) => `'${x.toLowerCase()}':*`).join(' & ');
}

/** Conversation ids with a message matching the query (FTS5 on SQLite; the GIN index on the tsvector of the text on PostgreSQL: the same expression as the index). */
export async function searchConversations(db: Db, q: string, limit = 5000): Promise<number[]> {
  const text = q.trim();
  if (!text) return [];
  if (isSqlite(db)) {
    await syncSearchIndex(db);
    const expr = ftsQuery(text);
    if (!expr) return [];
    const rows = await sql<{
      conversation_id: number | null;
    }>`SELECT DISTINCT m.conversation_id FROM message_search s JOIN messages m ON m.id = s.rowid WHERE message_search MATCH ${expr} AND m.conversation_id IS NOT NULL LIMIT ${limit}`.execute(db);
    return rows.rows.map((r) => r.conversation_id!).filter((x) => x != null);
  }
  const query = tsQuery(text);
  if (!query) return [];
  const rows = await sql<{
    conversation_id: number;
  }>`SELECT DISTINCT conversation_id FROM messages WHERE to_tsvector('simple', left(clean_text, 20000)) @@ to_tsquery('simple', ${query}) AND deleted = 0 AND copy_of IS NULL AND conversation_id IS NOT NULL LIMIT ${limit}`.execute(
    db,
  );
  return rows.rows.map((r) => r.conversation_id);
}
