// Discord: the connector contract against the local fake, Discord-specific history and live behaviour, the
// DiscordChatExporter importer, and the normalizer.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connectorContract, type ConnectorUnderTest } from '../../test/contract/connector-contract.js';
import { FakeDiscord } from '../../test/fakes/discord.js';
import { isSkip, type Page, type RawMessage, type Skip } from '../../src/model/index.js';
import { abortableSleep, ConnectorError, type ConnectorDeps, type ImportPage } from '../types.js';
import { discordConfigSchema, type DiscordConfigInput } from './config.js';
import { createDiscordConnector, type DiscordConnector } from './connector.js';
import { snowflakeToMs, type DiscordCursor } from './cursor.js';
import { dceImporter } from './importer-dce.js';
import { discordDefinition, discordImporters } from './index.js';
import { discordMarkdownToText, normalizeDiscordItem } from './normalize.js';

const here = dirname(fileURLToPath(import.meta.url));
const PAGE = 10;

interface LogLine {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

function depsFor(fake: FakeDiscord, logs: LogLine[] = []): ConnectorDeps {
  return { source: 'discord-test', now: () => fake.clock, sleep: abortableSleep, log: (level, msg, fields) => logs.push({ level, msg, fields }) };
}

function connectorFor(fake: FakeDiscord, extra: Partial<DiscordConfigInput> = {}, logs: LogLine[] = []): DiscordConnector {
  const cfg = discordConfigSchema.parse({ token: fake.token, guildId: fake.guild.id, apiUrl: fake.url, pageSize: PAGE, ...extra });
  return createDiscordConnector(cfg, depsFor(fake, logs));
}

const fakes = new WeakMap<ConnectorUnderTest, FakeDiscord>();

connectorContract('discord', {
  async start() {
    const fake = await FakeDiscord.start();
    fake.firstTextChannel();
    const under: ConnectorUnderTest = { connector: connectorFor(fake), fake, pageSize: PAGE, stop: () => fake.close() };
    fakes.set(under, fake);
    return under;
  },
  reconnect(under) {
    return connectorFor(fakes.get(under)!);
  },
});

interface Pulled {
  messages: RawMessage[];
  skipped: Skip[];
  pages: Array<Page<DiscordCursor>>;
  cursor: DiscordCursor | undefined;
}

async function pull(conn: DiscordConnector, from?: DiscordCursor, signal = new AbortController().signal): Promise<Pulled> {
  const out: Pulled = { messages: [], skipped: [], pages: [], cursor: from };
  for await (const page of conn.history(from, signal)) {
    out.pages.push(page);
    out.cursor = JSON.parse(JSON.stringify(page.cursor)) as DiscordCursor;
    for (const raw of page.items) {
      const m = conn.normalize(raw, { source: 'discord-test' });
      if (isSkip(m)) out.skipped.push(m);
      else out.messages.push(m);
    }
  }
  return out;
}

const byText = (ms: RawMessage[], text: string): RawMessage => {
  const m = ms.find((x) => x.text === text);
  if (!m) throw new Error(`no message "${text}" in ${JSON.stringify(ms.map((x) => x.text))}`);
  return m;
};

describe('discord history over REST', () => {
  let fake: FakeDiscord;
  afterEach(async () => {
    await fake?.close();
  });

  it('reads channels, threads and forum posts with tags, replies, reactions, mentions, attachments, bots; skips system messages', async () => {
    fake = await FakeDiscord.start();
    const tomas = fake.addUser({ id: '300000000000000001', username: 'tomasf', global_name: 'Tomás Ferreira' });
    const jonas = fake.addUser({ id: '300000000000000009', username: 'jonas_lumen', global_name: 'Jonas Berg' });
    const ci = fake.addUser({ id: '300000000000000050', username: 'lumen-ci', bot: true });
    const staff = fake.addRole('staff');
    const support = fake.addChannel('support');
    const forum = fake.addChannel('feature-requests', 15, { tags: ['feature', 'dashboard', 'cli'] });

    fake.post(support.id, { author: fake.human, content: '', type: 7 }); // join
    const q = fake.post(support.id, {
      author: tomas,
      content: 'SSO with **Okta** loops back to `/login` after 2.4 <:sadlumen:111>',
      attachments: [{ filename: 'har.txt', size: 512, content_type: 'text/plain' }],
      reactions: { '👍': 2 },
    });
    const a = fake.post(support.id, { author: jonas, content: `<@${tomas.id}> can you send the logs? ping <@&${staff}> in <#${support.id}>`, replyTo: q.id });
    fake.post(support.id, { author: ci, content: 'nightly build #812 passed' });
    fake.post(support.id, { author: jonas, content: 'pinned', type: 6 });
    const { thread } = fake.createThread(support.id, { name: 'okta loop', fromMessage: q.id });
    fake.post(thread.id, { author: tomas, content: 'here are the logs' });
    const post = fake.createThread(forum.id, { name: 'Export dashboards as PDF', author: fake.human, content: 'Please add *PDF export* for dashboards', tags: ['feature', 'dashboard'] });
    fake.post(post.thread.id, { author: jonas, content: 'on the roadmap' });
    const old = fake.createThread(forum.id, { name: 'Old idea', author: fake.human, content: 'dark mode for the CLI', tags: ['cli'], archived: true });

    const got = await pull(connectorFor(fake));
    expect(got.messages.map((m) => m.text).sort()).toEqual(
      [
        'SSO with Okta loops back to /login after 2.4 :sadlumen:',
        '@Tomás Ferreira can you send the logs? ping @staff in #support',
        'nightly build #812 passed',
        'here are the logs',
        'Please add PDF export for dashboards',
        'on the roadmap',
        'dark mode for the CLI',
      ].sort(),
    );
    expect(got.skipped.map((s) => s.reason).sort()).toEqual(['discord: member joined', 'discord: pin notice']);

    const question = byText(got.messages, 'SSO with Okta loops back to /login after 2.4 :sadlumen:');
    expect(question).toMatchObject({
      externalId: q.id,
      channel: support.id,
      channelName: 'support',
      author: { id: tomas.id, name: 'Tomás Ferreira', isBot: false },
      threadId: q.id, // it started a thread: it is that thread's root
      reactions: { '👍': 2 },
      attachments: [{ name: 'har.txt', contentType: 'text/plain', size: 512 }],
      permalink: `https://discord.com/channels/${fake.guild.id}/${support.id}/${q.id}`,
    });
    expect(question.sentAt).toBe(snowflakeToMs(q.id));
    expect(byText(got.messages, '@Tomás Ferreira can you send the logs? ping @staff in #support')).toMatchObject({ replyTo: q.id, externalId: a.id, threadId: null });
    expect(byText(got.messages, 'nightly build #812 passed').author.isBot).toBe(true);
    // Thread messages are filed under the parent channel, with the thread (= starter message id) as threadId.
    expect(byText(got.messages, 'here are the logs')).toMatchObject({ channel: support.id, threadId: thread.id, permalink: expect.stringContaining(`/${thread.id}/`) as unknown });
    // Forum posts: a conversation per post, its tags as labels (archived posts too).
    expect(byText(got.messages, 'Please add PDF export for dashboards')).toMatchObject({
      channel: forum.id,
      channelName: 'feature-requests',
      threadId: post.thread.id,
      externalId: post.thread.id,
      labels: ['feature', 'dashboard'],
    });
    expect(byText(got.messages, 'on the roadmap')).toMatchObject({ threadId: post.thread.id, labels: ['feature', 'dashboard'] });
    expect(byText(got.messages, 'dark mode for the CLI')).toMatchObject({ threadId: old.thread.id, labels: ['cli'] });
    // Every request carried the bot token; forum channels themselves are never asked for messages.
    expect(fake.requests.every((r) => r.authorized)).toBe(true);
    expect(fake.requests.some((r) => r.path.endsWith(`/channels/${forum.id}/messages`))).toBe(false);
    expect(fake.requests.filter((r) => r.path.endsWith('/messages')).every((r) => r.query.limit === String(PAGE))).toBe(true);

    // Nothing new: the next pull brings no message again.
    const again = await pull(connectorFor(fake), got.cursor);
    expect(again.messages).toEqual([]);
  });

  it('reports edits and deletions made between pulls', async () => {
    fake = await FakeDiscord.start();
    const ch = fake.firstTextChannel();
    const ids = fake.addMessages(5);
    const first = await pull(connectorFor(fake));
    expect(first.messages).toHaveLength(5);

    fake.clock += 5 * 60_000;
    fake.edit(ch.id, ids[1]!, 'edited text');
    fake.remove(ch.id, ids[3]!);
    fake.react(ch.id, ids[0]!, '👍', 1);
    const later = fake.addMessages(1);

    const second = await pull(connectorFor(fake), first.cursor);
    const edited = second.messages.find((m) => m.externalId === ids[1]);
    expect(edited).toMatchObject({ text: 'edited text', editedAt: fake.clock - 1000 });
    const deleted = second.messages.find((m) => m.externalId === ids[3]);
    expect(deleted).toMatchObject({ deleted: true, text: '', channel: ch.id });
    expect(second.messages.find((m) => m.externalId === later[0])).toBeDefined();
    // Unchanged messages are not re-sent (reaction changes alone are not detected over REST).
    expect(second.messages.map((m) => m.externalId).sort()).toEqual([ids[1]!, ids[3]!, later[0]!].sort());

    // Reported once: a third pull is quiet.
    fake.clock += 5 * 60_000;
    const third = await pull(connectorFor(fake), second.cursor);
    expect(third.messages).toEqual([]);
  });

  it('a channel the bot may not read becomes a gap naming it, the others are read', async () => {
    fake = await FakeDiscord.start();
    const open = fake.addChannel('support');
    const secret = fake.addChannel('staff-only');
    fake.post(open.id, { author: fake.human, content: 'hello' });
    fake.post(secret.id, { author: fake.human, content: 'secret' });
    fake.denyAccess(secret.id);
    const got = await pull(connectorFor(fake));
    expect(got.messages.map((m) => m.text)).toEqual(['hello']);
    const gaps = got.pages.flatMap((p) => p.gaps ?? []);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ channel: secret.id, from: 0 });
    expect(gaps[0]!.reason).toMatch(/#staff-only/);
    expect(gaps[0]!.reason).toMatch(/Missing Access.*403.*50001/);
    expect(fake.requests.find((r) => r.path.endsWith(`/channels/${secret.id}/messages`))?.status).toBe(403);
  });

  it('a global 429 is waited out, counted in rateLimitedMs, and nothing is lost', async () => {
    fake = await FakeDiscord.start();
    const ids = fake.addMessages(PAGE + 3);
    fake.rateLimitNext(1, { global: true });
    const logs: LogLine[] = [];
    const t0 = Date.now();
    const got = await pull(connectorFor(fake, {}, logs));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(got.messages.map((m) => m.externalId)).toEqual(ids);
    const waited = got.pages.reduce((s, p) => s + (p.rateLimitedMs ?? 0), 0);
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(logs.some((l) => l.level === 'warn' && /rate limit/i.test(l.msg) && l.fields?.global === true)).toBe(true);
    expect(fake.requests.filter((r) => r.status === 429)).toHaveLength(1);
  });

  it('follows X-RateLimit-Remaining: 0 without being sent a 429', async () => {
    fake = await FakeDiscord.start({ bucketLimit: 2, bucketWindowMs: 400 });
    fake.addMessages(PAGE * 3);
    const got = await pull(connectorFor(fake));
    expect(got.messages).toHaveLength(PAGE * 3);
    expect(fake.requests.filter((r) => r.status === 429)).toHaveLength(0);
    expect(got.pages.reduce((s, p) => s + (p.rateLimitedMs ?? 0), 0)).toBeGreaterThan(0);
  });

  it('a revoked token stops the source with an auth error that does not contain the token', async () => {
    fake = await FakeDiscord.start();
    fake.addMessages(2);
    fake.revokeAuth();
    const logs: LogLine[] = [];
    const err = await pull(connectorFor(fake, {}, logs)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).kind).toBe('auth');
    expect(String((err as Error).message)).not.toContain(fake.token);
    expect(JSON.stringify(logs)).not.toContain(fake.token);
  });

