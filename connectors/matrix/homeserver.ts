// The homeserver as the Matrix connector uses it: authenticated GETs through matrix-js-sdk's HTTP layer
// (429s waited out abortably and counted for the next page, errors mapped to ConnectorError), the rooms
// to read and their state (names, members, encryption), and the event, item and page helpers.
import { createClient, MatrixError, Method, type MatrixClient } from 'matrix-js-sdk';
import type { Gap, Page } from '../../src/model/index.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import { isRoomAlias, type MatrixConfig } from './config.js';
import { parseMatrixCursor, snapshotCursor, type MatrixCursor } from './cursor.js';
import { matrixEventSchema, type MatrixEvent, type MatrixItem } from './normalize.js';

/** Consecutive 429s on one request before giving up with a `rate_limit` error. */
const MAX_RATE_LIMIT_RETRIES = 20;
/** Used when a 429 names no delay. */
const DEFAULT_RETRY_AFTER_MS = 5_000;

interface MessagesResponse {
  start?: string;
  end?: string;
  chunk?: unknown[];
  state?: unknown[];
}

interface SyncRoom {
  timeline?: { events?: unknown[]; limited?: boolean; prev_batch?: string };
  state?: { events?: unknown[] };
  state_after?: { events?: unknown[] };
}
export interface SyncResponse {
  next_batch?: string;
  rooms?: { join?: Record<string, SyncRoom> };
}

/** What a run knows about one room from its state. */
export interface RoomInfo {
  roomId: string;
  name: string | null;
  members: Map<string, string>;
  /** The `m.room.encryption` event's time, when the room is end-to-end encrypted. */
  encryptedSince: number | null;
}

class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortError';
  }
}

export class MatrixHomeserver {
  private readonly client: MatrixClient;
  readonly since: number | null;
  /** Waited on 429s since the last page was handed out. */
  private rateLimitedMs = 0;
  readonly infos = new Map<string, RoomInfo>();

  constructor(
    private readonly config: MatrixConfig,
    private readonly deps: ConnectorDeps,
  ) {
    const log =
      (level: 'debug' | 'warn' | 'error') =>
      (...msg: unknown[]) =>
        deps.log(level, `matrix-js-sdk: ${msg.map(String).join(' ')}`);
    const sdkLogger = {
      trace: log('debug'),
      debug: log('debug'),
      info: log('debug'),
      warn: log('warn'),
      error: log('error'),
      getChild: () => sdkLogger,
    };
    this.client = createClient({
      baseUrl: config.homeserver,
      accessToken: config.accessToken,
      userId: config.userId,
      localTimeoutMs: config.requestTimeoutMs,
      logger: sdkLogger,
    });
    this.since = config.since ? Date.parse(config.since) : null;
  }

  // ---------------------------------------------------------------- rooms and state

  async listRooms(signal: AbortSignal): Promise<{ roomIds: string[]; gaps: Gap[] }> {
    const gaps: Gap[] = [];
    if (!this.config.rooms) {
      const res = await this.get<{ joined_rooms?: unknown }>('/joined_rooms', {}, signal, 'listing joined rooms');
      const ids = Array.isArray(res.joined_rooms) ? res.joined_rooms.filter((r): r is string => typeof r === 'string') : [];
      return { roomIds: ids, gaps };
    }
    const roomIds: string[] = [];
    for (const room of this.config.rooms) {
      if (!isRoomAlias(room)) {
        roomIds.push(room);
        continue;
      }
      try {
        const res = await this.get<{ room_id?: unknown }>(`/directory/room/${enc(room)}`, {}, signal, `resolving ${room}`);
        if (typeof res.room_id !== 'string') throw new ConnectorError('bad_data', `the directory answered no room_id for ${room}`, this.deps.source);
        roomIds.push(res.room_id);
      } catch (err: unknown) {
        if (err instanceof ConnectorError && (err.kind === 'bad_data' || err.kind === 'permission')) {
          gaps.push({ channel: room, from: this.since ?? 0, to: this.deps.now(), reason: `room alias not resolved: ${err.message}` });
          continue;
        }
        throw err;
      }
    }
    return { roomIds: [...new Set(roomIds)], gaps };
  }

