// Webhooks out, against a receiver on loopback that checks every signature: each event once (emitted
// again, it is not sent again), a failing receiver tried again with backoff until it takes it, a
// delivery that outlives the process that queued it, a signed ping, and the deliveries listed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { approveEdition, prepareEdition } from '../../src/digest/workflow.js';
import { sendEdition } from '../../src/digest/send.js';
import { teamsOf } from '../../src/digest/edition.js';
import { deliverDue, emitEvent, sendPing } from '../../src/webhooks/deliver.js';
import { listDeliveries } from '../../src/store/webhooks.js';
import { pushCluster } from '../../src/trackers/push.js';
import { syncTrackers } from '../../src/trackers/sync.js';
import { buildWebApp } from '../../src/web/app.js';
import { addUser } from '../../src/web/auth.js';
import { FakeGithub } from '../fakes/github.js';
import { appWith, configYaml, NOW, seed, startSmtp, WEEK, type SmtpCapture } from '../digest/support.js';
import { tempDir } from '../support/factories.js';
import { loginAs } from '../web/agent.js';

const SECRET = 'whsec-test-secret-0123456789';

interface Received {
  event: string;
  delivery: string;
  signatureOk: boolean;
  body: { event: string; delivery: string; data: Record<string, unknown> };
}

class Receiver {
  readonly got: Received[] = [];
  failures = 0;
  server!: Server;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.failures > 0) {
          this.failures--;
          res.writeHead(500).end('down for a moment');
          return;
        }
        const raw = Buffer.concat(chunks);
        const want = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`);
        const sent = Buffer.from(String(req.headers['x-gleaner-signature'] ?? ''));
        this.got.push({
          event: String(req.headers['x-gleaner-event']),
          delivery: String(req.headers['x-gleaner-delivery']),
          signatureOk: sent.length === want.length && timingSafeEqual(sent, want),
          body: JSON.parse(raw.toString('utf8')) as Received['body'],
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/gleaner`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let receiver: Receiver;
let smtp: SmtpCapture;
let gh: FakeGithub;
beforeAll(async () => {
  receiver = new Receiver();
  [smtp, gh] = await Promise.all([startSmtp(), FakeGithub.start(), receiver.start()]);
});
afterAll(async () => {
  await Promise.all([receiver?.stop(), smtp?.close(), gh?.stop()]);
});

function yaml(): string {
  return configYaml(
    smtp.port,
    `
webhooks:
  - name: product-bot
    url: "${receiver.url}"
    secret: "${SECRET}"
    events: [cluster.created, cluster.rising, cluster.resolved, digest.approved, digest.sent]
    backoffMs: 1000
    maxAttempts: 4
trackers:
  - { name: gh, type: github, baseUrl: "${gh.url}", repo: driftwood/driftwood, token: "${gh.token}" }
`,
  );
}

async function open(dbPath: string, clock: { t: number }): Promise<App> {
  return appWith(yaml(), { dbPath, now: () => clock.t });
}

