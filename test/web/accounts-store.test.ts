// The account store on SQLite and PostgreSQL: parallel logins are checked and recorded one at a time
// (PostgreSQL through a transaction-scoped advisory lock, with a pool of connections racing), a new
// password, a disable or a removal ends sessions and tokens, the last enabled admin stays, pruning.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import type { OpenedDb } from '../../src/store/db.js';
import { addUser, changePassword, issueApiToken, login, LOGIN_MAX_FAILS_PER_USER, LOGIN_TRAIL_MS, pruneAuthRecords, sessionFor, userForBearer } from '../../src/web/auth.js';
import { removeUser, setUserDisabled, setUserRole } from '../../src/store/web/accounts.js';
import { type WebDatabase } from '../../src/store/web/tables.js';
import { suiteDialects } from '../support/stores.js';

const NOW = Date.UTC(2026, 11, 1, 12);
const PW = 'a-good-password-1';

describe.each(suiteDialects)('accounts: %s', (_kind, make) => {
  const impl = make();
  let store: OpenedDb;
  const w = () => store.db as unknown as Kysely<WebDatabase>;

  beforeAll(() => impl.beforeAll());
  afterAll(() => impl.afterAll());
  beforeEach(async () => {
    store = await impl.fresh();
  });
  afterEach(async () => {
    await store.close();
  });

  it('40 parallel logins for one name: exactly the per-user limit is checked, the rest are refused', async () => {
    await addUser(store.db, 'target', 'viewer', PW, NOW);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => login(store.db, 'target', i === 39 ? PW : `guess-${i}`, `10.0.${i}.1`, NOW)));
    const checked = results.filter((r) => r.ok || r.reason !== 'rate_limited');
    expect(checked).toHaveLength(LOGIN_MAX_FAILS_PER_USER);
    expect(await w().selectFrom('login_attempts').select('id').execute()).toHaveLength(LOGIN_MAX_FAILS_PER_USER);
    if (!results[39]!.ok) expect(await login(store.db, 'target', PW, '10.9.9.9', NOW)).toMatchObject({ ok: false, reason: 'rate_limited' });
  });

  it('a new password, a disable and a removal end sessions and tokens; an enabled admin always stays', async () => {
    const admin = await addUser(store.db, 'root', 'admin', PW, NOW);
    const u = await addUser(store.db, 'user', 'curator', PW, NOW);
    const open = async () => {
      const r = await login(store.db, 'user', PW, '10.0.0.1', NOW);
      if (!r.ok) throw new Error('login failed');
      return { session: r.sessionId, token: (await issueApiToken(store.db, u.id, 't', NOW)).token };
    };
    let a = await open();
    await changePassword(store.db, u.id, 'another-password', NOW);
    expect(await sessionFor(store.db, a.session, NOW)).toBeNull();
    expect(await userForBearer(store.db, a.token, NOW)).toBeNull();
    await changePassword(store.db, u.id, PW, NOW);
    a = await open();
    await setUserDisabled(store.db, u.id, true, NOW);
    expect(await sessionFor(store.db, a.session, NOW)).toBeNull();
    expect(await userForBearer(store.db, a.token, NOW)).toBeNull();
    expect(await login(store.db, 'user', PW, '10.0.0.2', NOW)).toMatchObject({ ok: false, reason: 'invalid' });
    await setUserDisabled(store.db, u.id, false, NOW);
    expect(await userForBearer(store.db, a.token, NOW)).toBeNull(); // stays revoked
    a = await open();
    await removeUser(store.db, u.id);
    expect(await sessionFor(store.db, a.session, NOW)).toBeNull();
    expect(await w().selectFrom('users').select('name').execute()).toEqual([{ name: 'root' }]);
    for (const change of [() => setUserRole(store.db, admin.id, 'viewer'), () => setUserDisabled(store.db, admin.id, true, NOW), () => removeUser(store.db, admin.id)])
      await expect(change()).rejects.toThrow(/it would leave no enabled admin/);
    expect(await w().selectFrom('users').select(['role', 'disabled_at']).execute()).toEqual([{ role: 'admin', disabled_at: null }]);
  });

  it('prunes expired sessions and login attempts past the trail', async () => {
    const u = await addUser(store.db, 'p', 'viewer', PW, NOW);
    await w()
      .insertInto('sessions')
      .values([
        { id_hash: 'old', user_id: u.id, csrf_token: 'x', created_at: NOW - 9e6, last_seen_at: NOW - 9e6, expires_at: NOW - 1 },
        { id_hash: 'live', user_id: u.id, csrf_token: 'x', created_at: NOW, last_seen_at: NOW, expires_at: NOW + 1000 },
      ])
      .execute();
    await w()
      .insertInto('login_attempts')
      .values([
        { ip: 'a', username: 'p', at: NOW - LOGIN_TRAIL_MS - 1, ok: 0 },
        { ip: 'a', username: 'p', at: NOW - 1000, ok: 0 },
      ])
      .execute();
    expect(await pruneAuthRecords(store.db, NOW)).toEqual({ sessions: 1, loginAttempts: 1 });
    expect(await w().selectFrom('sessions').select('id_hash').execute()).toEqual([{ id_hash: 'live' }]);
  });
});
