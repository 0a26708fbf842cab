// The web shows a cluster's figures exactly as the digest computes them: for every week of the seeded
// community, the JSON API list, the cluster page's API and the HTML pages give the same reporters,
// segments, channels, mentions, trend, score and sentence as buildDigest's JSON for that week.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildWebApp } from '../../src/web/app.js';
import { buildDigest } from '../../src/digest/build.js';
import { weekPeriod, weekLabel } from '../../src/pipeline/period.js';
import { issueApiToken } from '../../src/web/auth.js';
import { userByName } from '../../src/store/web/accounts.js';
import { BASE, seededApp, type Seeded } from './seed.js';

const DAY = 86_400_000;
let s: Seeded;
let web: FastifyInstance;
let auth: { authorization: string };

interface ApiRow {
  id: number;
  title: string;
  sentence: string;
  reporterCount: number;
  mentions: number;
  segments: Record<string, number>;
  channels: string[];
  trend: string | null;
  score: number;
  scoreExplanation: string | null;
  firstSeen: number | null;
  lastSeen: number | null;
  tags: string[];
}

beforeAll(async () => {
  s = await seededApp();
  web = buildWebApp(s.app);
  await web.ready();
  const viewer = (await userByName(s.app.db, 'viewer'))!;
  auth = { authorization: `Bearer ${(await issueApiToken(s.app.db, viewer.id, 'parity', BASE)).token}` };
}, 60_000);

afterAll(async () => {
  await web?.close();
  await s?.app.close();
});

const api = async <T>(url: string): Promise<T> => {
  const r = await web.inject({ method: 'GET', url, headers: auth });
  expect(r.statusCode, url).toBe(200);
  return r.json<T>();
};

const escapeHtml = (x: string) => x.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;').replace(/=/g, '&#x3D;');

