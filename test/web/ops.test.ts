// Operations in the web app: /metrics (Prometheus text) behind an API token or an admin session, the
// public /healthz, and the BullMQ dashboard (bull-board) at /admin/queues for admins only, on the real
// Redis of the test setup; its own CSP on its prefix only.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Queue } from 'bullmq';
import { buildWebApp } from '../../src/web/app.js';
import { CSP } from '../../src/web/page.js';
import { QUEUES_CSP } from '../../src/web/ops.js';
import { issueApiToken } from '../../src/web/auth.js';
import { revokeApiToken, userByName } from '../../src/store/web/accounts.js';
import { PASSWORDS, seededApp, type Seeded } from './seed.js';

type Who = keyof typeof PASSWORDS;

async function login(web: FastifyInstance, user: Who): Promise<Record<string, string>> {
  const page = await web.inject({ method: 'GET', url: '/login' });
  const cookies: Record<string, string> = Object.fromEntries(page.cookies.map((c) => [c.name, c.value]));
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const res = await web.inject({ method: 'POST', url: '/login', cookies, payload: { username: user, password: PASSWORDS[user], _csrf: csrf, next: '/clusters' } });
  expect(res.statusCode).toBe(303);
  for (const c of res.cookies) cookies[c.name] = c.value;
  return cookies;
}

async function tokenFor(s: Seeded, user: Who): Promise<{ id: number; token: string }> {
  const u = (await userByName(s.app.db, user))!;
  return issueApiToken(s.app.db, u.id, `ops-${user}`, Date.now());
}

describe('/metrics and /healthz (in-process queue)', () => {
  let s: Seeded;
  let web: FastifyInstance;
  beforeAll(async () => {
    s = await seededApp();
    web = buildWebApp(s.app);
    await web.ready();
  }, 60_000);
  afterAll(async () => {
    await web?.close();
    await s?.app.close();
  });

  const metricsWith = (headers: Record<string, string>, cookies: Record<string, string> = {}) => web.inject({ method: 'GET', url: '/metrics', headers, cookies });
  const isMetrics = (r: LightMyRequestResponse) => {
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toContain('# TYPE gleaner_queue_jobs gauge');
    expect(r.body).toMatch(/^gleaner_source_last_pull_ok\{source="lumen-slack",platform="slack"\} 0$/m);
    expect(r.body).toMatch(/^gleaner_source_quarantined\{source="dev-list",platform="mail"\} 1$/m);
  };

  it('keeps /healthz public and refuses /metrics without credentials', async () => {
    const h = await web.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toEqual({ ok: true });
    const r = await metricsWith({});
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer');
    expect(r.body).not.toContain('gleaner_');
    expect((await metricsWith({ authorization: 'Bearer glt_not-a-token' })).statusCode).toBe(401);
    expect((await metricsWith({ authorization: 'Basic YWRtaW46eA==' })).statusCode).toBe(401);
  });

  it('serves Prometheus text to an API token and to an admin session only', async () => {
    const t = await tokenFor(s, 'viewer');
    isMetrics(await metricsWith({ authorization: `Bearer ${t.token}` }));
    isMetrics(await metricsWith({}, await login(web, 'admin')));
    for (const who of ['viewer', 'curator'] as const) {
      const r = await metricsWith({}, await login(web, who));
      expect(r.statusCode, who).toBe(403);
      expect(r.body).not.toContain('gleaner_');
    }
    // A revoked token is no longer let in.
    await revokeApiToken(s.app.db, (await userByName(s.app.db, 'viewer'))!.id, t.id, Date.now());
    expect((await metricsWith({ authorization: `Bearer ${t.token}` })).statusCode).toBe(401);
    // A token still opens only the API and /metrics, not the pages.
    const t2 = await tokenFor(s, 'admin');
    expect((await web.inject({ method: 'GET', url: '/clusters', headers: { authorization: `Bearer ${t2.token}` } })).statusCode).toBe(303);
  });

  it('has no queue dashboard without Redis', async () => {
    const cookies = await login(web, 'admin');
    const r = await web.inject({ method: 'GET', url: '/admin/queues', cookies });
    expect(r.statusCode).toBe(404);
    expect((await web.inject({ method: 'GET', url: '/clusters', cookies })).body).not.toContain('href="/admin/queues"');
  });
});

