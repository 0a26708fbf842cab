// While other items wait to be placed (a backlog), the cluster stage records the existing clusters a
// batch touched as owing a description instead of describing them after every batch; the batch that
// leaves nothing pending describes them, and so does anything that shows descriptions (the digest).
// New clusters are described at once. A describer settles only the count it read.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openApp, startWorkers, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { ensureSource } from '../../src/store/queries.js';
import { runIngest } from '../../src/stages/ingest.js';
import { runCluster } from '../../src/stages/cluster.js';
import { pendingItems } from '../../src/store/pending.js';
import { applyDescriptions } from '../../src/store/cluster-apply.js';
import { buildDigest } from '../../src/digest/build.js';
import { sweepPendingWhenIdle } from '../../src/runner/pending.js';
import { tempDir } from '../support/factories.js';

let app: App | undefined;
afterAll(async () => {
  await app?.close();
});

const T0 = Date.UTC(2026, 10, 9);
const HOUR = 3_600_000;
const REPORTS = [
  'The CSV export button crashes the dashboard when a table has more than fifty rows',
  'CSV export crashes the whole dashboard for tables with more than fifty rows',
  'Exporting a table with more than fifty rows to CSV crashes the dashboard',
  'Please add a dark mode to the query editor, the white background hurts at night',
];

describe('descriptions owed while a backlog is placed', () => {
  it('postpones describing touched clusters until nothing is pending; new clusters and the digest get theirs at once', async () => {
    app = await openApp({ configObject: parseConfig(''), db: join(tempDir(), 'owed.db'), redisUrl: null, now: () => Date.UTC(2026, 10, 16) });
    startWorkers(app, ['enrich']);
    const db = app.db;
    const sourceId = await ensureSource(db, 'community', 'slack', T0);
    const messages = REPORTS.map((text, i) => ({ externalId: `m${i}`, channel: `C${i}`, author: { id: `U${i}`, name: `user${i}` }, text, sentAt: T0 + i * HOUR }));
    await runIngest(app.ctx, { sourceId, platform: 'slack', messages, normalizerVersion: 1 });
    await app.queue.idle({ queues: ['enrich'] });
    const items = (await pendingItems(db, 0, 100)).map((i) => i.id);
    expect(items).toHaveLength(REPORTS.length);
    const clusterOf = async (itemId: number) => (await db.selectFrom('cluster_items').select('cluster_id').where('item_id', '=', itemId).executeTakeFirstOrThrow()).cluster_id;
    const row = async (id: number) => db.selectFrom('clusters').select(['title', 'last_seen', 'describe_pending']).where('id', '=', id).executeTakeFirstOrThrow();

    // The first report makes a new cluster: described now, though three items still wait.
    await runCluster(app.ctx, { itemIds: [items[0]!] });
    const csv = await clusterOf(items[0]!);
    expect(await row(csv)).toMatchObject({ last_seen: T0, describe_pending: 0 });
    expect((await row(csv)).title).not.toBe('(new cluster)');

    // The second joins it while two wait: placed and done, its cluster owes the description.
    await runCluster(app.ctx, { itemIds: [items[1]!] });
    expect(await clusterOf(items[1]!)).toBe(csv);
    expect(await row(csv)).toMatchObject({ last_seen: T0, describe_pending: 1 });
    expect((await pendingItems(db, 0, 100)).map((i) => i.id)).toEqual([items[2]!, items[3]!]);

    // The digest settles what is owed before it reads the clusters.
    await buildDigest(db, { start: T0 - 7 * 24 * HOUR, end: T0 + 7 * 24 * HOUR }, { top: 10 });
    expect(await row(csv)).toMatchObject({ last_seen: T0 + HOUR, describe_pending: 0 });

    // The third joins it while one waits (owed again); the last batch leaves nothing pending and
    // describes what is owed.
    await runCluster(app.ctx, { itemIds: [items[2]!] });
    expect(await row(csv)).toMatchObject({ last_seen: T0 + HOUR, describe_pending: 1 });
    await runCluster(app.ctx, { itemIds: [items[3]!] });
    expect(await row(csv)).toMatchObject({ last_seen: T0 + 2 * HOUR, describe_pending: 0 });
    expect(await pendingItems(db, 0, 100)).toEqual([]);

    // A describer clears only the count it read: a mark made meanwhile stays owed.
    await applyDescriptions(db, new Map(), 0, [], { postpone: [csv] });
    await applyDescriptions(db, new Map(), 0, [], { postpone: [csv] });
    await applyDescriptions(db, new Map(), 0, [], { settled: [{ id: csv, owed: 1 }] });
    expect((await row(csv)).describe_pending).toBe(2);
    await applyDescriptions(db, new Map(), 0, [], { settled: [{ id: csv, owed: 2 }] });
    expect((await row(csv)).describe_pending).toBe(0);

    // A worker's idle sweep settles what two workers' batches left owing (each saw the other's items pending).
    startWorkers(app, ['cluster']); // the queued cluster jobs find their items placed
    await app.queue.idle();
    const title = (await row(csv)).title;
    await db.updateTable('clusters').set({ title: 'stale', describe_pending: 1 }).where('id', '=', csv).execute();
    await sweepPendingWhenIdle(app.ctx);
    expect(await row(csv)).toMatchObject({ title, describe_pending: 0 });
  }, 120_000);
});
