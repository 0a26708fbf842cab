// Closing the loop: a resolved cluster gets one reply drafted per thread where its need was voiced, in
// the platform's form; approved replies land in the right thread (Slack thread_ts, Discord
// message_reference, Matrix m.in_reply_to, mail In-Reply-To/References), once, across a crash. The
// threads are read into the store by the real connectors from the fakes and by the mbox importer.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { pullSource } from '../../src/runner/pull.js';
import { importFiles } from '../../src/runner/import.js';
import { onClusterResolved, resolveCluster } from '../../src/loop/drafts.js';
import { sendApproved, sendReply } from '../../src/loop/send.js';
import { decideReply, editReply, getReply, listReplies } from '../../src/store/loop.js';
import { FakeSlack } from '../fakes/slack.js';
import { FakeDiscord } from '../fakes/discord.js';
import { FakeMatrixServer } from '../fakes/matrix.js';
import { appWith, configYaml, startSmtp, type SmtpCapture } from '../digest/support.js';
import { tempDir } from '../support/factories.js';

let smtp: SmtpCapture;
let slack: FakeSlack;
let discord: FakeDiscord;
let matrix: FakeMatrixServer;
let app: App;
let now = Date.now();
const ids = { slackChannel: '', slackRoot: '', discordChannel: '', discordMsg: '', matrixRoom: '', matrixEvent: '' };
let clusterId = 0;

const MBOX = `From ana@example.org Mon Nov  9 10:00:00 2026
From: Ana <ana@example.org>
To: dev@lists.example.org
Subject: CSV export crashes on big reports
Message-ID: <csv-1@example.org>
References: <older-0@example.org>
In-Reply-To: <older-0@example.org>
List-Id: Dev list <dev.lists.example.org>
Date: Mon, 09 Nov 2026 10:00:00 +0000

The CSV export crashes when the report has more than 10k rows.
`;

