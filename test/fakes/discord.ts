// A local fake Discord, faithful to shared/PLATFORMS.md section 2: REST `/api/v10/...` with `Authorization: Bot <t>`,
// rate-limit headers on every answer and programmable 429s, 401/403/404 error bodies, and a gateway on the same
// port that speaks the real protocol (HELLO, IDENTIFY -> READY/GUILD_CREATE, heartbeats, sequenced dispatches,
// RESUME -> replay + RESUMED, op 7 reconnect, op 9 invalid session). It records what it received.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeControl } from '../contract/connector-contract.js';

export const DISCORD_EPOCH_MS = 1420070400000;
const INTENT_GUILDS = 1 << 0;
const INTENT_GUILD_MESSAGES = 1 << 9;
const INTENT_MESSAGE_CONTENT = 1 << 15;

export interface FakeUser {
  id: string;
  username: string;
  global_name?: string | null;
  bot?: boolean;
}

export interface FakeTag {
  id: string;
  name: string;
}

export interface FakeChannel {
  id: string;
  type: number;
  guild_id: string;
  name: string;
  position: number;
  parent_id: string | null;
  last_message_id: string | null;
  topic?: string | null;
  available_tags?: FakeTag[];
  applied_tags?: string[];
  owner_id?: string;
  thread_metadata?: { archived: boolean; auto_archive_duration: number; archive_timestamp: string; locked: boolean; create_timestamp: string };
  message_count?: number;
  member_count?: number;
  total_message_sent?: number;
}

/** A message as the REST API returns it (snake_case, snowflakes as strings). */
export type FakeMessage = Record<string, unknown> & { id: string; channel_id: string; content: string; author: FakeUser };

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Whether `Authorization: Bot <token>` was exactly right (the token itself is not recorded). */
  authorized: boolean;
  status: number;
}

export interface PostOptions {
  author: FakeUser;
  content: string;
  /** Message type (0 default, 19 reply, 7 join, 6 pin notice, ...). */
  type?: number;
  replyTo?: string;
  reactions?: Record<string, number>;
  attachments?: Array<{ filename: string; size: number; content_type?: string }>;
  embeds?: Array<Record<string, unknown>>;
  webhookId?: string;
  /** Fixed time (ms) instead of the fake clock's next tick. */
  at?: number;
  /** Same millisecond as the previous message (a higher increment in the snowflake). */
  sameMs?: boolean;
  /** An explicit id (a forum post's first message has the thread's id). */
  id?: string;
}

interface Session {
  id: string;
  seq: number;
  intents: number;
  socket: WebSocket | null;
  buffer: Array<{ op: 0; t: string; s: number; d: unknown }>;
  alive: boolean;
}

export interface FakeDiscordOptions {
  token?: string;
  /** Fake clock start (ms); every post advances it by `stepMs`. */
  startMs?: number;
  stepMs?: number;
  /** Requests per bucket per window, and the window (ms). */
  bucketLimit?: number;
  bucketWindowMs?: number;
  heartbeatIntervalMs?: number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000+00:00');
}

export function snowflakeAt(ms: number, increment = 0): string {
  return (((BigInt(ms) - BigInt(DISCORD_EPOCH_MS)) << 22n) | (1n << 17n) | BigInt(increment & 0xfff)).toString();
}

const cmp = (a: string, b: string): number => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

