// Chat-posted digests: the approved edition goes to Slack (Block Kit), Discord (embeds) and Matrix (HTML)
// through the real clients against the loopback fakes, once per edition and destination: across a re-run,
// a crash between claim and post, and a crash between post and record.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { teamByName } from '../../src/digest/edition.js';
import { approveEdition, prepareEdition, sendDue } from '../../src/digest/workflow.js';
import { postEdition } from '../../src/digest/post.js';
import { listDigestPosts, settleOutbound } from '../../src/store/outbound.js';
import { FakeSlack } from '../fakes/slack.js';
import { FakeDiscord } from '../fakes/discord.js';
import { FakeMatrixServer } from '../fakes/matrix.js';
import { appWith, configYaml, HOSTILE_TITLE, NOW, seed, startSmtp, WEEK, type SmtpCapture } from '../digest/support.js';

let smtp: SmtpCapture;
let slack: FakeSlack;
let discord: FakeDiscord;
let matrix: FakeMatrixServer;
let slackChannel: string;
let discordChannel: string;
let matrixRoom: string;
const apps: App[] = [];

beforeAll(async () => {
  smtp = await startSmtp();
  slack = await FakeSlack.start();
  discord = await FakeDiscord.start();
  matrix = new FakeMatrixServer();
  await matrix.start();
});
let n = 0;
// Each test posts to channels of its own (a Discord nonce is remembered for minutes, as Discord does).
beforeEach(() => {
  n++;
  slackChannel = slack.addChannel({ name: `product${n}` }).id;
  discordChannel = discord.addChannel(`product${n}`).id;
  matrixRoom = matrix.createRoom({ alias: `#product${n}:localhost`, name: 'Product' });
});
afterAll(async () => {
  await smtp.close();
  await slack.stop();
  await discord.close();
  await matrix.stop();
});
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

function teams(publicDiscord = false): string {
  return `
sources:
  - { name: work-slack, platform: slack, token: ${slack.token}, apiUrl: "${slack.url}" }
  - { name: lumen-discord, platform: discord, token: ${discord.token}, guildId: "${discord.guild.id}", apiUrl: "${discord.url}"${publicDiscord ? `, public: ["${discordChannel}"]` : ''} }
  - { name: lumen-matrix, platform: matrix, homeserver: "${matrix.url}", accessToken: ${matrix.accessToken} }
teams:
  - name: product
    recipients: [pm@example.org]
    filter: { kind: [bug, feature] }
    post:
      - { source: work-slack, channel: "#product${n}" }
      - { source: lumen-discord, channel: "${discordChannel}" }
      - { source: lumen-matrix, channel: "#product${n}:localhost" }
`;
}

async function approved(now: () => number = () => NOW, publicDiscord = false): Promise<{ app: App; id: number }> {
  const app = await appWith(configYaml(smtp.port, teams(publicDiscord)), { now });
  apps.push(app);
  await seed(app.db);
  const draft = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
  await approveEdition(app.ctx, draft.id, 'carol', { send: false });
  return { app, id: draft.id };
}

const slackPosts = () => (slack.messages.get(slackChannel) ?? []).filter((m) => m.bot_id === 'B0GLEANER');
const discordPosts = () => (discord.messages.get(discordChannel) ?? []).filter((m) => m.author.id === discord.bot.id);
const matrixPosts = () => matrix.events(matrixRoom).filter((e) => e.type === 'm.room.message' && e.sender === matrix.userId);
const counts = () => [slackPosts().length, discordPosts().length, matrixPosts().length];
let base: number[] = [0, 0, 0];
const added = () => counts().map((n, i) => n - base[i]!);

