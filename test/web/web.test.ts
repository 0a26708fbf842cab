// The web app through fastify.inject: authentication, sessions, CSRF, roles, rate limits, API tokens,
// hostile community text, every page, and the store operations behind the forms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Kysely } from 'kysely';
import { buildWebApp } from '../../src/web/app.js';
import { hashPassword, verifyPassword } from '../../src/web/auth.js';
import type { WebDatabase } from '../../src/store/web/tables.js';
import { ftsQuery } from '../../src/store/web/search.js';
import { mergePeople, personDetail, unmergeIdentity } from '../../src/store/web/people.js';
import { BASE, HUGE_LINE, PASSWORDS, seededApp, type Seeded } from './seed.js';

const DAY = 86_400_000;
let s: Seeded;
let web: FastifyInstance;
let clock = BASE + 30 * DAY;

interface Agent {
  cookies: Record<string, string>;
  csrf: string;
}

function cookiesOf(res: LightMyRequestResponse, into: Record<string, string> = {}): Record<string, string> {
  for (const c of res.cookies) {
    if (c.value === '' || (c.maxAge !== undefined && c.maxAge <= 0) || (c.expires && c.expires.getTime() < Date.now())) delete into[c.name];
    else into[c.name] = c.value;
  }
  return into;
}

function formCsrf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no _csrf field in the page');
  return m[1]!;
}

async function loginAs(name: string, password?: string, ip = '10.0.0.1'): Promise<{ res: LightMyRequestResponse; agent: Agent }> {
  const page = await web.inject({ method: 'GET', url: '/login', remoteAddress: ip });
  const cookies = cookiesOf(page);
  const res = await web.inject({
    method: 'POST',
    url: '/login',
    remoteAddress: ip,
    cookies,
    payload: { username: name, password: password ?? PASSWORDS[name as keyof typeof PASSWORDS], _csrf: formCsrf(page.body), next: '/clusters' },
  });
  cookiesOf(res, cookies);
  let csrf = '';
  if (res.statusCode === 303 && cookies.gleaner_session) {
    const me = await web.inject({ method: 'GET', url: '/api/me', cookies });
    csrf = me.json<{ csrf: string }>().csrf;
  }
  return { res, agent: { cookies, csrf } };
}

async function agentFor(name: keyof typeof PASSWORDS): Promise<Agent> {
  const { res, agent } = await loginAs(name);
  expect(res.statusCode).toBe(303);
  return agent;
}

const get = (a: Agent | null, url: string) => web.inject({ method: 'GET', url, cookies: a?.cookies ?? {} });
const post = (a: Agent, url: string, payload: Record<string, unknown> = {}, withCsrf = true) =>
  web.inject({ method: 'POST', url, cookies: a.cookies, payload: withCsrf ? { _csrf: a.csrf, ...payload } : payload });
const postJson = (a: Agent, url: string, body: unknown, withCsrf = true) =>
  web.inject({ method: 'POST', url, cookies: a.cookies, headers: { 'content-type': 'application/json', ...(withCsrf ? { 'x-csrf-token': a.csrf } : {}) }, payload: JSON.stringify(body) });

const wdb = () => s.app.db as unknown as Kysely<WebDatabase>;

beforeAll(async () => {
  s = await seededApp(() => clock);
  web = buildWebApp(s.app, { now: () => clock });
  await web.ready();
}, 60_000);

afterAll(async () => {
  await web?.close();
  await s?.app.close();
});

describe('without a session', () => {
  it('serves only the login page, static files and /healthz', async () => {
    expect((await get(null, '/healthz')).statusCode).toBe(200);
    expect((await get(null, '/static/app.css')).statusCode).toBe(200);
    expect((await get(null, '/static/inbox.js')).statusCode).toBe(200);
    expect((await get(null, '/login')).statusCode).toBe(200);
    for (const url of ['/', '/clusters', `/clusters/${s.clusters.csv}`, '/inbox', '/people', '/sources', '/digests', '/account', '/admin/users', `/digests/${s.digests.draft}/html`]) {
      const r = await get(null, url);
      expect(r.statusCode, url).toBe(303);
      expect(r.headers.location, url).toMatch(/^\/login/);
    }
    for (const url of ['/api/clusters', '/api/items', '/api/digests', '/api/me']) expect((await get(null, url)).statusCode, url).toBe(401);
    const r = await web.inject({ method: 'POST', url: `/clusters/${s.clusters.csv}/rename`, payload: { title: 'x' } });
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe('/login');
  });

  it('sends the security headers', async () => {
    const r = await get(null, '/login');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('same-origin');
    expect(r.headers['x-frame-options']).toBe('DENY');
  });
});