export class FakeDiscord implements FakeControl {
  readonly token: string;
  readonly guild: { id: string; name: string };
  readonly channels = new Map<string, FakeChannel>();
  readonly messages = new Map<string, FakeMessage[]>();
  readonly users = new Map<string, FakeUser>();
  readonly roles: Array<{ id: string; name: string; position: number }> = [];
  /** Guild members' role ids by user id (every added user is a member; `leave` removes one). */
  readonly memberRoles = new Map<string, string[]>();
  readonly requests: RecordedRequest[] = [];
  /** Every gateway payload received, in order (IDENTIFY/RESUME carry the token: do not print them). */
  readonly gatewayReceived: Array<{ op: number; d: unknown }> = [];
  readonly gatewayConnections: Array<{ query: string }> = [];
  readonly bot: FakeUser;
  readonly human: FakeUser;
  /** The fake world's clock (ms). Tests hand it to the connector as `now`. */
  clock: number;
  stepMs: number;
  heartbeatIntervalMs: number;
  bucketLimit: number;
  bucketWindowMs: number;
  /** Without the MESSAGE_CONTENT intent, content/embeds/attachments/components read empty. */
  contentIntent = true;
  /** On RESUME, replay the dispatches the client missed (Discord does); off to prove the catch-up pull. */
  replayOnResume = true;
  private authRevoked = false;
  /** Messages created over REST (POST /channels/{id}/messages), with what the client asked for. */
  readonly created: Array<{ channelId: string; body: Record<string, unknown>; message: FakeMessage; repeat: boolean }> = [];
  /** The next POST stores its message and then drops the connection without answering (a lost reply). */
  dropNextPostReply = false;
  private readonly nonces = new Map<string, { id: string; at: number }>();
  private readonly forbidden = new Set<string>();
  private readonly pending429: Array<{ seconds: number; global: boolean }> = [];
  private readonly buckets = new Map<string, { count: number; resetAt: number }>();
  private readonly incrementAt = new Map<number, number>();
  private readonly sessions = new Map<string, Session>();
  private server!: Server;
  private wss!: WebSocketServer;
  private port = 0;
  private sessionCounter = 0;
  private idCounter = 0;

  private constructor(opts: FakeDiscordOptions) {
    this.token = opts.token ?? 'fake-bot-token.XYZ';
    this.clock = opts.startMs ?? Date.parse('2026-10-05T09:00:00Z');
    this.stepMs = opts.stepMs ?? 1000;
    this.bucketLimit = opts.bucketLimit ?? 50;
    this.bucketWindowMs = opts.bucketWindowMs ?? 1000;
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 41_250;
    this.guild = { id: this.newId(Date.parse('2020-01-01T00:00:00Z')), name: 'Lumen' };
    this.bot = this.addUser({ id: this.newId(Date.parse('2020-01-02T00:00:00Z')), username: 'gleaner', bot: true });
    this.human = this.addUser({ id: '300000000000000002', username: 'ana_s', global_name: 'Ana Souza' });
  }

  static async start(opts: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(opts);
    await fake.listen();
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  private async listen(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname !== '/gateway') return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onGateway(ws, u.search));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------------------------------------------
  // The world.

  private newId(ms?: number): string {
    const t = ms ?? Date.parse('2019-06-01T00:00:00Z') + this.idCounter * 1000;
    return snowflakeAt(t, this.idCounter++);
  }

  addUser(u: FakeUser, roles: string[] = []): FakeUser {
    const user = { global_name: null, ...u };
    this.users.set(user.id, user);
    this.memberRoles.set(user.id, [...roles]);
    return user;
  }

  /** Gives or takes roles (ids); the member object and later gateway messages carry the new list. */
  setRoles(userId: string, roles: string[]): void {
    this.memberRoles.set(userId, [...roles]);
  }

  /** The user leaves the guild: GET member answers 10007 Unknown Member. */
  leave(userId: string): void {
    this.memberRoles.delete(userId);
  }

  /** The guild member object without `user`, as MESSAGE_CREATE/UPDATE carry it (docs: gateway-events). */
  private memberOf(userId: string): Record<string, unknown> | null {
    const roles = this.memberRoles.get(userId);
    if (!roles) return null;
    return { roles: [...roles], nick: null, avatar: null, joined_at: '2024-01-01T00:00:00.000000+00:00', premium_since: null, deaf: false, mute: false, flags: 0, pending: false };
  }

  /** Gateway message payloads: guild id, and the author's member for a guild member (not for webhooks). */
  private gatewayMessage(m: FakeMessage): Record<string, unknown> {
    const member = m.webhook_id ? null : this.memberOf(m.author.id);
    return { ...m, guild_id: this.guild.id, ...(member ? { member } : {}) };
  }

  addRole(name: string): string {
    const id = this.newId();
    this.roles.push({ id, name, position: this.roles.length + 1 });
    return id;
  }

  addChannel(name: string, type = 0, opts: { tags?: string[]; topic?: string } = {}): FakeChannel {
    const ch: FakeChannel = { id: this.newId(), type, guild_id: this.guild.id, name, position: this.channels.size, parent_id: null, last_message_id: null, topic: opts.topic ?? null };
    if (type === 15) ch.available_tags = (opts.tags ?? []).map((n) => ({ id: this.newId(), name: n, moderated: false, emoji_id: null, emoji_name: null }));
    this.channels.set(ch.id, ch);
    this.messages.set(ch.id, []);
    this.dispatch('CHANNEL_CREATE', ch, INTENT_GUILDS);
    return ch;
  }

