// The web UI's store: accounts, sessions, API tokens, login attempts, and the read queries behind the
// pages (clusters, items, people, sources, digests), plus people merge/unmerge and digest approval.
// Kysely only; written to run on PostgreSQL too, except message search, which uses each database's own
// full-text search (an FTS5 table on SQLite, a generated tsvector column on PostgreSQL).
import { sql, SqliteAdapter, type ExpressionBuilder, type Generated, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { InputError, NotFoundError } from '../errors.js';

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

type Db = Kysely<Database>;
const w = (db: Db): Kysely<WebDatabase> => db as unknown as Kysely<WebDatabase>;


// Settings ----------------------------------------------------------------------------------------

export async function getSetting(db: Db, key: string): Promise<string | null> {
  const r = await w(db).selectFrom('web_settings').select('value').where('key', '=', key).executeTakeFirst();
  return r?.value ?? null;
}

export async function setSetting(db: Db, key: string, value: string): Promise<void> {
  await w(db)
    .insertInto('web_settings')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

/** Returns the stored value, or stores `make()` when there is none (first writer wins). */
export async function getOrCreateSetting(db: Db, key: string, make: () => string): Promise<string> {
  await w(db)
    .insertInto('web_settings')
    .values({ key, value: make() })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return (await getSetting(db, key))!;
}

// Users -------------------------------------------------------------------------------------------

export interface User {
  id: number;
  name: string;
  role: Role;
  createdAt: number;
  disabled: boolean;
}

function toUser(r: { id: number; name: string; role: string; created_at: number; disabled_at: number | null }): User {
  return { id: r.id, name: r.name, role: asRole(r.role), createdAt: Number(r.created_at), disabled: r.disabled_at != null };
}

export function asRole(s: string): Role {
  if ((ROLES as readonly string[]).includes(s)) return s as Role;
  throw new InputError(`unknown role ${JSON.stringify(s)}; roles: ${ROLES.join(', ')}`);
}

export function validUserName(name: string): string {
  const n = name.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/.test(n)) throw new InputError(`not a valid user name: ${JSON.stringify(name)} (letters, digits, _ . @ -; at most 64 characters)`);
  return n;
}

export async function createUser(db: Db, name: string, role: Role, passwordHash: string, now: number): Promise<User> {
  const n = validUserName(name);
  const exists = await w(db).selectFrom('users').select('id').where('name', '=', n).executeTakeFirst();
  if (exists) throw new InputError(`a user named ${n} exists already`);
  const r = await w(db).insertInto('users').values({ name: n, role, password_hash: passwordHash, created_at: now, disabled_at: null }).returningAll().executeTakeFirstOrThrow();
  return toUser(r);
}

/** Deletes the user's sessions and revokes their API tokens: they are out at once, everywhere. */
async function endUserAccess(db: Db, userId: number, now: number): Promise<void> {
  await w(db).deleteFrom('sessions').where('user_id', '=', userId).execute();
  await w(db).updateTable('api_tokens').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
}

async function userRow(db: Db, userId: number): Promise<{ id: number; name: string; role: string; disabled_at: number | null }> {
  const u = await w(db).selectFrom('users').select(['id', 'name', 'role', 'disabled_at']).where('id', '=', userId).executeTakeFirst();
  if (!u) throw new NotFoundError(`user ${userId}`);
  return u;
}

/** Refuses a change that would leave no enabled admin: nobody could manage the accounts any more. */
async function keepAnAdmin(db: Db, what: string): Promise<void> {
  const r = await w(db).selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').where('disabled_at', 'is', null).executeTakeFirstOrThrow();
  if (Number(r.n) === 0) throw new InputError(`cannot ${what}: it would leave no enabled admin (make another user admin first)`);
}

/** A new password hash; the user's sessions and API tokens end at once. */
export async function setUserPassword(db: Db, userId: number, passwordHash: string, now: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await userRow(trx, userId);
    await w(trx).updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
    await endUserAccess(trx, userId, now);
  });
}

export async function setUserRole(db: Db, userId: number, role: Role): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const u = await userRow(trx, userId);
    await w(trx).updateTable('users').set({ role }).where('id', '=', userId).execute();
    if (u.role === 'admin' && role !== 'admin') await keepAnAdmin(trx, `make ${u.name} ${role}`);
  });
}

/** Disables (sessions and tokens end at once) or enables a user. */
export async function setUserDisabled(db: Db, userId: number, disabled: boolean, now: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const u = await userRow(trx, userId);
    await w(trx).updateTable('users').set({ disabled_at: disabled ? (u.disabled_at ?? now) : null }).where('id', '=', userId).execute();
    if (disabled) {
      await endUserAccess(trx, userId, now);
      await keepAnAdmin(trx, `disable ${u.name}`);
    }
  });
}

/** Removes a user with their sessions and API tokens (what they did stays, under their name). */
export async function removeUser(db: Db, userId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const u = await userRow(trx, userId);
    await w(trx).deleteFrom('sessions').where('user_id', '=', userId).execute();
    await w(trx).deleteFrom('api_tokens').where('user_id', '=', userId).execute();
    await w(trx).deleteFrom('users').where('id', '=', userId).execute();
    await keepAnAdmin(trx, `remove ${u.name}`);
  });
}

export async function userById(db: Db, userId: number): Promise<User | null> {
  const r = await w(db).selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  return r ? toUser(r) : null;
}

export async function userByName(db: Db, name: string): Promise<(User & { passwordHash: string }) | null> {
  const r = await w(db).selectFrom('users').selectAll().where('name', '=', name.trim()).executeTakeFirst();
  return r ? { ...toUser(r), passwordHash: r.password_hash } : null;
}

export async function listUsers(db: Db): Promise<User[]> {
  const rows = await w(db).selectFrom('users').selectAll().orderBy('name').execute();
  return rows.map(toUser);
}

// Sessions ----------------------------------------------------------------------------------------

