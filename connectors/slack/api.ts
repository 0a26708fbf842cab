// The Slack Web API as the connector uses it: one call path (request budgets, 429s waited out with
// deps.sleep, abortable and counted, errors mapped to ConnectorError or SlackCallError), the channel
// list with its gaps, the user cache, and the items handed to normalize.
import { WebClient, type FetchFunction, type Logger, type WebAPICallResult, type WebClientOptions } from '@slack/web-api';
import type { Gap } from '../../src/model/index.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import { effectiveLimits, sinceMs, type SlackConfig } from './config.js';
import type { SlackItem, SlackMessage, SlackUserRef } from './normalize.js';

/** Slack error codes that mean the token itself is bad: stop the source. */
const AUTH_ERRORS = new Set(['invalid_auth', 'token_revoked', 'token_expired', 'not_authed', 'account_inactive', 'no_permission', 'org_login_required', 'ekm_access_denied']);
/** Errors that make one channel unreadable: a gap for that channel, the rest goes on. */
export const CHANNEL_ERRORS = new Set(['not_in_channel', 'missing_scope', 'channel_not_found', 'method_not_supported_for_channel_type', 'access_denied']);
/** Consecutive 429s on one call before giving up (each is waited out first). */
const MAX_RATE_LIMIT_RETRIES = 20;
/** Fingerprints kept per channel at most (the recheck window normally keeps it far smaller). */
export const MAX_RECENT = 5000;
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

export interface HistoryResult extends WebAPICallResult {
  messages?: SlackMessage[];
  has_more?: boolean;
}

interface SlackUser {
  id?: string;
  name?: string;
  deleted?: boolean;
  is_bot?: boolean;
  team_id?: string;
  is_admin?: boolean;
  is_owner?: boolean;
  is_primary_owner?: boolean;
  profile?: { display_name?: string; real_name?: string; email?: string };
}

/** A raw message and the channel it came from, before users are attached. */
export type Entry = SlackMessage;

/** Thrown inside the connector when the signal aborts; ends the iteration quietly. */
export class Aborted extends Error {}

/** A Slack error code from a failed call (not auth: those become ConnectorError at once). */
export class SlackCallError extends Error {
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

const mentionIds = (text: string | undefined): string[] => (text ? [...text.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g)].map((x) => x[1]!) : []);

export interface SlackConnectorOptions {
  /** Passed to the WebClient (tests: a fast `retryConfig`). Never `rejectRateLimitedCalls: false`. */
  retryConfig?: { retries: number; minTimeout?: number; maxTimeout?: number; factor?: number };
  /** Socket Mode reconnect backoff: `minMs * 2^failures`, at most `maxMs` (default 1 s .. 60 s). */
  socketBackoff?: { minMs: number; maxMs: number };
  /** Socket Mode: ms to wait for `hello` after connecting (default 30 s). */
  socketHelloTimeoutMs?: number;
}

export class SlackApi {
  readonly limits: ReturnType<typeof effectiveLimits>;
  private readonly allBudget: RequestBudget | null;
  private readonly historyBudget: RequestBudget | null;
  private readonly users = new Map<string, { ref: SlackUserRef | null; at: number }>();
  private usersUnavailable = false;
  private workspaceUrl: string | null | undefined;
  /** The signal of the history() call in progress: aborts requests in flight too. */
  private currentSignal: AbortSignal = new AbortController().signal;
  private rateLimitedMs = 0;
  private readonly client: WebClient;
  private readonly retryConfig: NonNullable<WebClientOptions['retryConfig']>;
  /** Every request aborts with the signal of the pull or session in progress. */
  private readonly fetch: FetchFunction = (url, init) => {
    const signals = [this.currentSignal, ...(init?.signal ? [init.signal] : [])];
    return globalThis.fetch(url, { ...(init as RequestInit), signal: AbortSignal.any(signals) }) as unknown as ReturnType<FetchFunction>;
  };

