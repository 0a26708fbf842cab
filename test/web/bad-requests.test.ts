// Requests that used to end in HTTP 500 (and a logged stack trace) are the client's mistakes: each
// gets a 400 or 404 with a clear message, and nothing is logged as a server failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildWebApp } from '../../src/web/app.js';
import { safeNext } from '../../src/web/page.js';
import { PASSWORDS, seededApp, type Seeded } from './seed.js';
import { get, loginAs, postJson, type Agent } from './agent.js';

let s: Seeded;
let web: FastifyInstance;
let admin: Agent;
const serverErrors: unknown[] = [];

beforeAll(async () => {
  s = await seededApp();
  const error = s.app.log.error.bind(s.app.log);
  s.app.log.error = (...args: Parameters<typeof error>) => {
    serverErrors.push(args[0]);
    error(...args);
  };
  web = buildWebApp(s.app);
  await web.ready();
  const r = await loginAs(web, 'admin', PASSWORDS.admin);
  expect(r.res.statusCode).toBe(303);
  admin = r.agent;
}, 60_000);

afterAll(async () => {
  await web?.close();
  await s?.app.close();
  expect(serverErrors).toEqual([]);
});

describe('static files', () => {
  it('/static/constructor, /static/__proto__ and other prototype names are 404, not 500', async () => {
    for (const name of ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf']) {
      const r = await get(web, null, `/static/${name}`);
      expect(r.statusCode, name).toBe(404);
      expect(r.body, name).toContain('There is no static file');
    }
    expect((await get(web, null, '/static/app.css')).statusCode).toBe(200);
  });

  it('answers /favicon.ico (no 404 on every page) and the layout names the icon', async () => {
    const r = await get(web, null, '/favicon.ico');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('image/svg+xml');
    expect(r.body).toContain('<svg');
    expect((await get(web, null, '/static/favicon.svg')).statusCode).toBe(200);
    expect((await get(web, null, '/login')).body).toContain('<link rel="icon" href="/static/favicon.svg"');
  });
});

describe('ISO weeks', () => {
  it('a week that does not exist (W00, W54, W53 of a 52-week year) is a 400 that says so', async () => {
    for (const week of ['2026-W54', '2026-W00', '2027-W53', '2026-W99']) {
      for (const url of [`/clusters?week=${week}`, `/api/clusters?week=${week}`, `/api/clusters/${s.clusters.csv}?week=${week}`, `/clusters/${s.clusters.csv}?week=${week}`]) {
        const r = await get(web, admin, url);
        expect(r.statusCode, url).toBe(400);
        expect(r.body, url).toContain('no such ISO week');
      }
    }
    // Weeks that exist still work, W53 of a year that has one included.
    for (const week of ['2026-W53', '2026-W47', '2026W01']) expect((await get(web, admin, `/api/clusters?week=${week}`)).statusCode, week).toBe(200);
  });
});

describe('digest curation through the API', () => {
  it('a bad body is a 400 naming the problem; an unknown digest is a 404', async () => {
    const url = `/api/digests/${s.digests.draft}/curation`;
    for (const body of [{ hidden: 'cluster-1' }, { order: [1, 2] }, { titles: ['x'] }, [1, 2, 3], '"not json curation"']) {
      const r = await postJson(web, admin, url, body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json<{ error: string }>().error, JSON.stringify(body)).toMatch(/invalid curation|not valid JSON|Unexpected token|expected/i);
    }
    const missing = await postJson(web, admin, '/api/digests/999999/curation', { hidden: [] });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<{ error: string }>().error).toBe('digest 999999 not found');
    // A sent digest is no draft: 400.
    expect((await postJson(web, admin, `/api/digests/${s.digests.sent}/curation`, { hidden: [] })).statusCode).toBe(400);
    // A good body still saves.
    expect((await postJson(web, admin, url, { hidden: [], order: [], titles: {}, notes: {} })).statusCode).toBe(200);
  });
});

describe('login next', () => {
  it('a next with a non-ASCII character redirects to it percent-encoded (a Location header is ASCII)', async () => {
    const { res, agent } = await loginAs(web, 'viewer', PASSWORDS.viewer, { next: '/people?q=Zoë 日本' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/people?q=Zo%C3%AB%20%E6%97%A5%E6%9C%AC'.replace('%20', ' '));
    expect((await get(web, agent, res.headers.location as string)).statusCode).toBe(200);
    // Logged in already: GET /login?next=... redirects the same way.
    const again = await get(web, agent, `/login?next=${encodeURIComponent('/clusters?q=café')}`);
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe('/clusters?q=caf%C3%A9');
    // A lone surrogate cannot be encoded: the fallback, not a 500.
    expect(safeNext('/x\uD800', '/clusters')).toBe('/clusters');
    expect(safeNext('//evil.example/', '/clusters')).toBe('/clusters');
  });
});
