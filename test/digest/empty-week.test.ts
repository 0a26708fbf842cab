// A week without feedback: while tagging or clustering is unfinished, the busiest conversations stand
// in for the clusters; once both are done, the digest says nothing was reported instead of listing
// small talk and "+1"s.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { buildDigest } from '../../src/digest/build.js';
import { finishPendingWork } from '../../src/runner/pending.js';
import { ingestBatch } from '../../src/stages/ingest-batch.js';
import { ensureSource } from '../../src/store/queries.js';
import { isoWeekOf, weekPeriod } from '../../src/pipeline/period.js';
import { tempDir } from '../support/factories.js';

let app: App | undefined;
afterAll(async () => app?.close());

describe('a week without feedback', () => {
  it('lists conversations only while the stages are unfinished', async () => {
    const t0 = Date.UTC(2026, 2, 3, 10);
    app = await openApp({ configObject: parseConfig('{}', {}), db: join(tempDir('gleaner-empty-'), 'gleaner.db'), redisUrl: null, now: () => t0 });
    const source = await ensureSource(app.db, 'team', 'slack', t0);
    const lines = ['good morning all', ':+1:', 'so....what now then?', 'brb'];
    await ingestBatch(
      app.db,
      {
        sourceId: source,
        platform: 'slack',
        messages: lines.map((text, i) => ({ externalId: `${i}`, channel: 'research', author: { id: `U${i % 2}`, name: `u${i % 2}` }, text, sentAt: t0 + i * 3_600_000 })),
        normalizerVersion: 1,
      },
      t0,
    );
    const { year, week } = isoWeekOf(t0);
    const period = weekPeriod(year, week);
    const before = await buildDigest(app.db, period, { top: 10 });
    expect(before.clusters.length).toBeGreaterThan(0);

    await finishPendingWork(app.ctx);
    const after = await buildDigest(app.db, period, { top: 10 });
    expect(after.clusters).toEqual([]);
  }, 60_000);
});