describe('webhooks', () => {
  it('digest.approved, digest.sent, cluster.rising and cluster.resolved reach the receiver once each, signed', async () => {
    receiver.got.length = 0;
    const clock = { t: NOW };
    const app = await open(join(tempDir('gleaner-hooks-'), 'g.db'), clock);
    try {
      const c = await seed(app.db);
      const team = teamsOf(app.config)[0]!;
      const draft = await prepareEdition(app.ctx, team, WEEK);
      await prepareEdition(app.ctx, team, WEEK); // rebuilt: the rising cluster is not announced twice
      await approveEdition(app.ctx, draft.id, 'carol', { send: false });
      await approveEdition(app.ctx, draft.id, 'carol', { send: false });
      expect((await sendEdition(app.ctx, draft.id)).status).toBe('sent');
      await pushCluster(app.ctx, c.csv, 'gh');
      gh.closeIssue('driftwood/driftwood', 1, { commit: 'feedbeef00112233' });
      await syncTrackers(app.ctx);
      await syncTrackers(app.ctx);
      // Emitting an event with a key already queued adds nothing.
      expect(await emitEvent(app.ctx, 'digest.approved', String(draft.id), { again: true })).toBe(0);
      const r = await deliverDue(app.ctx);
      expect(r.every((x) => x.ok)).toBe(true);
      expect(receiver.got.map((g) => g.event).sort()).toEqual(['cluster.resolved', 'cluster.rising', 'digest.approved', 'digest.sent']);
      expect(receiver.got.every((g) => g.signatureOk)).toBe(true);
      expect(new Set(receiver.got.map((g) => g.delivery)).size).toBe(4);
      for (const g of receiver.got) {
        expect(g.delivery).toMatch(/^[0-9a-f-]{36}$/);
        expect(g.body.event).toBe(g.event);
        expect(g.body.delivery).toBe(g.delivery);
      }
      const rising = receiver.got.find((g) => g.event === 'cluster.rising')!;
      expect(rising.body.data.cluster).toMatchObject({ id: c.csv, url: `https://gleaner.example.org/clusters/${c.csv}` });
      const resolved = receiver.got.find((g) => g.event === 'cluster.resolved')!;
      expect(resolved.body.data).toMatchObject({ reference: 'driftwood/driftwood@feedbee', issue: { tracker: 'gh', key: 'driftwood/driftwood#1' } });
      expect(receiver.got.find((g) => g.event === 'digest.sent')!.body.data.digest).toMatchObject({ id: draft.id, team: team.name });
      // Nothing is due any more: a second run sends nothing.
      expect(await deliverDue(app.ctx)).toEqual([]);
      expect(receiver.got).toHaveLength(4);
    } finally {
      await app.close();
    }
  });

  it('a failing receiver is tried again with exponential backoff, then takes it; past maxAttempts a delivery is failed', async () => {
    receiver.got.length = 0;
    const clock = { t: NOW };
    const app = await open(join(tempDir('gleaner-hooks-'), 'g.db'), clock);
    try {
      receiver.failures = 2;
      await emitEvent(app.ctx, 'cluster.created', '41', { cluster: { id: 41 } });
      const first = await deliverDue(app.ctx);
      expect(first).toMatchObject([{ ok: false, status: 500, retryAt: NOW + 1000 }]);
      // Not due yet: nothing is sent before the backoff.
      expect(await deliverDue(app.ctx)).toEqual([]);
      clock.t = NOW + 1000;
      expect(await deliverDue(app.ctx)).toMatchObject([{ ok: false, status: 500, retryAt: NOW + 1000 + 2000 }]);
      clock.t = NOW + 3000;
      expect(await deliverDue(app.ctx)).toMatchObject([{ ok: true, status: 204 }]);
      expect(receiver.got.map((g) => [g.event, g.signatureOk])).toEqual([['cluster.created', true]]);
      const [d] = await listDeliveries(app.db);
      expect(d).toMatchObject({ status: 'delivered', attempts: 3, responseStatus: 204 });

      receiver.failures = 10;
      await emitEvent(app.ctx, 'cluster.created', '42', { cluster: { id: 42 } });
      for (let i = 0; i < 4; i++) {
        clock.t += 60_000;
        await deliverDue(app.ctx);
      }
      const [failed] = await listDeliveries(app.db, { status: 'failed' });
      expect(failed).toMatchObject({ eventKey: 'cluster.created:42', attempts: 4, responseStatus: 500 });
      expect(failed!.lastError).toContain('HTTP 500');
      receiver.failures = 0;
    } finally {
      await app.close();
    }
  });

  it('a queued delivery outlives the process; a ping is signed; deliveries are listed on the web page', async () => {
    receiver.got.length = 0;
    const dbPath = join(tempDir('gleaner-hooks-'), 'g.db');
    const clock = { t: NOW };
    const first = await open(dbPath, clock);
    await emitEvent(first.ctx, 'cluster.created', '7', { cluster: { id: 7, title: 'Queued before a crash' } });
    await first.close(); // stopped before sending
    const app = await open(dbPath, clock);
    try {
      expect((await deliverDue(app.ctx)).map((x) => x.ok)).toEqual([true]);
      expect(receiver.got.map((g) => g.event)).toEqual(['cluster.created']);
      const ping = await sendPing(app.ctx, 'product-bot');
      expect(ping.ok).toBe(true);
      expect(receiver.got[1]).toMatchObject({ event: 'ping', signatureOk: true });
      await expect(sendPing(app.ctx, 'nope')).rejects.toThrow(/no webhook named nope/);

      await addUser(app.db, 'cur', 'curator', 'curator-password-1', NOW);
      const web = buildWebApp(app, { now: () => NOW });
      try {
        const { agent } = await loginAs(web, 'cur', 'curator-password-1');
        const page = await web.inject({ method: 'GET', url: '/webhooks', cookies: agent.cookies });
        expect(page.statusCode).toBe(200);
        expect(page.body).toContain('<code>ping</code>');
        expect(page.body).toContain('<code>cluster.created</code>');
        expect(page.body.match(/class="delivery status-delivered"/g)).toHaveLength(2);
        expect(page.body).not.toContain(SECRET);
      } finally {
        await web.close();
      }
    } finally {
      await app.close();
    }
  });
});