  it('without the MESSAGE_CONTENT intent messages read empty and are skipped with a reason', async () => {
    fake = await FakeDiscord.start();
    fake.addMessages(2);
    fake.contentIntent = false;
    const got = await pull(connectorFor(fake));
    expect(got.messages).toEqual([]);
    expect(got.skipped.map((s) => s.reason)).toEqual([expect.stringMatching(/MESSAGE_CONTENT/), expect.stringMatching(/MESSAGE_CONTENT/)]);
  });

  it('authors carry their guild roles (ids with names), looked up once per author; bots, webhooks and members who left carry none', async () => {
    fake = await FakeDiscord.start();
    const ch = fake.firstTextChannel();
    const acme = fake.addRole('Acme');
    const mod = fake.addRole('Moderator');
    const bo = fake.addUser({ id: '300000000000000011', username: 'bo' }, [acme]);
    const mia = fake.addUser({ id: '300000000000000012', username: 'mia' }, [mod, acme]);
    const gone = fake.addUser({ id: '300000000000000013', username: 'gone' }, [acme]);
    const ci = fake.addUser({ id: '300000000000000050', username: 'lumen-ci', bot: true }, [mod]);
    fake.post(ch.id, { author: bo, content: 'export fails' });
    fake.post(ch.id, { author: bo, content: 'still failing' });
    fake.post(ch.id, { author: mia, content: 'looking into it' });
    fake.post(ch.id, { author: gone, content: 'me too' });
    fake.post(ch.id, { author: ci, content: 'build passed' });
    fake.post(ch.id, { author: fake.human, content: 'relayed', webhookId: '500000000000000001' });
    fake.leave(gone.id);
    const got = await pull(connectorFor(fake));
    expect(byText(got.messages, 'export fails').author.roles).toEqual([{ id: acme, name: 'Acme' }]);
    expect(byText(got.messages, 'still failing').author.roles).toEqual([{ id: acme, name: 'Acme' }]);
    expect(byText(got.messages, 'looking into it').author.roles).toEqual([
      { id: mod, name: 'Moderator' },
      { id: acme, name: 'Acme' },
    ]);
    expect(byText(got.messages, 'me too').author.roles).toBeUndefined();
    expect(byText(got.messages, 'build passed').author.roles).toBeUndefined();
    expect(byText(got.messages, 'relayed').author.roles).toBeUndefined();
    const lookups = fake.requests.filter((r) => r.path.includes('/members/')).map((r) => r.path.split('/').at(-1));
    expect(lookups.sort()).toEqual([bo.id, mia.id, gone.id].sort());

    // Turned off: no lookups, no roles.
    fake.requests.length = 0;
    const off = await pull(connectorFor(fake, { memberRoles: false }));
    expect(byText(off.messages, 'export fails').author.roles).toBeUndefined();
    expect(fake.requests.filter((r) => r.path.includes('/members/'))).toEqual([]);
  });