  /** The first text channel (the contract's channel); made on first use. */
  firstTextChannel(): FakeChannel {
    for (const c of this.channels.values()) if (c.type === 0) return c;
    return this.addChannel('general');
  }

  private tick(opts: { at?: number; sameMs?: boolean }): { ms: number; inc: number } {
    if (opts.at !== undefined) this.clock = Math.max(this.clock, opts.at);
    else if (!opts.sameMs) this.clock += this.stepMs;
    const ms = opts.at ?? this.clock;
    const inc = this.incrementAt.get(ms) ?? 0;
    this.incrementAt.set(ms, inc + 1);
    return { ms, inc };
  }

  post(channelId: string, o: PostOptions): FakeMessage {
    const ch = this.channels.get(channelId);
    if (!ch) throw new Error(`fake discord: no channel ${channelId}`);
    const { ms, inc } = this.tick(o);
    const id = o.id ?? snowflakeAt(ms, inc);
    const mentions = [...o.content.matchAll(/<@!?(\d+)>/g)].map((m) => this.users.get(m[1]!)).filter((u): u is FakeUser => !!u);
    const msg: FakeMessage = {
      id,
      channel_id: channelId,
      type: o.type ?? (o.replyTo ? 19 : 0),
      content: o.content,
      author: { id: o.author.id, username: o.author.username, discriminator: '0', global_name: o.author.global_name ?? null, avatar: null, ...(o.author.bot ? { bot: true } : {}) } as FakeUser,
      timestamp: iso(ms),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: mentions.map((u) => ({ id: u.id, username: u.username, discriminator: '0', global_name: u.global_name ?? null, avatar: null })),
      mention_roles: [],
      attachments: (o.attachments ?? []).map((a) => ({
        id: this.newId(),
        filename: a.filename,
        size: a.size,
        content_type: a.content_type ?? null,
        url: `https://cdn.discordapp.com/attachments/${channelId}/${id}/${a.filename}`,
        proxy_url: `https://media.discordapp.net/attachments/${channelId}/${id}/${a.filename}`,
      })),
      embeds: o.embeds ?? [],
      pinned: false,
      flags: 0,
      components: [],
    };
    if (o.webhookId) msg.webhook_id = o.webhookId;
    if (o.reactions) msg.reactions = Object.entries(o.reactions).map(([name, count]) => reactionOf(name, count));
    if (o.replyTo) {
      msg.message_reference = { type: 0, message_id: o.replyTo, channel_id: channelId, guild_id: this.guild.id };
      msg.referenced_message = this.find(channelId, o.replyTo) ?? null;
    }
    const list = this.messages.get(channelId)!;
    list.push(msg);
    list.sort((a, b) => cmp(a.id, b.id));
    if (!ch.last_message_id || cmp(id, ch.last_message_id) > 0) ch.last_message_id = id;
    if (ch.thread_metadata) {
      ch.message_count = (ch.message_count ?? 0) + 1;
      ch.total_message_sent = (ch.total_message_sent ?? 0) + 1;
    }
    this.dispatch('MESSAGE_CREATE', this.gatewayMessage(msg), INTENT_GUILD_MESSAGES);
    return msg;
  }

  find(channelId: string, id: string): FakeMessage | undefined {
    return this.messages.get(channelId)?.find((m) => m.id === id);
  }

  edit(channelId: string, id: string, content: string): FakeMessage {
    const m = this.find(channelId, id);
    if (!m) throw new Error(`fake discord: no message ${id}`);
    this.clock += this.stepMs;
    m.content = content;
    m.edited_timestamp = iso(this.clock);
    this.dispatch('MESSAGE_UPDATE', this.gatewayMessage(m), INTENT_GUILD_MESSAGES);
    return m;
  }

  react(channelId: string, id: string, emoji: string, count = 1): void {
    const m = this.find(channelId, id);
    if (!m) throw new Error(`fake discord: no message ${id}`);
    const rs = ((m.reactions as Array<ReturnType<typeof reactionOf>> | undefined) ??= []);
    const r = rs.find((x) => x.emoji.name === emoji);
    if (r) r.count += count;
    else rs.push(reactionOf(emoji, count));
  }

