// Tagging batches run overlapped (the next one's detection while this one saves): their items are
// saved in batch order even when a later batch's detection finishes first, so item ids, which break
// ties in grouping, follow the conversations whatever the timing.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { finishPendingWork, PENDING_ENRICH_CHUNK } from '../../src/runner/pending.js';
import { ingestBatch } from '../../src/stages/ingest-batch.js';
import { ensureSource } from '../../src/store/queries.js';
import type { DetectPool } from '../../src/threads/detect-pool.js';
import { tempDir } from '../support/factories.js';

let app: App | undefined;
afterAll(async () => app?.close());

describe('overlapped tagging batches', () => {
  it('save their items in batch order when the first batch is detected last', async () => {
    const t0 = Date.UTC(2026, 2, 2);
    app = await openApp({ configObject: parseConfig('{}', {}), db: join(tempDir('gleaner-order-'), 'gleaner.db'), redisUrl: null, now: () => t0 });
    const source = await ensureSource(app.db, 'list', 'mail', t0);
    const n = 2 * PENDING_ENRICH_CHUNK + 20;
    const messages = Array.from({ length: n }, (_, i) => ({
      externalId: `<m${i}@example.org>`,
      channel: 'users@example.org',
      author: { id: `user${i}@example.org`, name: `User ${i}` },
      subject: `Export to PDF fails for report ${i}`,
      text: `Exporting report ${i} to PDF fails with an error 500 since the upgrade to 3.2. Is there a fix?`,
      sentAt: t0 + i * 60_000,
    }));
    await ingestBatch(app.db, { sourceId: source, platform: 'mail', messages, normalizerVersion: 1 }, t0);

    // The first batch's detection answers last.
    const services = app.ctx.services;
    let calls = 0;
    const slowFirst = {
      async detect(job: Parameters<DetectPool['detect']>[0], here: Parameters<DetectPool['detect']>[1]) {
        const mine = calls++;
        const out = job.conversations.map(here);
        if (mine === 0) await new Promise((r) => setTimeout(r, 500));
        return out;
      },
    } as unknown as DetectPool;
    services.detectPool = () => slowFirst;
    await finishPendingWork(app.ctx);

    expect(calls).toBeGreaterThanOrEqual(3);
    const items = await app.db.selectFrom('feedback_items').select(['id', 'conversation_id']).orderBy('conversation_id').execute();
    expect(items.length).toBe(n);
    const ids = items.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  }, 120_000);
});
