// Closing the loop on IRC (only with `loop.irc: true`): the reply is one line to the reporter in the
// channel, said through the source's own network settings, against a real ngircd; once across a re-run.
// Without `loop.irc` no IRC reply is drafted.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'irc-framework';
import type { App } from '../../src/app.js';
import { importFiles } from '../../src/runner/import.js';
import { resolveCluster } from '../../src/loop/drafts.js';
import { sendApproved, sendReply } from '../../src/loop/send.js';
import { decideReply, listReplies } from '../../src/store/loop.js';
import { startNgircd, type RunningNgircd } from '../support/ngircd.js';
import { appWith, configYaml } from '../digest/support.js';
import { tempDir } from '../support/factories.js';

let irc: RunningNgircd;
const apps: App[] = [];
const heard: Array<{ nick: string; target: string; message: string }> = [];
let observer: Client;
const LOG = `2026-11-09 10:00:00\tpriya\tthe CSV export crashes on big reports
2026-11-09 10:01:00\tsam\tsame for me
`;

beforeAll(async () => {
  irc = await startNgircd();
  observer = new Client();
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('observer could not join #test')), 15_000);
    observer.on('registered', () => observer.join('#test'));
    observer.on('join', (e: { nick: string }) => {
      if (e.nick === 'watcher') {
        clearTimeout(t);
        resolve();
      }
    });
    observer.on('message', (e: { nick: string; target: string; message: string }) => heard.push(e));
    observer.connect({ host: '127.0.0.1', port: irc.port, nick: 'watcher', username: 'watcher', gecos: 'watcher', auto_reconnect: false });
  });
}, 30_000);
afterAll(async () => {
  observer?.quit('bye');
  for (const a of apps) await a.close();
  await irc?.stop();
});

async function resolvedApp(loopIrc: boolean): Promise<{ app: App; clusterId: number }> {
  const yaml = configYaml(
    2525,
    `
sources:
  - name: irc
    platform: irc
    enabled: false
    networks: [{ name: testnet, host: 127.0.0.1, port: ${irc.port}, tls: false, nick: gleanerloop, channels: ["#test"] }]
loop: { irc: ${loopIrc} }
`,
  );
  const app = await appWith(yaml, { now: Date.now });
  apps.push(app);
  const file = join(tempDir('gleaner-loop-irc-'), 'irc.testnet.#test.weechatlog');
  writeFileSync(file, LOG);
  const summary = await importFiles(app, [file], { source: 'irc' });
  expect(summary.errors).toEqual([]);
  const db = app.db;
  const m = await db.selectFrom('messages').select(['id', 'conversation_id']).where('text', 'like', '%crashes%').executeTakeFirstOrThrow();
  const c = await db
    .insertInto('clusters')
    .values({ title: 'CSV export crashes', pinned_title: 0, summary: null, kind: 'bug', first_seen: null, last_seen: null, created_at: 0, updated_at: 0 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const item = await db
    .insertInto('feedback_items')
    .values({ conversation_id: m.conversation_id!, message_id: m.id, kind: 'bug', kind_confidence: 0.9, sentiment: null, status: 'confirmed', model_version: 'test', created_at: 0, updated_at: 0 })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.insertInto('cluster_items').values({ cluster_id: c.id, item_id: item.id, pinned: 0 }).execute();
  return { app, clusterId: c.id };
}

describe('closing the loop on IRC', () => {
  it('without loop.irc no IRC reply is drafted', async () => {
    const { app, clusterId } = await resolvedApp(false);
    const d = await resolveCluster(app.ctx, clusterId, { by: 'carol', reference: '4.2.1' });
    expect(d.created).toBe(0);
    expect(d.skipped).toEqual([{ conversationId: expect.any(Number), platform: 'irc', reason: expect.stringContaining('loop.irc: false') }]);
  });

  it('with loop.irc the reporter gets one line in the channel, once', async () => {
    const { app, clusterId } = await resolvedApp(true);
    const d = await resolveCluster(app.ctx, clusterId, { by: 'carol', reference: '4.2.1' });
    expect(d.created).toBe(1);
    const [r] = await listReplies(app.db, { clusterId });
    // A log file names no network: the source's only network is used.
    expect(JSON.parse(r!.target)).toEqual({ platform: 'irc', source: 'irc', network: null, channel: '#test', nick: 'priya' });
    await decideReply(app.db, r!.id, 'approved', 'carol', Date.now());
    expect((await sendApproved(app.ctx, clusterId)).map((o) => o.status)).toEqual(['sent']);
    const deadline = Date.now() + 10_000;
    while (!heard.some((h) => h.nick === 'gleanerloop') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const lines = heard.filter((h) => h.nick === 'gleanerloop');
    expect(lines).toEqual([{ ...lines[0], nick: 'gleanerloop', target: '#test', message: 'priya: Thanks for reporting this: it is resolved (4.2.1).' }]);
    expect((await sendReply(app.ctx, r!.id)).status).toBe('already-sent');
    await new Promise((res) => setTimeout(res, 300));
    expect(heard.filter((h) => h.nick === 'gleanerloop')).toHaveLength(1);
  });
});
