// The IRC connector: live capture with irc-framework (TLS, SASL PLAIN, nick fallback, IRCv3 server-time,
// msgid, batch, CHATHISTORY), reconnecting per network with backoff; history through CHATHISTORY where
// the server offers it. Downtime that CHATHISTORY cannot fill is recorded as a gap, never hidden.
import { Client, type IrcCommand, type MessageEvent } from 'irc-framework';
import type { Connector, Gap, Page, RawMessage, Skip } from '../../src/model/index.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import type { IrcConfig, IrcNetworkConfig } from './config.js';
import { advance, channelKey, parseIrcCursor, seen, withConnectedUntil, type IrcCursor } from './cursor.js';
import { externalIdOf, normalizeIrcLine, type IrcLine, type IrcSpeechKind } from './normalize.js';

export type IrcCursorValue = IrcCursor;
type Disconnect = 'closed' | 'error' | 'ping-timeout' | 'aborted';

const CHATHISTORY_CAPS = ['draft/chathistory', 'chathistory'];
const WANTED_CAPS = ['server-time', 'message-tags', 'batch', ...CHATHISTORY_CAPS];
const EPOCH = '1970-01-01T00:00:00.000Z';
/** A server that never sends 376/422 after 001 is taken as registered after this long. */
const MOTD_GRACE_MS = 3_000;
/** Default wait when a server throttles without saying how long. */
const THROTTLE_DEFAULT_MS = 5_000;
/** A connection that stayed up this long resets the reconnect backoff. */
const STABLE_CONNECTION_MS = 60_000;