  async roomInfo(roomId: string, signal: AbortSignal, refresh: boolean): Promise<RoomInfo> {
    const known = this.infos.get(roomId);
    if (known && !refresh) return known;
    const events = await this.get<unknown[]>(`/rooms/${enc(roomId)}/state`, {}, signal, `reading the state of ${roomId}`);
    const info: RoomInfo = { roomId, name: null, members: new Map(), encryptedSince: null };
    let alias: string | null = null;
    for (const raw of Array.isArray(events) ? events : []) {
      const ev = this.parseEvent(raw, roomId);
      if (!ev) continue;
      if (ev.type === 'm.room.name' && typeof ev.content.name === 'string' && ev.content.name) info.name = ev.content.name;
      else if (ev.type === 'm.room.canonical_alias' && typeof ev.content.alias === 'string') alias = ev.content.alias;
      else if (ev.type === 'm.room.encryption') info.encryptedSince = ev.origin_server_ts;
      else if (ev.type === 'm.room.member') this.learnMember(info, ev);
    }
    info.name ??= alias;
    this.infos.set(roomId, info);
    return info;
  }

  learnMembers(info: RoomInfo, events: unknown[] | undefined): void {
    for (const raw of events ?? []) {
      const ev = this.parseEvent(raw, info.roomId);
      if (ev?.type === 'm.room.member') this.learnMember(info, ev);
    }
  }

  learnMember(info: RoomInfo, ev: MatrixEvent): void {
    if (!ev.state_key) return;
    const name = ev.content.displayname;
    if (typeof name === 'string' && name.trim()) info.members.set(ev.state_key, name);
  }

  // ---------------------------------------------------------------- HTTP

  messages(roomId: string, q: { dir: 'b' | 'f'; from?: string; to?: string }, signal: AbortSignal): Promise<MessagesResponse> {
    const query: Record<string, string> = { dir: q.dir, limit: String(this.config.pageSize), filter: JSON.stringify({ lazy_load_members: true }) };
    if (q.from) query.from = q.from;
    if (q.to) query.to = q.to;
    return this.get<MessagesResponse>(`/rooms/${enc(roomId)}/messages`, query, signal, `reading ${roomId}`);
  }

  sync(q: { since?: string; timeout: number; filter: string }, signal: AbortSignal): Promise<SyncResponse> {
    const query: Record<string, string> = { timeout: String(q.timeout), filter: q.filter };
    if (q.since) query.since = q.since;
    return this.get<SyncResponse>('/sync', query, signal, 'syncing', undefined, q.timeout + this.config.requestTimeoutMs);
  }

