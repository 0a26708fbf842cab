// Matrix connector (matrix-js-sdk): resumable history through /rooms/{id}/messages, live through /sync.
//
// The SDK is used for its HTTP layer only (`client.http.authedRequest`): bearer auth, MatrixError
// parsing and token handling, without the sync-loop client, its stores or crypto. Every call passes
// the caller's AbortSignal, so a long-poll or a request in flight stops at once. authedRequest does not
// retry; a 429 `M_LIMIT_EXCEEDED` is waited out here with `deps.sleep(ms, signal)` (Retry-After or
// `retry_after_ms`), and the wait is reported in the next page's `rateLimitedMs`.
//
// Relation events are folded so every message handed on is complete (see normalize.ts):
// - reading backwards (first backfill), reactions and edits are met before their target; they wait
//   in the cursor (`pendingReactions`, `pendingEdits`) until the target is read. Redacted targets come
//   back from the server already stripped, with `unsigned.redacted_because`.
// - reading forwards (later runs, live), the targets of edits, redactions and reactions were usually
//   read before; each touched target is read again (`/event/{id}`, which carries the server's bundled
//   latest edit and its redacted state) with its reactions counted from `/relations/{id}/m.annotation`,
//   and re-emitted whole after the page's own events. An ingest update then overwrites the stored
//   message with its current text, deleted flag and reaction counts.
import type { Connector, Gap, Page } from '../../src/model/index.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import { matrixConfigSchema, type MatrixConfig, type MatrixConfigInput } from './config.js';
import { emptyMatrixCursor, snapshotCursor, type MatrixCursor, type PendingEdit, type RoomState } from './cursor.js';
import { bundledEdit, isRedacted, laterEdit, normalizeMatrix, redactsOf, relationOf, type MatrixEvent, type MatrixItem } from './normalize.js';
import { enc, MatrixHomeserver, requireNextBatch, type RoomInfo } from './homeserver.js';

const V1_PREFIX = '/_matrix/client/v1';
/** Pages of /relations read to count one event's reactions. */
const MAX_RELATION_PAGES = 20;
/** Consecutive empty backwards chunks (each with a new token) before the backfill is taken as done. */
const MAX_EMPTY_CHUNKS = 50;
export const ENCRYPTED_ROOM_REASON = 'encrypted room: not readable without keys';

export function createMatrixConnector(input: MatrixConfig | MatrixConfigInput, deps: ConnectorDeps): MatrixConnector {
  return new MatrixConnector(matrixConfigSchema.parse(input), deps);
}

export class MatrixConnector implements Connector<MatrixCursor> {
  readonly platform = 'matrix' as const;
  readonly capabilities = { history: true, live: true, edits: true, threads: true };
  private readonly hs: MatrixHomeserver;
  /** Reactions read this run: reaction id -> target id (to re-count a target when a reaction is redacted). */
  private readonly reactionTargets = new Map<string, string>();

  constructor(
    private readonly config: MatrixConfig,
    private readonly deps: ConnectorDeps,
  ) {
    this.hs = new MatrixHomeserver(config, deps);
  }

  normalize = normalizeMatrix;

  // ---------------------------------------------------------------- history

  async *history(from: MatrixCursor | undefined, signal: AbortSignal): AsyncIterable<Page<MatrixCursor>> {
    const cursor = from ? this.hs.parseCursor(from) : emptyMatrixCursor();
    try {
      yield* this.catchUp(cursor, signal);
    } catch (err: unknown) {
      if (signal.aborted) return;
      throw err;
    }
  }

  /**
   * Every room: finish or start its backfill, then read forwards. With `syncFrom` (a live resume from
   * a saved `next_batch`) the forward pass is left to /sync, and a room met for the first time is
   * backfilled from that position, so /sync and /messages meet exactly.
   */
  private async *catchUp(cursor: MatrixCursor, signal: AbortSignal, syncFrom?: string): AsyncGenerator<Page<MatrixCursor>> {
    const { roomIds, gaps } = await this.hs.listRooms(signal);
    if (gaps.length) yield this.hs.page([], cursor, gaps);
    for (const roomId of roomIds) yield* this.readRoom(cursor, roomId, signal, syncFrom);
  }