export interface SessionRecord {
  user: User;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export async function createSession(db: Db, idHash: string, userId: number, csrfToken: string, now: number, expiresAt: number): Promise<void> {
  await w(db).insertInto('sessions').values({ id_hash: idHash, user_id: userId, csrf_token: csrfToken, created_at: now, last_seen_at: now, expires_at: expiresAt }).execute();
}

/** The live session with this id hash (expired ones are deleted on sight). */
export async function findSession(db: Db, idHash: string, now: number): Promise<SessionRecord | null> {
  const r = await w(db)
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.csrf_token', 's.created_at as s_created', 's.last_seen_at', 's.expires_at', 'u.id', 'u.name', 'u.role', 'u.created_at', 'u.disabled_at'])
    .where('s.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!r) return null;
  if (Number(r.expires_at) <= now || r.disabled_at != null) {
    await deleteSession(db, idHash);
    return null;
  }
  return { user: toUser(r), csrfToken: r.csrf_token, createdAt: Number(r.s_created), lastSeenAt: Number(r.last_seen_at), expiresAt: Number(r.expires_at) };
}

export async function touchSession(db: Db, idHash: string, now: number, expiresAt: number): Promise<void> {
  await w(db).updateTable('sessions').set({ last_seen_at: now, expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await w(db).deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

export async function deleteExpiredSessions(db: Db, now: number): Promise<number> {
  const r = await w(db).deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}

// API tokens --------------------------------------------------------------------------------------

export async function createApiToken(db: Db, userId: number, name: string, tokenHash: string, now: number): Promise<number> {
  const r = await w(db).insertInto('api_tokens').values({ user_id: userId, name, token_hash: tokenHash, created_at: now, last_used_at: null, revoked_at: null }).returning(['id']).executeTakeFirstOrThrow();
  return r.id;
}

export async function userForApiToken(db: Db, tokenHash: string, now: number): Promise<User | null> {
  const r = await w(db)
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['t.id as token_id', 't.last_used_at', 'u.id', 'u.name', 'u.role', 'u.created_at', 'u.disabled_at'])
    .where('t.token_hash', '=', tokenHash)
    .where('t.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!r || r.disabled_at != null) return null;
  // Record use at most once a minute: a busy client should not turn every read into a write.
  if (r.last_used_at == null || now - Number(r.last_used_at) > 60_000) await w(db).updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', r.token_id).execute();
  return toUser(r);
}

export async function listApiTokens(db: Db, userId: number): Promise<Array<{ id: number; name: string; createdAt: number; lastUsedAt: number | null; revoked: boolean }>> {
  const rows = await w(db).selectFrom('api_tokens').select(['id', 'name', 'created_at', 'last_used_at', 'revoked_at']).where('user_id', '=', userId).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: Number(r.created_at), lastUsedAt: r.last_used_at == null ? null : Number(r.last_used_at), revoked: r.revoked_at != null }));
}

/** Revokes a token; `userId` limits it to that user's own tokens (null: any user's, for admins). */
export async function revokeApiToken(db: Db, userId: number | null, tokenId: number, now: number): Promise<void> {
  let q = w(db).updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', tokenId).where('revoked_at', 'is', null);
  if (userId != null) q = q.where('user_id', '=', userId);
  const r = await q.executeTakeFirst();
  if (!Number(r.numUpdatedRows)) throw new NotFoundError(`API token ${tokenId} (or it is revoked already)`);
}

export interface ApiTokenRow {
  id: number;
  userId: number;
  userName: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  revoked: boolean;
}

/** Every user's API tokens (for admins), by user name then id. */
export async function listAllApiTokens(db: Db): Promise<ApiTokenRow[]> {
  const rows = await w(db)
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['t.id', 't.user_id', 'u.name as user_name', 't.name', 't.created_at', 't.last_used_at', 't.revoked_at'])
    .orderBy('u.name')
    .orderBy('t.id')
    .execute();
  return rows.map((r) => ({ id: r.id, userId: r.user_id, userName: r.user_name, name: r.name, createdAt: Number(r.created_at), lastUsedAt: r.last_used_at == null ? null : Number(r.last_used_at), revoked: r.revoked_at != null }));
}

// Login attempts ----------------------------------------------------------------------------------

/**
 * Failed attempts in the window, for one login. An attempt is recorded as failed when it is reserved
 * (before the password is checked) and turned into a success afterwards, so attempts still being
 * checked count. A success ends the run of failures for its user name (the older rows stay, as the
 * trail, but no longer count); the count per IP runs over the whole window.
 */
export interface FailedLogins {
  /** For this user name, from any address, since its last success. */
  byUser: number;
  /** From this address, for any user name. */
  byIp: number;
  /** For this user name from this address, since the name's last success. */
  byIpUser: number;
  oldestByUser: number | null;
  oldestByIp: number | null;
  oldestByIpUser: number | null;
}

/** Failed (or still being checked) attempts since `since`, by user name, by IP and by both. */
export async function failedLogins(db: Db, ip: string, username: string, since: number): Promise<FailedLogins> {
  const name = username.slice(0, 200);
  const lastOk = await w(db)
    .selectFrom('login_attempts')
    .select((eb) => eb.fn.max<number>('id').as('id'))
    .where('username', '=', name)
    .where('ok', '=', 1)
    .where('at', '>=', since)
    .executeTakeFirst();
  const afterId = lastOk?.id == null ? 0 : Number(lastOk.id);
  const count = (filter: { ip?: string; username?: string; afterId?: number }) => {
    let q = w(db)
      .selectFrom('login_attempts')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min<number>('at').as('oldest')])
      .where('ok', '=', 0)
      .where('at', '>=', since);
    if (filter.ip !== undefined) q = q.where('ip', '=', filter.ip);
    if (filter.username !== undefined) q = q.where('username', '=', filter.username);
    if (filter.afterId) q = q.where('id', '>', filter.afterId);
    return q.executeTakeFirstOrThrow();
  };
  const u = await count({ username: name, afterId });
  const i = await count({ ip });
  const iu = await count({ ip, username: name, afterId });
  const oldest = (r: { oldest: number | null }) => (r.oldest == null ? null : Number(r.oldest));
  return { byUser: Number(u.n), byIp: Number(i.n), byIpUser: Number(iu.n), oldestByUser: oldest(u), oldestByIp: oldest(i), oldestByIpUser: oldest(iu) };
}

/**
 * Check and record in one step: counts the failed attempts and, when `allow` says so, records this
 * attempt as failed (the caller confirms it after checking the password). Serialized with every other
 * reservation (SQLite's write lock; a transaction-scoped advisory lock on PostgreSQL), so parallel
 * logins cannot all pass the check before any of them is recorded.
 */