  it('reads only the configured channels', async () => {
    fake = await FakeDiscord.start();
    const a = fake.addChannel('support');
    const b = fake.addChannel('random');
    fake.post(a.id, { author: fake.human, content: 'in support' });
    fake.post(b.id, { author: fake.human, content: 'in random' });
    const got = await pull(connectorFor(fake, { channels: [a.id] }));
    expect(got.messages.map((m) => m.text)).toEqual(['in support']);
  });
});

/** Runs `live()` in the background, normalizing what it yields. */
class LiveReader {
  readonly messages: RawMessage[] = [];
  readonly pages: Array<Page<DiscordCursor>> = [];
  error: unknown = null;
  private readonly ac = new AbortController();
  readonly done: Promise<void>;

  constructor(
    private readonly conn: DiscordConnector,
    since?: DiscordCursor,
  ) {
    this.done = (async () => {
      try {
        for await (const page of conn.live(since, this.ac.signal)) {
          this.pages.push(page);
          for (const raw of page.items) {
            const m = conn.normalize(raw, { source: 'discord-test' });
            if (!isSkip(m)) this.messages.push(m);
          }
        }
      } catch (err: unknown) {
        this.error = err;
      }
    })();
  }

  async waitFor(pred: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
    const t0 = Date.now();
    while (!pred()) {
      if (this.error) throw this.error instanceof Error ? this.error : new Error('live() failed with a non-Error');
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  has(text: string): boolean {
    return this.messages.some((m) => m.text === text);
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.done;
  }
}

describe('discord live over the gateway', () => {
  let fake: FakeDiscord;
  let reader: LiveReader | undefined;
  afterEach(async () => {
    await reader?.stop();
    reader = undefined;
    await fake?.close();
  });

  it('identifies with the intents, heartbeats, catches up, then streams create, update and delete', async () => {
    fake = await FakeDiscord.start({ heartbeatIntervalMs: 150 });
    const ch = fake.firstTextChannel();
    const role = fake.addRole('Customer');
    fake.post(ch.id, { author: fake.human, content: 'said before we listened' });
    reader = new LiveReader(connectorFor(fake));
    await reader.waitFor(() => reader!.has('said before we listened'), 'the catch-up pull');

    const identify = fake.gatewayReceived.find((p) => p.op === 2)?.d as { intents: number; token: string; shard: number[] };
    expect(identify.intents).toBe((1 << 0) | (1 << 9) | (1 << 15));
    expect(identify.shard).toEqual([0, 1]);
    expect(fake.gatewayConnections[0]?.query).toBe('?v=10&encoding=json');

    // MESSAGE_CREATE carries the author's member with its roles (the role was given after the catch-up).
    fake.setRoles(fake.human.id, [role]);
    const m = fake.post(ch.id, { author: fake.human, content: 'live hello <@300000000000000002>' });
    await reader.waitFor(() => reader!.has('live hello @Ana Souza'), 'MESSAGE_CREATE');
    expect(reader.messages.find((x) => x.text === 'live hello @Ana Souza')?.author.roles).toEqual([{ id: role, name: 'Customer' }]);
    fake.edit(ch.id, m.id, 'live hello, edited');
    await reader.waitFor(() => reader!.has('live hello, edited'), 'MESSAGE_UPDATE');
    expect(reader.messages.find((x) => x.text === 'live hello, edited')?.editedAt).toBe(fake.clock);
    fake.remove(ch.id, m.id);
    await reader.waitFor(() => reader!.messages.some((x) => x.externalId === m.id && x.deleted === true), 'MESSAGE_DELETE');
    const del = reader.messages.find((x) => x.externalId === m.id && x.deleted)!;
    expect(del.author).toMatchObject({ id: fake.human.id, name: 'Ana Souza' });

    // A new thread announced by THREAD_CREATE is followed.
    const { thread } = fake.createThread(ch.id, { name: 'side topic' });
    fake.post(thread.id, { author: fake.human, content: 'in the new thread' });
    await reader.waitFor(() => reader!.has('in the new thread'), 'a message in a new thread');
    expect(reader.messages.find((x) => x.text === 'in the new thread')).toMatchObject({ channel: ch.id, threadId: thread.id });

    await reader.waitFor(() => fake.gatewayReceived.filter((p) => p.op === 1).length >= 2, 'heartbeats');
    // The cursor moved with the live messages.
    const last = reader.pages.at(-1)!.cursor;
    expect(last.channels[ch.id]?.lastId).toBeDefined();
  });

  it('a dropped connection resumes and the catch-up pull fills what was said while it was down', async () => {
    fake = await FakeDiscord.start();
    const ch = fake.firstTextChannel();
    reader = new LiveReader(connectorFor(fake));
    await reader.waitFor(() => fake.connectedSessions() === 1 && reader!.pages.length > 0, 'the first connection');
    fake.post(ch.id, { author: fake.human, content: 'before the drop' });
    await reader.waitFor(() => reader!.has('before the drop'), 'a live message');

    fake.replayOnResume = false; // only the catch-up pull can bring what follows
    fake.dropGateway();
    fake.post(ch.id, { author: fake.human, content: 'while down 1' });
    fake.post(ch.id, { author: fake.human, content: 'while down 2' });
    await reader.waitFor(() => reader!.has('while down 1') && reader!.has('while down 2'), 'the catch-up after the drop');
    expect(fake.gatewayReceived.filter((p) => p.op === 6)).toHaveLength(1); // RESUME, not a new IDENTIFY
    expect(fake.gatewayReceived.filter((p) => p.op === 2)).toHaveLength(1);

    fake.post(ch.id, { author: fake.human, content: 'after the resume' });
    await reader.waitFor(() => reader!.has('after the resume'), 'live after resuming');
    const ids = reader.messages.filter((m) => !m.deleted).map((m) => m.text);
    expect(ids.filter((t) => t === 'while down 1')).toHaveLength(1);
  });

  it('op 7 reconnect: resumes and the replayed events arrive', async () => {
    fake = await FakeDiscord.start();
    const ch = fake.firstTextChannel();
    reader = new LiveReader(connectorFor(fake));
    await reader.waitFor(() => fake.connectedSessions() === 1 && reader!.pages.length > 0, 'the first connection');
    fake.requestReconnect();
    fake.post(ch.id, { author: fake.human, content: 'during reconnect' });
    await reader.waitFor(() => reader!.has('during reconnect'), 'the message sent during the reconnect');
    await reader.waitFor(() => fake.gatewayReceived.some((p) => p.op === 6), 'RESUME');
  });

  it('op 9 invalid session: identifies afresh and the catch-up pull brings what was missed', async () => {
    fake = await FakeDiscord.start();
    const ch = fake.firstTextChannel();
    reader = new LiveReader(connectorFor(fake));
    await reader.waitFor(() => fake.connectedSessions() === 1 && reader!.pages.length > 0, 'the first connection');
    fake.replayOnResume = false;
    fake.invalidateSession(false);
    fake.post(ch.id, { author: fake.human, content: 'while the session was invalid' });
    // The library waits out Discord's 5 s identify spacing before the second IDENTIFY.
    await reader.waitFor(() => reader!.has('while the session was invalid'), 'the catch-up after a new READY', 15_000);
    expect(fake.gatewayReceived.filter((p) => p.op === 2)).toHaveLength(2);
  }, 20_000);

  it('a refused token on the gateway stops the source with an auth error', async () => {
    fake = await FakeDiscord.start();
    fake.firstTextChannel();
    const conn = connectorFor(fake);
    fake.revokeAuth();
    reader = new LiveReader(conn);
    await reader.done;
    expect(reader.error).toBeInstanceOf(ConnectorError);
    expect((reader.error as ConnectorError).kind).toBe('auth');
  });
});

async function importAll(path: string): Promise<{ pages: ImportPage[]; messages: RawMessage[]; skipped: Skip[] }> {
  const pages: ImportPage[] = [];
  const messages: RawMessage[] = [];
  const skipped: Skip[] = [];
  for await (const page of dceImporter.read(path, { source: 'dce-test', pageSize: 4 })) {
    pages.push(page);
    for (const item of page.items) {
      const m = await dceImporter.normalize(item.raw, { source: 'dce-test' });
      if (isSkip(m)) skipped.push(m);
      else messages.push(m);
    }
  }
  return { pages, messages, skipped };
}

describe('DiscordChatExporter importer', () => {
  const zulip = join(here, 'fixtures/zulip/zulip-discord server - Text Channels - general [1519311538035490958].json');
  const thread = join(here, 'fixtures/Gleaner Test - support - Login loop after upgrade [1300000000000000100].json');

  it('is registered and detects DCE JSON by its first bytes', async () => {
    expect(discordImporters.map((i) => i.format)).toEqual(['discord-export']);
    expect(discordDefinition.secretKeys).toEqual(['token']);
    const { readFile } = await import('node:fs/promises');
    expect(dceImporter.detect(zulip, (await readFile(zulip)).subarray(0, 512))).toBe(true);
    expect(dceImporter.detect('x.json', Buffer.from('{"messages": []}'))).toBe(false);
    expect(dceImporter.detect('x.mbox', Buffer.from('{"guild": {'))).toBe(false);
  });

  it('reads the Zulip project export: 12 messages, 10 kept, a join and an empty message skipped', async () => {
    const got = await importAll(zulip);
    expect(got.pages.reduce((s, p) => s + p.items.length, 0)).toBe(12);
    expect(got.pages.flatMap((p) => p.quarantine)).toEqual([]);
    expect(got.messages).toHaveLength(10);
    expect(got.skipped.map((s) => s.reason).sort()).toEqual(['discord: empty message', 'discord: member joined']);
    expect(got.messages[0]).toMatchObject({
      externalId: '1519312655884750991',
      text: 'Bold italic underline',
      channel: '1519311538035490958',
      channelName: 'general',
      author: { id: '1000000000000000001', name: 'pieter', isBot: false },
    });
    expect(got.messages[0]!.sentAt).toBe(Date.parse('2026-06-24T12:06:04.627Z'));
    const edited = got.messages.find((m) => m.externalId === '1519313051889963128')!;
    expect(edited.editedAt).toBe(Date.parse('2026-06-24T13:56:15.671Z'));
    expect(edited.attachments).toHaveLength(1);
    expect(got.messages.find((m) => m.text === 'Reactions')!.reactions).toEqual({ '💯': 1, '😆': 2, '💖': 1, '🙏': 1, '❤️': 1 });
    expect(got.messages.find((m) => m.externalId === '1519312865599684608')!.text).toBe('💯');
    const last = got.pages.at(-1)!;
    expect(last.bytesRead).toBe(last.totalBytes);
  });

  it('reads a thread export under its parent channel, with reply, edit, tags; quarantines the malformed messages', async () => {
    const got = await importAll(thread);
    const q = got.pages.flatMap((p) => p.quarantine);
    expect(q.map((e) => e.location)).toEqual([`${thread}:messages[4]`, `${thread}:messages[5]`]);
    expect(q[0]!.reason).toMatch(/timestamp/);
    expect(q[1]!.reason).toMatch(/not valid JSON/);
    expect(got.skipped.map((s) => s.reason)).toEqual(['discord: pin notice']);
    expect(got.messages.map((m) => m.externalId)).toEqual(['1300000000000000100', '1300000000000000102', '1300000000000000103', '1300000000000000106']);
    const [root, reply, bot, last] = got.messages as [RawMessage, RawMessage, RawMessage, RawMessage];
    expect(root).toMatchObject({
      channel: '1300000000000000010',
      channelName: 'support',
      threadId: '1300000000000000100',
      text: 'After the 2.4 upgrade the login page loops forever. See auth.log',
      editedAt: Date.parse('2026-10-26T09:05:00Z'),
      reactions: { '👍': 3 },
      labels: ['bug', 'auth'],
      permalink: 'https://discord.com/channels/1300000000000000001/1300000000000000100/1300000000000000100',
      author: { name: 'River' },
    });
    expect(reply).toMatchObject({ replyTo: '1300000000000000100', text: '@River which identity provider? logs please' });
    expect(bot.author.isBot).toBe(true);
    expect(root.author.roles).toEqual([]); // the export lists the author's roles: none
    expect(last.sentAt).toBe(Date.parse('2026-10-26T09:00:00Z'));
  });
});

describe('discord normalizer', () => {
  it('turns Discord markdown and tokens into plain text', () => {
    const names = { users: { '1': 'ana_s' }, roles: { '2': 'staff' }, channels: { '3': 'support' } };
    expect(discordMarkdownToText('**bold** *it* _it_ __u__ ~~s~~ ||sp|| `co*de*` <@1> <@!1> <@&2> <#3> <a:party_blob:9>', names)).toBe(
      'bold it it u s sp co*de* @ana_s @ana_s @staff #support :party_blob:',
    );
    expect(discordMarkdownToText('> quoted\n# Title\n-# small\n* item\n```ts\nconst a = 1;\n```')).toBe('quoted\nTitle\nsmall\n- item\nconst a = 1;');
    expect(discordMarkdownToText('[docs](https://lumen.dev/docs) and <https://x.io/a_b_c> snake_case_name \\*not bold\\*')).toBe(
      'docs (https://lumen.dev/docs) and https://x.io/a_b_c snake_case_name *not bold*',
    );
    expect(discordMarkdownToText('<t:1700000000:R> </deploy:42>')).toBe('2023-11-14T22:13:20Z /deploy');
  });

  it('throws on a malformed message so the runner quarantines it', () => {
    const item = { kind: 'discord.message', guildId: '1', channel: { id: '2', name: 'x', type: 0 }, via: 'history', message: { id: '5', channel_id: '2', type: 0, timestamp: 'x' } };
    expect(() => normalizeDiscordItem(item, { source: 's' })).toThrow(/malformed/);
  });

  it("reads the author's roles leniently: gateway member.roles, else the REST lookup; odd values are left out", () => {
    const item = (message: Record<string, unknown>, authorRoles?: unknown) => ({
      kind: 'discord.message',
      guildId: '1',
      channel: { id: '2', name: 'x', type: 0 },
      names: { roles: { '7': 'Acme' } },
      via: 'gateway',
      message: { id: '5', channel_id: '2', type: 0, content: 'hi', timestamp: '2026-10-05T09:00:00.000000+00:00', author: { id: '9', username: 'bo' }, ...message },
      ...(authorRoles !== undefined ? { authorRoles } : {}),
    });
    const roles = (message: Record<string, unknown>, authorRoles?: unknown) => (normalizeDiscordItem(item(message, authorRoles), { source: 's' }) as RawMessage).author.roles;
    expect(roles({ member: { roles: ['7', '8', '7', 12, 'x', null] } })).toEqual([{ id: '7', name: 'Acme' }, { id: '8' }]);
    expect(roles({ member: { roles: [] } }, ['7'])).toEqual([]);
    expect(roles({}, ['8'])).toEqual([{ id: '8' }]);
    expect(roles({ member: 'odd' }, 'odd')).toBeUndefined();
    expect(roles({ member: { roles: 'admin' } })).toBeUndefined();
    expect(roles({ member: null })).toBeUndefined();
    expect(roles({ webhook_id: '3', member: { roles: ['7'] } })).toBeUndefined();
  });

  it('keeps the page item JSON-serialisable (raw payloads are stored)', async () => {
    const fake = await FakeDiscord.start();
    try {
      fake.addMessages(1);
      const got = await pull(connectorFor(fake));
      const raw = got.pages.flatMap((p) => p.items)[0];
      const round = JSON.parse(JSON.stringify(raw)) as unknown;
      expect(normalizeDiscordItem(round, { source: 's' })).toEqual(got.messages[0]);
    } finally {
      await fake.close();
    }
  });
});