  /** One room: finish (or start) the backfill, then read forwards from `end` (unless /sync will). */
  private async *readRoom(cursor: MatrixCursor, roomId: string, signal: AbortSignal, syncFrom?: string): AsyncGenerator<Page<MatrixCursor>> {
    let info: RoomInfo;
    try {
      info = await this.hs.roomInfo(roomId, signal, true);
    } catch (err: unknown) {
      const gap = this.hs.permissionGap(err, roomId);
      if (!gap) throw err;
      yield this.hs.page([], cursor, [gap]);
      return;
    }
    const state: RoomState = cursor.rooms[roomId] ?? {};
    cursor.rooms[roomId] = state;
    const pendingGaps: Gap[] = [];
    if (info.encryptedSince !== null) {
      const now = this.deps.now();
      const fromTs = state.gapReportedTo ?? Math.max(info.encryptedSince, this.hs.since ?? 0);
      if (fromTs < now) pendingGaps.push({ channel: roomId, from: fromTs, to: now, reason: ENCRYPTED_ROOM_REASON });
      state.gapReportedTo = now;
      this.deps.log('warn', 'room is end-to-end encrypted: its messages cannot be read without keys', { roomId });
    }
    const takeGaps = (): Gap[] | undefined => (pendingGaps.length ? pendingGaps.splice(0) : undefined);
    if (syncFrom !== undefined && state.end === undefined) {
      state.end = syncFrom;
      state.back = syncFrom;
    }

    try {
      // Backfill: backwards from the live edge (first run) or from where an interrupted one stopped.
      let emptyChunks = 0;
      while (state.end === undefined || state.back !== undefined) {
        const fromToken = state.back;
        const res = await this.hs.messages(roomId, { dir: 'b', from: fromToken }, signal);
        if (state.end === undefined) {
          if (!res.start) throw new ConnectorError('bad_data', `/messages for ${roomId} returned no start token`, this.deps.source);
          state.end = res.start;
        }
        this.hs.learnMembers(info, res.state);
        const { items, reachedSince } = this.foldBackward(info, state, res.chunk ?? []);
        emptyChunks = (res.chunk ?? []).length === 0 ? emptyChunks + 1 : 0;
        // An empty chunk alone is not the end (spec); many in a row from a server that keeps handing out tokens is.
        const more = res.end !== undefined && res.end !== fromToken && !reachedSince && emptyChunks < MAX_EMPTY_CHUNKS;
        if (more) state.back = res.end;
        else {
          delete state.back;
          delete state.pendingEdits;
          delete state.pendingReactions;
        }
        yield this.hs.page(items, cursor, takeGaps());
      }
      // Forwards from `end`: what arrived since the last run.
      for (; syncFrom === undefined;) {
        const fromToken: string | undefined = state.end;
        const res = await this.hs.messages(roomId, { dir: 'f', from: fromToken }, signal);
        const chunk = res.chunk ?? [];
        this.hs.learnMembers(info, res.state);
        if (chunk.length === 0) {
          if (res.end !== undefined && res.end !== fromToken) {
            state.end = res.end;
            continue;
          }
          break;
        }
        const items = await this.foldForward(info, chunk, signal);
        // A server that omits `end` on the last page leaves us at `from`: the same events come again
        // next time and ingest is idempotent on the event id; we do not guess a position.
        if (res.end !== undefined) state.end = res.end;
        yield this.hs.page(items, cursor, takeGaps());
        if (res.end === undefined) break;
      }
    } catch (err: unknown) {
      const gap = this.hs.permissionGap(err, roomId);
      if (!gap) throw err;
      pendingGaps.push(gap);
    }
    const rest = takeGaps();
    if (rest) yield this.hs.page([], cursor, rest);
  }