  /** One authenticated GET: 429s waited out (abortably), errors mapped to ConnectorError. */
  async get<T>(path: string, query: Record<string, string | number>, signal: AbortSignal, what: string, prefix?: string, localTimeoutMs?: number): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new AbortedError();
      try {
        return await this.client.http.authedRequest<T>(Method.Get, path, query, undefined, { abortSignal: signal, prefix, localTimeoutMs, inhibitLogoutEmit: true });
      } catch (err: unknown) {
        if (signal.aborted) throw new AbortedError();
        if (err instanceof MatrixError && err.httpStatus === 429 && attempt < MAX_RATE_LIMIT_RETRIES) {
          const waitMs = retryAfterMs(err);
          this.deps.log('warn', 'rate limited by the homeserver; waiting', { what, waitMs });
          const started = this.deps.now();
          const slept = await this.deps.sleep(waitMs, signal);
          this.rateLimitedMs += Math.max(waitMs, this.deps.now() - started);
          if (!slept) throw new AbortedError();
          continue;
        }
        throw this.toConnectorError(err, what);
      }
    }
  }

  toConnectorError(err: unknown, what: string): ConnectorError {
    const source = this.deps.source;
    if (err instanceof ConnectorError) return err;
    if (err instanceof MatrixError) {
      const code = err.errcode ?? `HTTP ${err.httpStatus ?? '?'}`;
      const text = typeof err.data?.error === 'string' ? `: ${err.data.error}` : '';
      const cause = new Error(`${code}${text}`);
      if (err.errcode === 'M_UNKNOWN_TOKEN' || err.errcode === 'M_MISSING_TOKEN' || err.httpStatus === 401) {
        return new ConnectorError('auth', `the homeserver refused the access token (${code}) while ${what}; create a new access token and update the source config`, source, { cause });
      }
      if (err.httpStatus === 429) return new ConnectorError('rate_limit', `still rate limited while ${what} after ${MAX_RATE_LIMIT_RETRIES} waits`, source, { cause, retryAfterMs: retryAfterMs(err) });
      if (err.httpStatus === 403) return new ConnectorError('permission', `not allowed while ${what} (${code}${text})`, source, { cause });
      if (err.httpStatus !== undefined && err.httpStatus >= 500) return new ConnectorError('net', `homeserver error while ${what} (${code}${text})`, source, { cause });
      return new ConnectorError('bad_data', `the homeserver refused the request while ${what} (${code}${text})`, source, { cause });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new ConnectorError('net', `could not reach the homeserver while ${what}: ${message}`, source, { cause: err });
  }

  /** A permission error on one room becomes a gap for that room; other rooms are still read. */
  permissionGap(err: unknown, roomId: string): Gap | null {
    if (!(err instanceof ConnectorError) || err.kind !== 'permission') return null;
    this.deps.log('warn', 'room not readable; recorded as a gap', { roomId, why: err.message });
    return { channel: roomId, from: this.since ?? 0, to: this.deps.now(), reason: `forbidden: ${err.message}` };
  }

  // ---------------------------------------------------------------- helpers

  parseCursor(value: unknown): MatrixCursor {
    try {
      return parseMatrixCursor(value);
    } catch (err: unknown) {
      throw new ConnectorError('config', 'the saved cursor is not a v1 Matrix cursor; reset the source checkpoint to read again from the start', this.deps.source, { cause: err });
    }
  }

  parseEvent(raw: unknown, roomId: string): MatrixEvent | null {
    const parsed = matrixEventSchema.safeParse(raw);
    if (!parsed.success) {
      this.deps.log('warn', 'malformed event from the homeserver skipped', { roomId, issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      return null;
    }
    return parsed.data.room_id ? parsed.data : { ...parsed.data, room_id: roomId };
  }

  item(info: RoomInfo, ev: MatrixEvent, extra: Partial<Pick<MatrixItem, 'replacement' | 'reactions' | 'foldedInto'>>): MatrixItem {
    const item: MatrixItem = { kind: 'matrix', roomId: info.roomId, roomName: info.name, event: ev, senderName: info.members.get(ev.sender) ?? null };
    if (extra.replacement) item.replacement = extra.replacement;
    if (extra.reactions) item.reactions = extra.reactions;
    if (extra.foldedInto !== undefined) item.foldedInto = extra.foldedInto;
    return item;
  }

  page(items: MatrixItem[], cursor: MatrixCursor, gaps?: Gap[]): Page<MatrixCursor> {
    const page: Page<MatrixCursor> = { items, cursor: snapshotCursor(cursor) };
    if (gaps?.length) page.gaps = gaps;
    if (this.rateLimitedMs > 0) {
      page.rateLimitedMs = this.rateLimitedMs;
      this.rateLimitedMs = 0;
    }
    return page;
  }
}

function retryAfterMs(err: MatrixError): number {
  try {
    const ms = err.getRetryAfterMs();
    return ms !== null && ms >= 0 ? ms : DEFAULT_RETRY_AFTER_MS;
  } catch {
    return DEFAULT_RETRY_AFTER_MS;
  }
}

export function requireNextBatch(res: SyncResponse, source: string): string {
  if (typeof res.next_batch !== 'string' || !res.next_batch) throw new ConnectorError('bad_data', '/sync answered without next_batch', source);
  return res.next_batch;
}

export const enc = encodeURIComponent;
