// A small, faithful fake of the Slack Web API (PLATFORMS.md 1.1-1.11) on 127.0.0.1, port 0, driven by
// the real @slack/web-api WebClient through `slackApiUrl`. It serves POST form or JSON bodies (and GET
// query strings) at `/api/<method>`, reads the token from `Authorization: Bearer` (or a `token` param),
// answers errors as HTTP 200 `{ok:false,error}`, 429 with `Retry-After`, pages with `has_more` and
// `response_metadata.next_cursor`, history newest-first with exclusive `(oldest, latest)` unless
// `inclusive`, replies oldest-first with the parent first, and keeps edits and deletes as Slack does
// (history shows `edited`; a deleted message vanishes, a deleted parent with replies becomes a tombstone).
// It records every request it received.
// Socket Mode: `apps.connections.open` with the app-level token (xapp-) answers a one-time ws:// URL of
// a local WebSocket server (ws, 127.0.0.1, port 0). A connection with a valid ticket gets `hello`; while
// one is open, post/reply/edit/delete push `events_api` envelopes (message, message_changed,
// message_deleted) to the newest connection, as Slack does; acks (`{envelope_id}`) are recorded,
// `disconnectSockets(reason)` sends `{type:"disconnect"}` and closes, and `pushFrame` sends any frame
// (bad ones too). Nothing is pushed while no connection is open (a reconnecting client must catch up
// through the Web API).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { FakeControl } from '../contract/connector-contract.js';

export interface FakeSlackUser {
  id: string;
  name: string;
  real_name?: string;
  display_name?: string;
  email?: string;
  is_bot?: boolean;
  bot_id?: string;
  team_id?: string;
}

export interface FakeSlackChannel {
  id: string;
  name: string;
  is_private?: boolean;
  is_archived?: boolean;
  /** Whether the app (the token) is a member: history of a non-member channel is `not_in_channel`. */
  member?: boolean;
  created?: number;
}

export interface FakeSlackMessage {
  ts: string;
  type: 'message';
  subtype?: string;
  user?: string;
  bot_id?: string;
  username?: string;
  text: string;
  thread_ts?: string;
  edited?: { user: string; ts: string };
  reactions?: Array<{ name: string; users: string[]; count: number }>;
  files?: Array<Record<string, unknown>>;
  attachments?: Array<Record<string, unknown>>;
  client_msg_id?: string;
  blocks?: unknown[];
  /** Fake-only: deleted (never served; a parent with replies is served as a tombstone). */
  deleted?: boolean;
}

export interface RecordedRequest {
  method: string;
  params: Record<string, string>;
  /** The fake clock (ms) when it arrived. */
  at: number;
  /** How the token came: header, body param, or none. Never the token itself. */
  tokenVia: 'bearer' | 'param' | 'none';
  status: number;
  error: string | null;
}

export interface FakeSlackOptions {
  /** The fake's clock (ms): message ts and request times. Default Date.now. */
  now?: () => number;
  /** `nonmarketplace`: history/replies capped at 15 per page and 1 call a minute (429 beyond). */
  mode?: 'tier3' | 'nonmarketplace';
  /** Workspace subdomain for auth.test's url and permalinks. */
  domain?: string;
  token?: string;
  /** The app-level token apps.connections.open accepts. */
  appToken?: string;
}

/** An envelope the fake pushed over Socket Mode. */
export interface SentEnvelope {
  envelope_id: string;
  type: 'events_api';
  event: Record<string, unknown>;
  /** Which connection (0-based, in order of connecting) it went to. */
  socket: number;
}

const HISTORY = new Set(['conversations.history', 'conversations.replies']);

function tsToMicros(ts: string): bigint {
  const [s, f = ''] = ts.split('.');
  return BigInt(s ?? '0') * 1_000_000n + BigInt((f + '000000').slice(0, 6));
}
function microsToTs(us: bigint): string {
  return `${us / 1_000_000n}.${(us % 1_000_000n).toString().padStart(6, '0')}`;
}
const cmp = (a: string, b: string): number => {
  const x = tsToMicros(a);
  const y = tsToMicros(b);
  return x < y ? -1 : x > y ? 1 : 0;
};
const isTs = (x: unknown): x is string => typeof x === 'string' && /^\d+(\.\d+)?$/.test(x);
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