  constructor(
    readonly cfg: SlackConfig,
    readonly deps: ConnectorDeps,
    opts: SlackConnectorOptions,
  ) {
    this.limits = effectiveLimits(cfg);
    this.allBudget = cfg.requestsPerMinute ? new RequestBudget(cfg.requestsPerMinute) : null;
    this.historyBudget = this.limits.historyRequestsPerMinute ? new RequestBudget(this.limits.historyRequestsPerMinute) : null;

    const logger: Logger = {
      debug: () => undefined,
      info: (...msg: unknown[]) => deps.log('debug', `slack client: ${msg.map(String).join(' ')}`),
      warn: (...msg: unknown[]) => deps.log('warn', `slack client: ${msg.map(String).join(' ')}`),
      error: (...msg: unknown[]) => deps.log('error', `slack client: ${msg.map(String).join(' ')}`),
      setLevel: () => undefined,
      getLevel: () => 'warn' as never,
      setName: () => undefined,
    };
    this.retryConfig = opts.retryConfig ?? { retries: cfg.retries, factor: 2, minTimeout: 1000, maxTimeout: 30_000, randomize: true };
    this.client = new WebClient(cfg.token, { ...this.clientOptions(), logger });
  }

  /** A pull or a session starts under `signal` (requests in flight abort with it); the waited ms count from 0. */
  begin(signal: AbortSignal): void {
    this.currentSignal = signal;
    this.rateLimitedMs = 0;
  }

  /** The ms waited for rate limits since the last call, and the count back to 0. */
  takeRateLimited(): number {
    const ms = this.rateLimitedMs;
    this.rateLimitedMs = 0;
    return ms;
  }

  /** One Web API call: budget, 429 waits (abortable, counted), errors mapped. Never logs the token. */
  async call<T extends WebAPICallResult>(method: string, args: Record<string, unknown>, appToken = false): Promise<T> {
    return this.attempt(method, appToken, async () => (await this.client.apiCall(method, appToken ? { ...args, token: this.cfg.appToken } : args)) as T);
  }

  /**
   * What another client calls with the app token (the Socket Mode client's apps.connections.open), under
   * the same budget, 429 waits and error mapping as `call`.
   */
  withAppToken<T>(method: string, run: () => Promise<T>): Promise<T> {
    return this.attempt(method, true, run);
  }

  /** The Web API options another client (Socket Mode) uses: the same API URL and retries, requests aborted with the session. */
  clientOptions(): Omit<WebClientOptions, 'logLevel' | 'logger'> {
    return { ...(this.cfg.apiUrl ? { slackApiUrl: this.cfg.apiUrl } : {}), rejectRateLimitedCalls: true, retryConfig: this.retryConfig, fetch: this.fetch };
  }

