// Two cluster workers (each with its own in-memory index, as two processes have) place reports of the
// same new need at the same time: the need gets one cluster, not one per worker. On PostgreSQL (the
// placement writes take an advisory lock and check the state version). SQLite runs the same check under
// BEGIN IMMEDIATE; two connections in one process cannot interleave there (the second blocks the event
// loop waiting for the first), so its cross-process case is the worker-process tests' business.
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openApp, startWorkers, type App } from '../../src/app.js';
import { ConfigSchema } from '../../src/config/index.js';
import { ensureSource } from '../../src/store/queries.js';
import { runIngest } from '../../src/stages/ingest.js';
import { runCluster } from '../../src/stages/cluster.js';
import type { RawMessage } from '../../src/model/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { tempDir } from '../support/factories.js';

const REPORTS = [
  'The CSV export button crashes the dashboard page when a table has more than fifty rows',
  'Exporting the dashboard table to CSV crashes the page once there are more than fifty rows',
  'CSV export crashes the dashboard page for tables with more than fifty rows, every time',
  'Same problem: the CSV export of a dashboard table with over fifty rows crashes the page',
  'The dashboard page crashes when I click CSV export on a table of more than fifty rows',
  'Clicking the CSV export button on a big dashboard table (over fifty rows) crashes the page',
  'CSV export of dashboard tables crashes the page when the table has more than fifty rows',
  'The page crashes on CSV export from the dashboard if the table has more than fifty rows',
];
const OTHER = ['Please add dark mode to the settings page, the white background hurts at night', 'Could the mobile app support offline mode for reading saved articles on the train'];

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function openPair(kind: 'sqlite' | 'postgres'): Promise<[App, App]> {
  let url: string;
  if (kind === 'postgres') {
    const tdb: TestDatabase = await createTestDatabase(inject('pgUrl'));
    cleanups.push(() => tdb.drop());
    url = tdb.url;
  } else url = join(tempDir(), 'concurrent.db');
  const config = ConfigSchema.parse({});
  const now = () => Date.UTC(2026, 10, 16);
  const a = await openApp({ configObject: config, db: url, redisUrl: null, now });
  const b = await openApp({ configObject: config, db: url, redisUrl: null, now });
  cleanups.push(
    () => a.close(),
    () => b.close(),
  );
  return [a, b];
}

describe.each(['postgres'] as const)('two cluster workers at once (%s)', (kind) => {
  it('give one new need one cluster', async () => {
    const [a, b] = await openPair(kind);
    const sourceId = await ensureSource(a.db, 'community', 'slack', Date.now());
    const t0 = Date.UTC(2026, 10, 9);
    const messages: RawMessage[] = [...REPORTS, ...OTHER].map((text, n) => ({
      externalId: `m${n}`,
      channel: `C${n % 3}`,
      author: { id: `U${n}`, name: `user${n}` },
      text,
      sentAt: t0 + n * 3_600_000 * 5,
      threadId: `m${n}`,
    }));
    startWorkers(a, ['enrich']);
    await runIngest(a.ctx, { sourceId, platform: 'slack', messages, normalizerVersion: 1 });
    await a.queue.idle({ queues: ['enrich'] });
    const items = await a.db.selectFrom('feedback_items').select('id').orderBy('id').execute();
    expect(items.length).toBe(REPORTS.length + OTHER.length);

    // Each worker gets every other item, as two workers taking turns on a stream of enrich batches.
    const ids = items.map((i) => i.id);
    await Promise.all([runCluster(a.ctx, { itemIds: ids.filter((_, i) => i % 2 === 0) }), runCluster(b.ctx, { itemIds: ids.filter((_, i) => i % 2 === 1) })]);

    const rows = await a.db.selectFrom('cluster_items').select(['item_id', 'cluster_id']).orderBy('item_id').execute();
    expect(rows.length).toBe(ids.length);
    const reportClusters = new Set(rows.slice(0, REPORTS.length).map((r) => r.cluster_id));
    expect(reportClusters.size).toBe(1);
    // The unrelated requests are not swallowed by it.
    for (const r of rows.slice(REPORTS.length)) expect(reportClusters.has(r.cluster_id)).toBe(false);
    // Every cluster has items: no empty cluster left behind by a placement that was redone.
    const clusters = await a.db.selectFrom('clusters').select('id').execute();
    expect(new Set(rows.map((r) => r.cluster_id)).size).toBe(clusters.length);
  }, 120_000);
});