  /**
   * Backwards chunk (newest first): collects reactions and edits for targets still to come, attaches
   * what is known to each message, drops events older than `since`. Items come out oldest first.
   */
  private foldBackward(info: RoomInfo, state: RoomState, rawChunk: unknown[]): { items: MatrixItem[]; reachedSince: boolean } {
    const items: MatrixItem[] = [];
    let reachedSince = false;
    for (const raw of rawChunk) {
      const ev = this.hs.parseEvent(raw, info.roomId);
      if (!ev) continue;
      if (this.hs.since !== null && ev.origin_server_ts < this.hs.since) {
        reachedSince = true;
        continue;
      }
      if (ev.type === 'm.room.member' && ev.state_key) this.hs.learnMember(info, ev);
      const rel = relationOf(ev.content);
      if (ev.type === 'm.reaction' && rel.relType === 'm.annotation' && rel.eventId && rel.key !== null) {
        const perTarget = ((state.pendingReactions ??= {})[rel.eventId] ??= {});
        const senders = (perTarget[rel.key] ??= []);
        if (!senders.includes(ev.sender)) senders.push(ev.sender);
        items.push(this.hs.item(info, ev, { foldedInto: rel.eventId }));
        continue;
      }
      if (ev.type === 'm.room.message' && rel.relType === 'm.replace' && rel.eventId) {
        if (!isRedacted(ev)) {
          const pending = state.pendingEdits ?? {};
          const edit: PendingEdit = { event_id: ev.event_id, sender: ev.sender, origin_server_ts: ev.origin_server_ts, content: ev.content };
          const later = laterEdit(pending[rel.eventId], edit);
          if (later) pending[rel.eventId] = later;
          state.pendingEdits = pending;
        }
        items.push(this.hs.item(info, ev, { foldedInto: rel.eventId }));
        continue;
      }
      if (ev.type === 'm.room.redaction') {
        // Its target is served already redacted when we reach it.
        items.push(this.hs.item(info, ev, { foldedInto: redactsOf(ev) ?? ev.event_id }));
        continue;
      }
      const pendingEdit = state.pendingEdits?.[ev.event_id];
      const pendingReactions = state.pendingReactions?.[ev.event_id];
      if (state.pendingEdits) delete state.pendingEdits[ev.event_id];
      if (state.pendingReactions) delete state.pendingReactions[ev.event_id];
      const edit = laterEdit(bundledEdit(ev), pendingEdit ? this.hs.parseEvent({ ...pendingEdit, type: 'm.room.message' }, info.roomId) : null);
      items.push(this.hs.item(info, ev, { replacement: edit, reactions: pendingReactions ? countReactions(pendingReactions) : undefined }));
    }
    return { items: items.reverse(), reachedSince };
  }

  /**
   * Forwards events (oldest first): new messages as they are, relation events folded, and each
   * message they touch re-read from the server and appended whole.
   */
  private async foldForward(info: RoomInfo, rawEvents: unknown[], signal: AbortSignal): Promise<MatrixItem[]> {
    const items: MatrixItem[] = [];
    const touched = new Map<string, MatrixEvent>(); // target id -> the relation event that touched it
    for (const raw of rawEvents) {
      const ev = this.hs.parseEvent(raw, info.roomId);
      if (!ev) continue;
      if (ev.type === 'm.room.member' && ev.state_key) this.hs.learnMember(info, ev);
      if (ev.type === 'm.room.name') info.name = typeof ev.content.name === 'string' ? ev.content.name : info.name;
      const rel = relationOf(ev.content);
      let target: string | null = null;
      if (ev.type === 'm.reaction' && rel.relType === 'm.annotation' && rel.eventId) {
        target = rel.eventId;
        this.reactionTargets.set(ev.event_id, target);
      } else if (ev.type === 'm.room.message' && rel.relType === 'm.replace' && rel.eventId) {
        target = rel.eventId;
      } else if (ev.type === 'm.room.redaction') {
        const redacted = redactsOf(ev);
        target = redacted ? (this.reactionTargets.get(redacted) ?? redacted) : null;
      }
      if (target === null) {
        items.push(this.hs.item(info, ev, { replacement: bundledEdit(ev) }));
        continue;
      }
      touched.set(target, ev);
      items.push(this.hs.item(info, ev, { foldedInto: target }));
    }
    for (const [targetId, relationEvent] of touched) {
      const target = await this.readTarget(info, targetId, signal);
      if (target.readable) {
        if (target.item) items.push(target.item);
        continue;
      }
      // The target could not be read: let an edit or a redaction stand on its own (it still updates
      // the target by id); a lone reaction stays skipped.
      if (relationEvent.type === 'm.reaction') continue;
      const idx = items.findIndex((i) => i.event.event_id === relationEvent.event_id);
      if (idx >= 0) items[idx] = this.hs.item(info, relationEvent, {});
    }
    return items;
  }

