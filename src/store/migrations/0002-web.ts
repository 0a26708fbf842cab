// Migration 0002: the web UI's accounts, sessions, API tokens, login attempts, settings, and (on SQLite)
// an FTS5 index over message text that src/store/web.ts fills incrementally.
import { SqliteAdapter, sql, type Kysely, type Migration } from 'kysely';

export const m0002: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('users')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('disabled_at', 'bigint')
      .execute();
    await db.schema
      .createTable('sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema
      .createTable('login_attempts')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('ip', 'text', (c) => c.notNull())
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('ok', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('login_attempts_ip').on('login_attempts').columns(['ip', 'at']).execute();
    await db.schema.createIndex('login_attempts_user').on('login_attempts').columns(['username', 'at']).execute();
    await db.schema
      .createTable('web_settings')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
    // The search index catches up with edited messages by updated_at.
    await db.schema.createIndex('messages_updated_at').on('messages').column('updated_at').execute();
    if (db.getExecutor().adapter instanceof SqliteAdapter) {
      await sql`CREATE VIRTUAL TABLE message_search USING fts5(text, tokenize = 'unicode61 remove_diacritics 2')`.execute(db);
    } else {
      // PostgreSQL's own search: a generated tsvector kept by the database itself, and a GIN index.
      // 'simple' lower-cases without stemming, as unicode61 does; the text is capped as on SQLite.
      await sql`ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', left(clean_text, 20000))) STORED`.execute(db);
      await sql`CREATE INDEX messages_search ON messages USING gin (search_vector)`.execute(db);
    }
  },
};