export async function reserveLoginAttempt(db: Db, ip: string, username: string, now: number, since: number, allow: (c: FailedLogins) => boolean): Promise<{ attemptId: number | null; counts: FailedLogins }> {
  return db.transaction().execute(async (trx) => {
    if (!isSqlite(db)) await sql`SELECT pg_advisory_xact_lock(hashtext('gleaner.login_attempts'))`.execute(trx);
    const counts = await failedLogins(trx, ip, username, since);
    if (!allow(counts)) return { attemptId: null, counts };
    const r = await w(trx).insertInto('login_attempts').values({ ip, username: username.slice(0, 200), at: now, ok: 0 }).returning('id').executeTakeFirstOrThrow();
    return { attemptId: r.id, counts };
  });
}

/** Marks a reserved attempt as a success (the failures before it stay as the trail). */
export async function confirmLoginAttempt(db: Db, attemptId: number): Promise<void> {
  await w(db).updateTable('login_attempts').set({ ok: 1 }).where('id', '=', attemptId).execute();
}

export async function recordLoginAttempt(db: Db, ip: string, username: string, ok: boolean, now: number): Promise<void> {
  await w(db).insertInto('login_attempts').values({ ip, username: username.slice(0, 200), at: now, ok: ok ? 1 : 0 }).execute();
}