  /**
   * The current state of a message (bundled edit, redaction) with its reaction counts. `item` is null
   * when the target is readable but nothing to update (a reaction, a state event, older than `since`).
   */
  private async readTarget(info: RoomInfo, eventId: string, signal: AbortSignal): Promise<{ readable: boolean; item: MatrixItem | null }> {
    let ev: MatrixEvent | null;
    try {
      const raw = await this.hs.get<unknown>(`/rooms/${enc(info.roomId)}/event/${enc(eventId)}`, {}, signal, `reading event ${eventId}`);
      ev = this.hs.parseEvent(raw, info.roomId);
    } catch (err: unknown) {
      if (err instanceof ConnectorError && (err.kind === 'permission' || err.kind === 'bad_data')) {
        this.deps.log('debug', 'edited/reacted/redacted event not readable', { roomId: info.roomId, eventId, why: err.message });
        return { readable: false, item: null };
      }
      throw err;
    }
    if (!ev) return { readable: false, item: null };
    if (ev.type !== 'm.room.message' && ev.type !== 'm.sticker') return { readable: true, item: null };
    if (this.hs.since !== null && ev.origin_server_ts < this.hs.since) return { readable: true, item: null };
    const reactions = isRedacted(ev) ? {} : await this.reactionsOf(info.roomId, eventId, signal);
    return { readable: true, item: this.hs.item(info, ev, { replacement: bundledEdit(ev), reactions }) };
  }

  /** Reaction counts from the server's relations: key -> distinct senders, redacted reactions excluded. */
  private async reactionsOf(roomId: string, eventId: string, signal: AbortSignal): Promise<Record<string, number>> {
    const byKey: Record<string, string[]> = {};
    let from: string | undefined;
    for (let i = 0; i < MAX_RELATION_PAGES; i++) {
      let res: { chunk?: unknown[]; next_batch?: string };
      try {
        res = await this.hs.get(
          `/rooms/${enc(roomId)}/relations/${enc(eventId)}/m.annotation`,
          { limit: 100, dir: 'b', ...(from ? { from } : {}) },
          signal,
          `reading reactions of ${eventId}`,
          V1_PREFIX,
        );
      } catch (err: unknown) {
        if (err instanceof ConnectorError && (err.kind === 'permission' || err.kind === 'bad_data')) return {};
        throw err;
      }
      for (const raw of res.chunk ?? []) {
        const ev = this.hs.parseEvent(raw, roomId);
        if (!ev || ev.type !== 'm.reaction') continue;
        const rel = relationOf(ev.content);
        if (rel.relType !== 'm.annotation' || rel.key === null) continue;
        const senders = (byKey[rel.key] ??= []);
        if (!senders.includes(ev.sender)) senders.push(ev.sender);
      }
      if (!res.next_batch) break;
      from = res.next_batch;
    }
    return countReactions(byKey);
  }

  // ---------------------------------------------------------------- live

