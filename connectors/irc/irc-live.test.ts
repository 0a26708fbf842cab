// The IRC connector against real servers: Debian's ngircd for live capture, reconnect and nick
// fallback, and the scripted CHATHISTORY peer (test/fakes) for gap filling, SASL and the contract suite.
import { Client } from 'irc-framework';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, Gap, Page, RawMessage } from '../../src/model/index.js';
import { isSkip } from '../../src/model/index.js';
import { connectorContract, type ConnectorUnderTest } from '../../test/contract/connector-contract.js';
import { startChathistoryPeer, type ChathistoryPeer } from '../../test/fakes/irc-chathistory.js';
import { startNgircd, type RunningNgircd } from '../../test/support/ngircd.js';
import { abortableSleep, ConnectorError, type ConnectorDeps } from '../types.js';
import { createIrcConnector, ircConfigSchema, type IrcConfig, type IrcConfigInput, type IrcCursor, type IrcLine } from './index.js';

const WAIT_MS = 15_000;

interface LogLine {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

function makeDeps(logs: LogLine[] = []): ConnectorDeps {
  return { source: 'test', now: () => Date.now(), sleep: abortableSleep, log: (level, msg, fields) => logs.push({ level, msg, fields }) };
}

/** Resolves when `check` is true, polling; fails after timeoutMs with `what`. */
async function until(what: string, check: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs `live()` in the background, collecting pages, until stopped. */
function runLive(cfg: IrcConfigInput, since?: IrcCursor) {
  const logs: LogLine[] = [];
  const connector = createIrcConnector(ircConfigSchema.parse(cfg), makeDeps(logs));
  const ac = new AbortController();
  const pages: Array<Page<IrcCursor>> = [];
  let error: unknown = null;
  let ended = false;
  const done = (async () => {
    try {
      for await (const p of connector.live!(since, ac.signal)) pages.push(p);
    } catch (err: unknown) {
      error = err;
    } finally {
      ended = true;
    }
  })();
  const messages = (): RawMessage[] => pages.flatMap((p) => p.items.map((i) => connector.normalize(i, { source: 'libera' }))).filter((m): m is RawMessage => !isSkip(m as RawMessage));
  return {
    connector,
    logs,
    pages,
    messages,
    gaps: (): Gap[] => pages.flatMap((p) => p.gaps ?? []),
    texts: () => messages().map((m) => m.text),
    get error() {
      return error;
    },
    get ended() {
      return ended;
    },
    joinedCount: () => logs.filter((l) => l.msg === 'joined').length,
    stop: async () => {
      ac.abort();
      await done;
    },
    done,
  };
}

/** A plain user on the server, driven by irc-framework. */
async function userClient(port: number, nick: string, channel: string): Promise<{ client: Client; joins: string[]; close(): void }> {
  const client = new Client();
  const joins: string[] = [];
  client.on('join', (e: { nick: string }) => joins.push(e.nick));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${nick} could not join ${channel}`)), WAIT_MS);
    client.on('join', (e: { nick: string; channel: string }) => {
      if (e.nick === nick && e.channel.toLowerCase() === channel) {
        clearTimeout(t);
        resolve();
      }
    });
    client.on('registered', () => client.join(channel));
    client.connect({ host: '127.0.0.1', port, nick, username: nick, gecos: nick, auto_reconnect: false });
  });
  return {
    client,
    joins,
    close: () => {
      client.quit('bye');
    },
  };
}

describe('IRC live capture against ngircd', () => {
  let server: RunningNgircd;
  beforeAll(async () => {
    server = await startNgircd();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const cfgFor = (nick: string): IrcConfigInput => ({
    networks: [{ name: 'test', host: '127.0.0.1', port: server.port, tls: false, nick, channels: ['#test'] }],
    reconnectInitialMs: 200,
    reconnectMaxMs: 1_000,
    timeoutMs: 10_000,
  });

  it('receives PRIVMSG, NOTICE and ACTION from another user; abort ends live', async () => {
    const live = runLive(cfgFor('gleanr1'));
    await until('the connector to join', () => live.joinedCount() >= 1);
    const user = await userClient(server.port, 'alice1', '#test');
    user.client.say('#test', 'the SSO login loops');
    user.client.notice('#test', 'a notice for everyone');
    user.client.action('#test', 'waves');
    await until('three lines', () => live.messages().length >= 3);
    const ms = live.messages();
    expect(ms.map((m) => m.text)).toEqual(['the SSO login loops', 'a notice for everyone', '* alice1 waves']);
    expect(ms.every((m) => m.channel === '#test' && m.author.id === 'libera/alice1')).toBe(true);
    // ngircd offers no msgid: ids are stable hashes, distinct per line.
    expect(new Set(ms.map((m) => m.externalId)).size).toBe(3);
    const t0 = Date.now();
    await live.stop();
    expect(live.ended).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(live.error).toBeNull();
    user.close();
  });

  it('falls back to nick_ when the nick is taken', async () => {
    const squatter = await userClient(server.port, 'gleanr2', '#test');
    const live = runLive(cfgFor('gleanr2'));
    await until('the connector to join', () => live.joinedCount() >= 1);
    await until('the fallback nick to be seen joining', () => squatter.joins.includes('gleanr2_'));
    // Lines the fallback nick itself would send are its own; a line from the squatter is not.
    squatter.client.say('#test', 'I hold your nick');
    await until('the squatter line', () => live.texts().includes('I hold your nick'));
    await live.stop();
    squatter.close();
  });

  it('history() on a server without CHATHISTORY records what it cannot fetch as a gap, once', async () => {
    const connector = createIrcConnector(ircConfigSchema.parse(cfgFor('gleanr4')), makeDeps());
    const ac = new AbortController();
    const lastTime = Date.now() - 60_000;
    const since: IrcCursor = { v: 1, channels: { 'test/#test': { lastTime, lastMsgid: null, idsAtLastTime: ['x'] } }, connectedUntil: {} };
    const pages: Array<Page<IrcCursor>> = [];
    for await (const p of connector.history(since, ac.signal)) pages.push(p);
    expect(pages).toHaveLength(1);
    expect(pages[0]?.items).toEqual([]);
    expect(pages[0]?.gaps).toEqual([{ channel: '#test', from: lastTime, to: expect.any(Number) as number, reason: expect.stringMatching(/no CHATHISTORY/) as string }]);
    // The next pull starts where this one ended.
    const next: Array<Page<IrcCursor>> = [];
    for await (const p of connector.history(pages[0]?.cursor, ac.signal)) next.push(p);
    expect(next[0]?.gaps?.[0]?.from).toBe(pages[0]?.gaps?.[0]?.to);
  });

  it('a server restart reconnects with backoff and records the gap with its start and end', async () => {
    const live = runLive(cfgFor('gleanr3'));
    await until('the connector to join', () => live.joinedCount() >= 1);
    const before = Date.now();
    await server.kill();
    await until('the disconnect to be noticed', () => live.logs.some((l) => l.msg === 'disconnected'));
    await server.start();
    await until('the connector to join again', () => live.joinedCount() >= 2, 30_000);
    await until('a gap page', () => live.gaps().length >= 1);
    const after = Date.now();
    const [gap] = live.gaps();
    expect(gap?.channel).toBe('#test');
    expect(gap?.from).toBeGreaterThanOrEqual(before);
    expect(gap?.to).toBeGreaterThanOrEqual(gap?.from ?? Infinity);
    expect(gap?.to).toBeLessThanOrEqual(after);
    expect(gap?.reason).toMatch(/disconnected from test.*no CHATHISTORY/);
    // And it listens again.
    const user = await userClient(server.port, 'alice3', '#test');
    user.client.say('#test', 'back again');
    await until('a line after the restart', () => live.texts().includes('back again'));
    await live.stop();
    user.close();
  }, 60_000);
});

describe('IRC CHATHISTORY against the scripted peer', () => {
  let peer: ChathistoryPeer;
  afterEach(async () => {
    await peer?.stop();
  });
  const cfgFor = (port: number, extra: Partial<IrcConfigInput> = {}): IrcConfigInput => ({
    networks: [{ name: 'hist', host: '127.0.0.1', port, tls: false, nick: 'gleaner', channels: ['#lumen'], sasl: { account: 'gleaner', password: 's3cret-pw' } }],
    reconnectInitialMs: 100,
    reconnectMaxMs: 500,
    timeoutMs: 10_000,
    ...extra,
  });

  it('fills a disconnect from CHATHISTORY (AFTER the last msgid) instead of recording a gap', async () => {
    peer = await startChathistoryPeer({ accounts: { gleaner: 's3cret-pw' }, pageSize: 2 });
    const live = runLive(cfgFor(peer.port));
    await until('the connector to join', () => live.joinedCount() >= 1);
    const first = peer.say('#lumen', 'mei', 'hello before the outage');
    await until('the first line', () => live.texts().includes('hello before the outage'));
    expect(live.messages()[0]?.externalId).toBe(first.msgid);
    peer.goDown();
    await until('the disconnect to be noticed', () => live.logs.some((l) => l.msg === 'disconnected'));
    const missed = ['said while away 1', 'said while away 2', 'said while away 3'].map((t) => peer.say('#lumen', 'priya', t));
    peer.acceptAgain();
    await until('the missed lines', () => missed.every((m) => live.texts().includes(m.text)), 30_000);
    expect(live.gaps()).toEqual([]);
    expect(peer.received).toContain(`CHATHISTORY AFTER #lumen msgid=${first.msgid} 2`);
    const ids = live.messages().map((m) => m.externalId);
    expect(ids).toEqual([first.msgid, ...missed.map((m) => m.msgid)]);
    // server-time is used, not the receive time.
    expect(live.messages()[1]?.sentAt).toBe(missed[0]?.time);
    await live.stop();
  }, 60_000);