describe('digest posted to chat', () => {
  it('posts the approved edition once to each destination, in each format, escaped; a re-run posts nothing more', async () => {
    base = counts();
    const { app, id } = await approved();
    const first = await postEdition(app.ctx, id);
    expect(first.map((o) => o.status)).toEqual(['sent', 'sent', 'sent']);
    expect(added()).toEqual([1, 1, 1]);

    // Slack: Block Kit with the hostile title escaped (no raw <script>, no <!everyone>-style control sequences).
    const s = slackPosts().at(-1)!;
    const blocks = JSON.stringify(s.blocks);
    expect(s.blocks!.length).toBeGreaterThan(1);
    expect(blocks).toContain('CSV export crashes on large reports');
    expect(blocks).not.toContain('<script>');
    expect(blocks).toContain('&lt;script&gt;');
    // Discord: embeds, no pings allowed.
    const d = discord.created.at(-1)!;
    expect(d.body.allowed_mentions).toEqual({ parse: [], replied_user: false });
    expect(JSON.stringify(d.body.embeds)).toContain('CSV export crashes on large reports');
    expect(String(d.body.content).length).toBeLessThanOrEqual(2000);
    // Matrix: HTML body escaped, plain body beside it.
    const m = matrixPosts().at(-1)!;
    expect(m.content.format).toBe('org.matrix.custom.html');
    expect(String(m.content.formatted_body)).toContain('&lt;script&gt;');
    expect(String(m.content.formatted_body)).not.toContain('<script>');
    expect(String(m.content.body)).toContain(HOSTILE_TITLE);

    const posts = await listDigestPosts(app.db, id);
    expect(posts.map((p) => [p.platform, p.status])).toEqual([
      ['slack', 'sent'],
      ['discord', 'sent'],
      ['matrix', 'sent'],
    ]);
    expect(posts[0]!.externalId).toBe(s.ts);
    expect(posts[1]!.externalId).toBe(discordPosts().at(-1)!.id);
    expect(posts[2]!.externalId).toBe(m.event_id);

    // Again, by hand and by the sweep: nothing more.
    expect((await postEdition(app.ctx, id)).map((o) => o.status)).toEqual(['already-sent', 'already-sent', 'already-sent']);
    await sendDue(app.ctx);
    expect(added()).toEqual([1, 1, 1]);
  });

  it('a draft is not posted', async () => {
    base = counts();
    const app = await appWith(configYaml(smtp.port, teams()));
    apps.push(app);
    await seed(app.db);
    const draft = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
    expect((await postEdition(app.ctx, draft.id)).map((o) => o.status)).toEqual(['not-ready', 'not-ready', 'not-ready']);
    expect(added()).toEqual([0, 0, 0]);
  });

  it('a crash between claim and post: after the lease the post goes out, once', async () => {
    base = counts();
    let now = NOW;
    const { app, id } = await approved(() => now);
    const crash = new Error('simulated crash after the claim');
    await expect(postEdition({ ...app.ctx, onClaimed: async () => Promise.reject(crash) }, id)).rejects.toBe(crash);
    expect(added()).toEqual([0, 0, 0]);
    // Within the lease the claim holds: the first destination is busy, the others are posted.
    const during = await postEdition(app.ctx, id);
    expect(during.map((o) => o.status)).toEqual(['busy', 'sent', 'sent']);
    now += 6 * 60_000;
    const after = await postEdition(app.ctx, id);
    expect(after.map((o) => o.status)).toEqual(['sent', 'already-sent', 'already-sent']);
    expect(added()).toEqual([1, 1, 1]);
    expect((await listDigestPosts(app.db, id))[0]!.attempts).toBe(2);
  });

  it('a crash between post and record: Slack and Discord wait for a human (unknown), Matrix repeats its transaction harmlessly', async () => {
    base = counts();
    let now = NOW;
    const { app, id } = await approved(() => now);
    const crash = new Error('simulated crash after the platform took the post');
    for (let i = 0; i < 3; i++) await expect(postEdition({ ...app.ctx, onTaken: async () => Promise.reject(crash) }, id)).rejects.toBe(crash);
    expect(added()).toEqual([1, 1, 1]);
    now += 6 * 60_000;
    const after = await postEdition(app.ctx, id);
    expect(after.map((o) => o.status)).toEqual(['unknown', 'unknown', 'sent']);
    // The Matrix repeat carried the same transaction id: the homeserver answered the same event.
    expect(added()).toEqual([1, 1, 1]);
    const txn = matrix.sends.filter((x) => x.eventId === matrixPosts().at(-1)!.event_id);
    expect(txn.length).toBe(2);
    expect(new Set(txn.map((x) => x.txnId)).size).toBe(1);
    expect((await postEdition(app.ctx, id)).map((o) => o.status)).toEqual(['unknown', 'unknown', 'already-sent']);
    expect(added()).toEqual([1, 1, 1]);
    // A human looks at the Slack channel and settles it.
    const slackRow = (await listDigestPosts(app.db, id))[0]!;
    expect(await settleOutbound(app.db, 'digest_posts', slackRow.id, 'sent', 'carol', now)).toBe(true);
    expect((await postEdition(app.ctx, id))[0]!.status).toBe('already-sent');
  });

  it('a reply lost on the way back: unknown on Slack, never posted twice', async () => {
    base = counts();
    const { app, id } = await approved();
    slack.dropNextPostReply = true;
    const o = await postEdition(app.ctx, id);
    expect(o[0]!.status).toBe('unknown');
    expect((await postEdition(app.ctx, id))[0]!.status).toBe('unknown');
    expect(added()[0]).toBe(1);
  });

  it('a reply lost on Discord is unknown; on Matrix the next run repeats the transaction and gets the same event', async () => {
    base = counts();
    const { app, id } = await approved();
    discord.dropNextPostReply = true;
    matrix.dropNextSendReply = true;
    const first = await postEdition(app.ctx, id);
    expect(first.map((o) => o.status)).toEqual(['sent', 'unknown', 'failed']);
    expect(added()).toEqual([1, 1, 1]);
    const second = await postEdition(app.ctx, id);
    expect(second.map((o) => o.status)).toEqual(['already-sent', 'unknown', 'sent']);
    expect(added()).toEqual([1, 1, 1]);
    expect((await listDigestPosts(app.db, id))[2]!.externalId).toBe(matrixPosts().at(-1)!.event_id);
  });

  it('a refused post is retried up to queue.attempts times, then left for a human', async () => {
    const { app, id } = await approved();
    const slackGone = slack.addChannel({ name: `gone${n}`, member: false });
    app.config.teams[0]!.post = [{ source: 'work-slack', channel: `#${slackGone.name}` }];
    for (let i = 0; i < 3; i++) expect((await postEdition(app.ctx, id))[0]!.status).toBe('failed');
    const calls = slack.calls('chat.postMessage').length;
    const capped = await postEdition(app.ctx, id);
    expect(capped[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('not_in_channel (3 attempts; retry with gleaner digest post)') });
    expect(slack.calls('chat.postMessage').length).toBe(calls);
    expect((await postEdition(app.ctx, id, { force: true }))[0]!.status).toBe('failed');
    expect(slack.calls('chat.postMessage').length).toBe(calls + 1);
  });

  it('to a channel the config calls public, the post is the public edition: no customer org, no names', async () => {
    const { app, id } = await approved(() => NOW, true);
    await postEdition(app.ctx, id);
    const internal = JSON.stringify(slackPosts().at(-1)!.blocks);
    expect(internal).toContain('Acme Corp');
    const pub = JSON.stringify(discord.created.at(-1)!.body);
    expect(pub).toContain('CSV export crashes on large reports');
    for (const w of ['Acme', 'Ada', 'Bob', 'Dee', 'Mallory']) expect(pub).not.toMatch(new RegExp(`\\b${w}\\b`));
    expect(pub).not.toContain('gleaner.example.org/digests/');
  });
});