describe('login', () => {
  it('hashes passwords with scrypt (N=2^15, r=8, p=1), a salt each, and verifies them', async () => {
    const rows = await wdb().selectFrom('users').select(['name', 'password_hash']).execute();
    expect(rows).toHaveLength(3);
    const salts = new Set<string>();
    for (const r of rows) {
      expect(r.password_hash).toMatch(/^scrypt\$15\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
      expect(r.password_hash).not.toContain(PASSWORDS[r.name as keyof typeof PASSWORDS]);
      salts.add(r.password_hash.split('$')[4]!);
    }
    expect(salts.size).toBe(3);
    const h = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h)).toBe(false);
    expect(await hashPassword('correct horse battery')).not.toBe(h);
  });

  it('opens a server-side session in a signed HttpOnly SameSite cookie', async () => {
    const { res, agent } = await loginAs('viewer');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/clusters');
    const c = res.cookies.find((x) => x.name === 'gleaner_session')!;
    expect(c.httpOnly).toBe(true);
    expect(c.sameSite).toBe('Lax');
    expect(c.value).toMatch(/^[\w-]+\.[\w+/=-]+$/); // value.signature
    const sessions = await wdb().selectFrom('sessions').selectAll().execute();
    const raw = c.value.split('.')[0]!;
    expect(sessions.some((x) => x.id_hash === raw)).toBe(false); // stored hashed
    expect((await get(agent, '/clusters')).statusCode).toBe(200);
    // A tampered signature is no session.
    const forged = { ...agent, cookies: { ...agent.cookies, gleaner_session: `${raw}.AAAA` } };
    expect((await get(forged, '/clusters')).statusCode).toBe(303);
  });

  it('refuses a wrong password, and a login form without its CSRF token', async () => {
    const { res } = await loginAs('viewer', 'wrong-password', '10.0.0.9');
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('Wrong user name or password');
    const r = await web.inject({ method: 'POST', url: '/login', payload: { username: 'viewer', password: PASSWORDS.viewer } });
    expect(r.statusCode).toBe(403);
    expect(r.cookies.find((x) => x.name === 'gleaner_session')).toBeUndefined();
  });

  it('rate-limits failed logins per user and per IP', async () => {
    for (let i = 0; i < 5; i++) expect((await loginAs('curator', 'nope-nope-nope', `10.1.0.${i}`)).res.statusCode).toBe(401);
    const blocked = await loginAs('curator', PASSWORDS.curator, '10.1.0.99');
    expect(blocked.res.statusCode).toBe(429);
    expect(Number(blocked.res.headers['retry-after'])).toBeGreaterThan(0);
    clock += 16 * 60_000; // the window passes
    expect((await loginAs('curator')).res.statusCode).toBe(303);
    for (let i = 0; i < 20; i++) expect((await loginAs(`nobody${i}`, 'nope-nope-nope', '10.2.0.1')).res.statusCode).toBe(401);
    // Past the per-IP limit the address is slowed (no more tries at names it failed on), but the right
    // password of a user it has not failed on still logs in (a shared address: a proxy, a NAT).
    expect((await loginAs('nobody0', 'nope-nope-nope', '10.2.0.1')).res.statusCode).toBe(429);
    expect((await loginAs('admin', PASSWORDS.admin, '10.2.0.1')).res.statusCode).toBe(303);
    expect((await loginAs('admin', PASSWORDS.admin, '10.2.0.2')).res.statusCode).toBe(303);
    clock += 16 * 60_000;
  }, 120_000);

  it('expires idle sessions and ends them on logout', async () => {
    const a = await agentFor('viewer');
    clock += 11 * 3600_000;
    expect((await get(a, '/clusters')).statusCode).toBe(200); // slides the idle expiry
    clock += 11 * 3600_000;
    expect((await get(a, '/clusters')).statusCode).toBe(200);
    clock += 13 * 3600_000;
    expect((await get(a, '/clusters')).statusCode).toBe(303);
    const b = await agentFor('viewer');
    expect((await post(b, '/logout')).statusCode).toBe(303);
    expect((await get(b, '/clusters')).statusCode).toBe(303);
  });
});

