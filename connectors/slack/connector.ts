// Slack connector (@slack/web-api 8.x, fetch-based): resumable history per channel; live by polling,
// or by Socket Mode events (the `ws` package) when an app-level token is configured.
//
// History: conversations.list (channels the app is a member of, filtered by name) -> per channel
// conversations.history newest-first in a window `(oldest, latest)`, with conversations.replies for
// every thread parent, so replies are never lost. Slack's history has no change feed, so:
// - each pull re-reads the last `recheckHours` of top-level history; a known message whose fingerprint
//   (text, edit ts, reactions, files) changed is handed out again (edit), a known one that vanished is
//   handed out as a synthetic `message_deleted` (delete);
// - threads with a reply in the last `threadWindowDays` are kept in the cursor and re-read on every
//   pull, so a reply to a thread whose parent is older than the window is still found, and reply
//   edits/deletes are seen the same way.
// Rate limits: the client never sleeps (`rejectRateLimitedCalls`); a 429 is waited out here with
// `deps.sleep(retryAfter, signal)` (abortable) and counted in `page.rateLimitedMs`, as is any wait
// for the configured request budget. Permalinks are built from auth.test's workspace URL: one request
// per connector instead of one chat.getPermalink (Special tier) per message.
//
// Socket Mode (`appToken`): each session calls apps.connections.open with the app token, connects to
// the wss URL, waits for `hello`, then runs the ordinary pull from the cursor (the catch-up: events
// that arrive meanwhile are buffered, so nothing between the pull and the socket is lost), then yields
// one page per batch of `message` events (run through the same item/normalize path as history) and
// acknowledges their envelopes once the page was taken. Events update the cursor's fingerprints, so the
// next catch-up does not hand the same messages out again. `disconnect` or a closed socket ends the
// session: a new one (with its catch-up) follows, at once after `refresh_requested`/`warning`,
// otherwise with exponential backoff.
import { WebClient, type FetchFunction, type Logger, type WebAPICallResult } from '@slack/web-api';
import { WebSocket } from 'ws';
import { REFRESH_REASONS, SocketSession } from './socket-session.js';
import type { Connector, Gap, Page } from '../../src/model/index.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import { effectiveLimits, sinceMs, type SlackConfig } from './config.js';
import { compareTs, emptyChannelState, emptySlackCursor, isTs, maxTs, minTs, msToTs, parseSlackCursor, tsToMs, type ChannelState, type SlackCursor } from './cursor.js';
import { normalizeSlack, type SlackItem, type SlackMessage, type SlackUserRef } from './normalize.js';

/** Slack error codes that mean the token itself is bad: stop the source. */
const AUTH_ERRORS = new Set(['invalid_auth', 'token_revoked', 'token_expired', 'not_authed', 'account_inactive', 'no_permission', 'org_login_required', 'ekm_access_denied']);
/** Errors that make one channel unreadable: a gap for that channel, the rest goes on. */
const CHANNEL_ERRORS = new Set(['not_in_channel', 'missing_scope', 'channel_not_found', 'method_not_supported_for_channel_type', 'access_denied']);
/** Consecutive 429s on one call before giving up (each is waited out first). */
const MAX_RATE_LIMIT_RETRIES = 20;
/** Fingerprints kept per channel at most (the recheck window normally keeps it far smaller). */
const MAX_RECENT = 5000;
const USER_CACHE_MS = 24 * 3600_000;

export interface SlackChannel {
  id: string;
  name?: string;
  is_member?: boolean;
  is_im?: boolean;
  is_mpim?: boolean;
  is_archived?: boolean;
  created?: number;
}

interface HistoryResult extends WebAPICallResult {
  messages?: SlackMessage[];
  has_more?: boolean;
}

interface SlackUser {
  id?: string;
  name?: string;
  deleted?: boolean;
  is_bot?: boolean;
  team_id?: string;
  profile?: { display_name?: string; real_name?: string; email?: string };
}

/** A raw message and the channel it came from, before users are attached. */
type Entry = SlackMessage;

/** Thrown inside the connector when the signal aborts; ends the iteration quietly. */
class Aborted extends Error {}