  it('catches up from a saved cursor on start', async () => {
    peer = await startChathistoryPeer({ accounts: { gleaner: 's3cret-pw' } });
    const old = peer.say('#lumen', 'mei', 'already stored');
    const cursor: IrcCursor = { v: 1, channels: { 'hist/#lumen': { lastTime: old.time, lastMsgid: old.msgid, idsAtLastTime: [old.msgid] } }, connectedUntil: {} };
    const newer = peer.say('#lumen', 'sam', 'said while Gleaner was down');
    const live = runLive(cfgFor(peer.port), cursor);
    await until('the newer line', () => live.texts().includes(newer.text));
    expect(live.texts()).not.toContain(old.text);
    expect(live.gaps()).toEqual([]);
    await live.stop();
  });

  it('a refused SASL login stops with an auth error that does not leak the password', async () => {
    peer = await startChathistoryPeer({ accounts: { gleaner: 'the-right-one' } });
    const live = runLive(cfgFor(peer.port));
    await until('live to end', () => live.ended);
    expect(live.error).toBeInstanceOf(ConnectorError);
    const err = live.error as ConnectorError;
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/SASL.*password/);
    expect(err.message).not.toContain('s3cret-pw');
    expect(peer.received.some((l) => l.startsWith('AUTHENTICATE '))).toBe(true);
  });

  it('keeps msgid, server-time and reply tags of live lines, and skips its own lines', async () => {
    peer = await startChathistoryPeer({ accounts: { gleaner: 's3cret-pw' } });
    const live = runLive(cfgFor(peer.port));
    await until('the connector to join', () => live.joinedCount() >= 1);
    const m = peer.say('#lumen', 'gleaner', 'a line replayed as my own');
    const n = peer.say('#lumen', 'mei[m]', 'SSO loops after upgrading to 2.4');
    await until('both lines', () => live.pages.flatMap((p) => p.items).length >= 2);
    const items = live.pages.flatMap((p) => p.items) as IrcLine[];
    expect(items.map((i) => i.msgid)).toEqual([m.msgid, n.msgid]);
    expect(live.connector.normalize(items[0], { source: 'libera' })).toEqual({ skip: true, reason: 'own message' });
    const relayed = live.connector.normalize(items[1], { source: 'libera' }) as RawMessage;
    expect(relayed.author.id).toBe('matrix:mei');
    expect(relayed.relay).toEqual({ bot: 'mei[m]', network: 'matrix' });
    expect(relayed.sentAt).toBe(n.time);
    await live.stop();
  });
});