describe('BullMQ dashboard at /admin/queues (Redis)', () => {
  let s: Seeded;
  let web: FastifyInstance;
  const prefix = `test-${randomUUID()}`;
  let enrich: Queue;

  beforeAll(async () => {
    s = await seededApp(undefined, { redisUrl: inject('redisUrl'), prefix });
    web = buildWebApp(s.app);
    await web.ready();
    // Nobody consumes here: the jobs wait, and the dashboard must show them.
    await s.app.queue.add('enrich', 'enrich', { conversationIds: [1, 2] }, { jobId: 'enrich-dash-1' });
    await s.app.queue.add('enrich', 'enrich', { conversationIds: [3] }, { jobId: 'enrich-dash-2' });
    enrich = new Queue('enrich', { connection: { url: inject('redisUrl') }, prefix });
  }, 60_000);

  afterAll(async () => {
    await web?.close();
    await (s?.app.queue as unknown as { obliterate?(): Promise<void> } | undefined)?.obliterate?.();
    await enrich?.close();
    await s?.app.close();
  });

  it('sends a visitor without a session to the login page', async () => {
    const r = await web.inject({ method: 'GET', url: '/admin/queues' });
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe(`/login?next=${encodeURIComponent('/admin/queues')}`);
    const api = await web.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { accept: 'application/json' } });
    expect(api.statusCode).toBe(401);
    expect(api.body).not.toContain('enrich');
  });

  it('refuses viewers and curators', async () => {
    for (const who of ['viewer', 'curator'] as const) {
      const cookies = await login(web, who);
      for (const url of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/queue/enrich']) {
        const r = await web.inject({ method: 'GET', url, cookies });
        expect(r.statusCode, `${who} ${url}`).toBe(403);
        expect(r.body).not.toContain('enrich-dash');
      }
      const put = await web.inject({ method: 'PUT', url: '/admin/queues/api/queues/enrich/pause', cookies, headers: { 'sec-fetch-site': 'same-origin' } });
      expect(put.statusCode).toBe(403);
    }
    expect(await enrich.isPaused()).toBe(false);
    // An API token is not a way in either.
    const t = await tokenFor(s, 'admin');
    expect((await web.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { authorization: `Bearer ${t.token}`, accept: 'application/json' } })).statusCode).toBe(401);
  });

  it('shows the queues and their jobs to an admin, under its own CSP', async () => {
    const cookies = await login(web, 'admin');
    const page = await web.inject({ method: 'GET', url: '/admin/queues', cookies });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<base href="/admin/queues/"');
    expect(page.headers['content-security-policy']).toBe(QUEUES_CSP);
    expect(page.headers['x-frame-options']).toBe('DENY');
    const script = /<script defer src="(static\/js\/main\.[\w.]+\.js)"/.exec(page.body)![1]!;
    const js = await web.inject({ method: 'GET', url: `/admin/queues/${script}`, cookies });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    const api = await web.inject({ method: 'GET', url: '/admin/queues/api/queues?activeQueue=enrich&status=waiting&page=1', cookies });
    expect(api.statusCode).toBe(200);
    const body = api.json<{ queues: Array<{ name: string; counts: Record<string, number>; jobs: Array<{ id: string }> }> }>();
    expect(body.queues.map((q) => q.name).sort()).toEqual(['cluster', 'digest', 'enrich', 'ingest']);
    const q = body.queues.find((x) => x.name === 'enrich')!;
    expect(q.counts.waiting).toBe(2);
    expect(q.jobs.map((j) => j.id).sort()).toEqual(['enrich-dash-1', 'enrich-dash-2']);
    // The rest of the app keeps its strict policy, and links to the dashboard for admins only.
    const clusters = await web.inject({ method: 'GET', url: '/clusters', cookies });
    expect(clusters.headers['content-security-policy']).toBe(CSP);
    expect(clusters.body).toContain('<a href="/admin/queues">Queues</a>');
    expect((await web.inject({ method: 'GET', url: '/clusters', cookies: await login(web, 'curator') })).body).not.toContain('href="/admin/queues"');
  });

  it("lets an admin act from the dashboard's own origin only", async () => {
    const cookies = await login(web, 'admin');
    const cross = await web.inject({ method: 'PUT', url: '/admin/queues/api/queues/enrich/pause', cookies, headers: { origin: 'https://evil.example' } });
    expect(cross.statusCode).toBe(403);
    const noOrigin = await web.inject({ method: 'PUT', url: '/admin/queues/api/queues/enrich/pause', cookies });
    expect(noOrigin.statusCode).toBe(403);
    expect(await enrich.isPaused()).toBe(false);
    const ok = await web.inject({ method: 'PUT', url: '/admin/queues/api/queues/enrich/pause', cookies, headers: { origin: 'http://gleaner.test:8080', host: 'gleaner.test:8080' } });
    expect(ok.statusCode).toBe(200);
    expect(await enrich.isPaused()).toBe(true);
    const resume = await web.inject({ method: 'PUT', url: '/admin/queues/api/queues/enrich/resume', cookies, headers: { 'sec-fetch-site': 'same-origin' } });
    expect(resume.statusCode).toBe(200);
    expect(await enrich.isPaused()).toBe(false);
  });
});