/** A Slack error code from a failed call (not auth: those become ConnectorError at once). */
class SlackCallError extends Error {
  constructor(
    readonly method: string,
    readonly slackCode: string,
    readonly needed?: string,
  ) {
    super(`${method}: ${slackCode}${needed ? ` (needs ${needed})` : ''}`);
  }
}

/** A sliding-window budget: at most `perMinute` calls in any minute (fractions mean one per longer window). */
class RequestBudget {
  private readonly stamps: number[] = [];
  private readonly capacity: number;
  private readonly windowMs: number;
  constructor(perMinute: number) {
    this.capacity = Math.max(1, Math.floor(perMinute));
    this.windowMs = perMinute >= 1 ? 60_000 : 60_000 / perMinute;
  }
  /** Waits until a call fits; returns the ms waited. */
  async take(deps: ConnectorDeps, signal: AbortSignal): Promise<number> {
    let waited = 0;
    for (;;) {
      const now = deps.now();
      while (this.stamps.length && this.stamps[0]! <= now - this.windowMs) this.stamps.shift();
      if (this.stamps.length < this.capacity) {
        this.stamps.push(now);
        return waited;
      }
      const wait = this.stamps[0]! + this.windowMs - now;
      if (!(await deps.sleep(wait, signal))) throw new Aborted();
      waited += wait;
    }
  }
}

const HISTORY_METHODS = new Set(['conversations.history', 'conversations.replies']);

/** fnv-1a 32-bit, hex: fingerprints for change detection, not security. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** What makes a re-read message worth handing out again: its text, edit, reactions, files, subtype. */
export function fingerprint(m: SlackMessage): string {
  const reactions = (m.reactions ?? []).map((r) => `${r.name}:${r.count ?? r.users?.length ?? 0}`).sort();
  return fnv1a(JSON.stringify([m.subtype ?? '', m.text ?? '', m.edited?.ts ?? '', reactions, (m.files ?? []).length]));
}

const isThreadParent = (m: SlackMessage): boolean => isTs(m.ts) && ((m.reply_count ?? 0) > 0 || (m.thread_ts === m.ts && m.latest_reply !== undefined));

const mentionIds = (text: string | undefined): string[] => (text ? [...text.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g)].map((x) => x[1]!) : []);

export interface SlackConnectorOptions {
  /** Passed to the WebClient (tests: a fast `retryConfig`). Never `rejectRateLimitedCalls: false`. */
  retryConfig?: { retries: number; minTimeout?: number; maxTimeout?: number; factor?: number };
  /** Socket Mode reconnect backoff: `minMs * 2^failures`, at most `maxMs` (default 1 s .. 60 s). */
  socketBackoff?: { minMs: number; maxMs: number };
  /** Socket Mode: ms to wait for `hello` after connecting (default 30 s). */
  socketHelloTimeoutMs?: number;
}