  private async attempt<T>(method: string, appToken: boolean, run: () => Promise<T>): Promise<T> {
    const signal = this.currentSignal;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw new Aborted();
      if (this.allBudget) this.rateLimitedMs += await this.allBudget.take(this.deps, signal);
      if (this.historyBudget && HISTORY_METHODS.has(method)) this.rateLimitedMs += await this.historyBudget.take(this.deps, signal);
      try {
        return await run();
      } catch (err: unknown) {
        if (signal.aborted) throw new Aborted();
        const e = err as { code?: string; retryAfter?: number; data?: { error?: string; needed?: string }; message?: string };
        if (e.code === 'slack_webapi_rate_limited_error') {
          const waitMs = Math.max(0, (e.retryAfter ?? 1) * 1000);
          if (attempt >= MAX_RATE_LIMIT_RETRIES)
            throw new ConnectorError('rate_limit', `Slack kept answering 429 to ${method} (${attempt} times); try again later`, this.deps.source, { retryAfterMs: waitMs });
          this.deps.log('info', `rate limited on ${method}, waiting ${waitMs} ms`, { method, retryAfterMs: waitMs });
          this.rateLimitedMs += waitMs;
          if (!(await this.deps.sleep(waitMs, signal))) throw new Aborted();
          continue;
        }
        if (e.code === 'slack_webapi_platform_error') {
          const code = e.data?.error ?? 'unknown_error';
          if (appToken && (AUTH_ERRORS.has(code) || code === 'not_allowed_token_type' || code === 'invalid_token')) {
            throw new ConnectorError(
              'auth',
              `Slack refused the app token (${code}) on ${method}: appToken must be an app-level token (xapp-) with connections:write, and Socket Mode enabled for the app`,
              this.deps.source,
              { cause: new Error(`${method}: ${code}`) },
            );
          }
          if (AUTH_ERRORS.has(code)) {
            throw new ConnectorError('auth', `Slack refused the token (${code}) on ${method}: check the token, or reinstall the app and update the secret`, this.deps.source, {
              cause: new Error(`${method}: ${code}`),
            });
          }
          throw new SlackCallError(method, code, e.data?.needed);
        }
        // Network errors and HTTP 5xx, after the client's own retries. The message names the URL, never the token.
        throw new ConnectorError('net', `${method} failed: ${e.message ?? String(err)}`, this.deps.source, { cause: err });
      }
    }
  }

  async ensureWorkspace(): Promise<void> {
    if (this.workspaceUrl !== undefined) return;
    const res = await this.call<WebAPICallResult & { url?: string }>('auth.test', {});
    this.workspaceUrl = typeof res.url === 'string' && /^https?:\/\//.test(res.url) ? res.url : null;
  }

  async listChannels(): Promise<{ channels: SlackChannel[]; gaps: Gap[] }> {
    const all: SlackChannel[] = [];
    let cursor: string | undefined;
    try {
      do {
        const res = await this.call<WebAPICallResult & { channels?: SlackChannel[] }>('conversations.list', { types: this.cfg.types, exclude_archived: true, limit: 200, cursor });
        all.push(...(res.channels ?? []));
        cursor = res.response_metadata?.next_cursor || undefined;
      } while (cursor);
    } catch (err: unknown) {
      if (err instanceof SlackCallError)
        throw new ConnectorError(err.slackCode === 'missing_scope' ? 'permission' : 'bad_data', `cannot list channels: ${err.message}`, this.deps.source, { cause: err });
      throw err;
    }
    const include = new Set(this.cfg.includeChannels.map((n) => n.replace(/^#/, '')));
    const exclude = new Set(this.cfg.excludeChannels.map((n) => n.replace(/^#/, '')));
    const wanted = (c: SlackChannel) => (include.size === 0 || include.has(c.name ?? '') || include.has(c.id)) && !exclude.has(c.name ?? '') && !exclude.has(c.id);
    const member = (c: SlackChannel) => c.is_member === true || c.is_im === true || c.is_mpim === true;
    const channels = all.filter((c) => wanted(c) && member(c));
    const gaps: Gap[] = [];
    const now = this.deps.now();
    for (const name of include) {
      const c = all.find((x) => x.name === name || x.id === name);
      if (!c) gaps.push({ channel: name, from: sinceMs(this.cfg) ?? 0, to: null, reason: `channel_not_found: #${name} is not visible to this token (private, renamed or archived?)` });
      else if (!member(c))
        gaps.push({ channel: c.id, from: (c.created ?? now / 1000) * 1000, to: null, reason: `not_in_channel: the app is not a member of #${c.name ?? c.id}; invite it with /invite` });
    }
    return { channels, gaps };
  }

  /** Resolves users named by these messages (cached); emails are kept when the token may read them. */
  async resolveUsers(ids: Iterable<string>): Promise<void> {
    for (const id of ids) {
      const hit = this.users.get(id);
      if (hit && this.deps.now() - hit.at < USER_CACHE_MS) continue;
      if (this.usersUnavailable) {
        this.users.set(id, { ref: null, at: this.deps.now() });
        continue;
      }
      try {
        const res = await this.call<WebAPICallResult & { user?: SlackUser }>('users.info', { user: id });
        const u = res.user ?? {};
        const p = u.profile ?? {};
        this.users.set(id, {
          ref: {
            name: p.display_name || p.real_name || u.name || id,
            email: p.email ?? null,
            isBot: u.is_bot === true || id === 'USLACKBOT',
            team: typeof u.team_id === 'string' ? u.team_id : null,
            admin: u.is_admin === true || u.is_owner === true || u.is_primary_owner === true,
          },
          at: this.deps.now(),
        });
      } catch (err: unknown) {
        if (!(err instanceof SlackCallError)) throw err;
        if (err.slackCode === 'missing_scope' || err.slackCode === 'not_allowed_token_type') {
          this.usersUnavailable = true;
          this.deps.log('warn', `users.info refused (${err.slackCode}): authors keep their ids; add the users:read scope`, { needed: err.needed });
        }
        this.users.set(id, { ref: null, at: this.deps.now() });
      }
    }
  }

  async toItems(ch: SlackChannel, entries: Entry[]): Promise<SlackItem[]> {
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
    await this.resolveUsers(ids);
    return entries.map((m) => {
      const refs: Record<string, SlackUserRef> = {};
      for (const id of named(m)) {
        const r = this.users.get(id)?.ref;
        if (r) refs[id] = r;
      }
      return { kind: 'slack', channel: ch.id, channelName: ch.name ?? null, message: m, users: refs, workspaceUrl: this.workspaceUrl ?? null };
    });
  }
}