describe('web and digest agree', () => {
  // The seeded community spans ISO weeks 2026-W45 to W48 (2 to 29 November 2026).
  const weeks = [45, 46, 47, 48].map((w) => weekPeriod(2026, w));

  it('on every cluster of every week: list, cluster page and digest JSON', async () => {
    let compared = 0;
    const trends = new Set<string>();
    for (const period of weeks) {
      const week = weekLabel(period);
      const built = await buildDigest(s.app.db, period, { top: 200, segments: s.app.config.segments });
      // A week without an active cluster makes the digest fall back to conversations: those are not clusters.
      const digest = { ...built, clusters: built.clusters.filter((c) => c.id.startsWith('cluster-')) };
      const list = await api<{ clusters: ApiRow[]; total: number; period: { start: string; end: string } }>(`/api/clusters?week=${week}&sort=score`);
      expect(list.period).toMatchObject({ start: digest.period.start, end: digest.period.end });
      // The same clusters, in the same order (best score first).
      expect(
        list.clusters.map((c) => `cluster-${c.id}`),
        week,
      ).toEqual(digest.clusters.map((c) => c.id));
      expect(list.total).toBe(digest.clusters.length);
      const page = (await web.inject({ method: 'GET', url: `/clusters?week=${week}`, cookies: {} })).statusCode;
      expect(page).toBe(303); // pages need a session; the HTML is checked below with one
      for (const d of digest.clusters) {
        const id = Number(d.id.slice('cluster-'.length));
        const row = list.clusters.find((c) => c.id === id)!;
        const detail = await api<ApiRow & { evidence: { reporters: Array<{ personId: number; messages: Array<{ messageId: number }> }> } }>(`/api/clusters/${id}?week=${week}`);
        for (const r of [row, detail]) {
          expect(r.sentence, `${week} ${d.title}`).toBe(d.why);
          // The web shows a cluster's people up to the period's end; the digest also counts the week's alone.
          expect(r.reporterCount).toBe(d.reportersToDate);
          expect(r.mentions).toBe(d.mentions);
          expect(r.segments).toEqual(d.segmentsToDate);
          expect(r.channels).toEqual(d.channels);
          expect(r.trend).toBe(d.trend);
          expect(r.score).toBe(d.score);
          expect(r.scoreExplanation).toBe(d.scoreExplanation);
          expect(r.tags).toEqual(d.tags);
          expect(new Date(r.firstSeen!).toISOString()).toBe(d.firstSeen);
          expect(new Date(r.lastSeen!).toISOString()).toBe(d.lastSeen);
        }
        // The evidence: the same people, each with the messages that show they voiced it.
        expect(detail.evidence.reporters.map((r) => [r.personId, r.messages.map((m) => m.messageId)])).toEqual(d.evidence!.reporters.map((r) => [r.personId, r.messageIds]));
        compared++;
        trends.add(String(d.trend));
      }
    }
    // Not a vacuous comparison: clusters in several weeks, with more than one trend and a real score.
    expect(compared).toBeGreaterThanOrEqual(5);
    expect(trends.size).toBeGreaterThanOrEqual(2);
  });

  it('in the HTML pages too, with the evidence linked to the source', async () => {
    const login = await web.inject({ method: 'GET', url: '/login' });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
    const cookies: Record<string, string> = Object.fromEntries(login.cookies.map((c) => [c.name, c.value]));
    const res = await web.inject({ method: 'POST', url: '/login', cookies, payload: { username: 'viewer', password: 'viewer-password-1', _csrf: csrf, next: '/clusters' } });
    for (const c of res.cookies) cookies[c.name] = c.value;
    const period = weekPeriod(2026, 46);
    const digest = await buildDigest(s.app.db, period, { top: 200, segments: s.app.config.segments });
    const csv = digest.clusters.find((c) => c.id === `cluster-${s.clusters.csv}`)!;
    expect(csv.why).toMatch(/^\d+ (person|people) in \d+ channels?/);
    const list = (await web.inject({ method: 'GET', url: '/clusters?week=2026-W46', cookies })).body;
    for (const c of digest.clusters) {
      expect(list).toContain(escapeHtml(c.why!));
      expect(list).toContain(`score ${c.score}<`);
    }
    expect(list).toContain(`href="/clusters/${s.clusters.csv}?week&#x3D;2026-W46"`); // Handlebars escapes = in attributes
    const page = (await web.inject({ method: 'GET', url: `/clusters/${s.clusters.csv}?week=2026-W46`, cookies })).body;
    expect(page).toContain(escapeHtml(csv.why!));
    expect(page).toContain(escapeHtml(csv.scoreExplanation!));
    // Every reporter's message is linked, on this page and at its source.
    for (const m of csv.evidence!.messages) {
      expect(page).toContain(`href="#m${m.messageId}"`);
      if (m.permalink?.startsWith('https://')) expect(page).toContain(`href="${m.permalink}"`);
    }
    // The digest page links each cluster of an edition to the web page for the edition's week.
    const row = await s.app.db
      .insertInto('digests')
      .values({
        team: 'parity',
        period_start: period.start,
        period_end: period.end,
        status: 'draft',
        json: JSON.stringify(digest),
        html: '<p>x</p>',
        text: 'x',
        curation: null,
        message_id: null,
        created_at: period.end,
        approved_at: null,
        approved_by: null,
        sent_at: null,
      })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    const dpage = (await web.inject({ method: 'GET', url: `/digests/${row.id}`, cookies })).body;
    expect(dpage).toContain(`href="/clusters/${s.clusters.csv}?week&#x3D;2026-W46"`);
    expect(dpage).toContain(escapeHtml(csv.why!));
    // A week where the cluster was quiet: the digest leaves it out, so does the list.
    const w47 = await buildDigest(s.app.db, weekPeriod(2026, 47), { top: 200, segments: s.app.config.segments });
    const inW47 = w47.clusters.some((c) => c.id === `cluster-${s.clusters.csv}`);
    const listW47 = (await api<{ clusters: ApiRow[] }>('/api/clusters?week=2026-W47')).clusters.some((c) => c.id === s.clusters.csv);
    expect(listW47).toBe(inW47);
    expect(BASE + 15 * DAY).toBeGreaterThan(weekPeriod(2026, 47).start); // W47 starts on day 14 of the seed
  });
});