export function createSlackConnector(cfg: SlackConfig, deps: ConnectorDeps, opts: SlackConnectorOptions = {}): Connector<SlackCursor> {
  const limits = effectiveLimits(cfg);
  const allBudget = cfg.requestsPerMinute ? new RequestBudget(cfg.requestsPerMinute) : null;
  const historyBudget = limits.historyRequestsPerMinute ? new RequestBudget(limits.historyRequestsPerMinute) : null;
  const users = new Map<string, { ref: SlackUserRef | null; at: number }>();
  let usersUnavailable = false;
  let workspaceUrl: string | null | undefined;
  /** The signal of the history() call in progress: aborts requests in flight too. */
  let currentSignal: AbortSignal = new AbortController().signal;
  let rateLimitedMs = 0;

  const logger: Logger = {
    debug: () => undefined,
    info: (...msg: unknown[]) => deps.log('debug', `slack client: ${msg.map(String).join(' ')}`),
    warn: (...msg: unknown[]) => deps.log('warn', `slack client: ${msg.map(String).join(' ')}`),
    error: (...msg: unknown[]) => deps.log('error', `slack client: ${msg.map(String).join(' ')}`),
    setLevel: () => undefined,
    getLevel: () => 'warn' as never,
    setName: () => undefined,
  };
  const client = new WebClient(cfg.token, {
    ...(cfg.apiUrl ? { slackApiUrl: cfg.apiUrl } : {}),
    logger,
    rejectRateLimitedCalls: true,
    retryConfig: opts.retryConfig ?? { retries: cfg.retries, factor: 2, minTimeout: 1000, maxTimeout: 30_000, randomize: true },
    fetch: (url, init) => {
      const signals = [currentSignal, ...(init?.signal ? [init.signal] : [])];
      return globalThis.fetch(url, { ...(init as RequestInit), signal: AbortSignal.any(signals) }) as unknown as ReturnType<FetchFunction>;
    },
  });

  /** One Web API call: budget, 429 waits (abortable, counted), errors mapped. Never logs the token. */
  async function call<T extends WebAPICallResult>(method: string, args: Record<string, unknown>, appToken = false): Promise<T> {
    const signal = currentSignal;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new Aborted();
      if (allBudget) rateLimitedMs += await allBudget.take(deps, signal);
      if (historyBudget && HISTORY_METHODS.has(method)) rateLimitedMs += await historyBudget.take(deps, signal);
      try {
        return (await client.apiCall(method, appToken ? { ...args, token: cfg.appToken } : args)) as T;
      } catch (err: unknown) {
        if (signal.aborted) throw new Aborted();
        const e = err as { code?: string; retryAfter?: number; data?: { error?: string; needed?: string }; message?: string };
        if (e.code === 'slack_webapi_rate_limited_error') {
          const waitMs = Math.max(0, (e.retryAfter ?? 1) * 1000);
          if (attempt >= MAX_RATE_LIMIT_RETRIES) throw new ConnectorError('rate_limit', `Slack kept answering 429 to ${method} (${attempt} times); try again later`, deps.source, { retryAfterMs: waitMs });
          deps.log('info', `rate limited on ${method}, waiting ${waitMs} ms`, { method, retryAfterMs: waitMs });
          rateLimitedMs += waitMs;
          if (!(await deps.sleep(waitMs, signal))) throw new Aborted();
          continue;
        }
        if (e.code === 'slack_webapi_platform_error') {
          const code = e.data?.error ?? 'unknown_error';
          if (appToken && (AUTH_ERRORS.has(code) || code === 'not_allowed_token_type' || code === 'invalid_token')) {
            throw new ConnectorError('auth', `Slack refused the app token (${code}) on ${method}: appToken must be an app-level token (xapp-) with connections:write, and Socket Mode enabled for the app`, deps.source, { cause: new Error(`${method}: ${code}`) });
          }
          if (AUTH_ERRORS.has(code)) {
            throw new ConnectorError('auth', `Slack refused the token (${code}) on ${method}: check the token, or reinstall the app and update the secret`, deps.source, { cause: new Error(`${method}: ${code}`) });
          }
          throw new SlackCallError(method, code, e.data?.needed);
        }
        // Network errors and HTTP 5xx, after the client's own retries. The message names the URL, never the token.
        throw new ConnectorError('net', `${method} failed: ${e.message ?? String(err)}`, deps.source, { cause: err });
      }
    }
  }

  async function ensureWorkspace(): Promise<void> {
    if (workspaceUrl !== undefined) return;
    const res = await call<WebAPICallResult & { url?: string }>('auth.test', {});
    workspaceUrl = typeof res.url === 'string' && /^https?:\/\//.test(res.url) ? res.url : null;
  }

  async function listChannels(): Promise<{ channels: SlackChannel[]; gaps: Gap[] }> {
    const all: SlackChannel[] = [];
    let cursor: string | undefined;
    try {
      do {
        const res = await call<WebAPICallResult & { channels?: SlackChannel[] }>('conversations.list', { types: cfg.types, exclude_archived: true, limit: 200, cursor });
        all.push(...(res.channels ?? []));
        cursor = res.response_metadata?.next_cursor || undefined;
      } while (cursor);
    } catch (err: unknown) {
      if (err instanceof SlackCallError) throw new ConnectorError(err.slackCode === 'missing_scope' ? 'permission' : 'bad_data', `cannot list channels: ${err.message}`, deps.source, { cause: err });
      throw err;
    }
    const include = new Set(cfg.includeChannels.map((n) => n.replace(/^#/, '')));
    const exclude = new Set(cfg.excludeChannels.map((n) => n.replace(/^#/, '')));
    const wanted = (c: SlackChannel) => (include.size === 0 || include.has(c.name ?? '') || include.has(c.id)) && !exclude.has(c.name ?? '') && !exclude.has(c.id);
    const member = (c: SlackChannel) => c.is_member === true || c.is_im === true || c.is_mpim === true;
    const channels = all.filter((c) => wanted(c) && member(c));
    const gaps: Gap[] = [];
    const now = deps.now();
    for (const name of include) {
      const c = all.find((x) => x.name === name || x.id === name);
      if (!c) gaps.push({ channel: name, from: sinceMs(cfg) ?? 0, to: null, reason: `channel_not_found: #${name} is not visible to this token (private, renamed or archived?)` });
      else if (!member(c)) gaps.push({ channel: c.id, from: (c.created ?? now / 1000) * 1000, to: null, reason: `not_in_channel: the app is not a member of #${c.name ?? c.id}; invite it with /invite` });
    }
    return { channels, gaps };
  }

  /** Resolves users named by these messages (cached); emails are kept when the token may read them. */
  async function resolveUsers(ids: Iterable<string>): Promise<void> {
    for (const id of ids) {
      const hit = users.get(id);
      if (hit && deps.now() - hit.at < USER_CACHE_MS) continue;
      if (usersUnavailable) {
        users.set(id, { ref: null, at: deps.now() });
        continue;
      }
      try {
        const res = await call<WebAPICallResult & { user?: SlackUser }>('users.info', { user: id });
        const u = res.user ?? {};
        const p = u.profile ?? {};
        users.set(id, { ref: { name: p.display_name || p.real_name || u.name || id, email: p.email ?? null, isBot: u.is_bot === true || id === 'USLACKBOT', team: typeof u.team_id === 'string' ? u.team_id : null }, at: deps.now() });
      } catch (err: unknown) {
        if (!(err instanceof SlackCallError)) throw err;
        if (err.slackCode === 'missing_scope' || err.slackCode === 'not_allowed_token_type') {
          usersUnavailable = true;
          deps.log('warn', `users.info refused (${err.slackCode}): authors keep their ids; add the users:read scope`, { needed: err.needed });
        }
        users.set(id, { ref: null, at: deps.now() });
      }
    }
  }

  async function toItems(ch: SlackChannel, entries: Entry[]): Promise<SlackItem[]> {
    const ids = new Set<string>();
    const named = (m: SlackMessage): string[] => [
      // Events: an edit carries the message inside, a delete the previous one.
      ...(m.subtype === 'message_changed' && m.message ? named(m.message) : []),
      ...(m.subtype === 'message_deleted' && m.previous_message ? named(m.previous_message) : []),
      ...(m.user && !(m.subtype === 'bot_message' && m.bot_id) ? [m.user] : []),
      ...(m.comment?.user ? [m.comment.user] : []),
      ...mentionIds(m.text),
      ...(m.attachments ?? []).flatMap((a) => [...mentionIds(a.text), ...mentionIds(a.pretext)]),
    ];
    for (const m of entries) for (const id of named(m)) ids.add(id);
    await resolveUsers(ids);
    return entries.map((m) => {
      const refs: Record<string, SlackUserRef> = {};
      for (const id of named(m)) {
        const r = users.get(id)?.ref;
        if (r) refs[id] = r;
      }
      return { kind: 'slack', channel: ch.id, channelName: ch.name ?? null, message: m, users: refs, workspaceUrl: workspaceUrl ?? null };
    });
  }

  /** The whole thread, parent first (oldest first), or null when it is gone. */
  async function readThread(channel: string, parentTs: string, limit: number): Promise<SlackMessage[] | null> {
    const out: SlackMessage[] = [];
    let cursor: string | undefined;
    try {
      do {
        const res = await call<HistoryResult>('conversations.replies', { channel, ts: parentTs, limit, cursor });
        out.push(...(res.messages ?? []));
        cursor = res.response_metadata?.next_cursor || undefined;
      } while (cursor);
    } catch (err: unknown) {
      if (err instanceof SlackCallError && err.slackCode === 'thread_not_found') return null;
      throw err;
    }
    const seen = new Set<string>();
    return out.filter((m) => isTs(m.ts) && !seen.has(m.ts) && seen.add(m.ts)).sort((a, b) => compareTs(a.ts!, b.ts!));
  }

  interface Windows {
    recheckFrom: string | null;
    threadFrom: string | null;
    nowTs: string;
  }

  /**
   * Re-reads one thread: replies after `last` are new; known ones with a changed fingerprint are
   * edits; known ones that vanished are deletes. Updates the watch list and fingerprints.
   */
  async function refreshThread(ch: SlackChannel, st: ChannelState, parentTs: string, emitted: Set<string>, w: Windows, limit: number): Promise<Entry[]> {
    const last = st.threads[parentTs];
    const thread = await readThread(ch.id, parentTs, limit);
    if (!thread) {
      delete st.threads[parentTs];
      return [];
    }
    const out: Entry[] = [];
    const seen = new Set<string>();
    let newest = last ?? parentTs;
    for (const m of thread) {
      const ts = m.ts!;
      if (ts === parentTs) continue; // the parent is history's business
      seen.add(ts);
      const fp = fingerprint(m);
      const isNew = last === undefined || compareTs(ts, last) > 0;
      if (isNew) {
        if (!emitted.has(ts) && st.recent[ts] !== `${fp}@${parentTs}`) out.push(m);
        emitted.add(ts);
      } else {
        const prev = st.recent[ts];
        if (prev !== undefined && prev.split('@')[0] !== fp && !emitted.has(ts)) {
          out.push(m);
          emitted.add(ts);
        }
      }
      // Broadcasts are also top-level: history tracks them.
      if (m.subtype !== 'thread_broadcast' && w.recheckFrom && compareTs(ts, w.recheckFrom) > 0) st.recent[ts] = `${fp}@${parentTs}`;
      newest = maxTs(newest, ts)!;
    }
    for (const [ts, v] of Object.entries(st.recent)) {
      if (v.endsWith(`@${parentTs}`) && !seen.has(ts)) {
        out.push({ type: 'message', subtype: 'message_deleted', hidden: true, deleted_ts: ts, thread_ts: parentTs, event_ts: w.nowTs, ts: w.nowTs });
        delete st.recent[ts];
      }
    }
    if (cfg.threadWindowDays > 0 && (w.threadFrom === null || compareTs(newest, w.threadFrom) > 0)) st.threads[parentTs] = newest;
    else delete st.threads[parentTs];
    return out;
  }

  /** One channel: the history window, then the watched threads. Yields entries; `st` is updated in place. */
  async function* pullChannel(ch: SlackChannel, st: ChannelState): AsyncGenerator<{ entries: Entry[] }> {
    const { pageSize } = limits;
    const nowMs = deps.now();
    const w: Windows = {
      recheckFrom: cfg.recheckHours > 0 ? msToTs(nowMs - cfg.recheckHours * 3600_000) : null,
      threadFrom: cfg.threadWindowDays > 0 ? msToTs(nowMs - cfg.threadWindowDays * 86_400_000) : null,
      nowTs: msToTs(nowMs),
    };
    const emitted = new Set<string>();
    const refreshed = new Set<string>();
    if (!st.pending) {
      const since = sinceMs(cfg);
      const oldest = st.latestTs ? (w.recheckFrom ? minTs(st.latestTs, w.recheckFrom) : st.latestTs) : since !== undefined ? msToTs(since - 1) : null;
      st.pending = { oldest, latest: null, top: null, seen: [] };
    }
    const p = st.pending;
    const knownUpTo = st.latestTs;
    const requestLatest = p.latest;
    let cursor: string | undefined;
    do {
      const res = await call<HistoryResult>('conversations.history', {
        channel: ch.id,
        limit: pageSize,
        ...(p.oldest ? { oldest: p.oldest } : {}),
        ...(requestLatest ? { latest: requestLatest } : {}),
        inclusive: false,
        cursor,
      });
      const msgs = (res.messages ?? []).filter((m) => isTs(m.ts)).sort((a, b) => compareTs(b.ts!, a.ts!));
      const bad = (res.messages ?? []).filter((m) => !isTs(m.ts));
      const entries: Entry[] = [...bad]; // normalize refuses them: quarantined with their page
      for (const m of msgs) {
        const ts = m.ts!;
        const known = knownUpTo !== null && compareTs(ts, knownUpTo) <= 0;
        const fp = fingerprint(m);
        if (!known) {
          // Already handed out by a Socket Mode event, unchanged since: not again.
          if (!emitted.has(ts) && st.recent[ts] !== fp) entries.push(m);
          emitted.add(ts);
        } else {
          p.seen.push(ts);
          const prev = st.recent[ts];
          if (prev !== undefined && prev !== fp && !emitted.has(ts)) {
            entries.push(m);
            emitted.add(ts);
          }
        }
        if (w.recheckFrom && compareTs(ts, w.recheckFrom) > 0) st.recent[ts] = fp;
        if (isThreadParent(m)) {
          const last = st.threads[ts];
          const latestReply = isTs(m.latest_reply) ? m.latest_reply : null;
          if (!known || last === undefined || (latestReply !== null && compareTs(latestReply, last) > 0)) {
            entries.push(...(await refreshThread(ch, st, ts, emitted, w, pageSize)));
            refreshed.add(ts);
          }
        } else if (m.subtype === 'thread_broadcast' && isTs(m.thread_ts) && !known && st.threads[m.thread_ts] === undefined && !refreshed.has(m.thread_ts)) {
          // A reply to a thread we do not watch (its parent is older than the window): read it now.
          entries.push(...(await refreshThread(ch, st, m.thread_ts, emitted, w, pageSize)));
          refreshed.add(m.thread_ts);
        }
      }
      const last = msgs[msgs.length - 1];
      const first = msgs[0];
      if (last) p.latest = last.ts!;
      if (first) p.top = maxTs(p.top, first.ts);
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) {
        // Window complete: known messages in it that did not come back were deleted.
        const seen = new Set(p.seen);
        for (const [ts, v] of Object.entries(st.recent)) {
          if (v.includes('@') || knownUpTo === null || compareTs(ts, knownUpTo) > 0) continue;
          if (p.oldest !== null && compareTs(ts, p.oldest) <= 0) continue;
          if (seen.has(ts)) continue;
          entries.push({ type: 'message', subtype: 'message_deleted', hidden: true, deleted_ts: ts, event_ts: w.nowTs, ts: w.nowTs });
          delete st.recent[ts];
        }
        st.latestTs = maxTs(st.latestTs, p.top);
        delete st.pending;
        prune(st, w);
      }
      yield { entries };
    } while (cursor);

    // Watched threads not already re-read from their parent above.
    for (const parentTs of Object.keys(st.threads).sort(compareTs)) {
      if (refreshed.has(parentTs)) continue;
      const last = st.threads[parentTs]!;
      if (w.threadFrom && compareTs(last, w.threadFrom) <= 0) {
        delete st.threads[parentTs];
        continue;
      }
      const entries = await refreshThread(ch, st, parentTs, emitted, w, pageSize);
      refreshed.add(parentTs);
      yield { entries };
    }
  }

  function prune(st: ChannelState, w: Windows): void {
    const keys = Object.keys(st.recent);
    for (const ts of keys) if (!w.recheckFrom || compareTs(ts, w.recheckFrom) <= 0) delete st.recent[ts];
    const left = Object.keys(st.recent).sort(compareTs);
    for (const ts of left.slice(0, Math.max(0, left.length - MAX_RECENT))) delete st.recent[ts];
  }

  function channelFrom(ch: SlackChannel, st: ChannelState | undefined): number {
    if (st?.latestTs) return tsToMs(st.latestTs);
    return sinceMs(cfg) ?? (typeof ch.created === 'number' ? ch.created * 1000 : 0);
  }

  const takeRateLimited = (): number => {
    const ms = rateLimitedMs;
    rateLimitedMs = 0;
    return ms;
  };

  async function* history(from: SlackCursor | undefined, signal: AbortSignal): AsyncGenerator<Page<SlackCursor>> {
    let cur: SlackCursor;
    try {
      cur = from === undefined || from === null ? emptySlackCursor() : parseSlackCursor(from);
    } catch (err: unknown) {
      throw new ConnectorError('config', 'the stored cursor is not a v1 Slack cursor; reset the source to backfill again', deps.source, { cause: err });
    }
    currentSignal = signal;
    rateLimitedMs = 0;
    const snapshot = (): SlackCursor => structuredClone(cur);
    try {
      await ensureWorkspace();
      const { channels, gaps } = await listChannels();
      if (gaps.length) yield { items: [], cursor: snapshot(), gaps, rateLimitedMs: takeRateLimited() };
      for (const ch of channels) {
        const st = (cur.channels[ch.id] ??= emptyChannelState());
        try {
          for await (const part of pullChannel(ch, st)) {
            const items = await toItems(ch, part.entries);
            yield { items, cursor: snapshot(), rateLimitedMs: takeRateLimited() };
          }
        } catch (err: unknown) {
          if (!(err instanceof SlackCallError) || !CHANNEL_ERRORS.has(err.slackCode)) {
            if (err instanceof SlackCallError) throw new ConnectorError('bad_data', `#${ch.name ?? ch.id}: ${err.message}`, deps.source, { cause: err });
            throw err;
          }
          // This channel only: a gap, the others go on. An unfinished window is read again next time.
          delete st.pending;
          const gap: Gap = { channel: ch.id, from: channelFrom(ch, st), to: null, reason: `${err.slackCode}: cannot read #${ch.name ?? ch.id}${err.needed ? ` (needs ${err.needed})` : ''}` };
          deps.log('warn', `channel skipped: ${gap.reason}`, { channel: ch.id });
          yield { items: [], cursor: snapshot(), gaps: [gap], rateLimitedMs: takeRateLimited() };
        }
      }
    } catch (err: unknown) {
      if (err instanceof Aborted) return;
      throw err;
    }
  }

  /**
   * One Socket Mode `message` event -> the entry to hand out, or null when it is not ours or was
   * already handed out unchanged. Updates the channel's fingerprints (and watched threads) like a pull would.
   */
  function eventEntry(ev: SlackMessage, st: ChannelState): Entry | null {
    const nowMs = deps.now();
    const recheckFrom = cfg.recheckHours > 0 ? msToTs(nowMs - cfg.recheckHours * 3600_000) : null;
    const remember = (m: SlackMessage): boolean => {
      // Same keys as pullChannel/refreshThread: `<fp>` top-level and broadcasts, `<fp>@<parent>` replies.
      if (!isTs(m.ts)) return true;
      const ts = m.ts;
      const parent = isTs(m.thread_ts) && m.thread_ts !== ts && m.subtype !== 'thread_broadcast' ? m.thread_ts : null;
      const key = parent ? `${fingerprint(m)}@${parent}` : fingerprint(m);
      if (st.recent[ts] === key) return false;
      if (recheckFrom && compareTs(ts, recheckFrom) > 0) st.recent[ts] = key;
      // A reply to an old thread nobody watches: watch it from here on (its parent is before the cursor,
      // so no pull would find it). Threads with a newer parent are left to the pull, which reads them whole.
      if (parent && cfg.threadWindowDays > 0 && st.threads[parent] === undefined && st.latestTs && compareTs(parent, st.latestTs) <= 0) st.threads[parent] = ts;
      return true;
    };
    if (ev.subtype === 'message_deleted') {
      const ts = ev.deleted_ts ?? ev.previous_message?.ts;
      if (isTs(ts)) delete st.recent[ts];
      return ev;
    }
    if (ev.subtype === 'message_changed') {
      if (!ev.message) return ev; // normalize refuses it: quarantined with its page
      return remember(ev.message) ? ev : null;
    }
    return remember(ev) ? ev : null;
  }

  async function* liveSocket(since: SlackCursor | undefined, signal: AbortSignal): AsyncGenerator<Page<SlackCursor>> {
    const backoff = opts.socketBackoff ?? { minMs: 1000, maxMs: 60_000 };
    let cursor = since;
    let failures = 0;
    while (!signal.aborted) {
      currentSignal = signal;
      rateLimitedMs = 0;
      let session: SocketSession | null = null;
      let why: string;
      try {
        let url: string;
        try {
          const res = await call<WebAPICallResult & { url?: string }>('apps.connections.open', {}, true);
          if (typeof res.url !== 'string' || !/^wss?:\/\//.test(res.url)) throw new ConnectorError('bad_data', 'apps.connections.open gave no ws(s) URL', deps.source);
          url = res.url;
        } catch (err: unknown) {
          if (err instanceof Aborted) return;
          if (err instanceof SlackCallError) throw new ConnectorError('bad_data', `cannot open a Socket Mode connection: ${err.message}`, deps.source, { cause: err });
          throw err;
        }
        session = new SocketSession(new WebSocket(url, { handshakeTimeout: opts.socketHelloTimeoutMs ?? 30_000 }), signal, deps.log);
        if (await session.waitHello(opts.socketHelloTimeoutMs ?? 30_000)) {
          failures = 0;
          deps.log('info', 'socket mode connected; catching up from the cursor');
          // Catch-up: the ordinary pull. Events arriving meanwhile wait in the session's buffer.
          for await (const page of history(cursor, signal)) {
            cursor = page.cursor;
            yield page;
          }
          if (signal.aborted) return;
          const cur = cursor === undefined || cursor === null ? emptySlackCursor() : parseSlackCursor(structuredClone(cursor));
          const { channels } = await listChannels();
          const byId = new Map(channels.map((c) => [c.id, c]));
          for (;;) {
            const batch = await session.next();
            if (batch === null) break;
            const items: SlackItem[] = [];
            for (const env of batch) {
              const ev = env.payload?.event;
              if (!ev || ev.type !== 'message' || typeof ev.channel !== 'string') continue;
              const ch = byId.get(ev.channel);
              if (!ch) continue; // a channel this source does not read
              const entry = eventEntry(ev, (cur.channels[ch.id] ??= emptyChannelState()));
              if (entry) items.push(...(await toItems(ch, [entry])));
            }
            if (items.length) {
              cursor = structuredClone(cur);
              yield { items, cursor: structuredClone(cur), rateLimitedMs: takeRateLimited() };
            }
            // After the page was taken (the consumer asked for the next one): acknowledge.
            session.ack(batch.flatMap((e) => (typeof e.envelope_id === 'string' ? [e.envelope_id] : [])));
          }
        }
        why = session.ended ?? 'ended';
      } catch (err: unknown) {
        if (err instanceof Aborted || signal.aborted) return;
        if (err instanceof ConnectorError && err.kind !== 'net') throw err;
        // Network trouble (the Web API or the socket): back off and reconnect.
        why = err instanceof Error ? err.message : String(err);
      } finally {
        session?.close();
      }
      if (signal.aborted) return;
      // Slack asked for a fresh connection after a healthy one: at once. Anything else: exponential backoff
      // (failures is reset by every `hello`).
      const immediate = failures === 0 && session?.disconnectReason != null && REFRESH_REASONS.has(session.disconnectReason);
      if (!immediate) failures++;
      const wait = immediate ? 0 : Math.min(backoff.maxMs, backoff.minMs * 2 ** (failures - 1));
      deps.log(session?.disconnectReason === 'link_disabled' ? 'warn' : 'info', `socket mode connection ended (${why}); reconnecting${wait ? ` in ${wait} ms` : ''}`, { reason: why, waitMs: wait });
      if (wait > 0 && !(await deps.sleep(wait, signal))) return;
    }
  }

  return {
    platform: 'slack',
    capabilities: { history: true, live: true, edits: true, threads: true },
    history,
    async *live(since: SlackCursor | undefined, signal: AbortSignal): AsyncGenerator<Page<SlackCursor>> {
      if (cfg.appToken) {
        yield* liveSocket(since, signal);
        return;
      }
      let cursor = since;
      while (!signal.aborted) {
        for await (const page of history(cursor, signal)) {
          cursor = page.cursor;
          yield page;
        }
        if (signal.aborted || !(await deps.sleep(cfg.pollIntervalSeconds * 1000, signal))) return;
      }
    },
    normalize: normalizeSlack,
  };
}