describe('CSRF and roles', () => {
  it('refuses state changes without the session CSRF token, in forms and in fetch', async () => {
    const a = await agentFor('curator');
    const r1 = await post(a, `/clusters/${s.clusters.dark}/rename`, { title: 'Hijacked' }, false);
    expect(r1.statusCode).toBe(403);
    const r2 = await post(a, `/clusters/${s.clusters.dark}/rename`, { title: 'Hijacked', _csrf: 'x'.repeat(43) }, false);
    expect(r2.statusCode).toBe(403);
    const r3 = await postJson(a, `/api/items/${s.items.inbox[0]}/tags`, { tag: 'evil' }, false);
    expect(r3.statusCode).toBe(403);
    const other = await agentFor('admin');
    const r4 = await post(a, `/clusters/${s.clusters.dark}/rename`, { title: 'Hijacked', _csrf: other.csrf }, false);
    expect(r4.statusCode).toBe(403);
    const c = await s.app.db.selectFrom('clusters').select('title').where('id', '=', s.clusters.dark).executeTakeFirstOrThrow();
    expect(c.title).toBe('Dark mode for the dashboard');
    const ok = await post(a, `/clusters/${s.clusters.dark}/rename`, { title: 'Dark mode, everywhere', pin: '1' });
    expect(ok.statusCode).toBe(303);
    const after = await s.app.db.selectFrom('clusters').select(['title', 'pinned_title']).where('id', '=', s.clusters.dark).executeTakeFirstOrThrow();
    expect(after).toEqual({ title: 'Dark mode, everywhere', pinned_title: 1 });
  });

  it('lets a viewer browse but not tag, curate or approve', async () => {
    const v = await agentFor('viewer');
    for (const url of ['/clusters', `/clusters/${s.clusters.csv}`, `/items/${s.items.csv[0]}`, '/people', `/people/${s.people.ada}`, '/digests', `/digests/${s.digests.draft}`, '/account'])
      expect((await get(v, url)).statusCode, url).toBe(200);
    expect((await get(v, '/inbox')).statusCode).toBe(403);
    expect((await get(v, '/sources')).statusCode).toBe(403);
    expect((await get(v, '/admin/users')).statusCode).toBe(403);
    expect((await post(v, `/items/${s.items.inbox[0]}/tags`, { tag: 'x' })).statusCode).toBe(403);
    expect((await postJson(v, `/api/items/${s.items.inbox[0]}/tags`, { tag: 'x' })).statusCode).toBe(403);
    expect((await postJson(v, `/api/items/${s.items.inbox[0]}/confirm`, {})).statusCode).toBe(403);
    expect((await post(v, `/clusters/${s.clusters.csv}/merge`, { from: s.clusters.dark })).statusCode).toBe(403);
    expect((await post(v, `/digests/${s.digests.draft}/approve`)).statusCode).toBe(403);
    expect((await post(v, `/people/${s.people.ada}/merge`, { from: s.people.bob })).statusCode).toBe(403);
    const page = await get(v, `/clusters/${s.clusters.csv}`);
    expect(page.body).not.toContain('/merge');
    expect(page.body).not.toContain('Curate');
    const tags = await s.app.db.selectFrom('tags').selectAll().where('item_id', '=', s.items.inbox[0]!).where('provenance', '=', 'human').execute();
    expect(tags).toHaveLength(0);
  });

  it('keeps sources and users for admins', async () => {
    const c = await agentFor('curator');
    expect((await get(c, '/sources')).statusCode).toBe(403);
    expect((await get(c, '/inbox')).statusCode).toBe(200);
    const a = await agentFor('admin');
    expect((await get(a, '/sources')).statusCode).toBe(200);
    expect((await get(a, '/admin/users')).statusCode).toBe(200);
    expect((await post(a, '/admin/users', { name: 'newbie', role: 'viewer', password: 'short' })).statusCode).toBe(400);
    expect((await post(a, '/admin/users', { name: 'newbie', role: 'viewer', password: 'long-enough-pw' })).statusCode).toBe(303);
    expect((await loginAs('newbie', 'long-enough-pw')).res.statusCode).toBe(303);
  });
});

