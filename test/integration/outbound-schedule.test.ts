// The outbound jobs' schedules on a real Redis (own queue prefix): the tracker sync (hourly by default)
// and the webhook sender register as BullMQ job schedulers on the digest queue, once however many
// workers register them, and a job run by the digest queue's worker delivers the due webhooks.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { Queue } from 'bullmq';
import { openApp, startWorkers } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { registerOutboundSchedulers } from '../../src/outbound-jobs.js';
import { emitEvent } from '../../src/webhooks/deliver.js';
import { listDeliveries } from '../../src/store/webhooks.js';
import { tempDir } from '../support/factories.js';

let hook: Server;
let url = '';
const got: string[] = [];
beforeAll(async () => {
  hook = createServer((req, res) => {
    got.push(String(req.headers['x-gleaner-event']));
    req.resume();
    req.on('end', () => res.writeHead(202).end());
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  hook.closeAllConnections();
  await new Promise((r) => hook.close(r));
});

it('registers the sync and the sender once, and the digest worker runs them', async () => {
  const prefix = `test-${randomUUID()}`;
  const yaml = `
digest: { timezone: UTC }
trackers:
  - { name: gh, type: github, repo: o/r, token: ghp_unused_in_this_test }
webhooks:
  - { name: w, url: "${url}", secret: "whsec-schedule-test", events: [digest.sent] }
`;
  const app = await openApp({ configObject: parseConfig(yaml, {}), db: join(tempDir('gleaner-outsched-'), 'g.db'), redisUrl: inject('redisUrl'), queuePrefix: prefix });
  const raw = new Queue('digest', { connection: { url: inject('redisUrl') }, prefix });
  try {
    await registerOutboundSchedulers(app.ctx, app.queue);
    await registerOutboundSchedulers(app.ctx, app.queue); // a second worker registering them
    expect(await raw.getJobSchedulersCount()).toBe(2);
    expect(await raw.getJobScheduler('tracker-sync')).toMatchObject({ pattern: '0 * * * *', tz: 'UTC', template: { data: { type: 'tracker-sync' } } });
    expect(await raw.getJobScheduler('webhooks-deliver')).toMatchObject({ pattern: '* * * * *', template: { data: { type: 'webhooks-deliver' } } });
    await raw.removeJobScheduler('tracker-sync');
    await raw.removeJobScheduler('webhooks-deliver');

    await emitEvent(app.ctx, 'digest.sent', '1', { digest: { id: 1 } });
    startWorkers(app, ['digest']);
    await app.queue.add('digest', 'webhooks-deliver', { type: 'webhooks-deliver' }, { jobId: 'deliver-now' });
    await app.queue.idle({ queues: ['digest'], timeoutMs: 20_000 });
    expect(got).toEqual(['digest.sent']);
    expect((await listDeliveries(app.db)).map((d) => d.status)).toEqual(['delivered']);
  } finally {
    await raw.obliterate({ force: true }).catch(() => undefined);
    await raw.close();
    await app.close();
  }
}, 60_000);
