// A queued cluster job takes along the items still pending placement behind it (runCluster's
// takePending), up to its limit, and the jobs that carried them find them placed and end.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openApp, startWorkers, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { ensureSource } from '../../src/store/queries.js';
import { runIngest } from '../../src/stages/ingest.js';
import { runCluster } from '../../src/stages/cluster.js';
import { pendingItems } from '../../src/store/pending.js';
import { tempDir } from '../support/factories.js';

let app: App | undefined;
afterAll(async () => {
  await app?.close();
});

const T0 = Date.UTC(2026, 10, 9);
const REPORTS = [
  'The CSV export button crashes the dashboard when a table has more than fifty rows',
  'Login loops forever after upgrading, the Okta redirect never returns to the app',
  'Please add a dark mode to the query editor, the white background hurts at night',
  'The Python SDK times out when uploading files bigger than one gigabyte',
];

describe('a queued cluster job and the items pending behind it', () => {
  it('places its own items and the oldest pending ones up to its limit; a later job finds them placed', async () => {
    app = await openApp({ configObject: parseConfig(''), db: join(tempDir(), 'take.db'), redisUrl: null, now: () => Date.UTC(2026, 10, 16) });
    startWorkers(app, ['enrich']);
    const sourceId = await ensureSource(app.db, 'community', 'slack', T0);
    const messages = REPORTS.map((text, i) => ({ externalId: `m${i}`, channel: `C${i}`, author: { id: `U${i}`, name: `user${i}` }, text, sentAt: T0 + i * 60_000 }));
    await runIngest(app.ctx, { sourceId, platform: 'slack', messages, normalizerVersion: 1 });
    await app.queue.idle({ queues: ['enrich'] });
    const items = (await pendingItems(app.db, 0, 100)).map((i) => i.id);
    expect(items).toHaveLength(REPORTS.length);
    const placed = async () => (await app!.db.selectFrom('cluster_items').select('item_id').orderBy('item_id').execute()).map((r) => r.item_id);

    // The last item's job, limited to three: its own item and the two oldest pending.
    const last = items.at(-1)!;
    expect(await runCluster(app.ctx, { itemIds: [last] }, { takePending: 3 })).toMatchObject({ assigned: 3 });
    expect(await placed()).toEqual([items[0]!, items[1]!, last].sort((a, b) => a - b));
    expect((await pendingItems(app.db, 0, 100)).map((i) => i.id)).toEqual([items[2]!]);

    // The first item's job finds its item placed and takes the one left.
    expect(await runCluster(app.ctx, { itemIds: [items[0]!] }, { takePending: 3 })).toMatchObject({ assigned: 1 });
    expect(await placed()).toEqual([...items].sort((a, b) => a - b));
    expect(await pendingItems(app.db, 0, 100)).toEqual([]);
    expect(await runCluster(app.ctx, { itemIds: [items[1]!] }, { takePending: 3 })).toEqual({ assigned: 0, created: 0 });
  }, 120_000);
});
