// Accounts: settings, users, sessions, API tokens and login attempts.
import { sql } from 'kysely';
import { InputError, NotFoundError } from '../../errors.js';
import { isSqlite, ROLES, w, type Db, type Role } from './tables.js';

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
  const r = await w(db)
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .executeTakeFirstOrThrow();
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
    await w(trx)
      .updateTable('users')
      .set({ disabled_at: disabled ? (u.disabled_at ?? now) : null })
      .where('id', '=', userId)
      .execute();
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
  const r = await w(db)
    .insertInto('api_tokens')
    .values({ user_id: userId, name, token_hash: tokenHash, created_at: now, last_used_at: null, revoked_at: null })
    .returning(['id'])
    .executeTakeFirstOrThrow();
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
  return rows.map((r) => ({
    id: r.id,
    userId: r.user_id,
    userName: r.user_name,
    name: r.name,
    createdAt: Number(r.created_at),
    lastUsedAt: r.last_used_at == null ? null : Number(r.last_used_at),
    revoked: r.revoked_at != null,
  }));
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
export async function reserveLoginAttempt(
  db: Db,
  ip: string,
  username: string,
  now: number,
  since: number,
  allow: (c: FailedLogins) => boolean,
): Promise<{ attemptId: number | null; counts: FailedLogins }> {
  return db.transaction().execute(async (trx) => {
    if (!isSqlite(db)) await sql`SELECT pg_advisory_xact_lock(hashtext('gleaner.login_attempts'))`.execute(trx);
    const counts = await failedLogins(trx, ip, username, since);
    if (!allow(counts)) return { attemptId: null, counts };
    const r = await w(trx)
      .insertInto('login_attempts')
      .values({ ip, username: username.slice(0, 200), at: now, ok: 0 })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { attemptId: r.id, counts };
  });
}

/** Marks a reserved attempt as a success (the failures before it stay as the trail). */
export async function confirmLoginAttempt(db: Db, attemptId: number): Promise<void> {
  await w(db).updateTable('login_attempts').set({ ok: 1 }).where('id', '=', attemptId).execute();
}

export async function pruneLoginAttempts(db: Db, before: number): Promise<number> {
  const r = await w(db).deleteFrom('login_attempts').where('at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
