// Logins under attack and account management: a parallel burst of logins cannot pass the limit, the
// failures stay as the trail, a busy address is slowed without refusing users it has not failed on,
// X-Forwarded-For is believed from trusted proxies only; passwords, disabling, removal, roles and
// token revocation (web and CLI) end access at once and always leave an enabled admin; expired
// sessions and old login attempts are pruned on a timer.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { buildWebApp } from '../../src/web/app.js';
import { addUser, LOGIN_MAX_FAILS_PER_USER, LOGIN_TRAIL_MS, sha256 } from '../../src/web/auth.js';
import { userByName } from '../../src/store/web/accounts.js';
import { type WebDatabase } from '../../src/store/web/tables.js';
import { parseConfig } from '../../src/config/index.js';
import { main } from '../../src/cli/main.js';
import { serveDemo } from '../../src/cli/web-commands.js';
import { PASSWORDS, seededApp, type Seeded } from './seed.js';
import { get, loginAs, post, type Agent } from './agent.js';

let s: Seeded;
let web: FastifyInstance;
const wdb = () => s.app.db as unknown as Kysely<WebDatabase>;
const PW = 'a-good-password-1';

beforeAll(async () => {
  s = await seededApp(Date.now);
  web = buildWebApp(s.app);
  await web.ready();
}, 60_000);

afterAll(async () => {
  await web?.close();
  await s?.app.close();
});

async function agent(name: string, password: string, ip = '10.0.0.1'): Promise<Agent> {
  const { res, agent: a } = await loginAs(web, name, password, { ip });
  expect(res.statusCode, `login of ${name}`).toBe(303);
  return a;
}

async function tokenFor(a: Agent): Promise<string> {
  const page = await post(web, a, '/account/tokens', { name: 'ci' });
  return /<code class="token">(glt_[\w-]+)<\/code>/.exec(page.body)![1]!;
}

const api = (token: string) => web.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } });
const loggedIn = async (a: Agent) => (await get(web, a, '/clusters')).statusCode === 200;