export class FakeSlack implements FakeControl {
  readonly requests: RecordedRequest[] = [];
  readonly users = new Map<string, FakeSlackUser>();
  readonly channels = new Map<string, FakeSlackChannel>();
  readonly messages = new Map<string, FakeSlackMessage[]>();
  url = '';
  readonly token: string;
  readonly appToken: string;
  readonly domain: string;
  // ---- Socket Mode ----
  /** Envelopes pushed, in order. */
  readonly envelopes: SentEnvelope[] = [];
  /** Envelope ids acknowledged by the client, in order. */
  readonly acks: string[] = [];
  /** Connections accepted (with a valid ticket) so far. */
  socketConnects = 0;
  /** Connections closed so far (by either side). */
  socketCloses = 0;
  private wss: WebSocketServer | null = null;
  private wsUrl = '';
  private readonly tickets = new Set<string>();
  private readonly sockets: Array<{ ws: WebSocket; no: number }> = [];
  private nextEnvelope = 1;
  private nextTicket = 1;
  mode: 'tier3' | 'nonmarketplace';
  now: () => number;

  // ---- knobs ----
  private revoked = false;
  private readonly rateLimits: Array<{ seconds: number; method: string | null }> = [];
  /** Channel id -> error its history/replies answer (`not_in_channel`, `missing_scope`, `channel_not_found`). */
  readonly channelErrors = new Map<string, string>();
  /** Methods answering `missing_scope` (e.g. `users.info` without users:read). */
  readonly missingScopes = new Set<string>();
  /** Forces small conversations.replies pages, so a thread spans several pages. */
  repliesPageSize: number | null = null;
  /** The next chat.postMessage stores its message and then drops the connection without answering (a lost reply). */
  dropNextPostReply = false;
  /** Emails are served only with users:read.email. */
  emailScope = true;
  private lastHistoryCall = new Map<string, number>();
  private server: Server | null = null;
  private nextChannelNo = 1;

  constructor(opts: FakeSlackOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.mode = opts.mode ?? 'tier3';
    this.domain = opts.domain ?? 'gleaner-test';
    this.token = opts.token ?? 'xoxb-fake-token';
    this.appToken = opts.appToken ?? 'xapp-1-A0FAKE-1-fakeapptoken';
  }

  static async start(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
    const fake = new FakeSlack(opts);
    await fake.listen();
    return fake;
  }