  remove(channelId: string, id: string): void {
    const list = this.messages.get(channelId) ?? [];
    const i = list.findIndex((m) => m.id === id);
    if (i < 0) throw new Error(`fake discord: no message ${id}`);
    list.splice(i, 1);
    this.dispatch('MESSAGE_DELETE', { id, channel_id: channelId, guild_id: this.guild.id }, INTENT_GUILD_MESSAGES);
  }

  /** A thread under a text channel (from a message: same id) or a forum post (with its first message). */
  createThread(
    parentId: string,
    o: { name: string; fromMessage?: string; author?: FakeUser; content?: string; tags?: string[]; archived?: boolean },
  ): { thread: FakeChannel; first: FakeMessage | null } {
    const parent = this.channels.get(parentId);
    if (!parent) throw new Error(`fake discord: no channel ${parentId}`);
    const author = o.author ?? this.human;
    let id: string;
    if (o.fromMessage) id = o.fromMessage;
    else {
      const { ms, inc } = this.tick({});
      id = snowflakeAt(ms, inc);
    }
    const tagIds = (o.tags ?? []).map((n) => {
      const t = parent.available_tags?.find((x) => x.name === n);
      if (!t) throw new Error(`fake discord: forum ${parent.name} has no tag ${n}`);
      return t.id;
    });
    const created = iso(Number(BigInt(id) >> 22n) + DISCORD_EPOCH_MS);
    const thread: FakeChannel = {
      id,
      type: 11,
      guild_id: this.guild.id,
      name: o.name,
      position: 0,
      parent_id: parentId,
      last_message_id: null,
      owner_id: author.id,
      applied_tags: tagIds,
      thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: created, locked: false, create_timestamp: created },
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
    };
    this.channels.set(id, thread);
    this.messages.set(id, []);
    if (o.fromMessage) {
      const starter = this.find(parentId, o.fromMessage);
      if (starter) {
        starter.thread = thread;
        starter.flags = ((starter.flags as number) ?? 0) | (1 << 5);
      }
    } else if (parent.type === 0) {
      // A thread not started from a message leaves a THREAD_CREATED notice in the parent.
      const notice = this.post(parentId, { author, content: o.name, type: 18 });
      notice.message_reference = { channel_id: id, guild_id: this.guild.id };
    }
    this.dispatch('THREAD_CREATE', { ...thread, newly_created: true }, INTENT_GUILDS);
    let first: FakeMessage | null = null;
    if (parent.type === 15 || parent.type === 16) first = this.post(id, { author, content: o.content ?? '', id, at: Number(BigInt(id) >> 22n) + DISCORD_EPOCH_MS, sameMs: true });
    if (o.archived) this.archive(id);
    return { thread, first };
  }

  archive(threadId: string): void {
    const t = this.channels.get(threadId);
    if (!t?.thread_metadata) throw new Error(`fake discord: ${threadId} is not a thread`);
    this.clock += this.stepMs;
    t.thread_metadata = { ...t.thread_metadata, archived: true, archive_timestamp: iso(this.clock) };
    this.dispatch('THREAD_UPDATE', t, INTENT_GUILDS);
  }

  // ------------------------------------------------------------------------------------------------------
  // FakeControl and knobs.

  addMessages(count: number, opts: { sameTimestamp?: boolean } = {}): string[] {
    const ch = this.firstTextChannel();
    const ids: string[] = [];
    if (opts.sameTimestamp) this.clock += this.stepMs;
    for (let i = 0; i < count; i++) ids.push(this.post(ch.id, { author: this.human, content: `message ${this.idCounter++}`, sameMs: opts.sameTimestamp }).id);
    return ids;
  }

  /** The next `/messages` request answers 429 (per-route `user` scope, or the global limit). */
  rateLimitNext(retryAfterSeconds: number, opts: { global?: boolean } = {}): void {
    this.pending429.push({ seconds: retryAfterSeconds, global: opts.global ?? false });
  }

  revokeAuth(): void {
    this.authRevoked = true;
  }

  restoreAuth(): void {
    this.authRevoked = false;
  }

  /** The bot loses View Channel on this channel: 403 Missing Access (50001). */
  denyAccess(channelId: string): void {
    this.forbidden.add(channelId);
  }

  allowAccess(channelId: string): void {
    this.forbidden.delete(channelId);
  }

  // ------------------------------------------------------------------------------------------------------
  // REST.

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text).toString(), ...headers });
    res.end(text);
  }

  private bucketHeaders(template: string, major: string): { headers: Record<string, string>; exceeded: boolean } {
    const key = `${template}:${major}`;
    const now = Date.now();
    let b = this.buckets.get(key);
    if (!b || b.resetAt <= now) {
      b = { count: 0, resetAt: now + this.bucketWindowMs };
      this.buckets.set(key, b);
    }
    b.count++;
    const remaining = Math.max(0, this.bucketLimit - b.count);
    const resetAfter = (b.resetAt - now) / 1000;
    return {
      exceeded: b.count > this.bucketLimit,
      headers: {
        'X-RateLimit-Limit': String(this.bucketLimit),
        'X-RateLimit-Remaining': String(remaining),
        'X-RateLimit-Reset': (b.resetAt / 1000).toFixed(3),
        'X-RateLimit-Reset-After': resetAfter.toFixed(3),
        'X-RateLimit-Bucket': createHash('sha1').update(template).digest('hex').slice(0, 16),
      },
    };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(u.searchParams.entries());
    const method = req.method ?? 'GET';
    const authorized = !this.authRevoked && req.headers.authorization === `Bot ${this.token}`;
    const rec: RecordedRequest = { method, path: u.pathname, query, authorized, status: 0 };
    this.requests.push(rec);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      rec.status = status;
      this.send(res, status, body, headers);
    };
    const m = /^\/api\/v10(\/.*)$/.exec(u.pathname);
    if (!m) return reply(404, { message: '404: Not Found', code: 0 });
    const path = m[1]!;
    if (!authorized) return reply(401, { message: '401: Unauthorized', code: 0 });
    const create = /^\/channels\/(\d+)\/messages$/.exec(path);
    if (create && method === 'POST') {
      void this.createMessage(req, res, create[1]!, reply);
      return;
    }
    if (method !== 'GET') return reply(405, { message: '405: Method Not Allowed', code: 0 });

    const route = routeOf(path);
    if (!route) return reply(404, { message: '404: Not Found', code: 0 });
    const { headers, exceeded } = this.bucketHeaders(route.template, route.major);
    if (route.template.endsWith('/messages') && this.pending429.length) {
      const rl = this.pending429.shift()!;
      const h: Record<string, string> = rl.global
        ? { 'Retry-After': String(Math.ceil(rl.seconds)), 'X-RateLimit-Global': 'true', 'X-RateLimit-Scope': 'global' }
        : {
            ...headers,
            'Retry-After': String(Math.ceil(rl.seconds)),
            'X-RateLimit-Remaining': '0',
            'X-RateLimit-Reset-After': rl.seconds.toFixed(3),
            'X-RateLimit-Reset': ((Date.now() + rl.seconds * 1000) / 1000).toFixed(3),
            'X-RateLimit-Scope': 'user',
          };
      return reply(429, { message: 'You are being rate limited.', retry_after: rl.seconds, global: rl.global }, h);
    }
    if (exceeded) {
      const after = Number(headers['X-RateLimit-Reset-After']);
      return reply(
        429,
        { message: 'You are being rate limited.', retry_after: after, global: false },
        { ...headers, 'Retry-After': String(Math.max(1, Math.ceil(after))), 'X-RateLimit-Scope': 'user' },
      );
    }
    const out = this.route(route, query);
    reply(out.status, out.body, headers);
  }

  private route(r: NonNullable<ReturnType<typeof routeOf>>, q: Record<string, string>): { status: number; body: unknown } {
    const ok = (body: unknown) => ({ status: 200, body });
    const missingAccess = { status: 403, body: { message: 'Missing Access', code: 50001 } };
    const unknownChannel = { status: 404, body: { message: 'Unknown Channel', code: 10003 } };
    const unknownGuild = { status: 404, body: { message: 'Unknown Guild', code: 10004 } };
    const p = r.params;
    switch (r.template) {
      case '/gateway/bot':
        return ok({ url: this.gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 } });
      case '/users/@me':
        return ok({ ...this.bot, discriminator: '0', avatar: null, verified: true, flags: 0 });
      case '/users/@me/guilds':
        return ok([{ id: this.guild.id, name: this.guild.name, icon: null, owner: false, permissions: '0', features: [] }]);
      case '/guilds/:id':
        return p.id === this.guild.id ? ok({ id: this.guild.id, name: this.guild.name, icon: null, owner_id: this.human.id, roles: this.roles, features: [] }) : unknownGuild;
      case '/guilds/:id/channels':
        return p.id === this.guild.id ? ok([...this.channels.values()].filter((c) => !c.thread_metadata)) : unknownGuild;
      case '/guilds/:id/members/:uid': {
        if (p.id !== this.guild.id) return unknownGuild;
        const user = this.users.get(p.uid!);
        const member = this.memberOf(p.uid!);
        if (!user) return { status: 404, body: { message: 'Unknown User', code: 10013 } };
        if (!member) return { status: 404, body: { message: 'Unknown Member', code: 10007 } };
        return ok({ user: { id: user.id, username: user.username, discriminator: '0', global_name: user.global_name ?? null, avatar: null, ...(user.bot ? { bot: true } : {}) }, ...member });
      }
      case '/guilds/:id/roles':
        return p.id === this.guild.id ? ok([{ id: this.guild.id, name: '@everyone', position: 0 }, ...this.roles]) : unknownGuild;
      case '/guilds/:id/threads/active': {
        if (p.id !== this.guild.id) return unknownGuild;
        const threads = [...this.channels.values()].filter((c) => c.thread_metadata && !c.thread_metadata.archived && !this.forbidden.has(c.parent_id ?? '')).sort((a, b) => cmp(b.id, a.id));
        return ok({ threads, members: [] });
      }
      case '/channels/:id': {
        const ch = this.channels.get(p.id!);
        if (!ch) return unknownChannel;
        if (this.denied(ch)) return missingAccess;
        return ok(ch);
      }
      case '/channels/:id/threads/archived/public': {
        const ch = this.channels.get(p.id!);
        if (!ch) return unknownChannel;
        if (this.denied(ch)) return missingAccess;
        const limit = clampLimit(q.limit, 50);
        if (limit === null) return { status: 400, body: { message: 'Invalid Form Body', code: 50035 } };
        const before = q.before ? Date.parse(q.before) : Infinity;
        const all = [...this.channels.values()]
          .filter((c) => c.parent_id === ch.id && c.thread_metadata?.archived && Date.parse(c.thread_metadata.archive_timestamp) < before)
          .sort((a, b) => Date.parse(b.thread_metadata!.archive_timestamp) - Date.parse(a.thread_metadata!.archive_timestamp));
        return ok({ threads: all.slice(0, limit), members: [], has_more: all.length > limit });
      }
      case '/channels/:id/messages': {
        const ch = this.channels.get(p.id!);
        if (!ch) return unknownChannel;
        if (this.denied(ch)) return missingAccess;
        const limit = clampLimit(q.limit, 50);
        const anchors = ['before', 'after', 'around'].filter((k) => q[k] !== undefined);
        if (limit === null || anchors.length > 1) return { status: 400, body: { message: 'Invalid Form Body', code: 50035 } };
        const list = this.messages.get(ch.id) ?? [];
        let page: FakeMessage[];
        if (q.after !== undefined) page = list.filter((m) => cmp(m.id, q.after!) > 0).slice(0, limit);
        else if (q.around !== undefined) {
          const i = Math.max(
            0,
            list.findIndex((m) => cmp(m.id, q.around!) >= 0),
          );
          page = list.slice(Math.max(0, i - Math.floor(limit / 2)), Math.max(0, i - Math.floor(limit / 2)) + limit);
        } else {
          const older = q.before !== undefined ? list.filter((m) => cmp(m.id, q.before!) < 0) : list;
          page = older.slice(Math.max(0, older.length - limit));
        }
        // Newest first, whatever the anchor (PLATFORMS.md 2.3).
        return ok([...page].reverse().map((m) => this.visible(m)));
      }
      case '/channels/:id/messages/:mid': {
        const ch = this.channels.get(p.id!);
        if (!ch) return unknownChannel;
        if (this.denied(ch)) return missingAccess;
        const msg = this.find(ch.id, p.mid!);
        return msg ? ok(this.visible(msg)) : { status: 404, body: { message: 'Unknown Message', code: 10008 } };
      }
      default:
        return { status: 404, body: { message: '404: Not Found', code: 0 } };
    }
  }

  /**
   * POST /channels/{id}/messages (Discord API docs; not in PLATFORMS.md): content (at most 2000), embeds (at
   * most 10), message_reference (a reply), allowed_mentions, and nonce with enforce_nonce (a repeat within
   * a few minutes answers the first message).
   */
  private async createMessage(req: IncomingMessage, res: ServerResponse, channelId: string, reply: (status: number, body: unknown) => void): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return reply(400, { message: '400: Bad Request', code: 50109 });
    }
    const ch = this.channels.get(channelId);
    if (!ch) return reply(404, { message: 'Unknown Channel', code: 10003 });
    if (this.denied(ch)) return reply(403, { message: 'Missing Access', code: 50001 });
    const content = typeof body.content === 'string' ? body.content : '';
    const embeds = Array.isArray(body.embeds) ? (body.embeds as Array<Record<string, unknown>>) : [];
    if ((!content && !embeds.length) || content.length > 2000 || embeds.length > 10) return reply(400, { message: 'Invalid Form Body', code: 50035 });
    const nonce = typeof body.nonce === 'string' ? body.nonce : null;
    if (nonce && body.enforce_nonce === true) {
      const seen = this.nonces.get(`${channelId}/${nonce}`);
      if (seen && Date.now() - seen.at < 5 * 60_000) {
        const first = this.find(channelId, seen.id)!;
        this.created.push({ channelId, body, message: first, repeat: true });
        return reply(200, first);
      }
    }
    const ref = body.message_reference as { message_id?: string; fail_if_not_exists?: boolean } | undefined;
    if (ref?.message_id && !this.find(channelId, ref.message_id) && ref.fail_if_not_exists !== false) return reply(400, { message: 'Invalid Form Body', code: 50035 });
    const message = this.post(channelId, { author: this.bot, content, embeds, ...(ref?.message_id && this.find(channelId, ref.message_id) ? { replyTo: ref.message_id } : {}) });
    if (nonce) {
      message.nonce = nonce;
      this.nonces.set(`${channelId}/${nonce}`, { id: message.id, at: Date.now() });
    }
    this.created.push({ channelId, body, message, repeat: false });
    if (this.dropNextPostReply) {
      this.dropNextPostReply = false;
      res.socket?.destroy();
      return;
    }
    reply(200, message);
  }

  private denied(ch: FakeChannel): boolean {
    return this.forbidden.has(ch.id) || (ch.parent_id !== null && this.forbidden.has(ch.parent_id));
  }

  /** What the bot sees of a message (the MESSAGE_CONTENT switch). */
  private visible(m: FakeMessage, contentIntent = this.contentIntent): FakeMessage {
    const mentionsBot = ((m.mentions as FakeUser[] | undefined) ?? []).some((u) => u.id === this.bot.id);
    if (contentIntent || m.author.id === this.bot.id || mentionsBot) return m;
    return { ...m, content: '', embeds: [], attachments: [], components: [] };
  }

  // ------------------------------------------------------------------------------------------------------
  // Gateway.

  private onGateway(ws: WebSocket, query: string): void {
    this.gatewayConnections.push({ query });
    let session: Session | null = null;
    const sendRaw = (p: unknown) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(p));
    sendRaw({ op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs }, s: null, t: null });
    ws.on('message', (data) => {
      let p: { op: number; d: unknown };
      try {
        p = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8')) as { op: number; d: unknown };
      } catch {
        ws.close(4002, 'Error while decoding payload.');
        return;
      }
      this.gatewayReceived.push(p);
      switch (p.op) {
        case 1:
          sendRaw({ op: 11, d: null, s: null, t: null });
          break;
        case 2: {
          const d = p.d as { token?: string; intents?: number };
          if (session) return ws.close(4005, 'Already authenticated.');
          if (this.authRevoked || d.token !== this.token) return ws.close(4004, 'Authentication failed.');
          session = { id: `session-${++this.sessionCounter}`, seq: 0, intents: d.intents ?? 0, socket: ws, buffer: [], alive: true };
          this.sessions.set(session.id, session);
          this.emit(session, 'READY', {
            v: 10,
            user: { ...this.bot, discriminator: '0', avatar: null },
            guilds: [{ id: this.guild.id, unavailable: true }],
            session_id: session.id,
            resume_gateway_url: this.gatewayUrl,
            shard: [0, 1],
            application: { id: this.bot.id, flags: 0 },
          });
          if (session.intents & INTENT_GUILDS) {
            const all = [...this.channels.values()];
            this.emit(session, 'GUILD_CREATE', {
              id: this.guild.id,
              name: this.guild.name,
              unavailable: false,
              channels: all.filter((c) => !c.thread_metadata),
              threads: all.filter((c) => c.thread_metadata && !c.thread_metadata.archived),
              roles: this.roles,
              member_count: this.users.size,
            });
          }
          break;
        }
        case 6: {
          const d = p.d as { token?: string; session_id?: string; seq?: number };
          const s = d.session_id ? this.sessions.get(d.session_id) : undefined;
          if (!s || !s.alive || this.authRevoked || d.token !== this.token) {
            sendRaw({ op: 9, d: false, s: null, t: null });
            break;
          }
          session = s;
          s.socket = ws;
          if (this.replayOnResume) for (const ev of s.buffer) if (ev.s > (d.seq ?? 0)) sendRaw(ev);
          this.emit(s, 'RESUMED', {});
          break;
        }
        default:
          break;
      }
    });
    ws.on('close', () => {
      if (session && session.socket === ws) session.socket = null;
    });
  }

  private emit(s: Session, t: string, d: unknown): void {
    const ev = { op: 0 as const, t, s: ++s.seq, d };
    s.buffer.push(ev);
    if (s.buffer.length > 1000) s.buffer.shift();
    if (s.socket && s.socket.readyState === s.socket.OPEN) s.socket.send(JSON.stringify(ev));
  }

  private dispatch(t: string, d: unknown, intent: number): void {
    for (const s of this.sessions.values()) {
      if (!s.alive || !(s.intents & intent)) continue;
      let payload = d;
      if (t.startsWith('MESSAGE_') && t !== 'MESSAGE_DELETE' && !(s.intents & INTENT_MESSAGE_CONTENT)) payload = this.visible(d as FakeMessage, false);
      this.emit(s, t, payload);
    }
  }

  /** Drops every gateway connection without a close frame (the client sees 1006 and resumes). */
  dropGateway(): void {
    for (const s of this.sessions.values()) s.socket = null;
    for (const c of this.wss.clients) c.terminate();
  }

  /** op 7: the server asks the client to reconnect and resume. */
  requestReconnect(): void {
    for (const c of this.wss.clients) c.send(JSON.stringify({ op: 7, d: null, s: null, t: null }));
  }

  /** op 9: the session is invalid; `resumable` false makes the client IDENTIFY afresh. */
  invalidateSession(resumable = false): void {
    for (const s of this.sessions.values()) {
      if (!resumable) s.alive = false;
      s.socket?.send(JSON.stringify({ op: 9, d: resumable, s: null, t: null }));
    }
  }

  /** Sessions with a live socket. */
  connectedSessions(): number {
    return [...this.sessions.values()].filter((s) => s.alive && s.socket !== null).length;
  }
}

