// Slack: the connector contract against the fake Web API, Slack-specific behaviour (threads, edits,
// deletes, subtypes, bots, broadcasts, reactions, permalinks, mentions, gaps, budgets), the export importer.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connectorContract } from '../../test/contract/connector-contract.js';
import { FakeSlack } from '../../test/fakes/slack.js';
import { isSkip, type Gap, type RawMessage, type Skip } from '../../src/model/index.js';
import { abortableSleep, ConnectorError, type ConnectorDeps, type ImportPage } from '../types.js';
import {
  createSlackConnector,
  mrkdwnToText,
  normalizeSlack,
  slackConfigSchema,
  slackDefinition,
  slackExportImporter,
  slackImporters,
  type SlackConfigInput,
  type SlackCursor,
  type SlackItem,
} from './index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const SAMPLE_ZIP = join(here, 'fixtures', 'slack-export-sample.zip');
const LUMEN_EXPORT = join(here, '..', '..', 'examples', 'slack', 'lumen-export');

const realDeps: ConnectorDeps = { source: 'slack-test', now: Date.now, sleep: abortableSleep, log: () => undefined };

function connect(fake: FakeSlack, extra: Partial<SlackConfigInput> = {}, deps: ConnectorDeps = realDeps) {
  const cfg = slackConfigSchema.parse({ token: fake.token, apiUrl: fake.url, pageSize: 5, ...extra });
  return createSlackConnector(cfg, deps, { retryConfig: { retries: 0 } });
}

connectorContract('slack', {
  async start() {
    const fake = await FakeSlack.start();
    fake.addChannel({ name: 'general' });
    return { connector: connect(fake), fake, pageSize: 5, stop: () => fake.stop() };
  },
  reconnect: (under) => connect(under.fake as FakeSlack),
});

/** A virtual clock shared by the fake and the connector: sleeps advance it at once. */
function virtualClock(startIso = '2026-10-12T09:00:00Z') {
  let t = Date.parse(startIso);
  const slept: number[] = [];
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
    slept,
    deps: (): ConnectorDeps => ({
      source: 'slack-test',
      now: () => t,
      sleep: async (ms: number, signal?: AbortSignal) => {
        if (signal?.aborted) return false;
        slept.push(ms);
        t += ms;
        return true;
      },
      log: () => undefined,
    }),
  };
}

interface Pulled {
  messages: RawMessage[];
  skips: Skip[];
  gaps: Gap[];
  cursor: SlackCursor | undefined;
  rateLimitedMs: number;
  pages: number;
}

async function pull(conn: ReturnType<typeof connect>, from?: SlackCursor, signal = new AbortController().signal): Promise<Pulled> {
  const out: Pulled = { messages: [], skips: [], gaps: [], cursor: from, rateLimitedMs: 0, pages: 0 };
  for await (const page of conn.history(from, signal)) {
    for (const raw of page.items) {
      const m = await conn.normalize(raw, { source: 'slack-test' });
      if (isSkip(m)) out.skips.push(m);
      else out.messages.push(m);
    }
    out.gaps.push(...(page.gaps ?? []));
    out.rateLimitedMs += page.rateLimitedMs ?? 0;
    out.cursor = JSON.parse(JSON.stringify(page.cursor)) as SlackCursor;
    out.pages++;
  }
  return out;
}

const byText = (ms: RawMessage[], text: string) => ms.find((m) => m.text === text);

function lumenWorld(fake: FakeSlack) {
  fake.addUser({ id: 'U01PRIYA', name: 'priya', real_name: 'Priya Raman', display_name: 'Priya', email: 'priya@acme.io' });
  fake.addUser({ id: 'U01SAM', name: 'sam', real_name: 'Sam Okafor' });
  fake.addUser({ id: 'U01JONAS', name: 'jonas', real_name: 'Jonas Berg', email: 'jonas@lumen.dev' });
  const general = fake.addChannel({ id: 'C01GENERAL', name: 'general' });
  const help = fake.addChannel({ id: 'C01HELP', name: 'help' });
  return { general: general.id, help: help.id };
}