  async listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/api/`;
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    this.wss = wss;
    this.wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link/`;
    wss.on('connection', (ws, req) => this.onSocket(ws, req));
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    const wss = this.wss;
    this.wss = null;
    if (wss) {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  // ---- world building ----

  addUser(u: FakeSlackUser): void {
    this.users.set(u.id, u);
  }

  addChannel(c: Omit<FakeSlackChannel, 'id'> & { id?: string }): FakeSlackChannel {
    const ch: FakeSlackChannel = { member: true, created: Math.floor(this.now() / 1000), ...c, id: c.id ?? `C${String(this.nextChannelNo++).padStart(8, '0')}` };
    this.channels.set(ch.id, ch);
    this.messages.set(ch.id, []);
    return ch;
  }

  private list(channel: string): FakeSlackMessage[] {
    const l = this.messages.get(channel);
    if (!l) throw new Error(`fake: no channel ${channel}`);
    return l;
  }

  /** A ts after every ts in the channel, from the fake clock (ts are unique per channel, as in Slack). */
  private nextTs(channel: string, sameSecond?: bigint): string {
    const l = this.list(channel);
    const last = l.reduce((m, x) => (tsToMicros(x.ts) > m ? tsToMicros(x.ts) : m), 0n);
    let us = sameSecond !== undefined ? sameSecond : BigInt(Math.floor(this.now())) * 1000n;
    if (us <= last) us = last + 1n;
    return microsToTs(us);
  }

  /** Posts a message; returns its ts. `ts` may be given (it must be unique in the channel). */
  post(channel: string, m: Partial<FakeSlackMessage> & { text: string }): string {
    const ts = m.ts ?? this.nextTs(channel);
    const msg: FakeSlackMessage = { type: 'message', ...m, ts };
    if (!msg.subtype && msg.user && !msg.client_msg_id) msg.client_msg_id = `00000000-0000-4000-8000-${tsToMicros(ts).toString(16).padStart(12, '0').slice(-12)}`;
    const l = this.list(channel);
    if (l.some((x) => x.ts === ts)) throw new Error(`fake: duplicate ts ${ts} in ${channel}`);
    l.push(msg);
    l.sort((a, b) => cmp(a.ts, b.ts));
    this.pushEvent(channel, { ...this.eventBody(channel, msg), event_ts: ts });
    return ts;
  }

  /** A thread reply; `broadcast` also sends it to the channel (subtype thread_broadcast). */
  reply(channel: string, parentTs: string, m: Partial<FakeSlackMessage> & { text: string; broadcast?: boolean }): string {
    const { broadcast, ...rest } = m;
    return this.post(channel, { ...rest, thread_ts: parentTs, ...(broadcast ? { subtype: 'thread_broadcast' } : {}) });
  }

  edit(channel: string, ts: string, text: string): void {
    const msg = this.find(channel, ts);
    // An edit event carries the message as history shows it (thread keys included), before and after.
    const previous = this.render(channel, msg);
    msg.text = text;
    msg.edited = { user: msg.user ?? 'U0', ts: this.nextEditTs(msg) };
    const eventTs = this.eventTs();
    this.pushEvent(channel, { type: 'message', subtype: 'message_changed', hidden: true, message: this.render(channel, msg), previous_message: previous, event_ts: eventTs, ts: eventTs });
  }

  private nextEditTs(msg: FakeSlackMessage): string {
    const now = BigInt(Math.floor(this.now())) * 1000n;
    const base = msg.edited ? tsToMicros(msg.edited.ts) : tsToMicros(msg.ts);
    return microsToTs(now > base ? now : base + 1n);
  }

  delete(channel: string, ts: string): void {
    const msg = this.find(channel, ts);
    const previous = this.render(channel, msg);
    msg.deleted = true;
    const eventTs = this.eventTs();
    this.pushEvent(channel, { type: 'message', subtype: 'message_deleted', hidden: true, deleted_ts: ts, previous_message: previous, event_ts: eventTs, ts: eventTs });
  }

  react(channel: string, ts: string, name: string, user: string): void {
    const msg = this.find(channel, ts);
    msg.reactions ??= [];
    let r = msg.reactions.find((x) => x.name === name);
    if (!r) msg.reactions.push((r = { name, users: [], count: 0 }));
    if (!r.users.includes(user)) {
      r.users.push(user);
      r.count++;
    }
  }

  private find(channel: string, ts: string): FakeSlackMessage {
    const m = this.list(channel).find((x) => x.ts === ts);
    if (!m) throw new Error(`fake: no message ${ts} in ${channel}`);
    return m;
  }

  /** The next call (of `method`, default conversations.history) answers 429 with `Retry-After: seconds`. */
  rateLimitNext(retryAfterSeconds: number, method: string | null = 'conversations.history'): void {
    this.rateLimits.push({ seconds: retryAfterSeconds, method });
  }

  revokeAuth(): void {
    this.revoked = true;
  }

  /** FakeControl: human messages in the first channel. */
  addMessages(count: number, opts: { sameTimestamp?: boolean } = {}): string[] {
    let ch = [...this.channels.values()][0];
    if (!ch) ch = this.addChannel({ name: 'general' });
    if (!this.users.has('U0TESTER')) this.addUser({ id: 'U0TESTER', name: 'tester', real_name: 'Test Person' });
    const ids: string[] = [];
    // "Same timestamp" in Slack terms: the same second, distinct microseconds (ts is unique per channel).
    let second: bigint | undefined;
    if (opts.sameTimestamp) {
      const probe = tsToMicros(this.nextTs(ch.id));
      second = ((probe + 999_999n) / 1_000_000n) * 1_000_000n;
    }
    for (let i = 0; i < count; i++) {
      const ts = this.post(ch.id, { user: 'U0TESTER', text: `message ${this.list(ch.id).length + 1}`, ...(second !== undefined ? { ts: this.nextTs(ch.id, second + BigInt(i) + 1n) } : {}) });
      ids.push(`${ch.id}/${ts}`);
    }
    return ids;
  }

  /** Requests of one method. */
  calls(method: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method);
  }

