// A small fake Matrix homeserver (client-server API) on 127.0.0.1, built from shared/PLATFORMS.md 3.2-3.6
// and 3.8: /versions, /login, /account/whoami, /joined_rooms, /directory/room/{alias}, /rooms/{id}/messages,
// /state, /state/{type}/{key}, /event/{id}, /members, /joined_members, /v1 relations and /sync (long-poll).
//
// Every event gets a global stream position (like Synapse's stream ordering); a token names a
// position p, which splits a room's timeline into events <= p and events > p. `dir=b` from p serves
// events <= p newest first, `dir=f` serves events > p oldest first; `end` is omitted when nothing is
// left that way. /sync's next_batch is the same kind of position, so it is a valid /messages token.
// Redactions strip the target's content and set `unsigned.redacted_because`; edits and threads are
// aggregated in `unsigned["m.relations"]` when served. Requests are recorded; 429s, revoked tokens
// and forbidden rooms are programmable.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeControl } from '../contract/connector-contract.js';

export interface FakeEvent {
  type: string;
  event_id: string;
  sender: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  room_id: string;
  state_key?: string;
  unsigned?: Record<string, unknown>;
}

interface Stored {
  ev: FakeEvent;
  stream: number;
}

interface FakeRoom {
  id: string;
  alias: string | null;
  events: Stored[];
  /** Requests for this room answer 403 M_FORBIDDEN (the user is not allowed to read it). */
  forbidden: boolean;
  /** Whether the fake's user is joined (listed in /joined_rooms). */
  joined: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  hasAuth: boolean;
}

export interface FakeMatrixOptions {
  userId?: string;
  accessToken?: string;
  serverName?: string;
  /** Time of the first event (ms); later events are one second apart unless told otherwise. */
  startTs?: number;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
};
const matrixError = (res: ServerResponse, status: number, errcode: string, error: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void =>
  json(res, status, { errcode, error, ...extra }, headers);

class HttpFail extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
  ) {
    super(message);
  }
}

export class FakeMatrixServer implements FakeControl {
  readonly userId: string;
  readonly accessToken: string;
  readonly serverName: string;
  readonly requests: RecordedRequest[] = [];
  url = '';
  private server: Server | null = null;
  private readonly rooms = new Map<string, FakeRoom>();
  private stream = 0;
  private clock: number;
  private idCounter = 0;
  private rateLimits: number[] = [];
  private revoked = false;
  /** Events sent by clients (PUT /rooms/{room}/send/{type}/{txnId}), by access token and transaction id: a repeat is the same event. */
  readonly sentByTxn = new Map<string, string>();
  /** Every send request, repeats included. */
  readonly sends: Array<{ roomId: string; type: string; txnId: string; content: Record<string, unknown>; eventId: string }> = [];
  /** The next send stores its event and then drops the connection without answering (a lost reply). */
  dropNextSendReply = false;
  private readonly changed = new EventEmitter();
  private readonly openResponses = new Set<ServerResponse>();
  /** The room `addMessages` writes to. */
  readonly mainRoom: string;
  /** Sender used by `addMessages`. */
  readonly defaultSender: string;

  constructor(opts: FakeMatrixOptions = {}) {
    this.serverName = opts.serverName ?? 'localhost';
    this.userId = opts.userId ?? `@gleaner:${this.serverName}`;
    this.accessToken = opts.accessToken ?? 'syt_Z2xlYW5lcg_fakeTokenValue_0000';
    this.clock = opts.startTs ?? Date.UTC(2026, 10, 9, 9, 0, 0);
    this.changed.setMaxListeners(100);
    this.defaultSender = `@alice:${this.serverName}`;
    this.mainRoom = this.createRoom({ alias: `#main:${this.serverName}`, name: 'Main', members: { [this.defaultSender]: 'Alice' } });
  }