describe('API tokens', () => {
  it('are shown once, stored hashed, act with the owner role, and stop when revoked', async () => {
    const c = await agentFor('curator');
    const page = await post(c, '/account/tokens', { name: 'ci' });
    expect(page.statusCode).toBe(200);
    const token = /<code class="token">(glt_[\w-]+)<\/code>/.exec(page.body)![1]!;
    const stored = await wdb().selectFrom('api_tokens').selectAll().execute();
    expect(stored.some((t) => t.token_hash.includes(token) || t.name.includes(token))).toBe(false);
    expect((await get(c, '/account')).body).not.toContain(token);
    const auth = { authorization: `Bearer ${token}` };
    const list = await web.inject({ method: 'GET', url: '/api/clusters', headers: auth });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ clusters: unknown[] }>().clusters.length).toBeGreaterThan(0);
    // No cookie, so no CSRF token is needed; the curator role allows tagging.
    const tag = await web.inject({
      method: 'POST',
      url: `/api/items/${s.items.inbox[5]}/tags`,
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ tag: 'via-token' }),
    });
    expect(tag.statusCode).toBe(200);
    // Tokens are for the API only.
    expect((await web.inject({ method: 'GET', url: '/clusters', headers: auth })).statusCode).toBe(303);
    expect((await web.inject({ method: 'GET', url: '/api/clusters', headers: { authorization: 'Bearer glt_nope' } })).statusCode).toBe(401);
    const id = stored.find((t) => t.name === 'ci')!.id;
    expect((await post(c, `/account/tokens/${id}/revoke`)).statusCode).toBe(303);
    expect((await web.inject({ method: 'GET', url: '/api/clusters', headers: auth })).statusCode).toBe(401);
  });

  it('a viewer token reads but cannot write', async () => {
    const v = await agentFor('viewer');
    const token = /<code class="token">(glt_[\w-]+)<\/code>/.exec((await post(v, '/account/tokens', { name: 'read' })).body)![1]!;
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    expect((await web.inject({ method: 'GET', url: `/api/clusters/${s.clusters.csv}`, headers: auth })).statusCode).toBe(200);
    expect((await web.inject({ method: 'GET', url: '/api/digests', headers: auth })).statusCode).toBe(200);
    expect((await web.inject({ method: 'POST', url: `/api/items/${s.items.inbox[0]}/not-feedback`, headers: auth, payload: '{}' })).statusCode).toBe(403);
    expect((await web.inject({ method: 'POST', url: `/api/digests/${s.digests.draft}/approve`, headers: auth, payload: '{}' })).statusCode).toBe(403);
  });
});