// The contract: history = CHATHISTORY AFTER pages; a "429" = `FAIL CHATHISTORY MESSAGE_ERROR ... retry after N seconds`;
// a revoked token = SASL 904.
const contractConfigs = new WeakMap<ConnectorUnderTest, IrcConfig>();
const asUnknownConnector = (c: Connector<IrcCursor>): Connector<unknown> => c;
connectorContract('irc (CHATHISTORY peer)', {
  async start() {
    const peer = await startChathistoryPeer({ accounts: { gleaner: 'pw' }, pageSize: 10 });
    const cfg = ircConfigSchema.parse({
      networks: [{ name: 'hist', host: '127.0.0.1', port: peer.port, tls: false, nick: 'gleaner', channels: ['#lumen'], sasl: { account: 'gleaner', password: 'pw' } }],
      historyPageSize: 10,
      timeoutMs: 10_000,
    });
    let clock = Date.UTC(2026, 10, 1);
    const under: ConnectorUnderTest = {
      connector: asUnknownConnector(createIrcConnector(cfg, makeDeps())),
      pageSize: 10,
      fake: {
        addMessages(count: number, opts?: { sameTimestamp?: boolean }): string[] {
          const at = ++clock;
          const ids: string[] = [];
          for (let i = 0; i < count; i++) ids.push(peer.say('#lumen', `user${i % 3}`, `message ${peer.messages.length + 1}`, { time: opts?.sameTimestamp ? at : ++clock }).msgid);
          return ids;
        },
        rateLimitNext: (seconds: number) => peer.rateLimitNext(seconds),
        revokeAuth: () => peer.revokeAuth(),
      },
      stop: () => peer.stop(),
    };
    contractConfigs.set(under, cfg);
    return under;
  },
  reconnect(under) {
    const cfg = contractConfigs.get(under);
    if (!cfg) throw new Error('unknown connector under test');
    return asUnknownConnector(createIrcConnector(cfg, makeDeps()));
  },
});