export async function pruneLoginAttempts(db: Db, before: number): Promise<number> {
  const r = await w(db).deleteFrom('login_attempts').where('at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

// Search ------------------------------------------------------------------------------------------

const SEARCH_WATERMARK = 'search.updated_at';
const SEARCH_TEXT_CHARS = 20_000;

function isSqlite(db: Db): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

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
        if (!r.deleted && r.copy_of == null) await w(trx).insertInto('message_search').values({ rowid: r.id, text: r.clean_text.slice(0, SEARCH_TEXT_CHARS) }).execute();
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

/** Conversation ids with a message matching the query (FTS5 on SQLite; the tsvector column and its GIN index on PostgreSQL). */
export async function searchConversations(db: Db, q: string, limit = 5000): Promise<number[]> {
  const text = q.trim();
  if (!text) return [];
  if (isSqlite(db)) {
    await syncSearchIndex(db);
    const expr = ftsQuery(text);
    if (!expr) return [];
    const rows = await sql<{ conversation_id: number | null }>`SELECT DISTINCT m.conversation_id FROM message_search s JOIN messages m ON m.id = s.rowid WHERE message_search MATCH ${expr} AND m.conversation_id IS NOT NULL LIMIT ${limit}`.execute(db);
    return rows.rows.map((r) => r.conversation_id!).filter((x) => x != null);
  }
  const query = tsQuery(text);
  if (!query) return [];
  const rows = await sql<{ conversation_id: number }>`SELECT DISTINCT conversation_id FROM messages WHERE search_vector @@ to_tsquery('simple', ${query}) AND deleted = 0 AND copy_of IS NULL AND conversation_id IS NOT NULL LIMIT ${limit}`.execute(db);
  return rows.rows.map((r) => r.conversation_id);
}

// Shared shapes -----------------------------------------------------------------------------------

export type Trend = 'new' | 'rising' | 'steady' | 'falling' | 'resurfaced';

/** The filters every list of feedback offers (items, clusters). */
export interface FeedbackFilter {
  kind?: string;
  tag?: string;
  area?: string;
  channel?: string;
  platform?: string;
  segment?: string;
  /** Full-text search. */
  q?: string;
}

export interface ListFilter extends FeedbackFilter {
  trend?: string;
  /** Days back from the latest message; null for all time. */
  periodDays?: number | null;
  sort?: 'score' | 'recent';
  limit?: number;
  offset?: number;
}

export interface Reporter {
  personId: number;
  name: string;
  org: string | null;
  segment: string;
}

interface ItemFact {
  clusterId: number | null;
  itemId: number;
  conversationId: number;
  kind: string | null;
  at: number;
  personId: number;
  personName: string;
  isStaff: boolean;
  org: string | null;
  segment: string | null;
  channel: string;
  platform: string;
}

const DAY_MS = 86_400_000;

function segmentOf(f: { isStaff: boolean; segment: string | null }): string {
  if (f.isStaff) return 'staff';
  return f.segment ?? 'community';
}

/** When the latest message was sent (now when there is none): the web's periods end there. */
export async function latestAt(db: Db): Promise<number> {
  const r = await db.selectFrom('messages').select((eb) => eb.fn.max<number>('sent_at').as('t')).executeTakeFirst();
  return r?.t == null ? Date.now() : Number(r.t);
}

/** Item facts (one row per feedback item, its report message's author, org, channel, platform). */
async function itemFacts(db: Db, where: { clusterIds?: number[]; itemIds?: number[]; clustered: boolean }): Promise<ItemFact[]> {
  let q = db
    .selectFrom('feedback_items as f')
    .innerJoin('messages as m', 'm.id', 'f.message_id')
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .innerJoin('sources as s', 's.id', 'ch.source_id')
    .innerJoin('identities as i', 'i.id', 'm.identity_id')
    .innerJoin('people as p', 'p.id', 'i.person_id')
    .leftJoin('orgs as o', 'o.id', 'p.org_id')
    .leftJoin('cluster_items as ci', 'ci.item_id', 'f.id')
    .select(['ci.cluster_id', 'f.id', 'f.conversation_id', 'f.kind', 'm.sent_at', 'p.id as person_id', 'p.display_name', 'p.is_staff', 'o.name as org', 'o.segment', 'ch.name as channel', 'ch.external_id', 's.platform'])
    .where('f.status', '!=', 'not_feedback');
  if (where.clustered) q = q.where('ci.cluster_id', 'is not', null);
  if (where.clusterIds) q = where.clusterIds.length ? q.where('ci.cluster_id', 'in', where.clusterIds) : q.where(sql<boolean>`1 = 0`);
  if (where.itemIds) q = where.itemIds.length ? q.where('f.id', 'in', where.itemIds) : q.where(sql<boolean>`1 = 0`);
  const rows = await q.execute();
  return rows.map((r) => ({
    clusterId: r.cluster_id ?? null,
    itemId: r.id,
    conversationId: r.conversation_id,
    kind: r.kind,
    at: Number(r.sent_at),
    personId: r.person_id,
    personName: r.display_name,
    isStaff: r.is_staff === 1,
    org: r.org ?? null,
    segment: r.segment ?? null,
    channel: r.channel ?? r.external_id,
    platform: r.platform,
  }));
}

/** Item ids passing the item-level filters (tag, area, channel, platform, segment, search). null: no such filter. */
async function filteredItemIds(db: Db, f: ListFilter): Promise<Set<number> | null> {
  const any = f.tag || f.area || f.channel || f.platform || f.segment || f.q;
  if (!any) return null;
  let q = db
    .selectFrom('feedback_items as f')
    .innerJoin('messages as m', 'm.id', 'f.message_id')
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .innerJoin('sources as s', 's.id', 'ch.source_id')
    .innerJoin('identities as i', 'i.id', 'm.identity_id')
    .innerJoin('people as p', 'p.id', 'i.person_id')
    .leftJoin('orgs as o', 'o.id', 'p.org_id')
    .select('f.id')
    .where('f.status', '!=', 'not_feedback');
  const activeTag = (tag: string, provenance?: string) =>
    q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('tags as t')
          .select('t.id')
          .whereRef('t.item_id', '=', 'f.id')
          .where('t.tag', '=', tag)
          .where('t.state', '=', 'active')
          .$if(provenance !== undefined, (qq) => qq.where('t.provenance', '=', provenance!)),
      ),
    );
  if (f.tag) q = activeTag(f.tag);
  if (f.area) q = activeTag(f.area, 'rule');
  if (f.channel) q = q.where((eb) => eb.or([eb('ch.name', '=', f.channel!), eb('ch.external_id', '=', f.channel!)]));
  if (f.platform) q = q.where('s.platform', '=', f.platform);
  if (f.segment) {
    if (f.segment === 'staff') q = q.where('p.is_staff', '=', 1);
    else if (f.segment === 'community') q = q.where('p.is_staff', '=', 0).where('o.segment', 'is', null);
    else q = q.where('p.is_staff', '=', 0).where('o.segment', '=', f.segment);
  }
  if (f.q) {
    const convs = await searchConversations(db, f.q);
    if (!convs.length) return new Set();
    q = q.where('f.conversation_id', 'in', convs);
  }
  const rows = await q.execute();
  return new Set(rows.map((r) => r.id));
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

const ymd = (t: number) => new Date(t).toISOString().slice(0, 10);

export interface ListResult<T> {
  rows: T[];
  total: number;
  periodStart: number | null;
  periodEnd: number;
}

function periodBounds(end: number, days: number | null | undefined): number | null {
  return days == null ? null : end - days * DAY_MS;
}

function sortRows<T extends { score: number; lastSeen: number | null; id: number }>(rows: T[], sort: ListFilter['sort']): void {
  if (sort === 'recent') rows.sort((a, b) => (b.lastSeen ?? 0) - (a.lastSeen ?? 0) || b.id - a.id);
  else rows.sort((a, b) => b.score - a.score || (b.lastSeen ?? 0) - (a.lastSeen ?? 0) || b.id - a.id);
}

export async function clusterCount(db: Db): Promise<number> {
  const r = await db.selectFrom('clusters').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Until clusters exist: feedback items (one per conversation) as rows of the same shape. */
export interface ItemRow {
  id: number;
  conversationId: number;
  title: string;
  kind: string | null;
  status: string;
  sentence: string;
  reporters: Reporter[];
  reporterCount: number;
  mentions: number;
  channels: string[];
  trend: Trend | null;
  score: number;
  lastSeen: number | null;
  firstSeen: number | null;
  clusterId: number | null;
}

export async function listItems(db: Db, f: ListFilter, weights: Record<string, number> = {}): Promise<ListResult<ItemRow>> {
  const end = (await latestAt(db)) + 1;
  const periodStart = periodBounds(end, f.periodDays);
  const matchItems = await filteredItemIds(db, f);
  let iq = db
    .selectFrom('feedback_items as f')
    .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
    .innerJoin('messages as m', 'm.id', 'f.message_id')
    .leftJoin('cluster_items as ci', 'ci.item_id', 'f.id')
    .select(['f.id', 'f.conversation_id', 'f.kind', 'f.status', 'c.subject', 'c.started_at', 'c.last_at', 'c.message_count', 'm.clean_text', 'ci.cluster_id'])
    .where('f.status', '!=', 'not_feedback');
  if (f.kind) iq = iq.where('f.kind', '=', f.kind);
  if (periodStart != null) iq = iq.where('c.last_at', '>=', periodStart);
  let items = await iq.execute();
  if (matchItems) items = items.filter((i) => matchItems.has(i.id));
  const participants = await conversationParticipants(db, items.map((i) => i.conversation_id));
  const facts = await itemFacts(db, { clustered: false, itemIds: items.map((i) => i.id) });
  const factById = new Map(facts.map((x) => [x.itemId, x]));
  const out: ItemRow[] = [];
  for (const i of items) {
    const fact = factById.get(i.id);
    const reporters = participants.get(i.conversation_id) ?? [];
    const segments: Record<string, number> = {};
    for (const r of reporters) segments[r.segment] = (segments[r.segment] ?? 0) + 1;
    const channels = fact ? [fact.channel] : [];
    const firstSeen = Number(i.started_at);
    const lastSeen = Number(i.last_at);
    let score = 0;
    for (const r of reporters) if (r.segment !== 'staff') score += weights[r.segment] ?? 1;
    score += 0.25 * Number(i.message_count);
    const row: ItemRow = {
      id: i.id,
      conversationId: i.conversation_id,
      title: itemTitle(i.subject, i.clean_text),
      kind: i.kind,
      status: i.status,
      sentence: `${plural(reporters.length, 'person', 'people')}${Object.keys(segments).length ? ` (${Object.entries(segments).map(([s, n]) => `${n} ${s}`).join(', ')})` : ''} in ${plural(Number(i.message_count), 'message', 'messages')}${channels.length ? ` in ${channels.join(', ')}` : ''}, ${ymd(firstSeen)}${ymd(firstSeen) === ymd(lastSeen) ? '' : ` to ${ymd(lastSeen)}`}.`,
      reporters,
      reporterCount: reporters.length,
      mentions: 1,
      channels,
      trend: null,
      score: Math.round(score * 100) / 100,
      lastSeen,
      firstSeen,
      clusterId: i.cluster_id ?? null,
    };
    if (f.trend) continue; // trends are a property of clusters
    out.push(row);
  }
  sortRows(out, f.sort);
  const offset = f.offset ?? 0;
  return { rows: out.slice(offset, offset + (f.limit ?? 50)), total: out.length, periodStart, periodEnd: end };
}

export function itemTitle(subject: string | null, text: string): string {
  const s = subject?.replace(/^\s*((re|fwd?|aw)\s*:\s*)+/i, '').trim();
  const base = s || text.replace(/\s+/g, ' ').trim().split(/(?<=[.!?])\s/)[0] || '(untitled)';
  return base.length > 120 ? `${base.slice(0, 119)}…` : base;
}

async function conversationParticipants(db: Db, conversationIds: number[]): Promise<Map<number, Reporter[]>> {
  const out = new Map<number, Reporter[]>();
  for (let i = 0; i < conversationIds.length; i += 500) {
    const part = conversationIds.slice(i, i + 500);
    const rows = await db
      .selectFrom('messages as m')
      .innerJoin('identities as i', 'i.id', 'm.identity_id')
      .innerJoin('people as p', 'p.id', 'i.person_id')
      .leftJoin('orgs as o', 'o.id', 'p.org_id')
      .select(['m.conversation_id', 'p.id', 'p.display_name', 'p.is_staff', 'o.name as org', 'o.segment'])
      .distinct()
      .where('m.conversation_id', 'in', part)
      .where('m.is_bot', '=', 0)
      .where('m.deleted', '=', 0)
      .where('m.copy_of', 'is', null)
      .execute();
    for (const r of rows) {
      const list = out.get(r.conversation_id!) ?? [];
      if (!list.some((x) => x.personId === r.id)) list.push({ personId: r.id, name: r.display_name, org: r.org ?? null, segment: segmentOf({ isStaff: r.is_staff === 1, segment: r.segment ?? null }) });
      out.set(r.conversation_id!, list);
    }
  }
  return out;
}

/** Values for the filter menus. */
export async function filterOptions(db: Db): Promise<{ kinds: string[]; tags: string[]; areas: string[]; channels: string[]; platforms: string[]; segments: string[] }> {
  const kinds = await db.selectFrom('feedback_items').select('kind').distinct().where('kind', 'is not', null).orderBy('kind').execute();
  const tags = await db.selectFrom('tags').select(['tag', 'provenance']).distinct().where('state', '=', 'active').orderBy('tag').limit(2000).execute();
  const channels = await db.selectFrom('channels').select(['name', 'external_id']).orderBy('name').limit(2000).execute();
  const platforms = await db.selectFrom('sources').select('platform').distinct().orderBy('platform').execute();
  const segs = await db.selectFrom('orgs').select('segment').distinct().orderBy('segment').execute();
  return {
    kinds: kinds.map((k) => k.kind!),
    tags: [...new Set(tags.filter((t) => !t.tag.startsWith('kind:')).map((t) => t.tag))],
    areas: [...new Set(tags.filter((t) => t.provenance === 'rule').map((t) => t.tag))],
    channels: [...new Set(channels.map((c) => c.name ?? c.external_id))],
    platforms: platforms.map((p) => p.platform),
    segments: [...new Set(['community', ...segs.map((s) => s.segment)])].sort(), // staff and bots are never reporters
  };
}

// One cluster / one item --------------------------------------------------------------------------

export interface MessageView {
  id: number;
  author: string;
  personId: number;
  text: string;
  at: number;
  url: string | null;
  isBot: boolean;
}

export interface ConversationView {
  id: number;
  itemId: number;
  title: string;
  channel: string;
  source: string;
  platform: string;
  kind: string | null;
  status: string;
  pinned: boolean;
  tags: Array<{ tag: string; provenance: string; confidence: number | null; state: string }>;
  messages: MessageView[];
  moreMessages: number;
}

const MESSAGES_PER_CONVERSATION = 30;

export async function conversationsForItems(db: Db, itemIds: number[]): Promise<ConversationView[]> {
  if (!itemIds.length) return [];
  const items = await db
    .selectFrom('feedback_items as f')
    .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
    .innerJoin('channels as ch', 'ch.id', 'c.channel_id')
    .innerJoin('sources as s', 's.id', 'ch.source_id')
    .innerJoin('messages as rm', 'rm.id', 'f.message_id')
    .leftJoin('cluster_items as ci', 'ci.item_id', 'f.id')
    .select(['f.id', 'f.conversation_id', 'f.kind', 'f.status', 'c.subject', 'ch.name as channel', 'ch.external_id', 's.name as source', 's.platform', 'rm.clean_text', 'rm.sent_at', 'ci.pinned'])
    .where('f.id', 'in', itemIds)
    .orderBy('rm.sent_at', 'desc')
    .execute();
  const tags = await db.selectFrom('tags').select(['item_id', 'tag', 'provenance', 'confidence', 'state']).where('item_id', 'in', itemIds).orderBy('tag').execute();
  const out: ConversationView[] = [];
  for (const i of items) {
    const msgs = await db
      .selectFrom('messages as m')
      .innerJoin('identities as idn', 'idn.id', 'm.identity_id')
      .innerJoin('people as p', 'p.id', 'idn.person_id')
      .select(['m.id', 'p.display_name', 'p.id as person_id', 'm.clean_text', 'm.text', 'm.sent_at', 'm.permalink', 'm.is_bot'])
      .where('m.conversation_id', '=', i.conversation_id)
      .where('m.copy_of', 'is', null)
      .where('m.deleted', '=', 0)
      .orderBy('m.sent_at')
      .orderBy('m.id')
      .limit(MESSAGES_PER_CONVERSATION + 1)
      .execute();
    const total = msgs.length > MESSAGES_PER_CONVERSATION ? Number((await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('conversation_id', '=', i.conversation_id).where('copy_of', 'is', null).where('deleted', '=', 0).executeTakeFirstOrThrow()).n) : msgs.length;
    out.push({
      id: i.conversation_id,
      itemId: i.id,
      title: itemTitle(i.subject, i.clean_text),
      channel: i.channel ?? i.external_id,
      source: i.source,
      platform: i.platform,
      kind: i.kind,
      status: i.status,
      pinned: i.pinned === 1,
      tags: tags.filter((t) => t.item_id === i.id).map((t) => ({ tag: t.tag, provenance: t.provenance, confidence: t.confidence, state: t.state })),
      messages: msgs.slice(0, MESSAGES_PER_CONVERSATION).map((m) => ({ id: m.id, author: m.display_name, personId: m.person_id, text: m.clean_text || m.text, at: Number(m.sent_at), url: m.permalink, isBot: m.is_bot === 1 })),
      moreMessages: Math.max(0, total - MESSAGES_PER_CONVERSATION),
    });
  }
  return out;
}

/** The SQL side of the cluster list: which clusters can match (the exact figures are the digest's, see src/web/clusters.ts). */
/** channel / platform / segment: clusters with a message there or by someone of it (a superset; the caller narrows to reporters). */
export interface ClusterCandidateFilter extends FeedbackFilter {
  /** Clusters with a message in [activeFrom, activeTo). */
  activeFrom?: number;
  activeTo?: number;
}

/** Ids of clusters passing the filters, in id order: filtered in the database, nothing aggregated here. */
export async function clusterCandidates(db: Db, f: ClusterCandidateFilter): Promise<number[]> {
  let q = db.selectFrom('clusters as c').select('c.id');
  if (f.kind) q = q.where('c.kind', '=', f.kind);
  const items = (eb: ExpressionBuilder<Database & { c: Database['clusters'] }, 'c'>) =>
    eb.selectFrom('cluster_items as ci').innerJoin('feedback_items as fi', 'fi.id', 'ci.item_id').select('ci.item_id').whereRef('ci.cluster_id', '=', 'c.id').where('fi.status', '!=', 'not_feedback');
  const withTag = (tag: string, provenance?: string) =>
    q.where((eb) =>
      eb.exists(
        items(eb)
          .innerJoin('tags as t', 't.item_id', 'fi.id')
          .where('t.tag', '=', tag)
          .where('t.state', '=', 'active')
          .$if(provenance !== undefined, (qq) => qq.where('t.provenance', '=', provenance!)),
      ),
    );
  if (f.tag) q = withTag(f.tag);
  if (f.area) q = withTag(f.area, 'rule');
  const msgFilter = f.channel || f.platform || f.segment || f.activeFrom != null || f.activeTo != null;
  if (msgFilter) {
    q = q.where((eb) =>
      eb.exists(
        items(eb)
          .innerJoin('messages as m', 'm.conversation_id', 'fi.conversation_id')
          .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
          .innerJoin('sources as s', 's.id', 'ch.source_id')
          .innerJoin('identities as i', 'i.id', 'm.identity_id')
          .innerJoin('people as p', 'p.id', 'i.person_id')
          .leftJoin('orgs as o', 'o.id', 'p.org_id')
          .where('m.copy_of', 'is', null)
          .where('m.deleted', '=', 0)
          .$if(!!f.channel, (qq) => qq.where((e) => e.or([e('ch.name', '=', f.channel!), e('ch.external_id', '=', f.channel!)])))
          .$if(!!f.platform, (qq) => qq.where('s.platform', '=', f.platform!))
          .$if(!!f.segment, (qq) => {
            if (f.segment === 'staff') return qq.where('p.is_staff', '=', 1);
            if (f.segment === 'community') return qq.where('p.is_staff', '=', 0).where('o.segment', 'is', null);
            return qq.where('p.is_staff', '=', 0).where('o.segment', '=', f.segment!);
          })
          .$if(f.activeFrom != null, (qq) => qq.where('m.sent_at', '>=', f.activeFrom!))
          .$if(f.activeTo != null, (qq) => qq.where('m.sent_at', '<', f.activeTo!)),
      ),
    );
  }
  if (f.q) {
    const convs = await searchConversations(db, f.q);
    const like = `%${f.q.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        ...(convs.length ? [eb.exists(items(eb).where('fi.conversation_id', 'in', convs))] : []),
        eb(sql<string>`lower(c.title || ' ' || coalesce(c.summary, ''))`, 'like', sql<string>`${like} escape '\\'`),
      ]),
    );
  }
  return (await q.orderBy('c.id').execute()).map((r) => r.id);
}

export interface ClusterRecordView {
  id: number;
  title: string;
  pinnedTitle: boolean;
  kind: string | null;
  summary: string | null;
  conversations: ConversationView[];
  tagCounts: Array<{ tag: string; count: number }>;
}

/** A cluster's record, its conversations with their messages, and its tags (the figures come from src/web/clusters.ts). */
export async function clusterRecordView(db: Db, clusterId: number): Promise<ClusterRecordView | null> {
  const c = await db.selectFrom('clusters').selectAll().where('id', '=', clusterId).executeTakeFirst();
  if (!c) return null;
  const members = await db
    .selectFrom('cluster_items as ci')
    .innerJoin('feedback_items as fi', 'fi.id', 'ci.item_id')
    .select('ci.item_id')
    .where('ci.cluster_id', '=', clusterId)
    .where('fi.status', '!=', 'not_feedback')
    .execute();
  const conversations = await conversationsForItems(db, members.map((m) => m.item_id));
  const tagCount = new Map<string, number>();
  for (const conv of conversations) for (const t of new Set(conv.tags.filter((x) => x.state === 'active' && x.tag !== 'not-feedback').map((x) => x.tag))) tagCount.set(t, (tagCount.get(t) ?? 0) + 1);
  return {
    id: c.id,
    title: c.title,
    pinnedTitle: c.pinned_title === 1,
    kind: c.kind,
    summary: c.summary,
    conversations,
    tagCounts: [...tagCount].map(([tag, count]) => ({ tag, count })).sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag)),
  };
}

/** Other clusters, for merge and move menus. */
export async function clusterChoices(db: Db, exceptId: number | null, limit = 500): Promise<Array<{ id: number; title: string }>> {
  let q = db.selectFrom('clusters').select(['id', 'title']).orderBy('title').limit(limit);
  if (exceptId != null) q = q.where('id', '!=', exceptId);
  return q.execute();
}

export async function itemDetail(db: Db, itemId: number): Promise<ConversationView | null> {
  const [v] = await conversationsForItems(db, [itemId]);
  return v ?? null;
}

// People ------------------------------------------------------------------------------------------

export interface PersonRow {
  id: number;
  name: string;
  org: string | null;
  segment: string;
  identities: number;
  messages: number;
}

export async function listPeople(db: Db, q: string | undefined, limit = 100, offset = 0): Promise<{ rows: PersonRow[]; total: number }> {
  let base = db.selectFrom('people as p');
  if (q?.trim()) {
    const like = `%${q.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    base = base.where((eb) =>
      eb.or([
        eb(sql<string>`lower(p.display_name)`, 'like', sql<string>`${like} escape '\\'`),
        eb.exists(eb.selectFrom('identities as i').select('i.id').whereRef('i.person_id', '=', 'p.id').where(sql<boolean>`lower(i.value) like ${like} escape '\\'`)),
      ]),
    );
  }
  const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rows = await base
    .leftJoin('orgs as o', 'o.id', 'p.org_id')
    .select((eb) => [
      'p.id',
      'p.display_name',
      'p.is_staff',
      'o.name as org',
      'o.segment',
      eb.selectFrom('identities as i').select((e) => e.fn.countAll<number>().as('n')).whereRef('i.person_id', '=', 'p.id').as('identities'),
      eb.selectFrom('messages as m').innerJoin('identities as i2', 'i2.id', 'm.identity_id').select((e) => e.fn.countAll<number>().as('n')).whereRef('i2.person_id', '=', 'p.id').where('m.copy_of', 'is', null).as('messages'),
    ])
    .orderBy('p.display_name')
    .orderBy('p.id')
    .limit(limit)
    .offset(offset)
    .execute();
  return {
    total,
    rows: rows.map((r) => ({ id: r.id, name: r.display_name, org: r.org ?? null, segment: segmentOf({ isStaff: r.is_staff === 1, segment: r.segment ?? null }), identities: Number(r.identities ?? 0), messages: Number(r.messages ?? 0) })),
  };
}

export interface PersonDetail {
  id: number;
  name: string;
  isStaff: boolean;
  org: { id: number; name: string; segment: string } | null;
  /** `createdAt`: when the identity was stored (the import); `firstMessageAt`: its earliest message, null when none is kept. */
  identities: Array<{ id: number; kind: string; value: string; displayName: string | null; email: string | null; isBot: boolean; evidence: string | null; createdAt: number; firstMessageAt: number | null }>;
  messages: Array<MessageView & { channel: string; conversationId: number | null }>;
}

export async function personDetail(db: Db, personId: number, messageLimit = 50): Promise<PersonDetail | null> {
  const p = await db.selectFrom('people as p').leftJoin('orgs as o', 'o.id', 'p.org_id').select(['p.id', 'p.display_name', 'p.is_staff', 'o.id as org_id', 'o.name as org', 'o.segment']).where('p.id', '=', personId).executeTakeFirst();
  if (!p) return null;
  const ids = await db.selectFrom('identities').selectAll().where('person_id', '=', personId).orderBy('id').execute();
  const firsts = ids.length
    ? await db
        .selectFrom('messages')
        .select((eb) => ['identity_id', eb.fn.min<number>('sent_at').as('first')])
        .where('identity_id', 'in', ids.map((i) => i.id))
        .groupBy('identity_id')
        .execute()
    : [];
  const firstOf = new Map(firsts.map((r) => [Number(r.identity_id), Number(r.first)]));
  const msgs = await db
    .selectFrom('messages as m')
    .innerJoin('identities as i', 'i.id', 'm.identity_id')
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .select(['m.id', 'm.clean_text', 'm.text', 'm.sent_at', 'm.permalink', 'm.is_bot', 'm.conversation_id', 'ch.name as channel', 'ch.external_id'])
    .where('i.person_id', '=', personId)
    .where('m.copy_of', 'is', null)
    .where('m.deleted', '=', 0)
    .orderBy('m.sent_at', 'desc')
    .limit(messageLimit)
    .execute();
  return {
    id: p.id,
    name: p.display_name,
    isStaff: p.is_staff === 1,
    org: p.org_id != null ? { id: p.org_id, name: p.org!, segment: p.segment! } : null,
    identities: ids.map((i) => ({ id: i.id, kind: i.kind, value: i.value, displayName: i.display_name, email: i.email, isBot: i.is_bot === 1, evidence: i.link_evidence, createdAt: Number(i.created_at), firstMessageAt: firstOf.get(i.id) ?? null })),
    messages: msgs.map((m) => ({ id: m.id, author: p.display_name, personId, text: m.clean_text || m.text, at: Number(m.sent_at), url: m.permalink, isBot: m.is_bot === 1, channel: m.channel ?? m.external_id, conversationId: m.conversation_id })),
  };
}

function wrapEvidence(previous: string | null, entry: Record<string, unknown>): string {
  let prev: unknown = previous;
  if (previous != null) {
    try {
      prev = JSON.parse(previous);
    } catch {
      prev = previous;
    }
  }
  return JSON.stringify(previous == null ? entry : { ...entry, previous: prev });
}

/**
 * Moves every identity of `fromId` to `intoId` and removes the emptied person. Each identity keeps its
 * own link evidence (wrapped in a record of the manual merge); the org carries over when `into` has none.
 */
export async function mergePeople(db: Db, intoId: number, fromId: number, actor: string, now: number): Promise<void> {
  if (intoId === fromId) throw new InputError('cannot merge a person into themselves');
  await db.transaction().execute(async (trx) => {
    const into = await trx.selectFrom('people').selectAll().where('id', '=', intoId).executeTakeFirst();
    const from = await trx.selectFrom('people').selectAll().where('id', '=', fromId).executeTakeFirst();
    if (!into) throw new NotFoundError(`person ${intoId}`);
    if (!from) throw new NotFoundError(`person ${fromId}`);
    const ids = await trx.selectFrom('identities').select(['id', 'link_evidence']).where('person_id', '=', fromId).execute();
    for (const i of ids) {
      await trx
        .updateTable('identities')
        .set({ person_id: intoId, link_evidence: wrapEvidence(i.link_evidence, { rule: 'manual-merge', actor, at: now, fromPerson: fromId, fromName: from.display_name }) })
        .where('id', '=', i.id)
        .execute();
    }
    if (into.org_id == null && from.org_id != null) await trx.updateTable('people').set({ org_id: from.org_id }).where('id', '=', intoId).execute();
    if (from.is_staff === 1 && into.is_staff !== 1) await trx.updateTable('people').set({ is_staff: 1 }).where('id', '=', intoId).execute();
    await trx.deleteFrom('people').where('id', '=', fromId).execute();
  });
}

/** Moves one identity out to a new person (named after it); returns the new person's id. */
export async function unmergeIdentity(db: Db, identityId: number, actor: string, now: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const i = await trx.selectFrom('identities').selectAll().where('id', '=', identityId).executeTakeFirst();
    if (!i) throw new NotFoundError(`identity ${identityId}`);
    const siblings = await trx.selectFrom('identities').select((eb) => eb.fn.countAll<number>().as('n')).where('person_id', '=', i.person_id).executeTakeFirstOrThrow();
    if (Number(siblings.n) < 2) throw new InputError(`identity ${identityId} is the only identity of person ${i.person_id}; there is nothing to unmerge`);
    const p = await trx.insertInto('people').values({ display_name: i.display_name || i.value, org_id: null, is_staff: 0, created_at: now }).returning(['id']).executeTakeFirstOrThrow();
    await trx
      .updateTable('identities')
      .set({ person_id: p.id, link_evidence: wrapEvidence(i.link_evidence, { rule: 'manual-unmerge', actor, at: now, fromPerson: i.person_id }) })
      .where('id', '=', identityId)
      .execute();
    return p.id;
  });
}

// Sources -----------------------------------------------------------------------------------------

export interface SourceView {
  id: number;
  name: string;
  platform: string;
  status: string;
  lastPullAt: number | null;
  lastError: string | null;
  checkpoints: Array<{ key: string; cursor: string; updatedAt: number }>;
  channels: Array<{ name: string; firstAt: number | null; lastAt: number | null }>;
  gaps: Array<{ channel: string | null; from: number; to: number | null; reason: string }>;
  quarantine: Array<{ id: number; location: string; reason: string; excerpt: string; createdAt: number }>;
}

export async function listSources(db: Db, quarantinePerSource = 20): Promise<{ sources: SourceView[]; unattributedQuarantine: SourceView['quarantine'] }> {
  const sources = await db.selectFrom('sources').selectAll().orderBy('name').execute();
  const out: SourceView[] = [];
  const q = (sourceId: number | null) => {
    let qq = db.selectFrom('quarantine').select(['id', 'location', 'reason', 'excerpt', 'created_at']).orderBy('id', 'desc').limit(quarantinePerSource);
    qq = sourceId == null ? qq.where('source_id', 'is', null) : qq.where('source_id', '=', sourceId);
    return qq.execute().then((rows) => rows.map((r) => ({ id: r.id, location: r.location, reason: r.reason, excerpt: r.excerpt, createdAt: Number(r.created_at) })));
  };
  for (const s of sources) {
    const cps = await db.selectFrom('checkpoints').select(['key', 'cursor', 'updated_at']).where('source_id', '=', s.id).orderBy('key').execute();
    const chs = await db.selectFrom('channels').select(['name', 'external_id', 'first_at', 'last_at']).where('source_id', '=', s.id).orderBy('name').execute();
    const gaps = await db.selectFrom('gaps').select(['channel', 'from_at', 'to_at', 'reason']).where('source_id', '=', s.id).orderBy('from_at').execute();
    out.push({
      id: s.id,
      name: s.name,
      platform: s.platform,
      status: s.status,
      lastPullAt: s.last_pull_at == null ? null : Number(s.last_pull_at),
      lastError: s.last_error,
      checkpoints: cps.map((c) => ({ key: c.key, cursor: c.cursor, updatedAt: Number(c.updated_at) })),
      channels: chs.map((c) => ({ name: c.name ?? c.external_id, firstAt: c.first_at == null ? null : Number(c.first_at), lastAt: c.last_at == null ? null : Number(c.last_at) })),
      gaps: gaps.map((g) => ({ channel: g.channel, from: Number(g.from_at), to: g.to_at == null ? null : Number(g.to_at), reason: g.reason })),
      quarantine: await q(s.id),
    });
  }
  return { sources: out, unattributedQuarantine: await q(null) };
}

// Digests -----------------------------------------------------------------------------------------

export interface DigestRow {
  id: number;
  team: string;
  periodStart: number;
  periodEnd: number;
  status: string;
  createdAt: number;
  approvedAt: number | null;
  approvedBy: string | null;
  sentAt: number | null;
}

function toDigestRow(r: { id: number; team: string; period_start: number; period_end: number; status: string; created_at: number; approved_at: number | null; approved_by: string | null; sent_at: number | null }): DigestRow {
  const n = (x: number | null) => (x == null ? null : Number(x));
  return { id: r.id, team: r.team, periodStart: Number(r.period_start), periodEnd: Number(r.period_end), status: r.status, createdAt: Number(r.created_at), approvedAt: n(r.approved_at), approvedBy: r.approved_by, sentAt: n(r.sent_at) };
}

const DIGEST_COLUMNS = ['id', 'team', 'period_start', 'period_end', 'status', 'created_at', 'approved_at', 'approved_by', 'sent_at'] as const;

export async function listDigests(db: Db): Promise<{ drafts: DigestRow[]; archive: DigestRow[] }> {
  const rows = await db.selectFrom('digests').select(DIGEST_COLUMNS).orderBy('period_start', 'desc').orderBy('team').limit(500).execute();
  const all = rows.map(toDigestRow);
  // Drafts are what still needs a person: not yet approved, approved but not out, or a failed or unknown send.
  const archived = new Set(['sent', 'sending']);
  return { drafts: all.filter((d) => !archived.has(d.status)), archive: all.filter((d) => archived.has(d.status)) };
}

export async function getDigest(db: Db, id: number): Promise<(DigestRow & { html: string; text: string; json: string; curation: string | null }) | null> {
  const r = await db.selectFrom('digests').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? { ...toDigestRow(r), html: r.html, text: r.text, json: r.json, curation: r.curation } : null;
}

