// A cluster past the items its title is drawn from (200): later batches only move its first/last seen,
// which must still cover every item, not just the first 200.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openApp, startWorkers, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { ensureSource } from '../../src/store/queries.js';
import { runIngest } from '../../src/stages/ingest.js';
import { describeClusters, runCluster } from '../../src/stages/cluster.js';
import { itemDoc } from '../../src/pipeline/cluster.js';
import { loadItemsForDocs } from '../../src/store/clusters.js';
import type { RawMessage } from '../../src/model/index.js';
import { tempDir } from '../support/factories.js';

let app: App | undefined;
let app2: App | undefined;
afterAll(async () => {
  await app?.close();
  await app2?.close();
});

/** More than the growth that makes a cluster be described again (a quarter). */
const REGROW = 1.3;
const VARIANTS = ['crashes the dashboard page', 'makes the dashboard page crash', 'crashes the whole dashboard page', 'still crashes the dashboard page'];

describe('a big cluster', () => {
  it('keeps first and last seen over all its items as batches join it', async () => {
    app = await openApp({ configObject: parseConfig(''), db: join(tempDir(), 'big.db'), redisUrl: null, now: () => Date.UTC(2026, 10, 16) });
    startWorkers(app, ['enrich']);
    const sourceId = await ensureSource(app.db, 'community', 'slack', Date.now());
    const t0 = Date.UTC(2026, 8, 1);
    const HOUR = 3_600_000;
    const total = 325; // the last batch of 65 all lands past the first 200: the first/last-seen-only path
    for (let b = 0; b < total; b += 65) {
      const messages: RawMessage[] = Array.from({ length: 65 }, (_, i) => {
        const n = b + i;
        return {
          externalId: `m${n}`,
          channel: `C${n % 4}`,
          author: { id: `U${n}`, name: `user${n}` },
          text: `The CSV export of a big table ${VARIANTS[n % VARIANTS.length]} every time`,
          sentAt: t0 + n * HOUR,
          threadId: `m${n}`,
        };
      });
      await runIngest(app.ctx, { sourceId, platform: 'slack', messages, normalizerVersion: 1 });
      await app.queue.idle({ queues: ['enrich'] });
      const items = (await app.db.selectFrom('feedback_items').select('id').execute()).map((r) => r.id);
      await runCluster(app.ctx, { itemIds: items });
    }
    const sizes = await app.db
      .selectFrom('cluster_items')
      .select((eb) => ['cluster_id', eb.fn.countAll<number>().as('n')])
      .groupBy('cluster_id')
      .orderBy('n', 'desc')
      .execute();
    expect(Number(sizes[0]!.n)).toBeGreaterThan(200);
    const big = await app.db.selectFrom('clusters').selectAll().where('id', '=', sizes[0]!.cluster_id).executeTakeFirstOrThrow();
    const span = await app.db
      .selectFrom('cluster_items as ci')
      .innerJoin('feedback_items as f', 'f.id', 'ci.item_id')
      .innerJoin('messages as m', 'm.id', 'f.message_id')
      .select((eb) => [eb.fn.min<number>('m.sent_at').as('first'), eb.fn.max<number>('m.sent_at').as('last')])
      .where('ci.cluster_id', '=', big.id)
      .executeTakeFirstOrThrow();
    expect(big.first_seen).toBe(Number(span.first));
    expect(big.last_seen).toBe(Number(span.last));
    expect(big.last_seen).toBeGreaterThan(t0 + 320 * HOUR); // an item past the first 200
    expect(big.title.toLowerCase()).toContain('csv export');
  }, 120_000);

  it('is described again once it grew by a quarter; in between only its first/last seen move', async () => {
    app2 = await openApp({ configObject: parseConfig(''), db: join(tempDir(), 'grow.db'), redisUrl: null, now: () => Date.UTC(2026, 10, 16) });
    startWorkers(app2, ['enrich']);
    const sourceId = await ensureSource(app2.db, 'community', 'slack', Date.now());
    const t0 = Date.UTC(2026, 8, 1);
    const messages: RawMessage[] = Array.from({ length: 14 }, (_, n) => ({
      externalId: `g${n}`,
      channel: 'C1',
      author: { id: `U${n}`, name: `user${n}` },
      text: `The CSV export of a big table ${VARIANTS[n % VARIANTS.length]} every time`,
      sentAt: t0 + n * 3_600_000,
      threadId: `g${n}`,
    }));
    await runIngest(app2.ctx, { sourceId, platform: 'slack', messages, normalizerVersion: 1 });
    await app2.queue.idle({ queues: ['enrich'] });
    await runCluster(app2.ctx, { itemIds: (await app2.db.selectFrom('feedback_items').select('id').execute()).map((r) => r.id) });
    const top = await app2.db
      .selectFrom('cluster_items')
      .select((eb) => ['cluster_id', eb.fn.countAll<number>().as('n'), eb.fn.max<number>('item_id').as('newest')])
      .groupBy('cluster_id')
      .orderBy('n', 'desc')
      .executeTakeFirstOrThrow();
    const size = Number(top.n);
    expect(size).toBeGreaterThanOrEqual(12);
    const newest = await app2.db
      .selectFrom('feedback_items as f')
      .innerJoin('messages as m', 'm.id', 'f.message_id')
      .select(['f.id', 'm.sent_at'])
      .where('f.id', '=', Number(top.newest))
      .executeTakeFirstOrThrow();
    const fresh = new Map([[top.cluster_id, (await loadItemsForDocs(app2.db, [newest.id])).map(itemDoc)]]);
    // Described at this size a moment ago: one more item is not a reason to describe it again.
    const seenOnly = (await describeClusters(app2.db, null, [top.cluster_id], fresh, new Map([[top.cluster_id, size - 1]]))).get(top.cluster_id)!;
    expect('title' in seenOnly).toBe(false);
    expect(seenOnly.lastSeen).toBe(Number(newest.sent_at));
    // Grown by a quarter since (or never described by this process): described from its items.
    const grown = new Map([[top.cluster_id, Math.floor(size / REGROW)]]);
    const again = (await describeClusters(app2.db, null, [top.cluster_id], fresh, grown)).get(top.cluster_id)!;
    expect('title' in again && again.title.toLowerCase()).toContain('csv export');
    expect(grown.get(top.cluster_id)).toBe(size);
    const first = (await describeClusters(app2.db, null, [top.cluster_id], fresh, new Map())).get(top.cluster_id)!;
    expect('title' in first).toBe(true);
  }, 60_000);
});