describe('slack connector against the fake Web API', () => {
  let fake: FakeSlack;
  afterEach(async () => {
    await fake?.stop();
  });

  it('reads threads, and finds a reply added to an old thread on the next pull', async () => {
    const clock = virtualClock();
    fake = await FakeSlack.start({ now: clock.now });
    const { help } = lumenWorld(fake);
    fake.repliesPageSize = 1; // the thread spans several replies pages
    const parent = fake.post(help, { user: 'U01PRIYA', text: 'SSO with Okta loops back to the login page after 2.4' });
    clock.advance(60_000);
    fake.reply(help, parent, { user: 'U01JONAS', text: 'Can you send the auth logs?' });
    clock.advance(60_000);
    fake.reply(help, parent, { user: 'U01PRIYA', text: 'Sent them by DM' });
    const conn = connect(fake, {}, clock.deps());
    const first = await pull(conn);
    expect(first.messages.map((m) => m.text)).toEqual(['SSO with Okta loops back to the login page after 2.4', 'Can you send the auth logs?', 'Sent them by DM']);
    const root = first.messages[0]!;
    expect(root.threadId).toBe(`${help}/${parent}`);
    expect(root.replyTo).toBeNull();
    for (const r of first.messages.slice(1)) {
      expect(r.threadId).toBe(root.externalId);
      expect(r.replyTo).toBe(root.externalId);
      expect(r.permalink).toMatch(new RegExp(`^https://gleaner-test\\.slack\\.com/archives/${help}/p\\d{16}\\?thread_ts=${parent.replace('.', '\\.')}&cid=${help}$`));
    }
    expect(first.cursor!.channels[help]!.threads[parent]).toBeDefined();

    // Three days later (the parent is far older than the history window) someone answers in the thread.
    clock.advance(3 * 86_400_000);
    const late = fake.reply(help, parent, { user: 'U01SAM', text: 'same here on 2.4.1' });
    const fresh = fake.post(help, { user: 'U01SAM', text: 'unrelated question' });
    const before = fake.requests.length;
    const second = await pull(connect(fake, {}, clock.deps()), first.cursor);
    expect(second.messages.map((m) => m.externalId).sort()).toEqual([`${help}/${late}`, `${help}/${fresh}`].sort());
    expect(byText(second.messages, 'same here on 2.4.1')!.threadId).toBe(root.externalId);
    const history = fake.requests.slice(before).filter((r) => r.method === 'conversations.history' && r.params.channel === help);
    expect(history[0]!.params.oldest).toBe(parent); // exclusive: the parent is not read again
    expect(
      fake.requests
        .slice(before)
        .filter((r) => r.method === 'conversations.replies')
        .map((r) => r.params.ts),
    ).toContain(parent);
    // And nothing new the time after.
    const third = await pull(connect(fake, {}, clock.deps()), second.cursor);
    expect(third.messages).toEqual([]);
  });

  it('sees edits, deletions and reaction changes between two pulls (top level and in threads)', async () => {
    const clock = virtualClock();
    fake = await FakeSlack.start({ now: clock.now });
    const { general } = lumenWorld(fake);
    const a = fake.post(general, { user: 'U01PRIYA', text: 'Export to PDF would help our weekly review' });
    const b = fake.post(general, { user: 'U01SAM', text: 'oops wrong channel' });
    const c = fake.post(general, { user: 'U01SAM', text: 'The new CLI is great' });
    const t = fake.post(general, { user: 'U01SAM', text: 'retention question' });
    const r1 = fake.reply(general, t, { user: 'U01JONAS', text: 'Set retentionDays in lumen.yaml' });
    const r2 = fake.reply(general, t, { user: 'U01SAM', text: 'thx' });
    const first = await pull(connect(fake, {}, clock.deps()));
    expect(first.messages).toHaveLength(6);

    clock.advance(3_600_000);
    fake.edit(general, a, 'Export dashboards to PDF would help our weekly review');
    fake.delete(general, b);
    fake.react(general, c, '+1', 'U01PRIYA');
    fake.react(general, c, '+1', 'U01JONAS');
    fake.edit(general, r1, 'Set `retention.days` in lumen.yaml');
    fake.delete(general, r2);
    const second = await pull(connect(fake, {}, clock.deps()), first.cursor);
    const got = new Map(second.messages.map((m) => [m.externalId, m]));
    expect([...got.keys()].sort()).toEqual([a, b, c, r1, r2].map((ts) => `${general}/${ts}`).sort());
    expect(got.get(`${general}/${a}`)!.text).toBe('Export dashboards to PDF would help our weekly review');
    expect(got.get(`${general}/${a}`)!.editedAt).toBe(clock.now());
    expect(got.get(`${general}/${b}`)!.deleted).toBe(true);
    expect(got.get(`${general}/${c}`)!.reactions).toEqual({ '+1': 2 });
    expect(got.get(`${general}/${r1}`)!.text).toBe('Set retention.days in lumen.yaml');
    expect(got.get(`${general}/${r1}`)!.threadId).toBe(`${general}/${t}`);
    expect(got.get(`${general}/${r2}`)!.deleted).toBe(true);
    expect(got.get(`${general}/${r2}`)!.threadId).toBe(`${general}/${t}`);
    // Unchanged: nothing the third time.
    expect((await pull(connect(fake, {}, clock.deps()), second.cursor)).messages).toEqual([]);
  });

  it('skips system lines with reasons, marks bot messages, counts a broadcast once, resolves mentions and emails', async () => {
    const clock = virtualClock();
    fake = await FakeSlack.start({ now: clock.now });
    const { help } = lumenWorld(fake);
    fake.post(help, { user: 'U01SAM', subtype: 'channel_join', text: '<@U01SAM> has joined the channel' });
    fake.post(help, { user: 'U01JONAS', subtype: 'channel_topic', text: 'set the channel topic: Ask for help' });
    fake.post(help, { user: 'U01JONAS', subtype: 'channel_purpose', text: 'set the channel purpose: help' });
    fake.post(help, {
      subtype: 'bot_message',
      bot_id: 'B01CI',
      username: 'lumen-ci',
      text: '',
      attachments: [{ fallback: 'Build #812 passed', text: 'Build <https://ci.lumen.dev/812|#812> passed on main' }],
    });
    const p = fake.post(help, { user: 'U01PRIYA', text: 'Hey <@U01JONAS>, see <#C01GENERAL|general> and <https://docs.lumen.dev/sso|the SSO docs> &amp; *really* soon &lt;3' });
    const bc = fake.reply(help, p, { user: 'U01JONAS', text: 'Fixed in 2.4.2, see release notes', broadcast: true });
    fake.reply(help, p, { user: 'U01PRIYA', text: 'thanks!' });
    const got = await pull(connect(fake, {}, clock.deps()));
    expect(got.skips.map((s) => s.reason).sort()).toEqual(['slack system line: channel_join', 'slack system line: channel_purpose', 'slack system line: channel_topic']);
    const bot = got.messages.find((m) => m.author.isBot)!;
    expect(bot.author).toMatchObject({ id: 'B01CI', name: 'lumen-ci', isBot: true });
    expect(bot.text).toBe('Build #812 (https://ci.lumen.dev/812) passed on main');
    const ids = got.messages.map((m) => m.externalId);
    expect(ids.filter((x) => x === `${help}/${bc}`)).toHaveLength(1);
    expect(new Set(ids).size).toBe(ids.length);
    const priya = got.messages.find((m) => m.externalId === `${help}/${p}`)!;
    expect(priya.text).toBe('Hey @Jonas Berg, see #general and the SSO docs (https://docs.lumen.dev/sso) & really soon <3');
    expect(priya.author).toEqual({ id: 'U01PRIYA', name: 'Priya', email: 'priya@acme.io', isBot: false, team: 'T0TEST' });
    expect(priya.permalink).toBe(`https://gleaner-test.slack.com/archives/${help}/p${p.replace('.', '')}`);
    // One users.info per user per run, one auth.test for every permalink, no chat.getPermalink.
    expect(
      fake
        .calls('users.info')
        .map((r) => r.params.user)
        .sort(),
    ).toEqual(['U01JONAS', 'U01PRIYA', 'U01SAM']);
    expect(fake.calls('auth.test')).toHaveLength(1);
    expect(fake.calls('chat.getPermalink')).toHaveLength(0);
    expect(fake.requests.every((r) => r.tokenVia === 'bearer')).toBe(true);
  });

  it('turns an unreadable channel into a gap and reads the others', async () => {
    const clock = virtualClock();
    fake = await FakeSlack.start({ now: clock.now });
    const { general, help } = lumenWorld(fake);
    const secret = fake.addChannel({ id: 'C01SECRET', name: 'staff', is_private: true, member: true });
    fake.addChannel({ id: 'C01RANDOM', name: 'random', member: false });
    fake.post(general, { user: 'U01SAM', text: 'hello' });
    fake.post(help, { user: 'U01SAM', text: 'help me' });
    fake.post(secret.id, { user: 'U01JONAS', text: 'staff only' });
    fake.channelErrors.set(help, 'not_in_channel');
    fake.channelErrors.set(secret.id, 'missing_scope');
    const got = await pull(connect(fake, { includeChannels: ['general', 'help', 'staff', 'random'] }, clock.deps()));
    expect(got.messages.map((m) => m.text)).toEqual(['hello']);
    const gaps = new Map(got.gaps.map((g) => [g.channel, g]));
    expect([...gaps.keys()].sort()).toEqual(['C01HELP', 'C01RANDOM', 'C01SECRET']);
    expect(gaps.get(help)!.reason).toMatch(/^not_in_channel/);
    expect(gaps.get(secret.id)!.reason).toMatch(/^missing_scope.*groups:history/);
    expect(gaps.get('C01RANDOM')!.reason).toMatch(/not a member/);
    for (const g of got.gaps) expect(g.to).toBeNull();
  });

  it('keeps to the request budget on a long backfill', async () => {
    const clock = virtualClock();
    fake = await FakeSlack.start({ now: clock.now });
    const { general } = lumenWorld(fake);
    for (let i = 0; i < 40; i++) {
      fake.post(general, { user: 'U01SAM', text: `line ${i}` });
      clock.advance(1000);
    }
    const budget = 4;
    const conn = connect(fake, { requestsPerMinute: budget, includeChannels: ['general'] }, clock.deps());
    const got = await pull(conn);
    expect(got.messages).toHaveLength(40);
    const times = fake.requests.map((r) => r.at);
    for (const t of times) expect(times.filter((x) => x > t - 60_000 && x <= t).length).toBeLessThanOrEqual(budget);
    expect(fake.requests.length).toBeGreaterThan(budget); // so the budget was really exercised
    expect(got.rateLimitedMs).toBeGreaterThan(0);
    expect(fake.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('non-Marketplace apps: 15 per page, one history call a minute, no 429s', async () => {
    const clock = virtualClock();
    fake = await FakeSlack.start({ now: clock.now, mode: 'nonmarketplace' });
    const { general } = lumenWorld(fake);
    for (let i = 0; i < 40; i++) fake.post(general, { user: 'U01SAM', text: `line ${i}` });
    const cfg = slackConfigSchema.parse({ token: fake.token, apiUrl: fake.url, nonMarketplace: true, includeChannels: ['general'] });
    const got = await pull(createSlackConnector(cfg, clock.deps(), { retryConfig: { retries: 0 } }));
    expect(got.messages).toHaveLength(40);
    const history = fake.calls('conversations.history');
    expect(history.map((r) => r.params.limit)).toEqual(['15', '15', '15']);
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
  });

  it('waits out a 429 on replies with the virtual clock and counts the wait', async () => {
    const clock = virtualClock();
    fake = await FakeSlack.start({ now: clock.now });
    const { help } = lumenWorld(fake);
    const p = fake.post(help, { user: 'U01PRIYA', text: 'q' });
    fake.reply(help, p, { user: 'U01JONAS', text: 'a' });
    fake.rateLimitNext(7, 'conversations.replies');
    const got = await pull(connect(fake, { includeChannels: ['help'] }, clock.deps()));
    expect(got.messages.map((m) => m.text)).toEqual(['q', 'a']);
    expect(got.rateLimitedMs).toBe(7000);
    expect(clock.slept).toEqual([7000]);
  });

  it('never puts the token in an auth error', async () => {
    fake = await FakeSlack.start();
    lumenWorld(fake);
    const cfg = slackConfigSchema.parse({ token: 'xoxb-wrong-secret-123', apiUrl: fake.url });
    const err = await pull(createSlackConnector(cfg, realDeps, { retryConfig: { retries: 0 } })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).kind).toBe('auth');
    expect((err as ConnectorError).message).toMatch(/invalid_auth/);
    expect(JSON.stringify({ m: (err as Error).message, s: (err as Error).stack })).not.toContain('xoxb-wrong-secret-123');
  });

  it('live(): catches up, then polls every pollIntervalSeconds until aborted', async () => {
    const clock = virtualClock();
    fake = await FakeSlack.start({ now: clock.now });
    const { general } = lumenWorld(fake);
    fake.post(general, { user: 'U01SAM', text: 'before' });
    const ac = new AbortController();
    const deps = clock.deps();
    const conn = connect(
      fake,
      { includeChannels: ['general'], pollIntervalSeconds: 120 },
      {
        ...deps,
        sleep: async (ms, s) => {
          const ok = await deps.sleep(ms, s);
          fake.post(general, { user: 'U01SAM', text: `after ${clock.slept.length}` });
          if (clock.slept.length >= 3) ac.abort();
          return ok;
        },
      },
    );
    const texts: string[] = [];
    for await (const page of conn.live!(undefined, ac.signal)) {
      for (const raw of page.items) {
        const m = normalizeSlack(raw, { source: 's' });
        if (!isSkip(m)) texts.push(m.text);
      }
    }
    expect(texts).toEqual(['before', 'after 1', 'after 2']);
    expect(clock.slept).toEqual([120_000, 120_000, 120_000]);
  });
});

describe('slack normalize', () => {
  const item = (message: SlackItem['message'], users: SlackItem['users'] = {}): SlackItem => ({
    kind: 'slack',
    channel: 'C1',
    channelName: 'help',
    message,
    users,
    workspaceUrl: 'https://lumen.slack.com/',
  });

  it('mrkdwn to plain text', () => {
    const users = { U1: { name: 'Priya' } };
    expect(mrkdwnToText('<@U1> <@U2|oleg> <#C9|general> <#C8> <!here> <!subteam^S1|@sre>', { users })).toBe('@Priya @oleg #general #C8 @here @sre');
    expect(mrkdwnToText('<https://a.io/x?y=1&amp;z=2|docs> <https://b.io> <mailto:a@b.io|a@b.io>')).toBe('docs (https://a.io/x?y=1&z=2) https://b.io a@b.io');
    expect(mrkdwnToText('*bold* _it_ ~gone~ `code` snake_case_name 2*3*4 &lt;tag&gt;')).toBe('bold it gone code snake_case_name 2*3*4 <tag>');
    expect(mrkdwnToText('```\nlumen login --sso\n```')).toBe('lumen login --sso');
  });

  it('message_changed updates the original, message_deleted marks it, tombstones are deleted roots', () => {
    const changed = normalizeSlack(
      item({
        type: 'message',
        subtype: 'message_changed',
        hidden: true,
        ts: '1760000100.000200',
        event_ts: '1760000100.000200',
        message: { type: 'message', user: 'U1', text: 'fixed typo', ts: '1760000000.000100', edited: { user: 'U1', ts: '1760000100.000000' } },
      }),
      { source: 's' },
    ) as RawMessage;
    expect(changed).toMatchObject({ externalId: 'C1/1760000000.000100', text: 'fixed typo', editedAt: 1760000100000, sentAt: 1760000000000 });
    const deleted = normalizeSlack(
      item({
        type: 'message',
        subtype: 'message_deleted',
        hidden: true,
        ts: '1760000200.000300',
        deleted_ts: '1760000000.000100',
        previous_message: { type: 'message', user: 'U1', text: 'old', ts: '1760000000.000100' },
      }),
      { source: 's' },
    ) as RawMessage;
    expect(deleted).toMatchObject({ externalId: 'C1/1760000000.000100', deleted: true, text: '' });
    const tomb = normalizeSlack(
      item({ type: 'message', subtype: 'tombstone', user: 'USLACKBOT', hidden: true, text: 'This message was deleted.', ts: '1760000000.000100', thread_ts: '1760000000.000100', reply_count: 2 }),
      { source: 's' },
    ) as RawMessage;
    expect(tomb).toMatchObject({ externalId: 'C1/1760000000.000100', deleted: true, threadId: 'C1/1760000000.000100', replyTo: null });
    expect(normalizeSlack(item({ type: 'message', subtype: 'channel_leave', user: 'U1', text: '<@U1> has left the channel', ts: '1760000000.000001' }), { source: 's' })).toEqual({
      skip: true,
      reason: 'slack system line: channel_leave',
    });
  });

  it("a Slack Connect author's workspace: user_team first, then the profile, the export's user_profile.team, the message's team; odd values are absent", () => {
    const team = (message: Partial<SlackItem['message']>, users: SlackItem['users'] = {}) =>
      (normalizeSlack(item({ type: 'message', user: 'U1', text: 'hi', ts: '1760000000.000100', ...message }, users), { source: 's' }) as RawMessage).author.team;
    expect(team({ user_team: 'T0ACME', source_team: 'T0ACME', team: 'T0ACME' }, { U1: { name: 'Bo', team: 'T0HOME' } })).toBe('T0ACME');
    expect(team({}, { U1: { name: 'Bo', team: 'T0HOME' } })).toBe('T0HOME');
    expect(team({ user_profile: { name: 'bo', team: 'T0EXPORT' }, team: 'T0MSG' })).toBe('T0EXPORT');
    expect(team({ team: 'T0MSG' })).toBe('T0MSG');
    expect(team({})).toBeUndefined();
    expect(team({ user_team: 42 as unknown as string, team: '' }, { U1: { name: 'Bo', team: null } })).toBeUndefined();
    expect(team({ user_team: 'not a team', team: 'T0MSG' })).toBe('T0MSG');
    // Bots belong to no org.
    expect(team({ subtype: 'bot_message', bot_id: 'B1', user: undefined, team: 'T0ACME' })).toBeUndefined();
  });

  it('an app posting as its bot user (user and bot_id) is a bot even when users.info was not readable', () => {
    const m = normalizeSlack(item({ type: 'message', user: 'U0APPBOT', bot_id: 'B0APP', text: 'Deploy finished', ts: '1760000000.000100' }), { source: 's' }) as RawMessage;
    expect(m.author).toMatchObject({ id: 'U0APPBOT', isBot: true });
    const human = normalizeSlack(item({ type: 'message', user: 'U1', text: 'hi', ts: '1760000000.000200' }), { source: 's' }) as RawMessage;
    expect(human.author.isBot).toBe(false);
  });

  it('files become attachments without their url tokens', () => {
    const m = normalizeSlack(
      item({
        type: 'message',
        user: 'U1',
        text: 'log attached',
        ts: '1760000000.000100',
        files: [{ name: 'auth.log', mimetype: 'text/plain', size: 120, url_private: 'https://files.slack.com/files-pri/T1-F1/auth.log?t=xoxe-secret' }],
      }),
      { source: 's' },
    ) as RawMessage;
    expect(m.attachments).toEqual([{ name: 'auth.log', contentType: 'text/plain', size: 120, url: 'https://files.slack.com/files-pri/T1-F1/auth.log' }]);
  });
});

async function importAll(path: string, pageSize?: number) {
  const pages: ImportPage[] = [];
  for await (const p of slackExportImporter.read(path, { source: 'export', ...(pageSize ? { pageSize } : {}) })) pages.push(p);
  const messages: RawMessage[] = [];
  const skips: Record<string, number> = {};
  for (const p of pages) {
    for (const it of p.items) {
      const m = await slackExportImporter.normalize(it.raw, { source: 'export' });
      if (isSkip(m)) skips[m.reason] = (skips[m.reason] ?? 0) + 1;
      else messages.push(m);
    }
  }
  return { pages, messages, skips, items: pages.reduce((n, p) => n + p.items.length, 0), quarantine: pages.flatMap((p) => p.quarantine) };
}

describe('slack workspace export importer', () => {
  it('is registered and detects the zip and a folder', () => {
    expect(slackImporters.map((i) => i.format)).toEqual(['slack-export']);
    expect(slackDefinition.secretKeys).toEqual(['token', 'appToken']);
    expect(slackExportImporter.detect(SAMPLE_ZIP, Buffer.from('PK\x03\x04'))).toBe(true);
    expect(slackExportImporter.detect(LUMEN_EXPORT, Buffer.alloc(0))).toBe(true);
    expect(slackExportImporter.detect(join(here, 'slack.test.ts'), Buffer.from('// Sl'))).toBe(false);
  });

  it('imports the real sample export (hfaran/slack-export-viewer) with exact counts', async () => {
    const got = await importAll(SAMPLE_ZIP, 50);
    expect(got.items).toBe(158);
    expect(got.quarantine).toEqual([]);
    expect(got.skips).toEqual({ 'slack system line: channel_join': 8, 'slack system line: bot_add': 3 });
    expect(got.messages).toHaveLength(147);
    expect(got.messages.filter((m) => m.author.isBot)).toHaveLength(94);
    expect(new Set(got.messages.map((m) => m.channelName))).toEqual(new Set(['enrique', 'traveling-sailor']));
    expect(new Set(got.messages.map((m) => m.externalId)).size).toBe(147);
    const humans = new Set(got.messages.filter((m) => !m.author.isBot).map((m) => m.author.name));
    expect(humans).toEqual(new Set(['hamza', 'abilinski', 'doubledeez', 'heroeshannibal']));
    // users.json marks hamza as the workspace's admin and owner: his lines say so, nobody else's.
    const admins = new Set(got.messages.filter((m) => m.author.admin).map((m) => m.author.name));
    expect(admins).toEqual(new Set(['hamza']));
    expect(got.messages.every((m) => m.permalink?.startsWith('https://mesos-magellan.slack.com/archives/C0J'))).toBe(true);
    expect(got.pages.at(-1)!.bytesRead).toBe(got.pages.at(-1)!.totalBytes);
    const first = got.messages[0]!;
    expect(first).toMatchObject({
      externalId: 'C0JGLMMNX/1452837352.000006',
      channel: 'C0JGLMMNX',
      text: '@abilinski: Created an issue for a setup.py so that it can be installed to a standard place',
      sentAt: 1452837352000,
    });
    expect(got.messages.filter((m) => m.attachments?.length)).toHaveLength(3);
  });

  it('quarantines a malformed day file and a bad message, and imports the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slack-export-'));
    try {
      writeFileSync(join(dir, 'users.json'), JSON.stringify([{ id: 'U1', name: 'priya', profile: { real_name: 'Priya Raman', email: 'priya@acme.io' } }]));
      writeFileSync(join(dir, 'channels.json'), JSON.stringify([{ id: 'C1', name: 'help', created: 1700000000, members: ['U1'] }]));
      mkdirSync(join(dir, 'help'));
      writeFileSync(join(dir, 'help', '2026-10-12.json'), JSON.stringify([{ type: 'message', user: 'U1', text: 'first', ts: '1760259600.000100' }]));
      writeFileSync(join(dir, 'help', '2026-10-13.json'), '[{"type":"message","user":"U1","text":"cut off');
      writeFileSync(
        join(dir, 'help', '2026-10-14.json'),
        JSON.stringify([
          { type: 'message', user: 'U1', text: 'third', ts: '1760432400.000100' },
          'garbage',
          { type: 'message', text: 'no ts' },
          { type: 'message', user: 'U1', text: 'fourth', ts: '1760432500.000100' },
        ]),
      );
      const got = await importAll(dir);
      expect(got.messages.map((m) => m.text)).toEqual(['first', 'third', 'fourth']);
      expect(got.messages[0]!.author).toEqual({ id: 'U1', name: 'Priya Raman', email: 'priya@acme.io', isBot: false });
      expect(got.quarantine.map((q) => q.location)).toEqual(['help/2026-10-13.json', 'help/2026-10-14.json:1', 'help/2026-10-14.json:2']);
      expect(got.quarantine[0]!.reason).toMatch(/day file skipped/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('imports the Lumen sample export in examples/', async () => {
    const got = await importAll(LUMEN_EXPORT);
    expect(got.quarantine).toEqual([]);
    expect(got.messages.length).toBeGreaterThanOrEqual(40);
    expect(got.messages.length).toBeLessThanOrEqual(80);
    const names = new Set(got.messages.map((m) => m.author.id));
    for (const id of ['U01PRIYA', 'U01OLEG', 'U01SAM', 'U01JONAS', 'B01CI']) expect(names).toContain(id);
    expect(got.messages.find((m) => m.author.id === 'U01OLEG')!.author.email).toBe('oleg@initech.com');
    expect(got.messages.some((m) => m.editedAt)).toBe(true);
    expect(got.messages.some((m) => m.reactions?.['+1'])).toBe(true);
    expect(got.messages.some((m) => m.replyTo)).toBe(true);
    expect(got.messages.every((m) => m.permalink?.startsWith('https://lumen-community.slack.com/archives/'))).toBe(true);
    expect(Object.keys(got.skips).length).toBeGreaterThan(0);
    expect(got.messages.some((m) => m.deleted)).toBe(true);
  });
});
