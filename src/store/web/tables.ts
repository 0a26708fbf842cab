// The web's own tables (accounts, sessions, API tokens, login attempts, settings, the SQLite search
// index) and the handle type the web store modules share.
import { SqliteAdapter, type Generated, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

export type Role = 'viewer' | 'curator' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'curator', 'admin'];

export interface UsersTable {
  id: Generated<number>;
  name: string;
  role: string;
  password_hash: string;
  created_at: number;
  disabled_at: number | null;
}
export interface SessionsTable {
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}
export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}
export interface LoginAttemptsTable {
  id: Generated<number>;
  ip: string;
  username: string;
  at: number;
  ok: number;
}
export interface WebSettingsTable {
  key: string;
  value: string;
}
export interface MessageSearchTable {
  rowid: number;
  text: string;
}
export interface WebDatabase extends Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  login_attempts: LoginAttemptsTable;
  web_settings: WebSettingsTable;
  message_search: MessageSearchTable;
}

export type Db = Kysely<Database>;
export const w = (db: Db): Kysely<WebDatabase> => db as unknown as Kysely<WebDatabase>;

export function isSqlite(db: Db): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}
