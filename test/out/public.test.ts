// The public edition of the Lumen scenario (examples/, run through the whole pipeline): the rendered
// HTML and Atom feed carry no person's name, handle or email and no customer org from the scenario's
// people and orgs config, quote only public channels, and are served without login only for a public
// team's approved edition.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openApp, startWorkers, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { importFiles } from '../../src/runner/import.js';
import { QUEUE_NAMES } from '../../src/queue/port.js';
import { examplesDir } from '../../src/paths.js';
import { parseWeek } from '../../src/pipeline/period.js';
import { teamByName } from '../../src/digest/edition.js';
import { approveEdition, prepareEdition } from '../../src/digest/workflow.js';
import { publicEditionOf, scrubber, type PublicEdition } from '../../src/digest/public.js';
import { renderAtom, renderPublicHtml } from '../../src/digest/public-render.js';
import { buildWebApp } from '../../src/web/app.js';
import { resolveCluster } from '../../src/loop/drafts.js';
import { tempDir } from '../support/factories.js';

const W46 = parseWeek('2026-W46');
let app: App;
let config: Config;
let web: FastifyInstance;
let editionId = 0;
let draftId = 0;
let privateTeamId = 0;
let pub: PublicEdition;
let html = '';
let atom = '';

beforeAll(async () => {
  config = loadConfig(join(examplesDir(), 'gleaner.yaml')).config;
  // Slack, Discord and IRC are declared public (imported, not pulled: enabled false); Matrix stays private (the default).
  config.sources.push(
    { name: 'slack', platform: 'slack', enabled: false, public: true },
    { name: 'discord', platform: 'discord', enabled: false, public: true },
    { name: 'irc', platform: 'irc', enabled: false, public: ['#lumen'] },
  );
  config.teams = config.teams.map((t) => ({ ...t, public: t.name === 'product' }));
  app = await openApp({ configObject: config, db: join(tempDir(), 'public.db'), redisUrl: null, now: () => Date.UTC(2026, 10, 16) });
  const dir = examplesDir();
  const summary = await importFiles(app, [join(dir, 'slack', 'lumen-export'), join(dir, 'discord'), join(dir, 'matrix'), join(dir, 'irc')]);
  expect(summary.errors).toEqual([]);
  startWorkers(app, QUEUE_NAMES);
  await app.queue.idle();
  const e = await prepareEdition(app.ctx, teamByName(config, 'product'), W46);
  await approveEdition(app.ctx, e.id, 'carol', { send: false });
  editionId = e.id;
  // A resolved cluster shows its resolution, scrubbed like the rest.
  const first = /^cluster-(\d+)$/.exec((JSON.parse(e.json) as { clusters: Array<{ id: string }> }).clusters[0]!.id);
  if (first) await resolveCluster(app.ctx, Number(first[1]), { by: 'carol', reference: 'fixed in 2.4.1, thanks Priya Raman (priya@acme.io)', url: 'https://lumen.example/releases/2.4.1' });
  draftId = (await prepareEdition(app.ctx, teamByName(config, 'product'), parseWeek('2026-W45'))).id;
  const docs = await prepareEdition(app.ctx, teamByName(config, 'docs-and-support'), W46);
  await approveEdition(app.ctx, docs.id, 'carol', { send: false });
  privateTeamId = docs.id;
  const stored = await app.db.selectFrom('digests').selectAll().where('id', '=', editionId).executeTakeFirstOrThrow();
  pub = await publicEditionOf(app.db, config, {
    id: stored.id,
    team: stored.team,
    periodStart: Number(stored.period_start),
    periodEnd: Number(stored.period_end),
    json: stored.json,
    curation: stored.curation,
    approvedAt: Number(stored.approved_at),
    createdAt: Number(stored.created_at),
  });
  html = renderPublicHtml(pub, { baseUrl: 'https://gleaner.example.org' });
  atom = renderAtom([pub], { baseUrl: 'https://gleaner.example.org', now: Date.UTC(2026, 10, 16) });
  web = buildWebApp(app);
}, 240_000);

afterAll(async () => {
  await web?.close();
  await app?.close();
});