  /**
   * Catches up through history, then long-polls /sync from the saved `next_batch`. Each room's `end`
   * follows the sync position, so a later history run goes on exactly where live stopped.
   */
  async *live(since: MatrixCursor | undefined, signal: AbortSignal): AsyncIterable<Page<MatrixCursor>> {
    let cursor = since ? this.hs.parseCursor(since) : emptyMatrixCursor();
    try {
      // A saved sync position is resumed as is while every room was last read up to it; a history run
      // since then (rooms ahead of it) means catching up through /messages and taking a new position.
      const resumeFrom = cursor.nextBatch && Object.values(cursor.rooms).every((r) => r.end === cursor.nextBatch) ? cursor.nextBatch : undefined;
      if (!resumeFrom) delete cursor.nextBatch;
      for await (const page of this.catchUp(cursor, signal, resumeFrom)) {
        cursor = page.cursor;
        yield page;
      }
      const rooms = new Set(Object.keys(cursor.rooms).filter((r) => this.hs.infos.has(r)));
      const filter = JSON.stringify({
        room: {
          ...(this.config.rooms ? { rooms: [...rooms] } : {}),
          timeline: { limit: 100 },
          state: { lazy_load_members: true },
          ephemeral: { not_types: ['*'] },
          account_data: { not_types: ['*'] },
        },
        presence: { not_types: ['*'] },
        account_data: { not_types: ['*'] },
      });
      cursor = snapshotCursor(cursor);
      if (!cursor.nextBatch) {
        // No sync position yet: take the current one, and read each room forwards up to it exactly.
        const first = await this.hs.sync({ timeout: 0, filter: JSON.stringify({ room: { timeline: { limit: 1 } } }) }, signal);
        const nb = requireNextBatch(first, this.deps.source);
        const items: MatrixItem[] = [];
        for (const roomId of rooms) {
          const info = this.hs.infos.get(roomId)!;
          const state = (cursor.rooms[roomId] ??= {});
          items.push(...(await this.readUpTo(info, state.end, nb, signal)));
          state.end = nb;
        }
        cursor.nextBatch = nb;
        yield this.hs.page(items, cursor);
      }
      while (!signal.aborted) {
        const prev = cursor.nextBatch;
        const res = await this.hs.sync({ since: prev, timeout: this.config.syncTimeoutMs, filter }, signal);
        const nb = requireNextBatch(res, this.deps.source);
        const items: MatrixItem[] = [];
        const gaps: Gap[] = [];
        for (const [roomId, room] of Object.entries(res.rooms?.join ?? {})) {
          if (!rooms.has(roomId)) {
            if (this.config.rooms) continue;
            // Joined since the catch-up: read its state; its older history is backfilled by the next history run.
            try {
              await this.hs.roomInfo(roomId, signal, true);
            } catch (err: unknown) {
              const gap = this.hs.permissionGap(err, roomId);
              if (!gap) throw err;
              gaps.push(gap);
              continue;
            }
            rooms.add(roomId);
            cursor.rooms[roomId] = room.timeline?.prev_batch ? { back: room.timeline.prev_batch } : {};
          }
          const info = this.hs.infos.get(roomId)!;
          this.hs.learnMembers(info, room.state?.events);
          this.hs.learnMembers(info, room.state_after?.events);
          let events = room.timeline?.events ?? [];
          if (room.timeline?.limited && room.timeline.prev_batch && cursor.rooms[roomId]?.back === undefined) {
            // More happened than the timeline holds: fetch the rest between the last position and it.
            const missed = await this.readBetween(info, room.timeline.prev_batch, prev, signal);
            events = [...missed, ...events];
          }
          items.push(...(await this.foldForward(info, events, signal)));
        }
        for (const roomId of rooms) {
          const state = (cursor.rooms[roomId] ??= {});
          state.end = nb;
        }
        cursor.nextBatch = nb;
        if (items.length || gaps.length) yield this.hs.page(items, cursor, gaps.length ? gaps : undefined);
      }
    } catch (err: unknown) {
      if (signal.aborted) return;
      throw err;
    }
  }

  /** Forwards from `from` (or the room's start) up to `to`, folded. */
  private async readUpTo(info: RoomInfo, from: string | undefined, to: string, signal: AbortSignal): Promise<MatrixItem[]> {
    const events: unknown[] = [];
    let token = from;
    for (;;) {
      const res = await this.hs.messages(info.roomId, { dir: 'f', from: token, to }, signal);
      this.hs.learnMembers(info, res.state);
      events.push(...(res.chunk ?? []));
      if (!res.end || res.end === token || (res.chunk ?? []).length === 0) break;
      token = res.end;
    }
    return this.foldForward(info, events, signal);
  }

  /** Events between two positions, oldest first (a /sync timeline gap). */
  private async readBetween(info: RoomInfo, from: string, to: string, signal: AbortSignal): Promise<unknown[]> {
    const events: unknown[] = [];
    let token = from;
    for (;;) {
      const res = await this.hs.messages(info.roomId, { dir: 'b', from: token, to }, signal);
      this.hs.learnMembers(info, res.state);
      events.push(...(res.chunk ?? []));
      if (!res.end || res.end === token) break;
      token = res.end;
    }
    return events.reverse();
  }
}

function countReactions(byKey: Record<string, string[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, senders] of Object.entries(byKey)) if (senders.length) out[key] = senders.length;
  return out;
}
