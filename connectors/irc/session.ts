// One IRC connection (irc-framework): registration, capabilities, joins, CHATHISTORY requests and their
// replies, the lines heard, and why the connection ended; and the small inbox the live side reads from.
import { Client, type IrcCommand, type MessageEvent } from 'irc-framework';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import type { IrcConfig, IrcNetworkConfig } from './config.js';
import type { IrcLine, IrcSpeechKind } from './normalize.js';

export type Disconnect = 'closed' | 'error' | 'ping-timeout' | 'aborted';

export const CHATHISTORY_CAPS = ['draft/chathistory', 'chathistory'];
export const WANTED_CAPS = ['server-time', 'message-tags', 'batch', ...CHATHISTORY_CAPS];
export const EPOCH = '1970-01-01T00:00:00.000Z';
/** A server that never sends 376/422 after 001 is taken as registered after this long. */
export const MOTD_GRACE_MS = 3_000;
/** Default wait when a server throttles without saying how long. */
export const THROTTLE_DEFAULT_MS = 5_000;
/** A connection that stayed up this long resets the reconnect backoff. */
export const STABLE_CONNECTION_MS = 60_000;

export const isChannel = (target: string): boolean => /^[#&!+]/.test(target);
export const iso = (ms: number): string => new Date(ms).toISOString();
export const tagString = (v: string | true | undefined): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The wait a throttling reply asks for (`... retry after 3 seconds`, `Please wait 3 seconds`), or null. */
export function throttleDelayMs(text: string): number | null {
  const m = /(?:retry|wait|again)\D{0,20}?(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?)?/i.exec(text);
  if (!m) return /too fast|throttl|rate.?limit/i.test(text) ? THROTTLE_DEFAULT_MS : null;
  const n = Number(m[1]);
  return /^ms|^milli/i.test(m[2] ?? '') ? n : n * 1000;
}

export type HistoryReply = { kind: 'lines'; lines: IrcLine[] } | { kind: 'throttled'; waitMs: number; reason: string } | { kind: 'fail'; code: string; reason: string };

export interface PendingHistory {
  target: string;
  resolve(r: HistoryReply): void;
  timer: NodeJS.Timeout;
}

/** One registered connection to one network. */
export class IrcSession {
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
export class Inbox<T> {
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