/** Every name, name part, handle and email of the scenario's people, and its customer orgs. */
function forbidden(): string[] {
  const out = new Set<string>();
  for (const p of config.people) {
    out.add(p.name);
    for (const part of p.name.split(/\s+/)) if (part.length >= 3) out.add(part);
    for (const id of p.identities) {
      const value = id.replace(/^[a-z]+:/, '');
      if (/^\d+$/.test(value) || /^U0/.test(value)) continue; // platform ids are not names
      out.add(value);
      const last = value.split(/[/:]/).filter(Boolean).at(0)?.replace(/^@/, '');
      const tail = value.split('/').at(-1)!.replace(/^@/, '').split(':')[0]!;
      for (const v of [last, tail]) if (v && v.length >= 3 && !/^(irc|libera|matrix|forum\.lumen\.dev)$/.test(v)) out.add(v);
    }
  }
  for (const o of config.orgs) if (o.segment === 'customer') out.add(o.name);
  return [...out];
}

const mentions = (text: string, word: string) => new RegExp(`(?<![\\p{L}\\p{N}_])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}_])`, 'iu').test(text);

describe('public edition', () => {
  it('has entries and quotes from public channels only', () => {
    // The Okta login loop and the billing page (chatter such as "we saw something like that on Slack too" is not an entry).
    expect(pub.entries.length).toBeGreaterThanOrEqual(2);
    const quotes = pub.entries.flatMap((e) => e.quotes);
    expect(quotes.length).toBeGreaterThan(2);
    expect(quotes.every((q) => /^(slack|discord|irc) /.test(q.channel))).toBe(true);
    expect(pub.entries.flatMap((e) => e.channels).some((c) => c.startsWith('matrix'))).toBe(false);
    const resolved = pub.entries.find((e) => e.resolution?.url === 'https://lumen.example/releases/2.4.1');
    expect(resolved?.resolution?.text).toBe('fixed in 2.4.1, thanks someone ([address])');
    // The community's own product (the staff org's name) is not scrubbed.
    expect(JSON.stringify(pub)).toContain('Lumen');
  });

  it('the HTML and the Atom feed name no person, handle, email or customer org of the scenario', () => {
    const words = forbidden();
    expect(words).toEqual(expect.arrayContaining(['Priya Raman', 'Priya', 'priya@acme.io', 'Acme', 'Globex', 'Initech', 'meic', 'jberg']));
    for (const out of [html, atom]) {
      const found = words.filter((w) => mentions(out, w));
      expect(found).toEqual([]);
      expect(out).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.-]+/);
    }
  });

  it('the scrubber removes names, handles, emails and mentions', () => {
    const s = scrubber(['Priya Raman', 'irc/priya', 'email:oleg@initech.com'], ['Acme']);
    expect(s('Priya Raman from Acme (priya@acme.io) says <@U01PRIYA> and @oleg: ping Raman')).toBe('someone from an organisation ([address]) says someone and someone: ping someone');
  });

  it('is served without login: the page, the list and the feed; drafts and private teams are not', async () => {
    const page = await web.inject({ method: 'GET', url: `/public/digests/${editionId}` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(forbidden().filter((w) => mentions(page.body, w))).toEqual([]);
    const feed = await web.inject({ method: 'GET', url: '/public/digests.atom' });
    expect(feed.statusCode).toBe(200);
    expect(feed.headers['content-type']).toContain('application/atom+xml');
    expect(feed.body).toContain(`/public/digests/${editionId}`);
    expect(feed.body).not.toContain(`/public/digests/${privateTeamId}`);
    expect((await web.inject({ method: 'GET', url: '/public/digests' })).statusCode).toBe(200);
    expect((await web.inject({ method: 'GET', url: `/public/digests/${draftId}` })).statusCode).toBe(404);
    expect((await web.inject({ method: 'GET', url: `/public/digests/${privateTeamId}` })).statusCode).toBe(404);
    // The edition itself still needs a login.
    expect((await web.inject({ method: 'GET', url: `/digests/${editionId}` })).statusCode).toBe(303);
  });
});