describe('hostile community text', () => {
  it('renders <script>, onerror, javascript: links and a 1 MB line inert', async () => {
    const a = await agentFor('curator');
    for (const url of [`/clusters/${s.clusters.login}`, `/items/${s.items.hostile}`, '/inbox', `/people/${s.people.mallory}`, '/clusters', '/people']) {
      const r = await get(a, url);
      expect(r.statusCode, url).toBe(200);
      const body = r.body;
      expect(body, url).not.toMatch(/<script>window/i);
      expect(body, url).not.toMatch(/<img src=[xy]/i);
      expect(body, url).not.toMatch(/<a[^>]+href="\s*(javascript|data):/i);
      expect(body, url).not.toMatch(/<script(?![^>]*src="\/static\/inbox\.js")/i);
      expect(body.length, url).toBeLessThan(400_000);
    }
    const cluster = (await get(a, `/clusters/${s.clusters.login}`)).body;
    expect(cluster).toContain('&lt;script&gt;window.__pwned &#x3D; 1;');
    expect(cluster).toContain('onerror&#x3D;&quot;window.__pwned &#x3D; 2;');
    expect(cluster).toContain('&lt;img src&#x3D;y onerror&#x3D;&quot;window.__pwned&#x3D;3&quot;&gt;Mallory');
    expect(cluster).toContain('source link (not a web address): <code>javascript:window.__pwned&#x3D;4</code>');
    expect(cluster).toContain('<summary>Show more</summary>');
    expect(cluster).toContain('more characters are not shown here');
    expect(cluster).not.toContain(HUGE_LINE.slice(0, 30_000));
    expect(cluster).toContain(`href="${s.sourceUrl.replace(/\d+$/, '')}`);
    // The API returns the text as data, unchanged.
    const api = (await get(a, `/api/items/${s.items.hostile}`)).json<{ messages: Array<{ text: string }> }>();
    expect(api.messages[0]!.text).toContain('<script>');
  });

  it('serves stored digest HTML only under a sandboxing CSP, inside a sandboxed iframe', async () => {
    const a = await agentFor('viewer');
    const page = (await get(a, `/digests/${s.digests.draft}`)).body;
    expect(page).toMatch(/<iframe[^>]+sandbox=""[^>]+src="\/digests\/\d+\/html"/);
    const html = await get(a, `/digests/${s.digests.draft}/html`);
    expect(html.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'; sandbox");
  });
});

describe('pages', () => {
  it('every page renders for an admin', async () => {
    const a = await agentFor('admin');
    const urls = [
      '/clusters',
      '/clusters?sort=recent',
      '/clusters?kind=bug&period=7',
      '/clusters?q=csv',
      `/clusters/${s.clusters.csv}`,
      `/items/${s.items.csv[0]}`,
      '/inbox',
      '/people',
      '/people?q=ada',
      `/people/${s.people.ada}`,
      '/sources',
      '/digests',
      `/digests/${s.digests.draft}`,
      `/digests/${s.digests.sent}`,
      `/digests/${s.digests.draft}/text`,
      '/account',
      '/admin/users',
    ];
    for (const url of urls) {
      const r = await get(a, url);
      expect(r.statusCode, url).toBe(200);
      if (r.headers['content-type']?.toString().startsWith('text/html')) expect(r.body, url).toContain('</html>');
    }
    expect((await get(a, '/clusters/99999')).statusCode).toBe(404);
    expect((await get(a, '/nope')).statusCode).toBe(404);
    expect((await get(a, '/clusters/abc')).statusCode).toBe(400);
  });

  it('filters, searches and sorts clusters', async () => {
    const a = await agentFor('viewer');
    const titles = async (qs: string) => (await get(a, `/api/clusters?${qs}`)).json<{ clusters: Array<{ title: string; reporterCount: number; trend: string | null }> }>().clusters.map((c) => c.title);
    expect(await titles('')).toHaveLength(3);
    expect(await titles('q=csv')).toEqual(['CSV export crashes on large reports']);
    expect(await titles('q=night+shift')).toEqual(['Dark mode, everywhere']);
    expect(await titles('kind=feature')).toEqual(['Dark mode, everywhere']);
    expect(await titles('area=area:export')).toEqual(['CSV export crashes on large reports']);
    expect(await titles('tag=area:ui')).toEqual(['Dark mode, everywhere']);
    expect(await titles('platform=mail')).toEqual(['CSV export crashes on large reports']);
    expect(await titles('channel=%23help')).toHaveLength(2);
    expect(await titles('segment=customer')).toHaveLength(2);
    // Segments are the reporters' (as in the digest): staff answer, they are never reporters.
    expect(await titles('segment=staff')).toEqual([]);
    expect(await titles('segment=partner')).toEqual(['CSV export crashes on large reports']);
    expect(await titles('period=7')).toEqual(expect.arrayContaining(['Login is slow']));
    expect(await titles('period=7')).not.toContain('Nothing');
    const recent = await titles('sort=recent');
    expect(recent[0]).toBe('Login is slow');
    const csv = (await get(a, `/api/clusters/${s.clusters.csv}`)).json<{ reporterCount: number; sentence: string; segments: Record<string, number>; timeline: unknown[] }>();
    expect(csv.reporterCount).toBe(3);
    expect(csv.segments).toEqual({ customer: 1, community: 1, partner: 1 });
    expect(csv.sentence).toBe('3 people in 3 channels, 1 of them from customers (Acme Corp) and 1 of them from partners (OSS Foundation); first seen 23 days ago, steady');
    expect(csv.timeline.length).toBe(4);
    // Search keeps up with edits.
    await s.app.db
      .updateTable('messages')
      .set({ clean_text: 'Zanzibar export explodes', updated_at: clock + 1 })
      .where('conversation_id', '=', (await s.app.db.selectFrom('feedback_items').select('conversation_id').where('id', '=', s.items.csv[2]!).executeTakeFirstOrThrow()).conversation_id)
      .execute();
    expect(await titles('q=zanzib')).toEqual(['CSV export crashes on large reports']);
    expect(ftsQuery('a "b" OR c*')).toBe('"a"* "b"* "OR"* "c"*');
  });

  it('draws the timeline as inline SVG with a text alternative', async () => {
    const a = await agentFor('viewer');
    const body = (await get(a, `/clusters/${s.clusters.csv}`)).body;
    expect(body).toMatch(/<svg role="img" aria-labelledby="chart-title"/);
    expect((body.match(/<rect /g) ?? []).length).toBe(4);
    expect(body).toContain('3 mentions over 4 weeks');
  });

  it('merges, splits, moves and renames clusters through the forms', async () => {
    const c = await agentFor('curator');
    const split = await post(c, `/clusters/${s.clusters.csv}/split`, { items: [String(s.items.csv[2])], title: 'Crash on large reports' });
    expect(split.statusCode).toBe(303);
    const newId = Number(/\/clusters\/(\d+)/.exec(split.headers.location as string)![1]);
    expect((await get(c, `/clusters/${newId}`)).body).toContain('Crash on large reports');
    expect((await post(c, `/items/${s.items.csv[2]}/move`, { to: String(s.clusters.csv), next: `/clusters/${newId}` })).statusCode).toBe(303);
    expect((await post(c, `/clusters/${s.clusters.csv}/merge`, { from: String(newId) })).statusCode).toBe(303);
    expect((await get(c, `/clusters/${newId}`)).statusCode).toBe(404);
    const members = await s.app.db.selectFrom('cluster_items').select('item_id').where('cluster_id', '=', s.clusters.csv).execute();
    expect(members.map((m) => m.item_id).sort()).toEqual([...s.items.csv].sort());
    expect((await post(c, `/clusters/${s.clusters.csv}/pin`, { pin: '1' })).headers.location).toContain('done=pinned');
    expect((await post(c, `/clusters/${s.clusters.csv}/merge`, { from: String(s.clusters.csv) })).statusCode).toBe(400);
  });

  it("undoes the grouping's automatic merge from the cluster page, once; the two stay apart", async () => {
    const c = await agentFor('curator');
    // As the cluster stage records one: a week's cluster (here the last CSV item) merged into the older one.
    const moved = s.items.csv[2]!;
    const merge = await s.app.db
      .insertInto('cluster_merges')
      .values({ into_id: s.clusters.csv, from_id: 9999, item_ids: JSON.stringify([moved]), score: 0.14, actor: 'auto', created_at: Date.now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const page = (await get(c, `/clusters/${s.clusters.csv}`)).body;
    expect(page).toContain('Merged automatically');
    expect(page).toContain(`/clusters/${s.clusters.csv}/merges/${merge.id}/undo`);
    const undo = await post(c, `/clusters/${s.clusters.csv}/merges/${merge.id}/undo`, {});
    expect(undo.statusCode).toBe(303);
    expect(undo.headers.location).toContain('done=merge_undone');
    const newId = Number(/\/clusters\/(\d+)/.exec(undo.headers.location as string)![1]);
    const members = await s.app.db.selectFrom('cluster_items').select(['item_id', 'cluster_id', 'pinned']).where('item_id', '=', moved).executeTakeFirstOrThrow();
    expect(members.cluster_id).toBe(newId);
    expect(members.pinned).toBe(1);
    expect((await get(c, `/clusters/${s.clusters.csv}`)).body).not.toContain('Merged automatically');
    expect((await post(c, `/clusters/${s.clusters.csv}/merges/${merge.id}/undo`, {})).statusCode).toBe(400);
    expect((await post(c, `/clusters/${s.clusters.csv}/merges/424242/undo`, {})).statusCode).toBe(404);
    const viewer = await agentFor('viewer');
    expect((await post(viewer, `/clusters/${newId}/merges/${merge.id}/undo`, {})).statusCode).toBe(403);
    // Put the item back for the tests after this one.
    expect((await post(c, `/items/${moved}/move`, { to: String(s.clusters.csv), next: `/clusters/${s.clusters.csv}` })).statusCode).toBe(303);
  });
});

describe('tag inbox and items', () => {
  it('accepts, rejects, adds, marks not-feedback and bulk-decides through the API', async () => {
    const c = await agentFor('curator');
    const pending = async () => (await get(c, '/api/items?status=pending')).json<{ total: number; items: Array<{ id: number }> }>();
    const before = await pending();
    const [i0, i1, i2, i3] = s.items.inbox;
    expect(before.items.map((x) => x.id)).toContain(i0);
    expect((await postJson(c, `/api/items/${i0}/confirm`, {})).statusCode).toBe(200);
    expect((await postJson(c, `/api/items/${i1}/not-feedback`, {})).statusCode).toBe(200);
    expect((await postJson(c, `/api/items/${i2}/tags`, { tag: 'Area:Search' })).statusCode).toBe(200);
    expect((await postJson(c, `/api/items/${i2}/tags/remove`, { tag: 'area:search' })).statusCode).toBe(200);
    expect((await postJson(c, `/api/items/${i2}/tags`, { tag: 'not a tag!' })).statusCode).toBe(400);
    expect((await postJson(c, '/api/items/bulk', { ids: [i3], action: 'confirm' })).statusCode).toBe(200);
    const after = await pending();
    expect(after.total).toBe(before.total - 3);
    const tags = await s.app.db.selectFrom('tags').select(['tag', 'provenance', 'state', 'actor']).where('item_id', '=', i2!).where('provenance', '=', 'human').execute();
    expect(tags).toEqual([{ tag: 'area:search', provenance: 'human', state: 'removed', actor: 'curator' }]);
    const st = await s.app.db.selectFrom('feedback_items').select(['id', 'status']).where('id', 'in', [i0!, i1!, i3!]).orderBy('id').execute();
    expect(st.map((x) => x.status)).toEqual(['confirmed', 'not_feedback', 'confirmed']);
    // The form fallback without JS.
    const r = await post(c, `/items/${s.items.inbox[4]}/confirm`, { next: '/inbox' });
    expect(r.headers.location).toBe('/inbox?done=confirmed');
    expect((await post(c, `/items/${s.items.inbox[4]}/confirm`, { next: 'https://evil.example/' })).headers.location).toBe('/inbox?done=confirmed');
  });
});

describe('people', () => {
  it('merges people keeping every identity and its evidence, and unmerges one identity', async () => {
    const a = await agentFor('curator');
    const page = (await get(a, `/people/${s.people.ada}`)).body;
    expect(page).toContain('same-email');
    expect((await post(a, `/people/${s.people.ada}/merge`, { from: String(s.people.bob) })).statusCode).toBe(303);
    const ada = (await personDetail(s.app.db, s.people.ada))!;
    expect(ada.identities.map((i) => i.value).sort()).toEqual(['U01ADA', 'ada@acme.com', 'bob@example.org']);
    const moved = ada.identities.find((i) => i.value === 'bob@example.org')!;
    expect(JSON.parse(moved.evidence!)).toMatchObject({ rule: 'manual-merge', actor: 'curator', fromPerson: s.people.bob });
    expect(JSON.parse(ada.identities.find((i) => i.value === 'ada@acme.com')!.evidence!)).toEqual({ rule: 'same-email', email: 'ada@acme.com' });
    expect((await get(a, `/people/${s.people.bob}`)).statusCode).toBe(404);
    const un = await post(a, `/identities/${moved.id}/unmerge`);
    expect(un.statusCode).toBe(303);
    const newId = Number(/\/people\/(\d+)/.exec(un.headers.location as string)![1]);
    const bob = (await personDetail(s.app.db, newId))!;
    expect(bob.identities.map((i) => i.value)).toEqual(['bob@example.org']);
    expect(JSON.parse(bob.identities[0]!.evidence!)).toMatchObject({ rule: 'manual-unmerge', previous: { rule: 'manual-merge' } });
    expect(bob.messages.length).toBeGreaterThan(0);
    // The last identity of a person cannot be unmerged; merging into oneself is refused.
    await expect(unmergeIdentity(s.app.db, moved.id, 'x', clock)).rejects.toThrow(/only identity/);
    await expect(mergePeople(s.app.db, newId, newId, 'x', clock)).rejects.toThrow(/themselves/);
  });
});

describe('sources and digests', () => {
  it('shows status, last pull, cursor, coverage, gaps, errors and quarantine', async () => {
    const a = await agentFor('admin');
    const body = (await get(a, '/sources')).body;
    for (const s of [
      'lumen-slack',
      'dev-list',
      'status-error',
      'invalid_auth &lt;b&gt;check the token&lt;/b&gt;',
      '1762074000.000100',
      'history not available (free plan)',
      'truncated MIME part',
      '&lt;script&gt;alert(1)&lt;/script&gt;',
      '#help',
      '2026-11-27 09:00 UTC',
    ])
      expect(body, s).toContain(s);
  });

  it('approves a draft once, as the curator', async () => {
    const c = await agentFor('curator');
    const page = (await get(c, `/digests/${s.digests.draft}`)).body;
    expect(page).toContain('Approve this digest');
    expect((await post(c, `/digests/${s.digests.draft}/approve`)).statusCode).toBe(303);
    const d = await s.app.db.selectFrom('digests').select(['status', 'approved_by']).where('id', '=', s.digests.draft).executeTakeFirstOrThrow();
    // Approval hands the edition to the sender at once (no SMTP is configured here, so it may fail).
    expect(d.approved_by).toBe('curator');
    expect(['approved', 'sending', 'failed']).toContain(d.status);
    expect((await post(c, `/digests/${s.digests.draft}/approve`)).statusCode).toBe(400);
    expect((await postJson(c, `/api/digests/${s.digests.sent}/approve`, {})).statusCode).toBe(400);
    const list = (await get(c, '/api/digests')).json<{ drafts: unknown[]; archive: unknown[] }>();
    expect(list.drafts).toHaveLength(1);
    expect(list.archive).toHaveLength(1);
  });
});

describe('digest curation form', () => {
  it('saves order, hidden entries, titles and notes on a draft, escaped, and only for curators', async () => {
    const json = JSON.stringify({
      period: { start: '2026-11-09T00:00:00.000Z', end: '2026-11-16T00:00:00.000Z' },
      clusters: [
        {
          id: 'cluster-1',
          title: 'SSO login loop',
          kind: 'bug',
          tags: [],
          reporters: 3,
          mentions: 4,
          segments: {},
          channels: ['#help'],
          trend: 'rising',
          firstSeen: '2026-11-09T00:00:00.000Z',
          lastSeen: '2026-11-10T00:00:00.000Z',
          score: 5,
          why: '3 people',
          summary: null,
          quotes: [],
        },
        {
          id: 'cluster-2',
          title: 'PDF export',
          kind: 'feature',
          tags: [],
          reporters: 2,
          mentions: 2,
          segments: {},
          channels: ['#ideas'],
          trend: 'new',
          firstSeen: '2026-11-09T00:00:00.000Z',
          lastSeen: '2026-11-10T00:00:00.000Z',
          score: 3,
          why: '2 people',
          summary: null,
          quotes: [],
        },
      ],
      stats: { messages: 6, conversations: 2, feedbackItems: 2, sources: [] },
    });
    const row = await s.app.db
      .insertInto('digests')
      .values({
        team: 'curation-test',
        period_start: Date.parse('2026-11-09T00:00:00Z'),
        period_end: Date.parse('2026-11-16T00:00:00Z'),
        status: 'draft',
        json,
        html: '<p>draft</p>',
        text: 'draft',
        curation: null,
        message_id: null,
        created_at: clock,
        approved_at: null,
        approved_by: null,
        sent_at: null,
      })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    const c = await agentFor('curator');
    const page = (await get(c, `/digests/${row.id}`)).body;
    expect(page).toContain('Curate this draft');
    const fields = { order_1: '1', title_0: 'Okta <b>loop</b>', note_0: 'Two customers blocked', hide_1: '1' };
    expect((await post(c, `/digests/${row.id}/curation`, fields)).statusCode).toBe(303);
    const saved = await s.app.db.selectFrom('digests').select(['curation']).where('id', '=', row.id).executeTakeFirstOrThrow();
    expect(JSON.parse(saved.curation!)).toEqual({ hidden: ['cluster-2'], order: ['cluster-2'], titles: { 'cluster-1': 'Okta <b>loop</b>' }, notes: { 'cluster-1': 'Two customers blocked' } });
    // The form shows the decisions back, escaped.
    const again = (await get(c, `/digests/${row.id}`)).body;
    expect(again).toContain('value="Okta &lt;b&gt;loop&lt;/b&gt;"');
    expect(again).not.toContain('<b>loop</b>');
    expect(again).toContain('>Two customers blocked</textarea>');
    const v = await agentFor('viewer');
    expect((await post(v, `/digests/${row.id}/curation`, fields)).statusCode).toBe(403);
  });
});