function reactionOf(
  name: string,
  count: number,
): { count: number; count_details: { burst: number; normal: number }; me: boolean; me_burst: boolean; emoji: { id: string | null; name: string }; burst_colors: string[] } {
  const custom = /^:(\w+):(\d+)$/.exec(name);
  return { count, count_details: { burst: 0, normal: count }, me: false, me_burst: false, emoji: custom ? { id: custom[2]!, name: custom[1]! } : { id: null, name }, burst_colors: [] };
}

function clampLimit(raw: string | undefined, dflt: number): number | null {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= 100 ? n : null;
}

const ROUTES: Array<{ template: string; re: RegExp; names: string[] }> = [
  ['/gateway/bot', []],
  ['/users/@me', []],
  ['/users/@me/guilds', []],
  ['/guilds/:id', ['id']],
  ['/guilds/:id/channels', ['id']],
  ['/guilds/:id/roles', ['id']],
  ['/guilds/:id/members/:uid', ['id', 'uid']],
  ['/guilds/:id/threads/active', ['id']],
  ['/channels/:id', ['id']],
  ['/channels/:id/messages', ['id']],
  ['/channels/:id/messages/:mid', ['id', 'mid']],
  ['/channels/:id/threads/archived/public', ['id']],
].map(([template, names]) => ({
  template: template as string,
  names: names as string[],
  re: new RegExp(`^${(template as string).replace(/[@/]/g, (c) => `\\${c}`).replace(/:(\w+)/g, '(\\d+)')}$`),
}));

function routeOf(path: string): { template: string; major: string; params: Record<string, string> } | null {
  for (const r of ROUTES) {
    const m = r.re.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    r.names.forEach((n, i) => (params[n] = m[i + 1]!));
    return { template: r.template, major: params.id ?? 'global', params };
  }
  return null;
}