  // ------------------------------------------------------------------ control

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.openResponses.add(res);
      res.on('close', () => this.openResponses.delete(res));
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) matrixError(res, 500, 'M_UNKNOWN', `fake failure: ${(err as Error).message}`);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const res of this.openResponses) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  /** Creates a room the user has joined, with its creation, name, members (display names) and optional encryption. */
  createRoom(opts: { id?: string; alias?: string; name?: string; members?: Record<string, string>; encrypted?: boolean; joined?: boolean } = {}): string {
    const id = opts.id ?? `!${this.opaque('room').slice(1, 19)}:${this.serverName}`;
    const room: FakeRoom = { id, alias: opts.alias ?? null, events: [], forbidden: false, joined: opts.joined ?? true };
    this.rooms.set(id, room);
    const creator = Object.keys(opts.members ?? {})[0] ?? this.userId;
    this.state(id, creator, 'm.room.create', '', { room_version: '11' });
    this.state(id, this.userId, 'm.room.member', this.userId, { membership: 'join', displayname: 'Gleaner' });
    for (const [user, displayname] of Object.entries(opts.members ?? {})) this.state(id, user, 'm.room.member', user, { membership: 'join', displayname });
    if (opts.name) this.state(id, creator, 'm.room.name', '', { name: opts.name });
    if (opts.alias) this.state(id, creator, 'm.room.canonical_alias', '', { alias: opts.alias });
    if (opts.encrypted) this.state(id, creator, 'm.room.encryption', '', { algorithm: 'm.megolm.v1.aes-sha2' });
    return id;
  }

  /** Requests for this room answer 403 M_FORBIDDEN from now on. */
  forbid(roomId: string): void {
    this.room(roomId).forbidden = true;
  }

  /** Appends any event; returns its id. */
  append(roomId: string, ev: { type: string; sender: string; content: Record<string, unknown>; state_key?: string; ts?: number }): string {
    const room = this.room(roomId);
    const ts = ev.ts ?? this.tick();
    const stored: FakeEvent = { type: ev.type, event_id: this.opaque(`${roomId}|${ev.type}`), sender: ev.sender, origin_server_ts: ts, content: structuredClone(ev.content), room_id: roomId };
    if (ev.state_key !== undefined) stored.state_key = ev.state_key;
    room.events.push({ ev: stored, stream: ++this.stream });
    this.changed.emit('event');
    return stored.event_id;
  }

  state(roomId: string, sender: string, type: string, stateKey: string, content: Record<string, unknown>): string {
    return this.append(roomId, { type, sender, content, state_key: stateKey });
  }

  /** An `m.room.message`; `extra` is merged into the content (relations, format, ...). */
  send(roomId: string, sender: string, body: string, extra: Record<string, unknown> = {}, ts?: number): string {
    return this.append(roomId, { type: 'm.room.message', sender, content: { msgtype: 'm.text', body, ...extra }, ts });
  }

  reply(roomId: string, sender: string, parentId: string, body: string, opts: { fallback?: boolean } = {}): string {
    const parent = this.find(roomId, parentId);
    const parentBody = typeof parent?.content.body === 'string' ? parent.content.body : '';
    const text = opts.fallback === false ? body : `> <${parent?.sender ?? '@unknown'}> ${parentBody.split('\n').join('\n> ')}\n\n${body}`;
    const extra: Record<string, unknown> = { 'm.relates_to': { 'm.in_reply_to': { event_id: parentId } } };
    if (opts.fallback !== false) {
      extra.format = 'org.matrix.custom.html';
      extra.formatted_body = `<mx-reply><blockquote><a href="https://matrix.to/#/${roomId}/${parentId}">In reply to</a> <a href="https://matrix.to/#/${parent?.sender ?? ''}">${parent?.sender ?? ''}</a><br />${parentBody}</blockquote></mx-reply>${body}`;
    }
    return this.send(roomId, sender, text, extra);
  }

  threadReply(roomId: string, sender: string, rootId: string, body: string): string {
    const latest = [...this.room(roomId).events].reverse().find((s) => s.ev.event_id === rootId || rel(s.ev)?.event_id === rootId)?.ev.event_id ?? rootId;
    return this.send(roomId, sender, body, { 'm.relates_to': { rel_type: 'm.thread', event_id: rootId, is_falling_back: true, 'm.in_reply_to': { event_id: latest } } });
  }

  edit(roomId: string, sender: string, targetId: string, newBody: string, ts?: number): string {
    return this.append(roomId, {
      type: 'm.room.message',
      sender,
      ts,
      content: { msgtype: 'm.text', body: `* ${newBody}`, 'm.new_content': { msgtype: 'm.text', body: newBody }, 'm.relates_to': { rel_type: 'm.replace', event_id: targetId } },
    });
  }

  react(roomId: string, sender: string, targetId: string, key: string): string {
    return this.append(roomId, { type: 'm.reaction', sender, content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: targetId, key } } });
  }

  /** A redaction (room v11 form: `content.redacts`); the target is stripped as the server does. */
  redact(roomId: string, sender: string, targetId: string, reason?: string): string {
    const content: Record<string, unknown> = { redacts: targetId };
    if (reason) content.reason = reason;
    const id = this.append(roomId, { type: 'm.room.redaction', sender, content });
    const target = this.find(roomId, targetId);
    const redaction = this.find(roomId, id)!;
    if (target) {
      // Redaction algorithm (v11): messages and reactions keep no content keys; membership keeps `membership`.
      target.content = target.type === 'm.room.member' ? { membership: target.content.membership } : {};
      target.unsigned = { ...target.unsigned, redacted_because: structuredClone(redaction) };
    }
    return id;
  }

  /** An undecryptable `m.room.encrypted` event (PLATFORMS.md 3.5). */
  sendEncrypted(roomId: string, sender: string): string {
    return this.append(roomId, {
      type: 'm.room.encrypted',
      sender,
      content: {
        algorithm: 'm.megolm.v1.aes-sha2',
        ciphertext: 'AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg',
        device_id: 'RJYKSTBOIE',
        sender_key: 'IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA',
        session_id: 'X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ',
      },
    });
  }

  addMessages(count: number, opts: { sameTimestamp?: boolean } = {}): string[] {
    const ts = opts.sameTimestamp ? this.tick() : undefined;
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(this.send(this.mainRoom, this.defaultSender, `message ${this.stream + 1}`, {}, ts));
    return ids;
  }

  rateLimitNext(retryAfterSeconds: number): void {
    this.rateLimits.push(retryAfterSeconds);
  }

  revokeAuth(): void {
    this.revoked = true;
  }

  countRequests(pathPart: string): number {
    return this.requests.filter((r) => r.path.includes(pathPart)).length;
  }

  // ------------------------------------------------------------------ internals

  private tick(): number {
    this.clock += 1000;
    return this.clock;
  }

  private opaque(seed: string): string {
    return `$${createHash('sha256').update(`${seed}|${++this.idCounter}`).digest('base64url')}`;
  }

  private room(roomId: string): FakeRoom {
    const r = this.rooms.get(roomId);
    if (!r) throw new Error(`fake: no room ${roomId}`);
    return r;
  }

  private find(roomId: string, eventId: string): FakeEvent | undefined {
    return this.rooms.get(roomId)?.events.find((s) => s.ev.event_id === eventId)?.ev;
  }

  /** The event as served: unsigned age, bundled edit and thread aggregations; room_id dropped for /sync. */
  private serve(room: FakeRoom, ev: FakeEvent, opts: { withoutRoomId?: boolean } = {}): Record<string, unknown> {
    const out: Record<string, unknown> = structuredClone(ev) as unknown as Record<string, unknown>;
    const unsigned: Record<string, unknown> = { ...(ev.unsigned ?? {}), age: Math.max(0, this.clock - ev.origin_server_ts) };
    if (!ev.unsigned?.redacted_because) {
      const relations: Record<string, unknown> = {};
      const edits = room.events.filter((s) => {
        const r = rel(s.ev);
        return r?.rel_type === 'm.replace' && r.event_id === ev.event_id && s.ev.sender === ev.sender && !s.ev.unsigned?.redacted_because;
      });
      const latest = edits.sort((a, b) => a.ev.origin_server_ts - b.ev.origin_server_ts || (a.ev.event_id < b.ev.event_id ? -1 : 1)).at(-1);
      if (latest) relations['m.replace'] = structuredClone(latest.ev);
      const thread = room.events.filter((s) => rel(s.ev)?.rel_type === 'm.thread' && rel(s.ev)?.event_id === ev.event_id && !s.ev.unsigned?.redacted_because);
      if (thread.length) {
        relations['m.thread'] = { latest_event: structuredClone(thread.at(-1)!.ev), count: thread.length, current_user_participated: thread.some((s) => s.ev.sender === this.userId) };
      }
      if (Object.keys(relations).length) unsigned['m.relations'] = relations;
    }
    out.unsigned = unsigned;
    if (opts.withoutRoomId) delete out.room_id;
    return out;
  }

  private currentState(room: FakeRoom): FakeEvent[] {
    const byKey = new Map<string, FakeEvent>();
    for (const s of room.events) if (s.ev.state_key !== undefined) byKey.set(`${s.ev.type}\u0000${s.ev.state_key}`, s.ev);
    return [...byKey.values()];
  }

  private parseToken(token: string): number {
    const m = /^[st](\d+)(?:[-_].*)?$/.exec(token);
    if (!m) throw new HttpFail(400, 'M_INVALID_PARAM', `Invalid pagination token: ${token}`);
    return Number(m[1]);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const path = url.pathname;
    const auth = req.headers.authorization;
    this.requests.push({ method: req.method ?? 'GET', path, query, hasAuth: Boolean(auth) });
    try {
      if (path === '/_matrix/client/versions') return json(res, 200, { versions: ['v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6', 'v1.7', 'v1.8', 'v1.9', 'v1.10', 'v1.11'], unstable_features: {} });
      if (path === '/_matrix/client/v3/login') {
        if (req.method === 'GET') return json(res, 200, { flows: [{ type: 'm.login.password' }] });
        return matrixError(res, 403, 'M_FORBIDDEN', 'Invalid username or password');
      }
      if (!auth) throw new HttpFail(401, 'M_MISSING_TOKEN', 'Missing access token');
      if (this.revoked || auth !== `Bearer ${this.accessToken}`) throw new HttpFail(401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token.');
      const send = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/([^/]+)\/([^/]+)$/.exec(path);
      if (send && req.method === 'PUT') return await this.sendEndpoint(req, res, decodeURIComponent(send[1]!), decodeURIComponent(send[2]!), decodeURIComponent(send[3]!), auth);
      if (req.method !== 'GET') throw new HttpFail(405, 'M_UNRECOGNIZED', 'Unrecognized request');

      if (path === '/_matrix/client/v3/account/whoami') return json(res, 200, { user_id: this.userId, device_id: 'GLEANERDEV', is_guest: false });
      if (path === '/_matrix/client/v3/joined_rooms') return json(res, 200, { joined_rooms: [...this.rooms.values()].filter((r) => r.joined).map((r) => r.id) });
      if (path === '/_matrix/client/v3/sync') return await this.sync(req, res, query);
      const alias = /^\/_matrix\/client\/v3\/directory\/room\/([^/]+)$/.exec(path);
      if (alias) {
        const name = decodeURIComponent(alias[1]!);
        const room = [...this.rooms.values()].find((r) => r.alias === name);
        if (!room) throw new HttpFail(404, 'M_NOT_FOUND', `Room alias ${name} not found`);
        return json(res, 200, { room_id: room.id, servers: [this.serverName] });
      }
      const rooms = /^\/_matrix\/client\/(v3|v1)\/rooms\/([^/]+)\/(.+)$/.exec(path);
      if (rooms) return this.roomEndpoint(res, rooms[1]!, decodeURIComponent(rooms[2]!), rooms[3]!.split('/').map(decodeURIComponent), query);
      throw new HttpFail(404, 'M_UNRECOGNIZED', 'Unrecognized request');
    } catch (err: unknown) {
      if (err instanceof HttpFail) return matrixError(res, err.status, err.errcode, err.message);
      throw err;
    }
  }

  /** PUT /rooms/{roomId}/send/{eventType}/{txnId} (client-server API; not in PLATFORMS.md): idempotent per access token and txnId. */
  private async sendEndpoint(req: IncomingMessage, res: ServerResponse, roomId: string, type: string, txnId: string, auth: string): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let content: Record<string, unknown>;
    try {
      content = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new HttpFail(400, 'M_NOT_JSON', 'Content not JSON.');
    }
    const room = this.rooms.get(roomId);
    if (!room || room.forbidden || !room.joined) throw new HttpFail(403, 'M_FORBIDDEN', `User ${this.userId} not in room ${roomId}`);
    const key = `${auth}\u0000${txnId}`;
    let eventId = this.sentByTxn.get(key);
    if (!eventId) {
      eventId = this.append(roomId, { type, sender: this.userId, content });
      this.sentByTxn.set(key, eventId);
    }
    this.sends.push({ roomId, type, txnId, content, eventId });
    if (this.dropNextSendReply) {
      this.dropNextSendReply = false;
      res.socket?.destroy();
      return;
    }
    json(res, 200, { event_id: eventId });
  }

  /** Events of a room as stored (for tests). */
  events(roomId: string): FakeEvent[] {
    return this.room(roomId).events.map((s) => s.ev);
  }

  /** A programmed 429 for a history or sync request. */
  private rateLimited(res: ServerResponse): boolean {
    const seconds = this.rateLimits.shift();
    if (seconds === undefined) return false;
    matrixError(res, 429, 'M_LIMIT_EXCEEDED', 'Too many requests', { retry_after_ms: seconds * 1000 }, { 'retry-after': String(seconds) });
    return true;
  }

  private roomEndpoint(res: ServerResponse, version: string, roomId: string, rest: string[], query: Record<string, string>): void {
    const room = this.rooms.get(roomId);
    if (!room || room.forbidden) throw new HttpFail(403, 'M_FORBIDDEN', "You aren't a member of the room.");
    const [what, a, b] = rest;
    if (version === 'v1' && what === 'relations' && a) return this.relations(res, room, a, b, rest[3], query);
    if (version !== 'v3') throw new HttpFail(404, 'M_UNRECOGNIZED', 'Unrecognized request');
    if (what === 'messages') {
      if (this.rateLimited(res)) return;
      return this.messages(res, room, query);
    }
    if (what === 'state' && a === undefined)
      return json(
        res,
        200,
        this.currentState(room).map((e) => this.serve(room, e)),
      );
    if (what === 'state' && a !== undefined) {
      const ev = this.currentState(room).find((e) => e.type === a && e.state_key === (b ?? ''));
      if (!ev) throw new HttpFail(404, 'M_NOT_FOUND', 'Event not found.');
      return json(res, 200, ev.content);
    }
    if (what === 'event' && a) {
      const ev = this.find(roomId, a);
      if (!ev) throw new HttpFail(404, 'M_NOT_FOUND', 'Event not found.');
      return json(res, 200, this.serve(room, ev));
    }
    if (what === 'members')
      return json(res, 200, {
        chunk: this.currentState(room)
          .filter((e) => e.type === 'm.room.member')
          .map((e) => this.serve(room, e)),
      });
    if (what === 'joined_members') {
      const joined: Record<string, unknown> = {};
      for (const e of this.currentState(room))
        if (e.type === 'm.room.member' && e.content.membership === 'join') joined[e.state_key!] = { display_name: e.content.displayname ?? null, avatar_url: null };
      return json(res, 200, { joined });
    }
    throw new HttpFail(404, 'M_UNRECOGNIZED', 'Unrecognized request');
  }

  /** PLATFORMS.md 3.4: dir required; from/to positions; limit default 10; RoomEventFilter types/not_types/lazy_load_members. */
  private messages(res: ServerResponse, room: FakeRoom, query: Record<string, string>): void {
    const dir = query.dir;
    if (dir !== 'b' && dir !== 'f') throw new HttpFail(400, 'M_INVALID_PARAM', "Query parameter 'dir' must be one of ['b', 'f']");
    const limit = Math.min(Math.max(query.limit ? Number(query.limit) : 10, 0), 1000);
    if (!Number.isInteger(limit)) throw new HttpFail(400, 'M_INVALID_PARAM', 'limit must be an integer');
    let filter: { types?: string[]; not_types?: string[]; lazy_load_members?: boolean } = {};
    if (query.filter) {
      try {
        filter = JSON.parse(query.filter) as typeof filter;
      } catch {
        throw new HttpFail(400, 'M_NOT_JSON', 'filter is not valid JSON');
      }
    }
    const from = query.from !== undefined ? this.parseToken(query.from) : dir === 'b' ? this.stream : 0;
    const to = query.to !== undefined ? this.parseToken(query.to) : null;
    const matches = (e: FakeEvent) => (!filter.types || filter.types.includes(e.type)) && !filter.not_types?.includes(e.type);
    const inRange = (s: Stored) => (dir === 'b' ? s.stream <= from && (to === null || s.stream > to) : s.stream > from && (to === null || s.stream <= to));
    const ordered = room.events.filter(inRange).sort((x, y) => (dir === 'b' ? y.stream - x.stream : x.stream - y.stream));
    // Take `limit` events that pass the filter; the position moves over filtered-out ones too.
    const chunk: Stored[] = [];
    let last: Stored | undefined;
    for (const s of ordered) {
      if (chunk.length >= limit) break;
      last = s;
      if (matches(s.ev)) chunk.push(s);
    }
    const remaining = last ? ordered.slice(ordered.indexOf(last) + 1) : ordered;
    const body: Record<string, unknown> = { start: this.token('t', from), chunk: chunk.map((s) => this.serve(room, s.ev)) };
    if (last && remaining.length > 0) body.end = this.token('t', dir === 'b' ? last.stream - 1 : last.stream);
    else if (last && dir === 'f') body.end = this.token('t', last.stream); // forwards: where to continue when more arrives
    if (filter.lazy_load_members) {
      const senders = new Set(chunk.map((s) => s.ev.sender));
      body.state = this.currentState(room)
        .filter((e) => e.type === 'm.room.member' && senders.has(e.state_key ?? ''))
        .map((e) => this.serve(room, e));
    }
    json(res, 200, body);
  }

  private token(kind: 't' | 's', pos: number): string {
    return kind === 't' ? `t${pos}-${pos}_0_0` : `s${pos}_0_0`;
  }

  private relations(res: ServerResponse, room: FakeRoom, eventId: string, relType: string | undefined, eventType: string | undefined, query: Record<string, string>): void {
    if (!this.find(room.id, eventId)) throw new HttpFail(404, 'M_NOT_FOUND', 'Event not found.');
    const limit = Math.min(Number(query.limit ?? 50), 1000);
    const all = room.events
      .filter((s) => {
        const r = rel(s.ev);
        return r?.event_id === eventId && (!relType || r.rel_type === relType) && (!eventType || s.ev.type === eventType);
      })
      .sort((x, y) => (query.dir === 'f' ? x.stream - y.stream : y.stream - x.stream));
    const offset = query.from ? Number(/^r(\d+)$/.exec(query.from)?.[1] ?? 0) : 0;
    const page = all.slice(offset, offset + limit);
    const body: Record<string, unknown> = { chunk: page.map((s) => this.serve(room, s.ev)) };
    if (offset + limit < all.length) body.next_batch = `r${offset + limit}`;
    json(res, 200, body);
  }

  /** PLATFORMS.md 3.3: since/timeout/filter (timeline.limit, rooms); long-polls until an event or the timeout. */
  private async sync(req: IncomingMessage, res: ServerResponse, query: Record<string, string>): Promise<void> {
    if (this.rateLimited(res)) return;
    let filter: { room?: { rooms?: string[]; timeline?: { limit?: number } } } = {};
    if (query.filter && query.filter.startsWith('{')) {
      try {
        filter = JSON.parse(query.filter) as typeof filter;
      } catch {
        throw new HttpFail(400, 'M_NOT_JSON', 'filter is not valid JSON');
      }
    }
    const since = query.since !== undefined ? this.parseToken(query.since) : null;
    const timeout = Number(query.timeout ?? 0);
    if (since !== null && since >= this.stream && timeout > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.changed.off('event', done);
          req.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, timeout);
        this.changed.on('event', done);
        req.on('close', done);
      });
      if (res.destroyed) return;
      if (this.revoked) return matrixError(res, 401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token.');
    }
    const limit = filter.room?.timeline?.limit ?? 10;
    const join: Record<string, unknown> = {};
    for (const room of this.rooms.values()) {
      if (!room.joined || room.forbidden) continue;
      if (filter.room?.rooms && !filter.room.rooms.includes(room.id)) continue;
      const fresh = room.events.filter((s) => since === null || s.stream > since);
      if (since !== null && fresh.length === 0) continue;
      const timeline = fresh.slice(-limit);
      const limited = fresh.length > timeline.length;
      const prev = timeline.length ? timeline[0]!.stream - 1 : (since ?? this.stream);
      const timelineIds = new Set(timeline.map((s) => s.ev.event_id));
      const state = since === null ? this.currentState(room).filter((e) => !timelineIds.has(e.event_id)) : [];
      join[room.id] = {
        summary: {},
        state: { events: state.map((e) => this.serve(room, e, { withoutRoomId: true })) },
        timeline: { events: timeline.map((s) => this.serve(room, s.ev, { withoutRoomId: true })), limited, prev_batch: this.token('t', prev) },
        ephemeral: { events: [] },
        account_data: { events: [] },
        unread_notifications: { highlight_count: 0, notification_count: 0 },
      };
    }
    json(res, 200, { next_batch: this.token('s', this.stream), rooms: { join, invite: {}, leave: {}, knock: {} }, presence: { events: [] }, account_data: { events: [] } });
  }
}

function rel(ev: FakeEvent): { rel_type?: string; event_id?: string } | undefined {
  const r = ev.content['m.relates_to'];
  return r && typeof r === 'object' ? r : undefined;
}

export async function startFakeMatrix(opts: FakeMatrixOptions = {}): Promise<FakeMatrixServer> {
  const fake = new FakeMatrixServer(opts);
  await fake.start();
  return fake;
}
