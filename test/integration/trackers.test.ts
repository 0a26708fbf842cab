// Clusters pushed to issue trackers and their state synced back, against loopback fakes of GitHub
// (REST, the real @octokit/rest), GitLab (v4, the real @gitbeaker/rest), Jira Cloud (REST v3, ADF) and
// Linear (GraphQL), driven through Gleaner's own clients: one issue per cluster across pushes (also two
// at once), closed -> resolved with what closed it, reopened -> reopened, a 5xx tried again, a refused
// token shown on the cluster page and in the sources page.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../support/postgres.js';
import type { App } from '../../src/app.js';
import { pushCluster } from '../../src/trackers/push.js';
import { syncTrackers } from '../../src/trackers/sync.js';
import { runDigest } from '../../src/stages/digest.js';
import { mergeClusters } from '../../src/store/curation.js';
import { clusterOutbound } from '../../src/trackers/links.js';
import { buildDigest } from '../../src/digest/build.js';
import { renderDigest } from '../../src/digest/render.js';
import { buildWebApp } from '../../src/web/app.js';
import { addUser } from '../../src/web/auth.js';
import { FakeGithub } from '../fakes/github.js';
import { FakeGitlab } from '../fakes/gitlab.js';
import { FakeJira, adfText, isAdf } from '../fakes/jira.js';
import { FakeLinear } from '../fakes/linear.js';
import { appWith, configYaml, NOW, seed, WEEK, type SeededClusters } from '../digest/support.js';
import { loginAs } from '../web/agent.js';

let gh: FakeGithub;
let gl: FakeGitlab;
let jira: FakeJira;
let lin: FakeLinear;

beforeAll(async () => {
  [gh, gl, jira, lin] = await Promise.all([FakeGithub.start(), FakeGitlab.start(), FakeJira.start(), FakeLinear.start()]);
});
afterAll(async () => {
  await Promise.all([gh, gl, jira, lin].map((f) => f?.stop()));
});

function trackersYaml(): string {
  return `
trackers:
  - { name: gh, type: github, baseUrl: "${gh.url}", repo: driftwood/driftwood, token: "${gh.token}", retryBackoffMs: 1 }
  - { name: gl, type: gitlab, baseUrl: "${gl.url}", repo: driftwood/driftwood, token: "${gl.token}", retryBackoffMs: 1 }
  - { name: jira, type: jira, baseUrl: "${jira.url}", project: DRIFT, user: "${jira.email}", token: "${jira.token}", retryBackoffMs: 1 }
  - { name: lin, type: linear, baseUrl: "${lin.url}", team: ENG, token: "${lin.token}", includeOrgs: true, retryBackoffMs: 1 }
`;
}

async function seeded(): Promise<{ app: App; c: SeededClusters }> {
  const app = await appWith(configYaml(1, trackersYaml()));
  const c = await seed(app.db);
  return { app, c };
}

/** The text of the tracker's one issue (Markdown, or the ADF's text for Jira) and how many issues it has. */
function issuesIn(tracker: string): { count: number; text: string; titles: string[] } {
  if (tracker === 'gh') {
    const list = gh.repo('driftwood/driftwood').issues.filter((i) => i.user === 'gleaner-bot');
    return { count: list.length, text: list.map((i) => i.body).join('\n'), titles: list.map((i) => i.title) };
  }
  if (tracker === 'gl') {
    const list = gl.projects.get('driftwood/driftwood')!.issues;
    return { count: list.length, text: list.map((i) => i.description).join('\n'), titles: list.map((i) => i.title) };
  }
  if (tracker === 'jira') {
    const list = jira.projects.get('DRIFT')!;
    return { count: list.length, text: list.map((i) => `${adfText(i.description)}\n${JSON.stringify(i.description)}`).join('\n'), titles: list.map((i) => i.summary) };
  }
  const list = lin.teams.get('ENG')!.issues;
  return { count: list.length, text: list.map((i) => i.description).join('\n'), titles: list.map((i) => i.title) };
}

async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err: unknown) {
    return err as Error & { code?: string };
  }
  throw new Error('expected the call to fail');
}

