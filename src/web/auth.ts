// Accounts and request authentication: scrypt password hashes, server-side sessions behind a signed
// cookie, synchronizer CSRF tokens, API bearer tokens (stored as hashes), login rate limits, roles.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { InputError } from '../errors.js';
import {
  createApiToken,
  createSession,
  createUser,
  deleteSession,
  confirmLoginAttempt,
  deleteExpiredSessions,
  findSession,
  pruneLoginAttempts,
  reserveLoginAttempt,
  setUserPassword,
  touchSession,
  userByName,
  userForApiToken,
  type FailedLogins,
  type User,
} from '../store/web/accounts.js';
import { type Role } from '../store/web/tables.js';

// scrypt N=2^15, r=8, p=1 (memory: 128 * N * r = 32 MiB per hash).
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keylen: 32 } as const;
const SCRYPT_MAXMEM = 96 * 1024 * 1024;
export const MIN_PASSWORD_CHARS = 10;

export const SESSION_IDLE_MS = 12 * 3600_000;
export const SESSION_MAX_MS = 7 * 24 * 3600_000;
export const LOGIN_WINDOW_MS = 15 * 60_000;
export const LOGIN_MAX_FAILS_PER_USER = 5;
export const LOGIN_MAX_FAILS_PER_IP = 20;
/** Login attempts are kept this long (the trail), then pruned. */
export const LOGIN_TRAIL_MS = 30 * 24 * 3600_000;

const ROLE_RANK: Record<Role, number> = { viewer: 0, curator: 1, admin: 2 };

