// The whole loop on the real pipeline: reports clustered (cluster.created sent), the cluster pushed to
// GitHub and the issue closed (resolved on sync), then the same need voiced again: it joins the
// resolved cluster, which is shown as a regression (cluster page, digest), not as a new cluster.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openApp, startWorkers } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { ensureSource } from '../../src/store/queries.js';
import { runIngest } from '../../src/stages/ingest.js';
import { runCluster } from '../../src/stages/cluster.js';
import { pushCluster } from '../../src/trackers/push.js';
import { syncTrackers } from '../../src/trackers/sync.js';
import { clusterOutbound } from '../../src/trackers/links.js';
import { listDeliveries } from '../../src/store/webhooks.js';
import { buildDigest } from '../../src/digest/build.js';
import { renderDigest } from '../../src/digest/render.js';
import type { RawMessage } from '../../src/model/index.js';
import { FakeGithub } from '../fakes/github.js';
import { tempDir } from '../support/factories.js';
import { buildWebApp } from '../../src/web/app.js';
import { addUser } from '../../src/web/auth.js';
import { loginAs } from '../web/agent.js';

const REPORTS = [
  'The CSV export button crashes the dashboard page when a table has more than fifty rows',
  'Exporting the dashboard table to CSV crashes the page once there are more than fifty rows',
  'CSV export crashes the dashboard page for tables with more than fifty rows, every time',
];
const LATER = ['Again: the CSV export crashes the dashboard page when the table has more than fifty rows', 'Since the update the dashboard CSV export crashes again on tables over fifty rows'];
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 9, 9);

let gh: FakeGithub;
beforeAll(async () => {
  gh = await FakeGithub.start();
});
afterAll(async () => gh.stop());

function messages(texts: string[], from: number, at: number): RawMessage[] {
  return texts.map((text, n) => ({ externalId: `m${from + n}`, channel: 'C1', author: { id: `U${from + n}`, name: `user${from + n}` }, text, sentAt: at + n * 3_600_000, threadId: `m${from + n}` }));
}

it('a resolved cluster voiced again is a regression, not a new cluster', async () => {
  const clock = { t: T0 + 2 * DAY };
  const config = parseConfig(
    `
web: { baseUrl: "https://gleaner.example.org" }
trackers:
  - { name: gh, type: github, baseUrl: "${gh.url}", repo: driftwood/driftwood, token: "${gh.token}" }
webhooks:
  - { name: hook, url: "http://127.0.0.1:9/none", secret: "whsec-regression-test", events: [cluster.created, cluster.resolved] }
`,
    {},
  );
  const app = await openApp({ configObject: config, db: join(tempDir('gleaner-regress-'), 'g.db'), redisUrl: null, now: () => clock.t });
  try {
    const sourceId = await ensureSource(app.db, 'community', 'slack', T0);
    startWorkers(app, ['enrich']);
    await runIngest(app.ctx, { sourceId, platform: 'slack', messages: messages(REPORTS, 0, T0), normalizerVersion: 1 });
    await app.queue.idle({ queues: ['enrich'] });
    const first = (await app.db.selectFrom('feedback_items').select('id').orderBy('id').execute()).map((r) => r.id);
    expect(first).toHaveLength(REPORTS.length);
    await runCluster(app.ctx, { itemIds: first });
    const clusters = await app.db.selectFrom('clusters').select('id').execute();
    expect(clusters).toHaveLength(1);
    const clusterId = clusters[0]!.id;
    // cluster.created was queued once for the new cluster.
    expect((await listDeliveries(app.db)).map((d) => [d.event, d.eventKey])).toEqual([['cluster.created', `cluster.created:${clusterId}`]]);

    const issue = await pushCluster(app.ctx, clusterId, 'gh');
    clock.t = T0 + 3 * DAY;
    gh.closeIssue('driftwood/driftwood', Number(issue.externalId), { commit: '0123456789abcdef' });
    expect((await syncTrackers(app.ctx)).changes).toMatchObject([{ clusterId, change: 'resolved' }]);

    // The same need, voiced after the fix.
    clock.t = T0 + 6 * DAY;
    await runIngest(app.ctx, { sourceId, platform: 'slack', messages: messages(LATER, 10, T0 + 5 * DAY), normalizerVersion: 1 });
    await app.queue.idle({ queues: ['enrich'] });
    const later = (await app.db.selectFrom('feedback_items').select('id').orderBy('id').execute()).map((r) => r.id).filter((id) => !first.includes(id));
    expect(later).toHaveLength(LATER.length);
    await runCluster(app.ctx, { itemIds: later });
    const placed = await app.db.selectFrom('cluster_items').select(['item_id', 'cluster_id']).where('item_id', 'in', later).execute();
    expect(new Set(placed.map((p) => p.cluster_id))).toEqual(new Set([clusterId]));
    expect(await app.db.selectFrom('clusters').select('id').execute()).toHaveLength(1);
    const o = (await clusterOutbound(app.db, [clusterId])).get(clusterId)!;
    expect(o.resolution).toMatchObject({ status: 'regressed', reference: 'driftwood/driftwood@0123456' });
    // No second cluster.created: it is the same cluster.
    expect((await listDeliveries(app.db, { status: 'pending' })).filter((d) => d.event === 'cluster.created')).toHaveLength(1);

    const digest = await buildDigest(app.db, { start: T0 + 4 * DAY, end: T0 + 7 * DAY }, { top: 10 });
    const entry = digest.clusters.find((c) => c.id === `cluster-${clusterId}`)!;
    expect(entry.resolution?.status).toBe('regressed');
    const out = renderDigest(digest);
    expect(out.text).toContain('REGRESSION: reported again after it was resolved (driftwood/driftwood@0123456)');
    expect(out.html).toContain('<strong style="color:inherit;">Regression:</strong>');

    // And on the cluster page.
    await addUser(app.db, 'viewer', 'viewer', 'viewer-password-1', clock.t);
    const web = buildWebApp(app, { now: () => clock.t });
    try {
      const { agent } = await loginAs(web, 'viewer', 'viewer-password-1');
      const page = await web.inject({ method: 'GET', url: `/clusters/${clusterId}`, cookies: agent.cookies });
      expect(page.body).toMatch(
        /<span class="badge regression">regression<\/span> Reported again after it was resolved \(<a href="https:\/\/github.com\/driftwood\/driftwood\/commit\/0123456789abcdef">driftwood\/driftwood@0123456<\/a>\)/,
      );
      // A viewer sees the link but no push button.
      expect(page.body).toContain('Tracked in <a class="issue-link"');
      expect(page.body).not.toContain('/push"');
    } finally {
      await web.close();
    }
  } finally {
    await app.close();
  }
}, 120_000);