const isChannel = (target: string): boolean => /^[#&!+]/.test(target);
const iso = (ms: number): string => new Date(ms).toISOString();
const tagString = (v: string | true | undefined): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The wait a throttling reply asks for (`... retry after 3 seconds`, `Please wait 3 seconds`), or null. */
export function throttleDelayMs(text: string): number | null {
  const m = /(?:retry|wait|again)\D{0,20}?(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?)?/i.exec(text);
  if (!m) return /too fast|throttl|rate.?limit/i.test(text) ? THROTTLE_DEFAULT_MS : null;
  const n = Number(m[1]);
  return /^ms|^milli/i.test(m[2] ?? '') ? n : n * 1000;
}

type HistoryReply = { kind: 'lines'; lines: IrcLine[] } | { kind: 'throttled'; waitMs: number; reason: string } | { kind: 'fail'; code: string; reason: string };

interface PendingHistory {
  target: string;
  resolve(r: HistoryReply): void;
  timer: NodeJS.Timeout;
}

/** One registered connection to one network. */
class IrcSession {
  readonly client: Client;
  private pending: PendingHistory | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private seqs = new Map<string, { time: number; seq: number }>();
  private closedResolve!: (why: { disconnect: Disconnect; reason: string }) => void;
  /** Resolves when the connection ends, with why. */
  readonly closed: Promise<{ disconnect: Disconnect; reason: string }>;
  private lastError: string | null = null;
  /** Live lines go here; while a gap is being filled they are held back so older lines come first. */
  private holding: IrcLine[] | null = null;

  private constructor(
    readonly net: IrcNetworkConfig,
    private readonly deps: ConnectorDeps,
    private readonly multiNetwork: boolean,
    private readonly onLines: (lines: IrcLine[]) => void,
  ) {
    this.client = new Client();
    this.closed = new Promise((resolve) => {
      this.closedResolve = resolve;
    });
  }

  get networkField(): string | null {
    return this.multiNetwork ? this.net.name : null;
  }

  get hasChathistory(): boolean {
    return CHATHISTORY_CAPS.some((c) => this.client.network.cap.isEnabled(c));
  }

  /** Messages per CHATHISTORY request: ours, capped by the server's `CHATHISTORY=` (0 = no limit). */
  historyLimit(wanted: number): number {
    const raw = this.client.network.supports('CHATHISTORY');
    const max = typeof raw === 'string' ? Number(raw) : 0;
    return max > 0 ? Math.min(max, wanted) : wanted;
  }

  /** Connects, negotiates caps and SASL, registers (with nick fallback) and waits for the MOTD. */
  static open(net: IrcNetworkConfig, cfg: IrcConfig, deps: ConnectorDeps, multiNetwork: boolean, signal: AbortSignal, onLines: (lines: IrcLine[]) => void): Promise<IrcSession> {
    const s = new IrcSession(net, deps, multiNetwork, onLines);
    return s.register(cfg, signal).then(() => s);
  }

  private register(cfg: IrcConfig, signal: AbortSignal): Promise<void> {
    const { client, net, deps } = this;
    const nicks = [net.nick, `${net.nick}_`, `${net.nick}__`];
    let nickAt = 0;
    client.requestCap(WANTED_CAPS);
    this.listen();
    return new Promise<void>((resolve, reject) => {
      let registered = false;
      let done = false;
      const finish = (err?: ConnectorError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearTimeout(grace);
        signal.removeEventListener('abort', onAbort);
        if (err) {
          this.end();
          reject(err);
        } else resolve();
      };
      const where = `${net.name} (${net.host}:${net.port})`;
      const timer = setTimeout(() => finish(new ConnectorError('net', `no registration on ${where} within ${cfg.timeoutMs} ms`, deps.source)), cfg.timeoutMs);
      let grace: NodeJS.Timeout | undefined;
      const onAbort = () => finish(new ConnectorError('net', `aborted while connecting to ${where}`, deps.source));
      signal.addEventListener('abort', onAbort, { once: true });
      client.on('nick in use', () => {
        if (registered) return;
        nickAt++;
        const next = nicks[nickAt];
        if (next === undefined) return finish(new ConnectorError('net', `nicks ${nicks.join(', ')} are all in use on ${where}`, deps.source));
        deps.log('info', 'nick in use, trying the next one', { network: net.name, nick: next });
        client.changeNick(next);
      });
      client.on('nick invalid', () => {
        if (!registered) finish(new ConnectorError('config', `nick ${nicks[nickAt] ?? net.nick} is not valid on ${where}`, deps.source));
      });
      client.on('sasl failed', (e: { reason?: string; message?: string }) => {
        const why = e.reason === 'capability_missing' ? 'the server offers no SASL' : `${e.reason ?? 'fail'}${e.message ? `: ${e.message}` : ''}`;
        const kind = e.reason === 'capability_missing' || e.reason === 'unsupported_mechanism' ? 'config' : 'auth';
        finish(new ConnectorError(kind, `SASL PLAIN authentication as ${net.sasl?.account ?? '?'} on ${where} failed (${why}); check networks[].sasl.account and the password`, deps.source));
      });
      client.on('irc error', (e: { error?: string; reason?: string }) => {
        if (e.error === 'password_mismatch') finish(new ConnectorError('auth', `server password refused on ${where}; check the password`, deps.source));
        else if (!registered && e.error === 'irc') finish(new ConnectorError('net', `server closed the link on ${where}: ${e.reason ?? ''}`, deps.source));
      });
      client.on('registered', () => {
        registered = true;
        grace = setTimeout(() => finish(), MOTD_GRACE_MS);
      });
      client.on('motd', () => {
        if (registered) finish();
      });
      void this.closed.then((c) => finish(new ConnectorError('net', `connection to ${where} closed before registration: ${c.reason}`, deps.source)));
      client.connect({
        host: net.host,
        port: net.port,
        tls: net.tls,
        rejectUnauthorized: net.rejectUnauthorized,
        nick: net.nick,
        username: net.username ?? net.nick.replace(/[^A-Za-z0-9]/g, '').slice(0, 10) ?? 'gleaner',
        gecos: net.gecos,
        account: net.sasl ? { account: net.sasl.account, password: net.sasl.password } : undefined,
        sasl_mechanism: 'PLAIN',
        sasl_disconnect_on_fail: true,
        auto_reconnect: false,
        version: null,
      });
    });
  }

  private listen(): void {
    const { client } = this;
    const onMessage = (kind: IrcSpeechKind) => (e: MessageEvent) => {
      if (e.batch && /chathistory/i.test(e.batch.type)) return; // answered through the batch itself
      this.deliver([this.lineOf(kind, e.nick, e.ident, e.target, e.message, e.tags, e.time, e.from_server)]);
    };
    client.on('privmsg', onMessage('privmsg'));
    client.on('notice', onMessage('notice'));
    client.on('action', onMessage('action'));
    client.on('batch end', (b: { type: string; params: string[]; commands: IrcCommand[] }) => {
      if (!/chathistory$/i.test(b.type)) return;
      const target = (b.params[0] ?? '').toLowerCase();
      const p = this.pending;
      if (!p || p.target !== target) return;
      const lines: IrcLine[] = [];
      for (const c of b.commands) {
        if (c.command !== 'PRIVMSG' && c.command !== 'NOTICE') continue;
        let text = c.params[c.params.length - 1] ?? '';
        let kind: IrcSpeechKind = c.command === 'NOTICE' ? 'notice' : 'privmsg';
        if (kind === 'privmsg' && text.startsWith('\x01ACTION')) {
          kind = 'action';
          text = text.endsWith('\x01') ? text.slice(8, -1) : text.slice(8);
        } else if (text.startsWith('\x01')) continue; // other CTCP
        lines.push(this.lineOf(kind, c.nick, c.ident, c.params[0] ?? '', text, c.tags, c.getServerTime(), !c.nick));
      }
      this.settle({ kind: 'lines', lines });
    });
    client.on('unknown command', (c: IrcCommand) => {
      if (!this.pending) return;
      if (c.command === 'FAIL' && (c.params[0] ?? '').toUpperCase() === 'CHATHISTORY') {
        const code = c.params[1] ?? 'UNKNOWN';
        const reason = c.params[c.params.length - 1] ?? '';
        const waitMs = throttleDelayMs(reason);
        this.settle(waitMs !== null ? { kind: 'throttled', waitMs, reason } : { kind: 'fail', code, reason });
      } else if (c.command === '439' || c.command === '263') {
        // ERR_TARGETTOOFAST / RPL_TRYAGAIN: "Target change too fast. Please wait N seconds."
        const reason = c.params[c.params.length - 1] ?? '';
        this.settle({ kind: 'throttled', waitMs: throttleDelayMs(reason) ?? THROTTLE_DEFAULT_MS, reason });
      }
    });
    client.on('irc error', (e: { error?: string; reason?: string }) => {
      this.lastError = e.reason ?? e.error ?? null;
    });
    client.on('socket close', (err?: unknown) => {
      const reason = this.lastError ?? (err instanceof Error ? err.message : typeof err === 'string' && err ? err : 'connection closed');
      this.closedResolve({ disconnect: this.lastError ? 'error' : 'closed', reason });
      if (this.pending) this.settle({ kind: 'fail', code: 'DISCONNECTED', reason });
    });
  }

  private lineOf(kind: IrcSpeechKind, nick: string, ident: string, target: string, text: string, tags: Record<string, string | true>, serverTime: number | undefined, fromServer: boolean): IrcLine {
    const time = serverTime ?? this.deps.now();
    const channel = isChannel(target) ? target : null;
    const key = (channel ?? '').toLowerCase();
    const prev = this.seqs.get(key);
    const seq = prev && prev.time === time ? prev.seq + 1 : 0;
    this.seqs.set(key, { time, seq });
    const serverName = !!nick && nick.includes('.') && !ident;
    return {
      v: 1,
      kind,
      network: this.networkField,
      channel,
      nick: nick || null,
      text,
      time,
      seq,
      msgid: tagString(tags.msgid),
      replyTo: tagString(tags['+draft/reply']) ?? tagString(tags['+reply']),
      account: tagString(tags.account),
      self: !!nick && nick.toLowerCase() === this.client.user.nick.toLowerCase(),
      fromServer: fromServer || serverName || undefined,
    };
  }

  private deliver(lines: IrcLine[]): void {
    if (this.holding) this.holding.push(...lines);
    else this.onLines(lines);
  }

  /** Holds live lines back until `release` (while older lines are fetched). */
  hold(): void {
    this.holding ??= [];
  }

  release(): void {
    const held = this.holding ?? [];
    this.holding = null;
    if (held.length) this.onLines(held);
  }

  private settle(r: HistoryReply): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.resolve(r);
  }

  /** Joins the channels and waits for the server to confirm each join. */
  async join(channels: string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    const want = new Set(channels.map((c) => c.toLowerCase()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new ConnectorError('permission', `could not join ${[...want].join(', ')} on ${this.net.name} within ${timeoutMs} ms`, this.deps.source));
      }, timeoutMs);
      const onJoin = (e: { nick: string; channel: string }) => {
        if (e.nick.toLowerCase() !== this.client.user.nick.toLowerCase()) return;
        want.delete(e.channel.toLowerCase());
        if (want.size === 0) {
          cleanup();
          resolve();
        }
      };
      const onAbort = () => {
        cleanup();
        reject(new ConnectorError('net', 'aborted', this.deps.source));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.client.removeListener('join', onJoin);
        signal.removeEventListener('abort', onAbort);
      };
      this.client.on('join', onJoin);
      signal.addEventListener('abort', onAbort, { once: true });
      void this.closed.then(() => {
        cleanup();
        reject(new ConnectorError('net', `connection to ${this.net.name} closed while joining`, this.deps.source));
      });
      for (const c of channels) this.client.join(c);
    });
  }

  /** One CHATHISTORY request; requests on one connection run one at a time. */
  chathistory(sub: 'AFTER' | 'BEFORE' | 'BETWEEN' | 'LATEST', target: string, refs: string[], limit: number, timeoutMs: number): Promise<HistoryReply> {
    const run = () =>
      new Promise<HistoryReply>((resolve) => {
        const timer = setTimeout(() => this.settle({ kind: 'fail', code: 'TIMEOUT', reason: `no CHATHISTORY answer within ${timeoutMs} ms` }), timeoutMs);
        this.pending = { target: target.toLowerCase(), resolve, timer };
        this.client.raw('CHATHISTORY', sub, target, ...refs, String(limit));
      });
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  end(): void {
    try {
      if (this.client.connected) this.client.quit('Gleaner stopping');
      this.client.connection.end();
    } catch {
      // already closed
    }
  }
}