function reset(): void {
  gh.repo('driftwood/driftwood').issues.length = 0;
  gl.projects.get('driftwood/driftwood')!.issues.length = 0;
  jira.projects.get('DRIFT')!.length = 0;
  lin.teams.get('ENG')!.issues.length = 0;
  for (const f of [gh, gl, jira, lin]) f.requests.length = 0;
  gh.token = 'ghp_fakeTokenForGleanerTests0123456789';
}

describe('push', () => {
  it.each(['gh', 'gl', 'jira', 'lin'])('%s: one issue per cluster across two pushes, with the evidence and the page link', async (tracker) => {
    reset();
    const { app, c } = await seeded();
    try {
      const first = await pushCluster(app.ctx, c.csv, tracker);
      expect(first.created).toBe(true);
      expect(first.url).toMatch(/^https?:\/\//);
      const second = await pushCluster(app.ctx, c.csv, tracker);
      expect(second.created).toBe(false);
      expect([second.key, second.url]).toEqual([first.key, first.url]);
      const got = issuesIn(tracker);
      expect(got.count).toBe(1);
      expect(got.titles).toEqual(['CSV export crashes on large reports']);
      expect(got.text).toContain(`https://gleaner.example.org/clusters/${c.csv}`);
      expect(got.text).toMatch(/Reporters: 4 to date, 3 in the last 7 days/);
      expect(got.text).toMatch(/Segments: [^\n]*customer 2/);
      expect(got.text).toContain('https://lumen.slack.com/archives/C01/p');
      // Customer names only where includeOrgs is set (lin).
      if (tracker === 'lin') expect(got.text).toContain('Acme Corp');
      else expect(got.text).not.toContain('Acme Corp');
      if (tracker === 'jira') expect(isAdf(jira.projects.get('DRIFT')![0]!.description)).toBe(true);
      // The link is on the cluster (the API and the page read it from here).
      const o = (await clusterOutbound(app.db, [c.csv])).get(c.csv)!;
      expect(o.issues).toEqual([{ tracker, key: first.key, url: first.url, state: 'open' }]);
    } finally {
      await app.close();
    }
  });

  it.each(['gh', 'gl', 'jira', 'lin'])('%s: two pushes at once make one issue, then update it', async (tracker) => {
    reset();
    const { app, c } = await seeded();
    try {
      const [a, b] = await Promise.all([pushCluster(app.ctx, c.dark, tracker), pushCluster(app.ctx, c.dark, tracker)]);
      expect([a.created, b.created].sort()).toEqual([false, true]);
      expect(a.key).toBe(b.key);
      expect(issuesIn(tracker).count).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('PostgreSQL, two processes pushing the same cluster at once: one issue, created once and updated once', async () => {
    reset();
    const tdb = await createTestDatabase(inject('pgUrl'));
    const yaml = configYaml(1, trackersYaml());
    const a = await appWith(yaml, { dbPath: tdb.url });
    const b = await appWith(yaml, { dbPath: tdb.url });
    try {
      const c = await seed(a.db);
      const [x, y] = await Promise.all([pushCluster(a.ctx, c.csv, 'jira'), pushCluster(b.ctx, c.csv, 'jira')]);
      expect([x.created, y.created].sort()).toEqual([false, true]);
      expect(issuesIn('jira').count).toBe(1);
      expect(jira.requests.filter((r) => r.method === 'POST').length).toBe(1);
      expect(jira.requests.filter((r) => r.method === 'PUT').length).toBe(1);
    } finally {
      await a.close();
      await b.close();
      await tdb.drop();
    }
  }, 60_000);

  it('a cluster merged into another takes its issue along: pushing the merged cluster updates that issue', async () => {
    reset();
    const { app, c } = await seeded();
    try {
      const issue = await pushCluster(app.ctx, c.dark, 'gl');
      await mergeClusters(app.db, c.csv, c.dark, NOW);
      expect((await clusterOutbound(app.db, [c.csv])).get(c.csv)!.issues).toEqual([{ tracker: 'gl', key: issue.key, url: issue.url, state: 'open' }]);
      const again = await pushCluster(app.ctx, c.csv, 'gl');
      expect(again).toMatchObject({ created: false, key: issue.key });
      expect(issuesIn('gl')).toMatchObject({ count: 1, titles: ['CSV export crashes on large reports'] });
    } finally {
      await app.close();
    }
  });

  it('community text cannot format, ping or inject HTML in the issue', async () => {
    reset();
    const { app, c } = await seeded();
    try {
      await pushCluster(app.ctx, c.login, 'gh');
      const body = issuesIn('gh').text;
      expect(body).not.toMatch(/(^|[^\\])<(script|img|a )/);
      expect(body).toContain('\\<script\\>');
    } finally {
      await app.close();
    }
  });

  it('a 5xx is tried again with backoff and the push succeeds', async () => {
    reset();
    const { app, c } = await seeded();
    try {
      gh.failNext(2, /\/issues$/);
      jira.failNext(1, /\/issue$/, 503);
      const r = await pushCluster(app.ctx, c.csv, 'gh');
      expect(r.created).toBe(true);
      expect(gh.requests.filter((q) => q.method === 'POST').map((q) => q.status)).toEqual([500, 500, 201]);
      await pushCluster(app.ctx, c.csv, 'jira');
      expect(jira.requests.filter((q) => q.method === 'POST').map((q) => q.status)).toEqual([503, 201]);
      expect(issuesIn('gh').count).toBe(1);
      expect(issuesIn('jira').count).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('a refused token (401) is a coded error, shown on the cluster page and on the sources page, the token never', async () => {
    reset();
    const { app, c } = await seeded();
    const token = gh.token;
    gh.token = 'another-token-entirely';
    try {
      const err = await failure(pushCluster(app.ctx, c.csv, 'gh'));
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe('tracker_auth');
      expect(err.message).toMatch(/tracker gh: the token was refused \(401\)/);
      expect(err.message).not.toContain(token);
      const linErr = await (async () => {
        lin.revokeAuth();
        try {
          return await failure(pushCluster(app.ctx, c.csv, 'lin'));
        } finally {
          lin.revoked = false;
        }
      })();
      expect(linErr.code).toBe('tracker_auth');
      await addUser(app.db, 'root', 'admin', 'admin-password-1', NOW);
      const web = buildWebApp(app, { now: () => NOW });
      try {
        const { agent } = await loginAs(web, 'root', 'admin-password-1');
        const page = await web.inject({ method: 'GET', url: `/clusters/${c.csv}`, cookies: agent.cookies });
        expect(page.statusCode).toBe(200);
        expect(page.body).toMatch(/Tracker gh failed \[<code>tracker_auth<\/code>\]/);
        expect(page.body).toContain('action="/clusters/' + c.csv + '/push"');
        const sources = await web.inject({ method: 'GET', url: '/sources', cookies: agent.cookies });
        expect(sources.body).toMatch(/<td>gh<\/td><td>github<\/td>[\s\S]*tracker_auth/);
        expect(sources.body).not.toContain(token);
        // The button: a curator's form post with the CSRF token pushes (the token fixed meanwhile).
        gh.token = token;
        const pushed = await web.inject({ method: 'POST', url: `/clusters/${c.csv}/push`, cookies: agent.cookies, payload: { tracker: 'gh', _csrf: agent.csrf } });
        expect(pushed.statusCode).toBe(303);
        const after = await web.inject({ method: 'GET', url: `/clusters/${c.csv}`, cookies: agent.cookies });
        expect(after.body).toMatch(/Tracked in <a class="issue-link" href="https:\/\/github.com\/driftwood\/driftwood\/issues\/1">driftwood\/driftwood#1<\/a>/);
        expect(after.body).not.toContain('Tracker gh failed');
        const noCsrf = await web.inject({ method: 'POST', url: `/clusters/${c.csv}/push`, cookies: agent.cookies, payload: { tracker: 'gh' } });
        expect(noCsrf.statusCode).toBe(403);
        const api = await web.inject({ method: 'GET', url: `/api/clusters/${c.csv}`, cookies: agent.cookies, headers: { accept: 'application/json' } });
        expect(api.json<{ issues: unknown[] }>().issues).toEqual([{ tracker: 'gh', key: 'driftwood/driftwood#1', url: 'https://github.com/driftwood/driftwood/issues/1', state: 'open' }]);
      } finally {
        await web.close();
      }
    } finally {
      gh.token = token;
      await app.close();
    }
  });
});

describe('sync', () => {
  it('closed -> resolved with the closing reference, reopened -> reopened, for every tracker; the digest shows the link', async () => {
    reset();
    const { app, c } = await seeded();
    try {
      const gh1 = await pushCluster(app.ctx, c.csv, 'gh');
      const gl1 = await pushCluster(app.ctx, c.dark, 'gl');
      const j1 = await pushCluster(app.ctx, c.sso, 'jira');
      const l1 = await pushCluster(app.ctx, c.docs, 'lin');
      expect((await syncTrackers(app.ctx)).changes).toEqual([]);

      gh.closeIssue('driftwood/driftwood', Number(gh1.externalId), { commit: 'abc1234def5678' });
      gl.closeIssue('driftwood/driftwood', Number(gl1.externalId), 7);
      jira.transition(j1.key, 'Done', { resolution: 'Fixed', fixVersion: '4.2.1' });
      lin.setState(l1.key, 'Done', 'completed');
      const r = await syncTrackers(app.ctx);
      expect(r.errors).toEqual([]);
      const byCluster = new Map(r.changes.map((x) => [x.clusterId, x]));
      expect(byCluster.get(c.csv)).toMatchObject({ change: 'resolved', reference: 'driftwood/driftwood@abc1234' });
      expect(byCluster.get(c.dark)).toMatchObject({ change: 'resolved', reference: 'driftwood/driftwood!7' });
      expect(byCluster.get(c.sso)).toMatchObject({ change: 'resolved', reference: `${j1.key} Fixed in 4.2.1` });
      expect(byCluster.get(c.docs)).toMatchObject({ change: 'resolved', reference: `${l1.key} Done` });
      const o = await clusterOutbound(app.db, [c.csv, c.dark]);
      expect(o.get(c.csv)!.resolution).toMatchObject({ status: 'resolved', reference: 'driftwood/driftwood@abc1234', referenceUrl: 'https://github.com/driftwood/driftwood/commit/abc1234def5678' });
      // The loop's side: the cluster carries the resolution and a reply is drafted for each thread that voiced it.
      const row = await app.db.selectFrom('clusters').select(['resolved_by', 'resolution']).where('id', '=', c.csv).executeTakeFirstOrThrow();
      expect(row).toEqual({ resolved_by: 'tracker:gh', resolution: 'driftwood/driftwood@abc1234' });
      expect((await app.db.selectFrom('loop_replies').select('id').where('cluster_id', '=', c.csv).execute()).length).toBeGreaterThan(0);
      // A second sync with nothing changed changes nothing (the scheduled job, as the digest queue runs it).
      expect(await runDigest(app.ctx, { type: 'tracker-sync' })).toEqual({ checked: 4, changes: 0, errors: 0 });

      // The digest entry carries the link and the resolution.
      const digest = await buildDigest(app.db, WEEK, { top: 10, segments: app.config.segments });
      const entry = digest.clusters.find((x) => x.id === `cluster-${c.csv}`)!;
      expect(entry.issues).toEqual([{ tracker: 'gh', key: gh1.key, url: gh1.url, state: 'closed' }]);
      const text = renderDigest(digest).text;
      expect(text).toContain(`Tracked in ${gh1.key} (closed): ${gh1.url}`);
      expect(text).toContain('Resolved: driftwood/driftwood@abc1234');

      gh.reopenIssue('driftwood/driftwood', Number(gh1.externalId));
      gl.reopenIssue('driftwood/driftwood', Number(gl1.externalId));
      jira.transition(j1.key, 'To Do');
      lin.setState(l1.key, 'Todo', 'unstarted');
      const back = await syncTrackers(app.ctx);
      expect(back.changes.map((x) => [x.clusterId, x.change]).sort()).toEqual(
        [
          [c.csv, 'reopened'],
          [c.dark, 'reopened'],
          [c.sso, 'reopened'],
          [c.docs, 'reopened'],
        ].sort(),
      );
      expect((await clusterOutbound(app.db, [c.csv])).get(c.csv)!.resolution?.status).toBe('reopened');
    } finally {
      await app.close();
    }
  });
});