describe('login rate limits', { timeout: 240_000 }, () => {
  it('a parallel burst of 40 logins: after the per-user limit every request gets 429, the right password included', async () => {
    await addUser(s.app.db, 'burst', 'viewer', PW, Date.now());
    const live = buildWebApp(s.app);
    await live.listen({ host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${(live.server.address() as { port: number }).port}`;
      const page = await fetch(`${base}/login`);
      const cookie = page.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
      const attempt = (password: string, username = 'burst') =>
        fetch(`${base}/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username, password, _csrf: csrf, next: '/clusters' }).toString(),
        }).then((r) => r.status);
      // 40 wrong guesses at once: only the per-user limit's worth are checked, all the others are refused.
      const guesses = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(`wrong-guess-${i}`)));
      expect(guesses.filter((x) => x === 401)).toHaveLength(LOGIN_MAX_FAILS_PER_USER);
      expect(guesses.filter((x) => x === 429)).toHaveLength(40 - LOGIN_MAX_FAILS_PER_USER);
      const rows = await wdb().selectFrom('login_attempts').selectAll().where('username', '=', 'burst').execute();
      expect(rows).toHaveLength(LOGIN_MAX_FAILS_PER_USER);
      // Then 40 at once with the right password: every one is refused.
      const right = await Promise.all(Array.from({ length: 40 }, () => attempt(PW)));
      expect(right.filter((x) => x === 429)).toHaveLength(40);
      // The review's burst, 39 guesses and the right password together: still only five are checked.
      await addUser(s.app.db, 'burst-mixed', 'viewer', PW, Date.now());
      const mixed = await Promise.all([...Array.from({ length: 39 }, (_, i) => `wrong-guess-${i}`), PW].map((p) => attempt(p, 'burst-mixed')));
      expect(mixed.filter((x) => x !== 429)).toHaveLength(LOGIN_MAX_FAILS_PER_USER);
      expect(mixed.filter((x) => x === 303).length).toBeLessThanOrEqual(1);
    } finally {
      await live.close();
    }
  });

  it('keeps the failed attempts as the trail when a login succeeds; the run of failures starts again after it', async () => {
    await addUser(s.app.db, 'trail', 'viewer', PW, Date.now());
    for (let i = 0; i < 3; i++) expect((await loginAs(web, 'trail', 'nope-nope-nope', { ip: '10.3.0.1' })).res.statusCode).toBe(401);
    expect((await loginAs(web, 'trail', PW, { ip: '10.3.0.2' })).res.statusCode).toBe(303);
    const rows = await wdb().selectFrom('login_attempts').select(['ip', 'ok']).where('username', '=', 'trail').orderBy('id').execute();
    expect(rows).toEqual([...Array.from({ length: 3 }, () => ({ ip: '10.3.0.1', ok: 0 })), { ip: '10.3.0.2', ok: 1 }]);
    for (let i = 0; i < LOGIN_MAX_FAILS_PER_USER; i++) expect((await loginAs(web, 'trail', 'nope-nope-nope', { ip: `10.3.1.${i}` })).res.statusCode).toBe(401);
    const locked = await loginAs(web, 'trail', PW, { ip: '10.3.0.2' });
    expect(locked.res.statusCode).toBe(429);
    expect(Number(locked.res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('slows a busy address without refusing the right password of a user it has not failed on', async () => {
    await addUser(s.app.db, 'bystander', 'viewer', PW, Date.now());
    // 20 failures from one address, 4 on each of five names (none of them locked on its own).
    for (const n of ['ghost-a', 'ghost-b', 'ghost-c', 'ghost-d', 'ghost-e']) for (let i = 0; i < 4; i++) expect((await loginAs(web, n, 'nope-nope-nope', { ip: '10.7.0.1' })).res.statusCode).toBe(401);
    // Somebody else behind the same address, not under attack, logs in.
    expect((await loginAs(web, 'bystander', PW, { ip: '10.7.0.1' })).res.statusCode).toBe(303);
    // The address may not go on with a name it failed on; other addresses may.
    expect((await loginAs(web, 'ghost-a', 'nope-nope-nope', { ip: '10.7.0.1' })).res.statusCode).toBe(429);
    expect((await loginAs(web, 'ghost-a', 'nope-nope-nope', { ip: '10.7.0.2' })).res.statusCode).toBe(401);
  });

  it('believes X-Forwarded-For from the trusted proxies (config web.trustProxy) only', async () => {
    await addUser(s.app.db, 'proxied', 'viewer', PW, Date.now());
    await addUser(s.app.db, 'proxied2', 'viewer', PW, Date.now());
    s.app.config.web.trustProxy = ['127.0.0.1'];
    const trusting = buildWebApp(s.app);
    s.app.config.web.trustProxy = [];
    const plain = buildWebApp(s.app);
    await Promise.all([trusting.ready(), plain.ready()]);
    try {
      // The proxy: 127.0.0.1 for the trusting app; for the other one an address of its own (the tests share 127.0.0.1).
      const attack = async (app: FastifyInstance, victim: string, proxy: string) => {
        for (const n of [victim, ...[1, 2, 3, 4].map((i) => `${victim}-spray-${i}`)])
          for (let i = 0; i < 4; i++) expect((await loginAs(app, n, 'nope-nope-nope', { ip: proxy, forwardedFor: '203.0.113.7' })).res.statusCode).toBe(401);
      };
      await attack(trusting, 'proxied', '127.0.0.1');
      const ips = await wdb().selectFrom('login_attempts').select('ip').distinct().where('username', '=', 'proxied').execute();
      expect(ips).toEqual([{ ip: '203.0.113.7' }]);
      expect((await loginAs(trusting, 'proxied', PW, { ip: '127.0.0.1', forwardedFor: '203.0.113.7' })).res.statusCode).toBe(429);
      expect((await loginAs(trusting, 'proxied', PW, { ip: '127.0.0.1', forwardedFor: '198.51.100.9' })).res.statusCode).toBe(303);
      // A client that is not a trusted proxy cannot choose its address.
      expect((await loginAs(trusting, 'nobody-x', 'nope-nope-nope', { ip: '10.9.9.9', forwardedFor: '198.51.100.9' })).res.statusCode).toBe(401);
      expect(await wdb().selectFrom('login_attempts').select('ip').where('username', '=', 'nobody-x').execute()).toEqual([{ ip: '10.9.9.9' }]);
      // Without trusting the proxy every client is the proxy: the attacker's failures slow the victim's own login.
      await attack(plain, 'proxied2', '192.0.2.50');
      expect((await loginAs(plain, 'proxied2', PW, { ip: '192.0.2.50', forwardedFor: '198.51.100.9' })).res.statusCode).toBe(429);
    } finally {
      await trusting.close();
      await plain.close();
    }
  });

  it('checks web.trustProxy entries in the config', () => {
    expect(parseConfig('web:\n  trustProxy: [127.0.0.1, "10.0.0.0/8", "::1", loopback]\n', {}).web.trustProxy).toHaveLength(4);
    expect(parseConfig('{}', {}).web.trustProxy).toEqual([]);
    expect(() => parseConfig('web:\n  trustProxy: [proxy.example.org]\n', {})).toThrow(/web\.trustProxy\.0: not an IP address, a CIDR range/);
    expect(() => parseConfig('web:\n  trustProxy: ["10.0.0.0/33"]\n', {})).toThrow(/trustProxy/);
  });
});

describe('account management on the web', { timeout: 60_000 }, () => {
  it('a user changes their own password: the current one is needed; every session and token of theirs ends', async () => {
    await addUser(s.app.db, 'alice', 'curator', PW, Date.now());
    const a1 = await agent('alice', PW);
    const a2 = await agent('alice', PW, '10.0.0.2');
    const token = await tokenFor(a1);
    expect((await api(token)).statusCode).toBe(200);
    expect((await get(web, a1, '/account')).body).toContain('Change your password');
    const bad = await post(web, a1, '/account/password', { current: 'not-the-password', password: 'new-password-22', confirm: 'new-password-22' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('The current password is not right');
    expect((await post(web, a1, '/account/password', { current: PW, password: 'new-password-22', confirm: 'new-password-33' })).statusCode).toBe(400);
    expect((await post(web, a1, '/account/password', { current: PW, password: 'short', confirm: 'short' })).statusCode).toBe(400);
    expect(await loggedIn(a2)).toBe(true);
    const ok = await post(web, a1, '/account/password', { current: PW, password: 'new-password-22', confirm: 'new-password-22' });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/login?done=password_changed');
    expect(await loggedIn(a1)).toBe(false);
    expect(await loggedIn(a2)).toBe(false);
    expect((await api(token)).statusCode).toBe(401);
    expect((await loginAs(web, 'alice', PW, { ip: '10.0.0.5' })).res.statusCode).toBe(401);
    expect((await loginAs(web, 'alice', 'new-password-22', { ip: '10.0.0.5' })).res.statusCode).toBe(303);
  });

  it('guessing the current password on the password form is limited like a login', async () => {
    await addUser(s.app.db, 'erin', 'viewer', PW, Date.now());
    const e = await agent('erin', PW, '10.4.0.1');
    for (let i = 0; i < LOGIN_MAX_FAILS_PER_USER; i++)
      expect((await post(web, e, '/account/password', { current: `guess-${i}-xxxx`, password: 'new-password-22', confirm: 'new-password-22' })).statusCode).toBe(400);
    const r = await post(web, e, '/account/password', { current: PW, password: 'new-password-22', confirm: 'new-password-22' });
    expect(r.statusCode).toBe(429);
    expect(r.body).toContain('Too many wrong passwords');
    expect(await loggedIn(e)).toBe(true);
  });

  it("an admin sets another user's password, disables, enables and removes them, and revokes their token", async () => {
    const admin = await agent('admin', PASSWORDS.admin);
    await addUser(s.app.db, 'bob', 'viewer', PW, Date.now());
    const bob = (await userByName(s.app.db, 'bob'))!;
    let b = await agent('bob', PW);
    let token = await tokenFor(b);
    const page = (await get(web, admin, '/admin/users')).body;
    for (const action of ['password', 'disable', 'remove']) expect(page).toContain(`/admin/users/${bob.id}/${action}`);
    // A new password: bob's session and token end at once.
    expect((await post(web, admin, `/admin/users/${bob.id}/password`, { password: 'bobs-new-password' })).headers.location).toBe('/admin/users?done=password_set');
    expect(await loggedIn(b)).toBe(false);
    expect((await api(token)).statusCode).toBe(401);
    b = await agent('bob', 'bobs-new-password');
    token = await tokenFor(b);
    // Disabled: out at once, and no login.
    expect((await post(web, admin, `/admin/users/${bob.id}/disable`)).headers.location).toBe('/admin/users?done=user_disabled');
    expect(await loggedIn(b)).toBe(false);
    expect((await api(token)).statusCode).toBe(401);
    expect((await loginAs(web, 'bob', 'bobs-new-password', { ip: '10.0.0.6' })).res.statusCode).toBe(401);
    expect((await get(web, admin, '/admin/users')).body).toMatch(/bob<\/td><td>viewer<\/td><td>disabled/);
    // Enabled again: logs in; the old token stays revoked.
    expect((await post(web, admin, `/admin/users/${bob.id}/enable`)).statusCode).toBe(303);
    b = await agent('bob', 'bobs-new-password', '10.0.0.6');
    expect((await api(token)).statusCode).toBe(401);
    // Another user's token, revoked by an admin (not by a curator).
    token = await tokenFor(b);
    const row = await wdb().selectFrom('api_tokens').select('id').where('user_id', '=', bob.id).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
    expect((await get(web, admin, '/admin/users')).body).toContain(`/admin/tokens/${row.id}/revoke`);
    const curator = await agent('curator', PASSWORDS.curator);
    expect((await post(web, curator, `/admin/tokens/${row.id}/revoke`)).statusCode).toBe(403);
    expect((await post(web, curator, `/admin/users/${bob.id}/disable`)).statusCode).toBe(403);
    expect((await post(web, curator, `/admin/users/${bob.id}/password`, { password: 'hijacked-password' })).statusCode).toBe(403);
    expect((await api(token)).statusCode).toBe(200);
    expect((await post(web, admin, `/admin/tokens/${row.id}/revoke`)).headers.location).toBe('/admin/users?done=token_revoked');
    expect((await api(token)).statusCode).toBe(401);
    // Removal needs the box ticked; then the account, its sessions and tokens are gone.
    expect((await post(web, admin, `/admin/users/${bob.id}/remove`)).statusCode).toBe(400);
    expect((await post(web, admin, `/admin/users/${bob.id}/remove`, { confirm: '1' })).headers.location).toBe('/admin/users?done=user_removed');
    expect(await userByName(s.app.db, 'bob')).toBeNull();
    expect(await loggedIn(b)).toBe(false);
    expect(await wdb().selectFrom('api_tokens').select('id').where('user_id', '=', bob.id).execute()).toEqual([]);
    expect((await loginAs(web, 'bob', 'bobs-new-password', { ip: '10.0.0.7' })).res.statusCode).toBe(401);
  });

  it('the last enabled admin cannot demote, disable or remove themselves', async () => {
    const admin = await agent('admin', PASSWORDS.admin);
    const me = (await userByName(s.app.db, 'admin'))!;
    await addUser(s.app.db, 'admin-off', 'admin', PW, Date.now());
    expect((await post(web, admin, `/admin/users/${(await userByName(s.app.db, 'admin-off'))!.id}/disable`)).statusCode).toBe(303); // a disabled admin does not count
    for (const [url, body] of [
      [`/admin/users/${me.id}/role`, { role: 'curator' }],
      [`/admin/users/${me.id}/disable`, {}],
      [`/admin/users/${me.id}/remove`, { confirm: '1' }],
    ] as const) {
      const r = await post(web, admin, url, body);
      expect(r.statusCode, url).toBe(400);
      expect(r.body, url).toContain('it would leave no enabled admin');
    }
    expect((await userByName(s.app.db, 'admin'))!).toMatchObject({ role: 'admin', disabled: false });
    expect(await loggedIn(admin)).toBe(true);
    // With a second enabled admin, the first may step down.
    await addUser(s.app.db, 'admin-two', 'admin', PW, Date.now());
    expect((await post(web, admin, `/admin/users/${me.id}/role`, { role: 'curator' })).statusCode).toBe(303);
    expect((await userByName(s.app.db, 'admin'))!.role).toBe('curator');
    const two = await agent('admin-two', PW);
    expect((await post(web, two, `/admin/users/${me.id}/role`, { role: 'admin' })).statusCode).toBe(303);
  });
});

describe('pruning', () => {
  it('deletes expired sessions and login attempts older than the trail at start and on a timer', async () => {
    const uid = (await userByName(s.app.db, 'viewer'))!.id;
    const now = Date.now();
    const expired = (id: string) => ({ id_hash: sha256(id), user_id: uid, csrf_token: 'x', created_at: now - 3 * 86_400_000, last_seen_at: now - 2 * 86_400_000, expires_at: now - 86_400_000 });
    await wdb()
      .insertInto('sessions')
      .values([expired('old-1'), { ...expired('live-1'), expires_at: now + 3600_000 }])
      .execute();
    await wdb()
      .insertInto('login_attempts')
      .values([
        { ip: '10.8.0.1', username: 'pruned', at: now - LOGIN_TRAIL_MS - 1000, ok: 0 },
        { ip: '10.8.0.1', username: 'kept', at: now - 86_400_000, ok: 0 },
      ])
      .execute();
    const pruning = buildWebApp(s.app, { pruneIntervalMs: 100 });
    await pruning.ready();
    try {
      const sessions = async () =>
        (
          await wdb()
            .selectFrom('sessions')
            .select('id_hash')
            .where('id_hash', 'in', [sha256('old-1'), sha256('live-1'), sha256('old-2')])
            .execute()
        ).map((r) => r.id_hash);
      expect(await sessions()).toEqual([sha256('live-1')]);
      const users = (await wdb().selectFrom('login_attempts').select('username').where('ip', '=', '10.8.0.1').execute()).map((r) => r.username);
      expect(users).toEqual(['kept']);
      // Later ones go on the next round of the timer.
      await wdb().insertInto('sessions').values(expired('old-2')).execute();
      await vi.waitFor(async () => expect(await sessions()).toEqual([sha256('live-1')]), { timeout: 10_000, interval: 100 });
    } finally {
      await pruning.close();
    }
  });
});

// The CLI ------------------------------------------------------------------------------------------

const root = join(import.meta.dirname, '..', '..');

/** `tsx src/cli/run.ts ...args` in its own process, `input` on its stdin (a pipe: no terminal). */
function cli(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'src', 'cli', 'run.ts'), ...args], {
      env: { ...process.env, GLEANER_LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** The CLI in this process (console captured). */
async function inProcess(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await main(['node', 'gleaner', '--db', join(s.dir, 'gleaner.db'), ...args]);
    return { out: out.join('\n'), err: err.join('\n'), code: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = before;
    log.mockRestore();
    error.mockRestore();
  }
}

describe('gleaner user and token', () => {
  it('user passwd|disable|enable|role|remove and token list|revoke end access at once and keep an admin', async () => {
    const db = join(s.dir, 'gleaner.db');
    await addUser(s.app.db, 'carol', 'viewer', PW, Date.now());
    let c = await agent('carol', PW);
    const token = await tokenFor(c);
    // No terminal and no --password-stdin: say how to give the password.
    const noTty = await cli(['--db', db, 'user', 'add', 'dave', '--role', 'viewer']);
    expect(noTty.code).not.toBe(0);
    expect(noTty.stderr).toContain('--password-stdin');
    expect(noTty.stderr).not.toContain('at least 10 characters');
    const passwd = await cli(['--db', db, 'user', 'passwd', 'carol', '--password-stdin'], 'carols-cli-password\n');
    expect(passwd.stderr).toBe('');
    expect(passwd.stdout).toContain('password of carol changed');
    expect(await loggedIn(c)).toBe(false);
    expect((await api(token)).statusCode).toBe(401);
    c = await agent('carol', 'carols-cli-password');
    const token2 = await tokenFor(c);
    const list = await inProcess(['token', 'list', 'carol']);
    const lines = list.out.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d+\tcarol\tci\tcreated .*\trevoked$/);
    expect(lines[1]).toMatch(/^\d+\tcarol\tci\tcreated .*\tactive$/);
    const id = lines[1]!.split('\t')[0]!;
    expect((await inProcess(['token', 'revoke', id])).out).toBe(`revoked token ${id}`);
    expect((await api(token2)).statusCode).toBe(401);
    expect((await inProcess(['token', 'revoke', id])).err).toContain('revoked already');
    expect((await inProcess(['user', 'role', 'carol', 'curator'])).out).toBe('carol is now curator');
    expect((await inProcess(['user', 'role', 'carol', 'owner'])).code).not.toBe(0);
    expect((await inProcess(['user', 'disable', 'carol'])).out).toContain('disabled carol');
    expect(await loggedIn(c)).toBe(false);
    expect((await inProcess(['user', 'list'])).out).toContain('carol\tcurator\tdisabled');
    expect((await inProcess(['user', 'enable', 'carol'])).out).toBe('enabled carol');
    expect((await inProcess(['user', 'remove', 'carol'])).out).toBe('removed carol');
    expect(await userByName(s.app.db, 'carol')).toBeNull();
    expect((await inProcess(['user', 'remove', 'carol'])).err).toContain('no user named carol');
    // The admins: demote all but one, then the last one is kept.
    for (const u of await wdb().selectFrom('users').select('name').where('role', '=', 'admin').where('name', '!=', 'admin').execute()) await inProcess(['user', 'role', u.name, 'viewer']);
    for (const args of [
      ['user', 'role', 'admin', 'viewer'],
      ['user', 'disable', 'admin'],
      ['user', 'remove', 'admin'],
    ]) {
      const r = await inProcess(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err, args.join(' ')).toContain('it would leave no enabled admin');
    }
    expect((await userByName(s.app.db, 'admin'))!).toMatchObject({ role: 'admin', disabled: false });
  }, 240_000);
});

describe('gleaner demo', () => {
  it('takes --port and --host, and a busy port names the option that exists', async () => {
    const help = await inProcessHelp(['demo', '--help']);
    expect(help).toContain('--port <n>');
    expect(help).toContain('--host <host>');
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      await expect(serveDemo(s.app, { host: '127.0.0.1', port })).rejects.toThrow(`port ${port} on 127.0.0.1 is in use; choose another with --port`);
    } finally {
      busy.close();
    }
    const bad = await inProcess(['demo', '--port', 'eighty', '--dir', join(s.dir, 'demo')]);
    expect(bad.err).toContain('--port must be a number 0..65535, not "eighty"');
  });
});

/** `--help` output (commander writes it and exits; both are caught here). */
async function inProcessHelp(args: string[]): Promise<string> {
  let text = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((text += String(chunk)), true));
  const exit = vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
    throw new Error(`exit ${code ?? 0}`);
  }) as never);
  try {
    await main(['node', 'gleaner', ...args]);
  } finally {
    write.mockRestore();
    exit.mockRestore();
  }
  return text;
}