/** An unbounded queue the network loops push to and the page loop drains. */
class Inbox<T> {
  private items: T[] = [];
  private wake: (() => void) | null = null;
  push(x: T): void {
    this.items.push(x);
    this.wake?.();
  }
  async drain(signal: AbortSignal): Promise<T[]> {
    while (this.items.length === 0 && !signal.aborted) {
      let onAbort: () => void = () => undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        onAbort = () => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
      });
      signal.removeEventListener('abort', onAbort);
      this.wake = null;
    }
    const out = this.items;
    this.items = [];
    return out;
  }
}

type LiveEvent = { t: 'lines'; lines: IrcLine[]; network: string } | { t: 'gap'; gap: Gap } | { t: 'up'; network: string; at: number } | { t: 'fatal'; error: ConnectorError } | { t: 'waited'; ms: number };

export function createIrcConnector(cfg: IrcConfig, deps: ConnectorDeps): Connector<IrcCursor> {
  const multi = cfg.networks.length > 1;
  const chanId = (net: IrcNetworkConfig, channel: string) => (multi ? `${net.name}/${channel}` : channel);
  const normOpts = { bridges: cfg.bridges, permalinkTemplate: cfg.permalinkTemplate ?? null, bots: cfg.bots };

  /** Fetches everything after the cursor's position in one channel, page by page. */
  async function* fetchAfter(s: IrcSession, channel: string, start: IrcCursor, signal: AbortSignal): AsyncGenerator<{ lines: IrcLine[]; cursor: IrcCursor; waitedMs: number; gap?: Gap }> {
    const key = channelKey(s.net.name, channel);
    const limit = s.historyLimit(cfg.historyPageSize);
    let cursor = start;
    let waitedMs = 0;
    for (;;) {
      if (signal.aborted) return;
      const st = cursor.channels[key];
      const ref = st?.lastMsgid ? `msgid=${st.lastMsgid}` : st ? `timestamp=${iso(st.lastTime - 1)}` : `timestamp=${cfg.backfillFrom ? iso(Date.parse(cfg.backfillFrom)) : EPOCH}`;
      const reply = await s.chathistory('AFTER', channel, [ref], limit, cfg.timeoutMs);
      if (reply.kind === 'throttled') {
        deps.log('info', 'CHATHISTORY throttled, waiting', { network: s.net.name, channel, waitMs: reply.waitMs });
        const t0 = Date.now();
        const ok = await deps.sleep(reply.waitMs, signal);
        waitedMs += Date.now() - t0;
        if (!ok) return;
        continue;
      }
      if (reply.kind === 'fail') {
        if (reply.code === 'DISCONNECTED' || reply.code === 'TIMEOUT') throw new ConnectorError('net', `CHATHISTORY for ${channel} on ${s.net.name}: ${reply.reason}`, deps.source);
        yield { lines: [], cursor, waitedMs, gap: { channel: chanId(s.net, channel), from: st?.lastTime ?? 0, to: deps.now(), reason: `CHATHISTORY refused (${reply.code}: ${reply.reason})` } };
        return;
      }
      const fresh: IrcLine[] = [];
      for (const l of reply.lines) {
        const id = externalIdOf(l);
        if (seen(cursor, key, l.time, id)) continue;
        cursor = advance(cursor, key, l.time, id, l.msgid ?? null);
        fresh.push(l);
      }
      if (fresh.length || reply.lines.length < limit) {
        yield { lines: fresh, cursor, waitedMs };
        waitedMs = 0;
      }
      if (reply.lines.length < limit) return;
      if (fresh.length === 0) {
        // A full page of lines we already have and no msgid to step past them: say so rather than loop.
        yield { lines: [], cursor, waitedMs, gap: { channel: chanId(s.net, channel), from: st?.lastTime ?? 0, to: deps.now(), reason: `CHATHISTORY could not page past ${limit} messages sharing one timestamp` } };
        return;
      }
    }
  }

  const connector: Connector<IrcCursor> = {
    platform: 'irc',
    capabilities: { history: true, live: true, edits: false, threads: false },

    async *history(from, signal) {
      let cursor = parseIrcCursor(from);
      for (const net of cfg.networks) {
        if (signal.aborted) return;
        const s = await IrcSession.open(net, cfg, deps, multi, signal, () => undefined);
        try {
          if (!s.hasChathistory) {
            // Nothing to fetch: what was said while nobody listened is lost; record it once per pull.
            const now = deps.now();
            const gaps: Gap[] = [];
            for (const channel of net.channels) {
              const st = cursor.channels[channelKey(net.name, channel)];
              const since = Math.max(st?.lastTime ?? -Infinity, cursor.connectedUntil[net.name] ?? -Infinity);
              if (Number.isFinite(since) && since < now) gaps.push({ channel: chanId(net, channel), from: since, to: now, reason: `${net.name} offers no CHATHISTORY: messages while Gleaner was not listening cannot be fetched` });
            }
            cursor = withConnectedUntil(cursor, net.name, now);
            yield { items: [], cursor, gaps };
            continue;
          }
          await s.join(net.channels, cfg.timeoutMs, signal);
          for (const channel of net.channels) {
            for await (const page of fetchAfter(s, channel, cursor, signal)) {
              cursor = page.cursor;
              const out: Page<IrcCursor> = { items: page.lines, cursor };
              if (page.gap) out.gaps = [page.gap];
              if (page.waitedMs) out.rateLimitedMs = page.waitedMs;
              yield out;
            }
          }
        } finally {
          s.end();
        }
      }
    },

    async *live(since, outer) {
      let cursor = parseIrcCursor(since);
      const inner = new AbortController();
      const signal = inner.signal;
      const stop = () => inner.abort();
      outer.addEventListener('abort', stop, { once: true });
      const inbox = new Inbox<LiveEvent>();
      const sessions = new Set<IrcSession>();

      const runNetwork = async (net: IrcNetworkConfig): Promise<void> => {
        let backoff = cfg.reconnectInitialMs;
        // Where the last known coverage of this network ends (a restart with a saved cursor is downtime too).
        let downSince: number | null = null;
        let downReason = 'Gleaner was not listening';
        {
          const times = net.channels.map((c) => cursor.channels[channelKey(net.name, c)]?.lastTime ?? -Infinity);
          const known = Math.max(cursor.connectedUntil[net.name] ?? -Infinity, ...times);
          if (Number.isFinite(known)) downSince = known;
        }
        while (!signal.aborted) {
          let s: IrcSession | null = null;
          try {
            s = await IrcSession.open(net, cfg, deps, multi, signal, (lines) => inbox.push({ t: 'lines', lines, network: net.name }));
            sessions.add(s);
            s.hold();
            await s.join(net.channels, cfg.timeoutMs, signal);
            const upAt = deps.now();
            deps.log('info', 'joined', { network: net.name, channels: net.channels, chathistory: s.hasChathistory });
            if (downSince !== null) {
              for (const channel of net.channels) {
                const key = channelKey(net.name, channel);
                if (s.hasChathistory && cursor.channels[key]) {
                  for await (const page of fetchAfter(s, channel, cursor, signal)) {
                    if (page.lines.length) inbox.push({ t: 'lines', lines: page.lines, network: net.name });
                    if (page.gap) inbox.push({ t: 'gap', gap: page.gap });
                    if (page.waitedMs) inbox.push({ t: 'waited', ms: page.waitedMs });
                  }
                } else {
                  inbox.push({
                    t: 'gap',
                    gap: { channel: chanId(net, channel), from: downSince, to: upAt, reason: `${downReason}${s.hasChathistory ? '' : `; ${net.name} offers no CHATHISTORY`}` },
                  });
                }
              }
            }
            s.release();
            inbox.push({ t: 'up', network: net.name, at: upAt });
            let onAbort: () => void = () => undefined;
            const aborted = new Promise<null>((r) => {
              onAbort = () => r(null);
              signal.addEventListener('abort', onAbort, { once: true });
            });
            const closed = await Promise.race([s.closed, aborted]);
            signal.removeEventListener('abort', onAbort);
            if (!closed) return;
            downSince = deps.now();
            downReason = `disconnected from ${net.name}: ${closed.reason}`;
            deps.log('warn', 'disconnected', { network: net.name, reason: closed.reason });
            if (downSince - upAt > STABLE_CONNECTION_MS) backoff = cfg.reconnectInitialMs;
            if (/too fast|throttl/i.test(closed.reason)) backoff = Math.max(backoff, 60_000);
          } catch (err: unknown) {
            if (err instanceof ConnectorError && (err.kind === 'auth' || err.kind === 'config')) {
              inbox.push({ t: 'fatal', error: err });
              return;
            }
            if (signal.aborted) return;
            downSince ??= deps.now();
            deps.log('warn', 'connection failed, will retry', { network: net.name, error: err instanceof Error ? err.message : String(err), backoffMs: backoff });
          } finally {
            if (s) {
              s.end();
              sessions.delete(s);
            }
          }
          if (!(await deps.sleep(backoff, signal))) return;
          backoff = Math.min(backoff * 2, cfg.reconnectMaxMs);
        }
      };

      const loops = cfg.networks.map((n) => runNetwork(n));
      try {
        while (!signal.aborted) {
          const events = await inbox.drain(signal);
          if (signal.aborted) break;
          const items: IrcLine[] = [];
          const gaps: Gap[] = [];
          let waited = 0;
          for (const e of events) {
            if (e.t === 'fatal') throw e.error;
            if (e.t === 'gap') gaps.push(e.gap);
            else if (e.t === 'waited') waited += e.ms;
            else if (e.t === 'up') cursor = withConnectedUntil(cursor, e.network, e.at);
            else {
              for (const l of e.lines) {
                const key = channelKey(e.network, l.channel ?? '');
                const id = externalIdOf(l);
                if (l.channel && seen(cursor, key, l.time, id)) continue;
                if (l.channel) cursor = advance(cursor, key, l.time, id, l.msgid ?? null);
                items.push(l);
              }
              cursor = withConnectedUntil(cursor, e.network, deps.now());
            }
          }
          if (!items.length && !gaps.length && !waited) continue;
          const page: Page<IrcCursor> = { items, cursor };
          if (gaps.length) page.gaps = gaps;
          if (waited) page.rateLimitedMs = waited;
          yield page;
        }
      } finally {
        outer.removeEventListener('abort', stop);
        inner.abort();
        for (const s of sessions) s.end();
        await Promise.allSettled(loops);
      }
    },

    normalize(raw: unknown, ctx): RawMessage | Skip {
      return normalizeIrcLine(raw, ctx, normOpts);
    },
  };
  return connector;
}