export function hasRole(user: Pick<User, 'role'> | null | undefined, need: Role): boolean {
  return !!user && ROLE_RANK[user.role] >= ROLE_RANK[need];
}

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$<log2 N>$<r>$<p>$<salt b64url>$<key b64url>`, a fresh 16-byte salt per password. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: SCRYPT_MAXMEM });
  return ['scrypt', Math.log2(SCRYPT.N), SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, logN, r, p, saltB64, keyB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(keyB64, 'base64url');
  const N = 2 ** Number(logN);
  if (!Number.isInteger(N) || N < 2 ** 14 || expected.length < 16) return false;
  const got = await scrypt(password, Buffer.from(saltB64, 'base64url'), expected.length, { N, r: Number(r), p: Number(p), maxmem: SCRYPT_MAXMEM });
  return timingSafeEqual(got, expected);
}

// Compared against when the user does not exist, so that a wrong name takes as long as a wrong password.
let dummyHash: Promise<string> | undefined;

export function checkPasswordRules(password: string): void {
  if (password.length < MIN_PASSWORD_CHARS) throw new InputError(`a password has at least ${MIN_PASSWORD_CHARS} characters`);
  if (password.length > 1024) throw new InputError('a password has at most 1024 characters');
}

export async function addUser(db: Kysely<Database>, name: string, role: Role, password: string, now: number): Promise<User> {
  checkPasswordRules(password);
  return createUser(db, name, role, await hashPassword(password), now);
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type LoginResult = { ok: true; user: User; sessionId: string; expiresAt: number } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'rate_limited'; retryAfterS: number };

/**
 * When this login must wait, the time its limit frees up; null when it may go on. Per user name (from
 * anywhere): LOGIN_MAX_FAILS_PER_USER failures lock the name, the right password included. Per IP:
 * past LOGIN_MAX_FAILS_PER_IP failures the address is slowed to one try per user name (a name it has
 * failed on waits), so behind a shared address (a proxy, a NAT) somebody else's guessing does not
 * refuse the right password of a user who is not under attack (OWASP: lock per account, throttle per IP).
 */
export function loginBlockedUntil(c: FailedLogins, now: number): number | null {
  if (c.byUser >= LOGIN_MAX_FAILS_PER_USER) return (c.oldestByUser ?? now) + LOGIN_WINDOW_MS;
  if (c.byIp >= LOGIN_MAX_FAILS_PER_IP && c.byIpUser >= 1) return (c.oldestByIpUser ?? now) + LOGIN_WINDOW_MS;
  return null;
}

export type PasswordCheck = { ok: true; user: User } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'rate_limited'; retryAfterS: number };

/**
 * Reserves the attempt (checked against the limits and recorded as failed in one step), then checks the
 * password; a right one turns the attempt into a success. Used by the login and by a password change
 * (the current password), so a stolen session cannot guess it any faster than a login could.
 */
export async function checkPassword(db: Kysely<Database>, name: string, password: string, ip: string, now: number): Promise<PasswordCheck> {
  const user = name.trim().slice(0, 200);
  const { attemptId, counts } = await reserveLoginAttempt(db, ip, user, now, now - LOGIN_WINDOW_MS, (c) => loginBlockedUntil(c, now) == null);
  if (attemptId == null) return { ok: false, reason: 'rate_limited', retryAfterS: Math.max(1, Math.ceil((loginBlockedUntil(counts, now)! - now) / 1000)) };
  const u = await userByName(db, user);
  let ok = false;
  if (u && !u.disabled) ok = await verifyPassword(password, u.passwordHash);
  else await verifyPassword(password, await (dummyHash ??= hashPassword(randomToken())));
  if (!ok || !u) return { ok: false, reason: 'invalid' };
  await confirmLoginAttempt(db, attemptId);
  return { ok: true, user: { id: u.id, name: u.name, role: u.role, createdAt: u.createdAt, disabled: u.disabled } };
}

/** Checks the limits and the password (checkPassword); a right one opens a session. */
export async function login(db: Kysely<Database>, name: string, password: string, ip: string, now: number): Promise<LoginResult> {
  const r = await checkPassword(db, name, password, ip, now);
  if (!r.ok) return r;
  const sessionId = randomToken();
  const expiresAt = now + SESSION_IDLE_MS;
  await createSession(db, sha256(sessionId), r.user.id, randomToken(), now, expiresAt);
  return { ok: true, user: r.user, sessionId, expiresAt };
}

/** A new password for a user (the rules checked); their sessions and API tokens end at once. */
export async function changePassword(db: Kysely<Database>, userId: number, password: string, now: number): Promise<void> {
  checkPasswordRules(password);
  await setUserPassword(db, userId, await hashPassword(password), now);
}

/** Deletes expired sessions and login attempts older than the trail; returns how many of each. */
export async function pruneAuthRecords(db: Kysely<Database>, now: number): Promise<{ sessions: number; loginAttempts: number }> {
  return { sessions: await deleteExpiredSessions(db, now), loginAttempts: await pruneLoginAttempts(db, now - LOGIN_TRAIL_MS) };
}

export interface ActiveSession {
  idHash: string;
  user: User;
  csrfToken: string;
}

/** The session for a cookie value, with its idle expiry slid forward (capped by the absolute maximum). */
export async function sessionFor(db: Kysely<Database>, sessionId: string, now: number): Promise<ActiveSession | null> {
  const idHash = sha256(sessionId);
  const s = await findSession(db, idHash, now);
  if (!s) return null;
  if (now - s.createdAt > SESSION_MAX_MS) {
    await deleteSession(db, idHash);
    return null;
  }
  if (now - s.lastSeenAt > 60_000) await touchSession(db, idHash, now, Math.min(now + SESSION_IDLE_MS, s.createdAt + SESSION_MAX_MS));
  return { idHash, user: s.user, csrfToken: s.csrfToken };
}

export async function logout(db: Kysely<Database>, sessionId: string): Promise<void> {
  await deleteSession(db, sha256(sessionId));
}

export const API_TOKEN_PREFIX = 'glt_';

/** A new API token for the user; the plain token is returned once and only its hash is stored. */
export async function issueApiToken(db: Kysely<Database>, userId: number, name: string, now: number): Promise<{ id: number; token: string }> {
  const label = name.trim().slice(0, 100) || 'token';
  const token = API_TOKEN_PREFIX + randomToken();
  const id = await createApiToken(db, userId, label, sha256(token), now);
  return { id, token };
}

export async function userForBearer(db: Kysely<Database>, token: string, now: number): Promise<User | null> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 200) return null;
  return userForApiToken(db, sha256(token), now);
}