  // ---- Socket Mode ----

  /** Open connections (hello sent). */
  get openSockets(): number {
    return this.sockets.filter((s) => s.ws.readyState === WebSocket.OPEN).length;
  }

  /** Sends `{type:"disconnect", reason}` on every open connection, then closes them. */
  disconnectSockets(reason = 'refresh_requested'): void {
    for (const s of this.sockets.splice(0)) {
      if (s.ws.readyState !== WebSocket.OPEN) continue;
      s.ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake-slack' } }));
      s.ws.close(1000, reason);
    }
  }

  /** Drops every connection without a word (a network failure). */
  dropSockets(): void {
    for (const s of this.sockets.splice(0)) s.ws.terminate();
  }

  /** Pushes any event (e.g. a reaction_added, or a message from outside the fake store) to the newest open connection. */
  pushEvent(channel: string, event: Record<string, unknown>): SentEnvelope | null {
    const live = this.sockets.filter((s) => s.ws.readyState === WebSocket.OPEN);
    const target = live[live.length - 1];
    if (!target) return null;
    const env: SentEnvelope = { envelope_id: `env-${this.nextEnvelope++}-0000`, type: 'events_api', event: { ...event, channel, channel_type: 'channel' }, socket: target.no };
    this.envelopes.push(env);
    target.ws.send(
      JSON.stringify({
        envelope_id: env.envelope_id,
        type: 'events_api',
        payload: {
          token: 'verification-token',
          team_id: 'T0TEST',
          api_app_id: 'A0FAKE',
          event: env.event,
          type: 'event_callback',
          event_id: `Ev${env.envelope_id}`,
          event_time: Math.floor(this.now() / 1000),
        },
        accepts_response_payload: false,
        retry_attempt: 0,
        retry_reason: '',
      }),
    );
    return env;
  }

  /** Sends any frame (an object as JSON, a string as it is) on the newest open connection: what a client makes of bad input. */
  pushFrame(frame: Record<string, unknown> | string): boolean {
    const live = this.sockets.filter((s) => s.ws.readyState === WebSocket.OPEN);
    const target = live[live.length - 1];
    if (!target) return false;
    target.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    return true;
  }

  /** Envelopes pushed but not acknowledged. */
  unacked(): SentEnvelope[] {
    const acked = new Set(this.acks);
    return this.envelopes.filter((e) => !acked.has(e.envelope_id));
  }

