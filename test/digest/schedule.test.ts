// The digest's schedule: the BullMQ job scheduler on a real Redis (own queue prefix), a send through
// the digest queue's worker, and the in-process timer's next run in the configured time zone.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Queue } from 'bullmq';
import { openApp, startWorkers } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { BullMqQueue } from '../../src/queue/index.js';
import { teamByName } from '../../src/digest/edition.js';
import { approveEdition, DIGEST_SCHEDULER_ID, nextRun, prepareEdition, registerDigestScheduler, startDigestTimer } from '../../src/digest/workflow.js';
import { getEdition } from '../../src/store/digests.js';
import { tempDir } from '../support/factories.js';
import { configYaml, NOW, seed, startSmtp, TEAMS, WEEK, type SmtpCapture } from './support.js';

let smtp: SmtpCapture;
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(async () => {
  await smtp.close();
});

describe('digest schedule', () => {
  it('registers one BullMQ job scheduler with the cron and time zone, and sends through the digest queue', async () => {
    const prefix = `test-${randomUUID()}`;
    const app = await openApp({
      configObject: parseConfig(configYaml(smtp.port, TEAMS), {}),
      db: join(tempDir('gleaner-digest-'), 'gleaner.db'),
      redisUrl: inject('redisUrl'),
      queuePrefix: prefix,
      now: () => NOW,
    });
    const raw = new Queue('digest', { connection: { url: inject('redisUrl') }, prefix });
    try {
      expect(app.queue).toBeInstanceOf(BullMqQueue);
      const queue = app.queue as BullMqQueue;
      expect(await registerDigestScheduler(app.ctx, queue)).toEqual({ pattern: '0 9 * * 1', tz: 'Europe/Berlin' });
      await registerDigestScheduler(app.ctx, queue); // a second process registering it
      expect(await raw.getJobSchedulersCount()).toBe(1);
      const s = await raw.getJobScheduler(DIGEST_SCHEDULER_ID);
      expect(s).toMatchObject({ pattern: '0 9 * * 1', tz: 'Europe/Berlin', name: 'digest' });
      expect(s?.template?.data).toEqual({ type: 'weekly' });
      // The next run is a Monday, 09:00 in Berlin.
      const next = new Date(Number(s?.next));
      expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'short', hour: '2-digit', minute: '2-digit', hour12: false }).format(next)).toBe('Mon 09:00');
      await raw.removeJobScheduler(DIGEST_SCHEDULER_ID);

      // Approval sends through the queue's worker.
      await seed(app.db);
      startWorkers(app, ['digest']);
      const draft = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
      await approveEdition(app.ctx, draft.id, 'carol');
      await app.queue.idle({ queues: ['digest'], timeoutMs: 20_000 });
      expect((await getEdition(app.db, draft.id))!.status).toBe('sent');
      expect(smtp.messages).toHaveLength(1);
      await approveEdition(app.ctx, draft.id, 'carol'); // approving again sends nothing
      await app.queue.idle({ queues: ['digest'], timeoutMs: 20_000 });
      expect(smtp.messages).toHaveLength(1);
    } finally {
      await queue(app)
        .obliterate()
        .catch(() => undefined);
      await raw.close();
      await app.close();
    }
  });

  it('the in-process timer fires at the cron in the time zone (default Monday 09:00)', async () => {
    const config = parseConfig('digest: { timezone: America/New_York }\n', {});
    const ctx = { config, now: () => Date.UTC(2026, 10, 25, 12), db: undefined as never, log: undefined as never };
    expect(new Date(nextRun(ctx, ctx.now())).toISOString()).toBe('2026-11-30T14:00:00.000Z');
    const timer = startDigestTimer(ctx, { sweepMs: 3_600_000 });
    expect(timer.nextAt).toBe(Date.UTC(2026, 10, 30, 14));
    timer.stop();
    expect(() => nextRun({ config: parseConfig('digest: { schedule: "not a cron" }\n', {}) }, 0)).toThrow(/digest.schedule "not a cron".*not a valid cron expression/);
  });
});

function queue(app: { queue: unknown }): BullMqQueue {
  return app.queue as BullMqQueue;
}
