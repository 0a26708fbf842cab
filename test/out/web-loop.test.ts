// Closing the loop on the cluster page: a curator marks the cluster resolved, edits a drafted reply and
// approves it (which sends it, once, to the list through the SMTP server); a viewer can do neither.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { simpleParser } from 'mailparser';
import { buildWebApp } from '../../src/web/app.js';
import { listReplies } from '../../src/store/loop.js';
import { ensureDigestPost } from '../../src/store/outbound.js';
import { PASSWORDS, seededApp, type Seeded } from '../web/seed.js';
import { get, loginAs, post, type Agent } from '../web/agent.js';
import { startSmtp, type SmtpCapture } from '../digest/support.js';

let s: Seeded;
let web: FastifyInstance;
let smtp: SmtpCapture;
let curator: Agent;
let viewer: Agent;

beforeAll(async () => {
  smtp = await startSmtp();
  s = await seededApp();
  s.app.config.smtp = { host: '127.0.0.1', port: smtp.port, secure: false, requireTLS: false, from: 'Gleaner <loop@gleaner.example.org>' };
  web = buildWebApp(s.app);
  curator = (await loginAs(web, 'curator', PASSWORDS.curator)).agent;
  viewer = (await loginAs(web, 'viewer', PASSWORDS.viewer, { ip: '10.0.0.2' })).agent;
});
afterAll(async () => {
  await web?.close();
  await s?.app.close();
  await smtp?.close();
});

describe('closing the loop on the cluster page', () => {
  it('a viewer sees the state but cannot resolve', async () => {
    const page = await get(web, viewer, `/clusters/${s.clusters.csv}`);
    expect(page.body).toContain('Closing the loop');
    expect(page.body).toContain('Not resolved.');
    expect(page.body).not.toContain('id="resolve-form"');
    expect((await post(web, viewer, `/clusters/${s.clusters.csv}/resolve`, { reference: 'fixed' })).statusCode).toBe(403);
  });

  it('a curator marks it resolved, edits the drafted list reply and approves it: sent once, in reply to the thread', async () => {
    const page = await get(web, curator, `/clusters/${s.clusters.csv}`);
    expect(page.body).toContain('id="resolve-form"');
    expect((await post(web, curator, `/clusters/${s.clusters.csv}/resolve`, { reference: 'fixed in 4.2.1 <b>now</b>', url: 'javascript:alert(1)' })).statusCode).toBe(400);
    const res = await post(web, curator, `/clusters/${s.clusters.csv}/resolve`, { reference: 'fixed in 4.2.1 <b>now</b>', url: 'https://example.org/4.2.1' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/clusters/${s.clusters.csv}?done=resolved#loop`);
    const after = await get(web, curator, `/clusters/${s.clusters.csv}`);
    expect(after.body).toContain('fixed in 4.2.1 &lt;b&gt;now&lt;/b&gt;');
    const replies = await listReplies(s.app.db, { clusterId: s.clusters.csv });
    const mail = replies.find((r) => r.platform === 'mail')!;
    expect(mail.status).toBe('draft');
    expect(after.body).toContain(`action="/loop/${mail.id}"`);
    expect((await post(web, viewer, `/loop/${mail.id}`, { action: 'approve' })).statusCode).toBe(403);
    expect(smtp.messages).toHaveLength(0);

    expect((await post(web, curator, `/loop/${mail.id}`, { action: 'save', text: 'Thanks Bob, fixed in 4.2.1.' })).statusCode).toBe(303);
    const sent = await post(web, curator, `/loop/${mail.id}`, { action: 'approve', text: 'Thanks Bob, fixed in 4.2.1.' });
    expect(sent.statusCode).toBe(303);
    expect(sent.headers.location).toContain('done=reply_sent');
    expect(smtp.messages).toHaveLength(1);
    const m = await simpleParser(smtp.messages[0]!.raw);
    expect(m.text?.trim()).toBe('Thanks Bob, fixed in 4.2.1.');
    expect(m.inReplyTo).toMatch(/^<.+>$/);
    expect(smtp.messages[0]!.envelope.to).toEqual(['dev@lists.example.org']);
    // Sent: no longer editable, and approving again sends nothing.
    const r = (await listReplies(s.app.db, { clusterId: s.clusters.csv })).find((x) => x.id === mail.id)!;
    expect(r.status).toBe('sent');
    expect((await post(web, curator, `/loop/${mail.id}`, { action: 'send' })).statusCode).toBe(303);
    expect(smtp.messages).toHaveLength(1);
    expect((await post(web, curator, `/loop/${mail.id}`, { action: 'save', text: 'changed' })).statusCode).toBe(400);
  });

  it("the digest page lists the edition's chat posts with their state", async () => {
    await ensureDigestPost(s.app.db, { digestId: s.digests.sent, source: 'work-slack', channel: '#product<b>', platform: 'slack', now: Date.now() });
    const page = await get(web, viewer, `/digests/${s.digests.sent}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Posted to chat: work-slack #product&lt;b&gt; <span class="badge status-pending">pending</span>');
  });
});