beforeAll(async () => {
  smtp = await startSmtp();
  slack = await FakeSlack.start();
  slack.addUser({ id: 'U0ANA', name: 'ana', real_name: 'Ana Lima' });
  slack.addUser({ id: 'U0BEN', name: 'ben', real_name: 'Ben Okafor' });
  ids.slackChannel = slack.addChannel({ name: 'help' }).id;
  ids.slackRoot = slack.post(ids.slackChannel, { user: 'U0ANA', text: 'The CSV export crashes on big reports' });
  slack.reply(ids.slackChannel, ids.slackRoot, { user: 'U0BEN', text: 'same here, export dies' });
  discord = await FakeDiscord.start();
  ids.discordChannel = discord.addChannel('support').id;
  ids.discordMsg = discord.post(ids.discordChannel, { author: discord.human, content: 'csv export crash with large data' }).id;
  matrix = new FakeMatrixServer();
  await matrix.start();
  ids.matrixRoom = matrix.createRoom({ alias: '#help:localhost', name: 'Help', members: { '@carla:localhost': 'Carla' } });
  ids.matrixEvent = matrix.send(ids.matrixRoom, '@carla:localhost', 'Export to CSV crashes for me');

  const yaml = configYaml(
    smtp.port,
    `
sources:
  - { name: work-slack, platform: slack, token: ${slack.token}, apiUrl: "${slack.url}" }
  - { name: lumen-discord, platform: discord, token: ${discord.token}, guildId: "${discord.guild.id}", apiUrl: "${discord.url}", channels: ["${ids.discordChannel}"], memberRoles: false }
  - { name: lumen-matrix, platform: matrix, homeserver: "${matrix.url}", accessToken: ${matrix.accessToken}, rooms: ["${ids.matrixRoom}"] }
loop:
  template: "Thanks for reporting this: it is fixed in {resolution}{url}"
`,
  );
  app = await appWith(yaml, { now: () => now });
  for (const s of app.config.sources) {
    const r = await pullSource(app, s, new AbortController().signal);
    expect(r.error).toBeNull();
  }
  const mbox = join(tempDir('gleaner-loop-'), 'dev.mbox');
  writeFileSync(mbox, MBOX);
  await importFiles(app, [mbox], { source: 'dev-list' });

  // One cluster over the report of each conversation (the grouping is not what is tested here).
  const db = app.db;
  const roots = await db.selectFrom('messages').select(['id', 'conversation_id']).where('text', 'like', '%rash%').orderBy('id').execute();
  const convs = new Map<number, number>();
  for (const r of roots) if (r.conversation_id !== null && !convs.has(r.conversation_id)) convs.set(r.conversation_id, r.id);
  expect(convs.size).toBe(4);
  const cluster = await db
    .insertInto('clusters')
    .values({ title: 'CSV export crashes on big reports', pinned_title: 0, summary: null, kind: 'bug', first_seen: null, last_seen: null, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  clusterId = cluster.id;
  for (const [conv, msg] of convs) {
    const item = await db
      .insertInto('feedback_items')
      .values({ conversation_id: conv, message_id: msg, kind: 'bug', kind_confidence: 0.9, sentiment: null, status: 'confirmed', model_version: 'test', created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.insertInto('cluster_items').values({ cluster_id: clusterId, item_id: item.id, pinned: 0 }).execute();
  }
}, 60_000);

afterAll(async () => {
  await app?.close();
  await smtp.close();
  await slack.stop();
  await discord.close();
  await matrix.stop();
});

const byPlatform = async () => new Map((await listReplies(app.db, { clusterId })).map((r) => [r.platform, r]));
const slackReplies = () => (slack.messages.get(ids.slackChannel) ?? []).filter((m) => m.bot_id === 'B0GLEANER');
const discordReplies = () => (discord.messages.get(ids.discordChannel) ?? []).filter((m) => m.author.id === discord.bot.id);
const matrixReplies = () => matrix.events(ids.matrixRoom).filter((e) => e.sender === matrix.userId && e.type === 'm.room.message');

describe('closing the loop', () => {
  it('a resolved cluster gets one draft per thread, nothing is sent before approval', async () => {
    const d = await resolveCluster(app.ctx, clusterId, { by: 'carol', reference: '4.2.1', url: 'https://example.org/releases/4.2.1' });
    expect(d.created).toBe(4);
    expect(d.replies.map((r) => [r.platform, r.status]).sort()).toEqual([
      ['discord', 'draft'],
      ['mail', 'draft'],
      ['matrix', 'draft'],
      ['slack', 'draft'],
    ]);
    expect(d.replies[0]!.text).toBe('Thanks for reporting this: it is fixed in 4.2.1 — https://example.org/releases/4.2.1');
    // Resolving again drafts nothing new; sending sends nothing unapproved.
    expect((await onClusterResolved(app.ctx, clusterId)).created).toBe(0);
    expect(await sendApproved(app.ctx, clusterId)).toEqual([]);
    expect([slackReplies().length, discordReplies().length, matrixReplies().length, smtp.messages.length]).toEqual([0, 0, 0, 0]);
  });

  it('approved replies land in their threads, each once, and are recorded with a link', async () => {
    const r = await byPlatform();
    expect(await editReply(app.db, r.get('slack')!.id, 'Thanks <!channel> for reporting: fixed in 4.2.1', now)).toBe(true);
    for (const x of r.values()) expect(await decideReply(app.db, x.id, 'approved', 'carol', now)).toBe(true);
    const out = await sendApproved(app.ctx, clusterId);
    expect(out.map((o) => o.status)).toEqual(['sent', 'sent', 'sent', 'sent']);

    const s = slackReplies();
    expect(s).toHaveLength(1);
    expect(s[0]!.thread_ts).toBe(ids.slackRoot);
    expect(s[0]!.text).toBe('Thanks &lt;!channel&gt; for reporting: fixed in 4.2.1');
    const d = discordReplies();
    expect(d).toHaveLength(1);
    expect((d[0]!.message_reference as { message_id: string }).message_id).toBe(ids.discordMsg);
    expect(discord.created.at(-1)!.body.allowed_mentions).toEqual({ parse: [], replied_user: true });
    const m = matrixReplies();
    expect(m).toHaveLength(1);
    expect(m[0]!.content['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: ids.matrixEvent } });
    expect(smtp.messages).toHaveLength(1);
    const mail = await simpleParser(smtp.messages[0]!.raw);
    expect(mail.inReplyTo).toBe('<csv-1@example.org>');
    expect(mail.references).toEqual(['<older-0@example.org>', '<csv-1@example.org>']);
    expect(mail.subject).toBe('Re: CSV export crashes on big reports');
    expect(smtp.messages[0]!.envelope.to).toEqual(['dev@lists.example.org']);

    const after = await byPlatform();
    expect(after.get('slack')!.externalId).toBe(s[0]!.ts);
    expect(after.get('slack')!.link).toContain(`/archives/${ids.slackChannel}/`);
    expect(after.get('discord')!.link).toContain(d[0]!.id);
    expect(after.get('matrix')!.externalId).toBe(m[0]!.event_id);
    // Again: nothing is left to send, and each one asked again says it went already.
    expect(await sendApproved(app.ctx, clusterId)).toEqual([]);
    for (const x of after.values()) expect((await sendReply(app.ctx, x.id)).status).toBe('already-sent');
    expect([slackReplies().length, discordReplies().length, matrixReplies().length, smtp.messages.length]).toEqual([1, 1, 1, 1]);
  });

  it('a reply lands in the right thread once across a crash between claim and send, and one after the send', async () => {
    // The Slack and Matrix items moved to another cluster, resolved later: new drafts for those threads.
    const db = app.db;
    const items = await db
      .selectFrom('cluster_items as ci')
      .innerJoin('feedback_items as f', 'f.id', 'ci.item_id')
      .innerJoin('messages as m', 'm.id', 'f.message_id')
      .innerJoin('sources as s', 's.id', 'm.source_id')
      .select(['f.id as id', 's.platform as platform'])
      .where('ci.cluster_id', '=', clusterId)
      .execute();
    const other = await db
      .insertInto('clusters')
      .values({ title: 'Export regression', pinned_title: 0, summary: null, kind: 'bug', first_seen: null, last_seen: null, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const i of items.filter((x) => x.platform === 'slack' || x.platform === 'matrix')) await db.updateTable('cluster_items').set({ cluster_id: other.id }).where('item_id', '=', i.id).execute();
    const d = await resolveCluster(app.ctx, other.id, { by: 'carol', reference: '4.2.2' });
    const slackReply = d.replies.find((r) => r.platform === 'slack')!;
    const matrixReply = d.replies.find((r) => r.platform === 'matrix')!;
    for (const r of d.replies) await decideReply(db, r.id, 'approved', 'carol', now);
    const before = [slackReplies().length, matrixReplies().length];

    // Slack: the sender stops after its claim, before any request.
    const crash = new Error('simulated crash');
    await expect(sendReply({ ...app.ctx, onClaimed: async () => Promise.reject(crash) }, slackReply.id)).rejects.toBe(crash);
    expect((await sendReply(app.ctx, slackReply.id)).status).toBe('busy');
    // Matrix: the homeserver took the event, the sender stopped before recording it.
    await expect(sendReply({ ...app.ctx, onTaken: async () => Promise.reject(crash) }, matrixReply.id)).rejects.toBe(crash);
    expect(matrixReplies().length).toBe(before[1]! + 1);

    now += 6 * 60_000;
    const out = await sendApproved(app.ctx, other.id);
    expect(out.map((o) => o.status).sort()).toEqual(['sent', 'sent']);
    expect(slackReplies().length).toBe(before[0]! + 1);
    expect(slackReplies().at(-1)!.thread_ts).toBe(ids.slackRoot);
    // The repeat carried the same transaction id: one event, in reply to the report.
    expect(matrixReplies().length).toBe(before[1]! + 1);
    expect(matrixReplies().at(-1)!.content['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: ids.matrixEvent } });
    expect((await getReply(db, slackReply.id))!.attempts).toBe(2);
    expect(await sendApproved(app.ctx, other.id)).toEqual([]);
    expect((await sendReply(app.ctx, slackReply.id)).status).toBe('already-sent');
    expect((await sendReply(app.ctx, matrixReply.id)).status).toBe('already-sent');
    expect([slackReplies().length, matrixReplies().length]).toEqual([before[0]! + 1, before[1]! + 1]);
  });
});