  private onSocket(ws: WebSocket, req: IncomingMessage): void {
    const ticket = new URL(req.url ?? '/', 'ws://127.0.0.1').searchParams.get('ticket') ?? '';
    if (!this.tickets.delete(ticket)) {
      ws.close(4001, 'invalid ticket');
      return;
    }
    const entry = { ws, no: this.socketConnects++ };
    this.sockets.push(entry);
    ws.on('close', () => {
      this.socketCloses++;
      const i = this.sockets.indexOf(entry);
      if (i >= 0) this.sockets.splice(i, 1);
    });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      let msg: unknown;
      try {
        msg = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8'));
      } catch {
        return;
      }
      const id = (msg as { envelope_id?: unknown } | null)?.envelope_id;
      if (typeof id === 'string') this.acks.push(id);
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: this.sockets.length, debug_info: { host: 'fake-slack', approximate_connection_time: 18060 }, connection_info: { app_id: 'A0FAKE' } }));
  }

  /** A message as an event carries it: like history's rendering, without thread summary keys. */
  /**
   * The workspace keys of a user's message: `team` (the author's workspace); in a shared (Slack Connect)
   * channel a guest from another workspace's message also carries `user_team` and `source_team`.
   */
  private teamKeys(m: FakeSlackMessage): Record<string, string> {
    if (!m.user || m.subtype === 'bot_message') return {};
    const team = this.users.get(m.user)?.team_id ?? 'T0TEST';
    return team === 'T0TEST' ? { team } : { team, user_team: team, source_team: team };
  }

  private eventBody(channel: string, m: FakeSlackMessage): Record<string, unknown> {
    const { deleted: _deleted, ...rest } = m;
    const out: Record<string, unknown> = { ...structuredClone(rest), ...this.teamKeys(m) };
    if (m.thread_ts && m.thread_ts !== m.ts) {
      const parent = this.list(channel).find((x) => x.ts === m.thread_ts);
      if (parent?.user) out.parent_user_id = parent.user;
    }
    return out;
  }

  private eventTs(): string {
    return microsToTs(BigInt(Math.floor(this.now())) * 1000n + BigInt(this.nextEnvelope));
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = url.pathname.replace(/^\/api\//, '');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const params: Record<string, string> = {};
    for (const [k, v] of url.searchParams) params[k] = v;
    const type = req.headers['content-type'] ?? '';
    if (type.includes('application/json') && body) {
      for (const [k, v] of Object.entries(JSON.parse(body) as Record<string, unknown>)) params[k] = typeof v === 'string' ? v : JSON.stringify(v);
    } else if (body) {
      for (const [k, v] of new URLSearchParams(body)) params[k] = v;
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : params.token;
    const tokenVia = auth?.startsWith('Bearer ') ? 'bearer' : params.token ? 'param' : 'none';
    delete params.token;
    const rec: RecordedRequest = { method, params, at: this.now(), tokenVia, status: 200, error: null };
    this.requests.push(rec);

    const send = (status: number, payload: Record<string, unknown>, headers: Record<string, string> = {}) => {
      rec.status = status;
      rec.error = payload.ok === false ? String(payload.error) : null;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(payload));
    };

    const rl = this.rateLimits.findIndex((r) => r.method === null || r.method === method);
    if (rl >= 0) {
      const [r] = this.rateLimits.splice(rl, 1);
      return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(r!.seconds) });
    }
    if (!token) return send(200, { ok: false, error: 'not_authed' });
    if (method === 'apps.connections.open') {
      // Only the app-level token opens connections; a bot/user token is the wrong type.
      if (token !== this.appToken) return send(200, { ok: false, error: token.startsWith('xapp-') ? 'invalid_auth' : 'not_allowed_token_type' });
      if (!this.wss) return send(200, { ok: false, error: 'internal_error' });
      const ticket = `t${this.nextTicket++}`;
      this.tickets.add(ticket);
      return send(200, { ok: true, url: `${this.wsUrl}?ticket=${ticket}&app_id=A0FAKE` });
    }
    if (token !== this.token) return send(200, { ok: false, error: 'invalid_auth' });
    if (this.revoked) return send(200, { ok: false, error: 'token_revoked' });
    if (this.missingScopes.has(method)) return send(200, { ok: false, error: 'missing_scope', needed: neededScope(method), provided: 'channels:read,channels:history' });
    if (this.mode === 'nonmarketplace' && HISTORY.has(method)) {
      const last = this.lastHistoryCall.get(method);
      const now = this.now();
      if (last !== undefined && now - last < 60_000) return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(Math.ceil((60_000 - (now - last)) / 1000)) });
      this.lastHistoryCall.set(method, now);
    }
    try {
      const out = this.dispatch(method, params);
      if (method === 'chat.postMessage' && this.dropNextPostReply) {
        this.dropNextPostReply = false;
        req.socket.destroy();
        return;
      }
      send(200, out);
    } catch (err: unknown) {
      send(200, { ok: false, error: err instanceof SlackFakeError ? err.code : 'internal_error', ...(err instanceof SlackFakeError ? err.extra : {}) });
    }
  }

  private dispatch(method: string, p: Record<string, string>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: `https://${this.domain}.slack.com/`,
          team: 'Gleaner Test',
          user: 'gleaner',
          team_id: 'T0TEST',
          user_id: 'U0GLEANER',
          bot_id: 'B0GLEANER',
          is_enterprise_install: false,
        };
      case 'conversations.list':
        return this.conversationsList(p);
      case 'conversations.info': {
        const ch = this.channel(p.channel);
        return { ok: true, channel: this.renderChannel(ch) };
      }
      case 'conversations.history':
        return this.history(p);
      case 'conversations.replies':
        return this.replies(p);
      case 'users.info': {
        const u = this.users.get(p.user ?? '');
        if (!u) throw new SlackFakeError('user_not_found');
        return { ok: true, user: this.renderUser(u) };
      }
      case 'users.list': {
        const all = [...this.users.values()];
        const { page, next } = pageOf(all, p, 200);
        return { ok: true, members: page.map((u) => this.renderUser(u)), cache_ts: Math.floor(this.now() / 1000), response_metadata: { next_cursor: next } };
      }
      case 'chat.postMessage':
        return this.postMessage(p);
      case 'chat.getPermalink': {
        const ch = this.channel(p.channel);
        const msg = this.list(ch.id).find((m) => m.ts === p.message_ts && !m.deleted);
        if (!msg) throw new SlackFakeError('message_not_found');
        const base = `https://${this.domain}.slack.com/archives/${ch.id}/p${msg.ts.replace('.', '')}`;
        return { ok: true, channel: ch.id, permalink: msg.thread_ts && msg.thread_ts !== msg.ts ? `${base}?thread_ts=${msg.thread_ts}&cid=${ch.id}` : base };
      }
      default:
        throw new SlackFakeError('unknown_method');
    }
  }

  /** chat.postMessage (Slack API docs; not in PLATFORMS.md): by channel id or name; `blocks` as JSON; `thread_ts` makes a thread reply. */
  private postMessage(p: Record<string, string>): Record<string, unknown> {
    const name = (p.channel ?? '').replace(/^#/, '');
    const byName = [...this.channels.values()].find((c) => c.name === name);
    const ch = this.channels.get(p.channel ?? '') ?? byName;
    if (!ch || (ch.is_private && !ch.member)) throw new SlackFakeError('channel_not_found');
    if (!ch.member) throw new SlackFakeError('not_in_channel');
    if (!p.text && !p.blocks) throw new SlackFakeError('no_text');
    let blocks: unknown[] | undefined;
    if (p.blocks) {
      try {
        blocks = JSON.parse(p.blocks) as unknown[];
      } catch {
        throw new SlackFakeError('invalid_blocks');
      }
      if (!Array.isArray(blocks) || blocks.length > 50) throw new SlackFakeError('invalid_blocks');
    }
    if (p.thread_ts && !this.list(ch.id).some((m) => m.ts === p.thread_ts)) throw new SlackFakeError('thread_not_found');
    const ts = this.post(ch.id, { user: 'U0GLEANER', bot_id: 'B0GLEANER', text: p.text ?? '', ...(p.thread_ts ? { thread_ts: p.thread_ts } : {}), ...(blocks ? { blocks } : {}) });
    return { ok: true, channel: ch.id, ts, message: this.render(ch.id, this.find(ch.id, ts)) };
  }

  private channel(id: string | undefined): FakeSlackChannel {
    const ch = this.channels.get(id ?? '');
    if (!ch || (ch.is_private && !ch.member)) throw new SlackFakeError('channel_not_found');
    return ch;
  }

  private readable(id: string | undefined): FakeSlackChannel {
    const ch = this.channel(id);
    const forced = this.channelErrors.get(ch.id);
    if (forced) throw new SlackFakeError(forced, forced === 'missing_scope' ? { needed: ch.is_private ? 'groups:history' : 'channels:history', provided: 'channels:read' } : {});
    if (!ch.member) throw new SlackFakeError('not_in_channel');
    return ch;
  }

  private conversationsList(p: Record<string, string>): Record<string, unknown> {
    const types = new Set((p.types ?? 'public_channel').split(','));
    const excludeArchived = p.exclude_archived === 'true' || p.exclude_archived === '1';
    const all = [...this.channels.values()].filter((c) => (c.is_private ? types.has('private_channel') && c.member : types.has('public_channel')) && !(excludeArchived && c.is_archived));
    const { page, next } = pageOf(all, p, 100);
    return { ok: true, channels: page.map((c) => this.renderChannel(c)), response_metadata: { next_cursor: next } };
  }

  private renderChannel(c: FakeSlackChannel): Record<string, unknown> {
    return {
      id: c.id,
      name: c.name,
      is_channel: !c.is_private,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: !!c.is_private,
      created: c.created ?? 0,
      is_archived: !!c.is_archived,
      is_general: c.name === 'general',
      unlinked: 0,
      name_normalized: c.name,
      is_shared: false,
      is_ext_shared: false,
      is_org_shared: false,
      pending_shared: [],
      is_pending_ext_shared: false,
      is_member: !!c.member,
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      previous_names: [],
      num_members: 3,
    };
  }

  private renderUser(u: FakeSlackUser): Record<string, unknown> {
    return {
      id: u.id,
      team_id: u.team_id ?? 'T0TEST',
      name: u.name,
      deleted: false,
      real_name: u.real_name ?? u.name,
      tz: 'Europe/Berlin',
      tz_offset: 3600,
      is_bot: !!u.is_bot,
      is_app_user: false,
      updated: 1700000000,
      profile: {
        real_name: u.real_name ?? u.name,
        real_name_normalized: u.real_name ?? u.name,
        display_name: u.display_name ?? '',
        display_name_normalized: u.display_name ?? '',
        ...(u.email && this.emailScope ? { email: u.email } : {}),
        ...(u.bot_id ? { bot_id: u.bot_id } : {}),
        avatar_hash: 'g000000000',
        team: u.team_id ?? 'T0TEST',
      },
    };
  }

  /** A message as history/replies serve it: thread keys computed, deleted parents as tombstones. */
  private render(channel: string, m: FakeSlackMessage): Record<string, unknown> {
    const { deleted: _deleted, ...rest } = m;
    const out: Record<string, unknown> = { ...structuredClone(rest), ...this.teamKeys(m) };
    const replies = this.list(channel).filter((r) => r.thread_ts === m.ts && r.ts !== m.ts && !r.deleted);
    if (replies.length) {
      const users = [...new Set(replies.map((r) => r.user ?? r.bot_id ?? ''))];
      Object.assign(out, {
        thread_ts: m.ts,
        reply_count: replies.length,
        reply_users_count: users.length,
        reply_users: users,
        latest_reply: replies[replies.length - 1]!.ts,
        is_locked: false,
        subscribed: false,
      });
    }
    if (m.thread_ts && m.thread_ts !== m.ts) {
      const parent = this.list(channel).find((x) => x.ts === m.thread_ts);
      if (parent?.user) out.parent_user_id = parent.user;
    }
    if (m.deleted)
      return {
        type: 'message',
        subtype: 'tombstone',
        user: 'USLACKBOT',
        hidden: true,
        text: 'This message was deleted.',
        ts: m.ts,
        ...(out.thread_ts ? { thread_ts: out.thread_ts, reply_count: out.reply_count, reply_users: out.reply_users, reply_users_count: out.reply_users_count, latest_reply: out.latest_reply } : {}),
      };
    return out;
  }

  private limitOf(p: Record<string, string>, dflt: number): number {
    let limit = p.limit ? Number(p.limit) : dflt;
    if (!Number.isFinite(limit) || limit <= 0) limit = dflt;
    limit = Math.min(limit, 999);
    if (this.mode === 'nonmarketplace') limit = Math.min(limit, 15);
    return limit;
  }

  private inWindow(ts: string, p: Record<string, string>): boolean {
    const inclusive = p.inclusive === 'true' || p.inclusive === '1';
    if (p.oldest !== undefined && !isTs(p.oldest)) throw new SlackFakeError('invalid_ts_oldest');
    if (p.latest !== undefined && p.latest !== '' && !isTs(p.latest)) throw new SlackFakeError('invalid_ts_latest');
    const oldest = p.oldest ?? '0';
    if (inclusive ? cmp(ts, oldest) < 0 : cmp(ts, oldest) <= 0) return false;
    if (p.latest) {
      if (inclusive ? cmp(ts, p.latest) > 0 : cmp(ts, p.latest) >= 0) return false;
    }
    return true;
  }

  private history(p: Record<string, string>): Record<string, unknown> {
    const ch = this.readable(p.channel);
    const limit = this.limitOf(p, 100);
    const all = this.list(ch.id);
    const hasLiveReplies = (m: FakeSlackMessage) => all.some((r) => r.thread_ts === m.ts && r.ts !== m.ts && !r.deleted);
    // Top level: plain messages, thread parents and broadcasts; ordinary replies only through replies.
    let top = all.filter((m) => (!m.thread_ts || m.thread_ts === m.ts || m.subtype === 'thread_broadcast') && (!m.deleted || hasLiveReplies(m)) && this.inWindow(m.ts, p));
    top = top.sort((a, b) => cmp(b.ts, a.ts));
    if (p.cursor) {
      const dec = unb64(p.cursor);
      if (!dec.startsWith('next_ts:')) throw new SlackFakeError('invalid_cursor');
      const from = dec.slice(8);
      top = top.filter((m) => cmp(m.ts, from) <= 0);
    }
    const page = top.slice(0, limit);
    const rest = top.slice(limit);
    const out: Record<string, unknown> = {
      ok: true,
      messages: page.map((m) => this.render(ch.id, m)),
      has_more: rest.length > 0,
      pin_count: 0,
      channel_actions_ts: null,
      channel_actions_count: 0,
      response_metadata: { next_cursor: rest.length ? b64(`next_ts:${rest[0]!.ts}`) : '' },
    };
    if (p.latest) out.latest = p.latest;
    return out;
  }

  private replies(p: Record<string, string>): Record<string, unknown> {
    const ch = this.readable(p.channel);
    if (!isTs(p.ts)) throw new SlackFakeError('invalid_arguments');
    const all = this.list(ch.id);
    const hit = all.find((m) => m.ts === p.ts);
    if (!hit) throw new SlackFakeError('thread_not_found');
    const rootTs = hit.thread_ts ?? hit.ts;
    const root = all.find((m) => m.ts === rootTs);
    const replies = all.filter((m) => m.thread_ts === rootTs && m.ts !== rootTs && !m.deleted && this.inWindow(m.ts, p));
    if (!root || (root.deleted && replies.length === 0)) throw new SlackFakeError('thread_not_found');
    let list: FakeSlackMessage[] = [root, ...replies];
    if (p.cursor) {
      const dec = unb64(p.cursor);
      if (!dec.startsWith('next_ts:')) throw new SlackFakeError('invalid_cursor');
      const from = dec.slice(8);
      list = replies.filter((m) => cmp(m.ts, from) >= 0);
    }
    const limit = Math.min(this.limitOf(p, 1000), this.repliesPageSize ?? Infinity);
    const page = list.slice(0, limit);
    const rest = list.slice(limit);
    return { ok: true, messages: page.map((m) => this.render(ch.id, m)), has_more: rest.length > 0, response_metadata: { next_cursor: rest.length ? b64(`next_ts:${rest[0]!.ts}`) : '' } };
  }
}

class SlackFakeError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

function neededScope(method: string): string {
  if (method.startsWith('users.')) return 'users:read';
  if (method === 'conversations.list') return 'channels:read';
  return 'channels:history';
}

/** Offset paging for lists (Slack's cursors are opaque; this one is base64 `offset:<n>`). */
function pageOf<T>(all: T[], p: Record<string, string>, dflt: number): { page: T[]; next: string } {
  const start = p.cursor ? Number(unb64(p.cursor).replace(/^offset:/, '')) : 0;
  const limit = p.limit ? Math.max(1, Number(p.limit)) : dflt;
  const page = all.slice(start, start + limit);
  return { page, next: start + limit < all.length ? b64(`offset:${start + limit}`) : '' };
}
