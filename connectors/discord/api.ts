// Discord REST access (rate limits waited out abortably, errors turned into ConnectorErrors) and the
// channel directory (which channels and threads are read, where a thread's messages belong).
import { DiscordAPIError, HTTPError, RateLimitError, REST } from '@discordjs/rest';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import type { DiscordConfig } from './config.js';
import type { DiscordChannelRef, DiscordMessageItem } from './normalize.js';

export const DAY_MS = 24 * 3600 * 1000;

/** Channel types read for messages, and those whose threads are read (PLATFORMS.md 2.5). */
export const TEXT_TYPES = new Set([0, 5]);
export const FORUM_TYPES = new Set([15, 16]);
export const THREAD_TYPES = new Set([10, 11, 12]);

/** The fields of a Discord channel object this connector uses. */
export interface ApiChannel {
  id: string;
  type: number;
  name?: string | null;
  guild_id?: string;
  parent_id?: string | null;
  last_message_id?: string | null;
  applied_tags?: string[];
  available_tags?: Array<{ id: string; name: string }>;
  thread_metadata?: { archived?: boolean; archive_timestamp?: string };
}

export interface ApiMessageLite {
  id: string;
  channel_id: string;
  timestamp: string;
  edited_timestamp?: string | null;
  author?: { id?: unknown; bot?: boolean };
  webhook_id?: string;
}

/** How long an author's looked-up roles are trusted. */
export const MEMBER_CACHE_MS = 6 * 3600 * 1000;

/** The request was cancelled by the caller's signal. */
export class Aborted extends Error {
  constructor() {
    super('aborted');
    this.name = 'Aborted';
  }
}

/** A 403/404 on one channel or list: the caller turns it into a gap. */
export class ChannelAccessError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | string,
    readonly discordMessage: string,
  ) {
    super(`${discordMessage} (HTTP ${status}, code ${String(code)})`);
    this.name = 'ChannelAccessError';
  }
}

/**
 * REST access with Discord's rate limits waited out here, abortably: the client is told to reject on a rate
 * limit (`rejectOnRateLimit`) instead of sleeping itself, so an abort is never stuck behind its timer.
 */
export class DiscordApi {
  readonly rest: REST;
  private rateLimitedMs = 0;

  constructor(
    private readonly cfg: DiscordConfig,
    private readonly deps: ConnectorDeps,
  ) {
    this.rest = new REST({
      api: cfg.apiUrl,
      version: '10',
      retries: cfg.retries,
      timeout: cfg.timeoutMs,
      rejectOnRateLimit: () => true,
    }).setToken(cfg.token);
  }

  /** Rate-limit wait since the last call (for `page.rateLimitedMs`). */
  takeRateLimitedMs(): number {
    const ms = this.rateLimitedMs;
    this.rateLimitedMs = 0;
    return ms;
  }

  async get<T>(route: `/${string}`, query: Record<string, string> | undefined, signal: AbortSignal): Promise<T> {
    for (;;) {
      if (signal.aborted) throw new Aborted();
      // @discordjs/rest adds an abort listener to the signal of every request and never removes it: hand it a
      // per-request signal, linked to ours, so a long backfill does not pile listeners onto the caller's signal.
      const link = new AbortController();
      const forward = () => link.abort();
      signal.addEventListener('abort', forward, { once: true });
      try {
        return (await this.rest.get(route, { query: query ? new URLSearchParams(query) : undefined, signal: link.signal })) as T;
      } catch (err: unknown) {
        if (signal.aborted) throw new Aborted();
        if (err instanceof RateLimitError) {
          const waitMs = Math.max(err.retryAfter, err.timeToReset, 0) || 1000;
          this.deps.log('warn', 'Discord rate limit: waiting before retrying', { route: err.route, waitMs, global: err.global, scope: err.scope });
          if (!(await this.deps.sleep(waitMs, signal))) throw new Aborted();
          this.rateLimitedMs += waitMs;
          continue;
        }
        throw this.mapError(err, route);
      } finally {
        signal.removeEventListener('abort', forward);
      }
    }
  }

  private mapError(err: unknown, route: string): Error {
    const src = this.deps.source;
    if (err instanceof DiscordAPIError) {
      if (err.status === 401)
        return new ConnectorError('auth', `Discord refused the bot token (401 ${err.message}): the token is wrong, reset or revoked; set a new bot token for this source`, src, { cause: err });
      if (err.status === 403 || err.status === 404) return new ChannelAccessError(err.status, err.code, err.message);
      return new ConnectorError('bad_data', `Discord answered GET ${route} with ${err.status} ${err.message} (code ${String(err.code)})`, src, { cause: err });
    }
    if (err instanceof HTTPError) return new ConnectorError('net', `Discord GET ${route} failed: HTTP ${err.status} ${err.message}`, src, { cause: err });
    const msg = err instanceof Error ? err.message : String(err);
    if (/Expected token to be set/i.test(msg)) return new ConnectorError('auth', 'no Discord bot token (it was cleared after a 401): set a new bot token for this source', src, { cause: err });
    return new ConnectorError('net', `Discord GET ${route} failed: ${msg}`, src, { cause: err });
  }
}

/** Channels, threads and names of the configured guild, as far as they are known. */
export class ChannelDirectory {
  readonly channels = new Map<string, ApiChannel>();
  readonly roles: Record<string, string> = {};

  constructor(
    private readonly guildId: string,
    private readonly configured: readonly string[],
  ) {}

  note(ch: ApiChannel): void {
    const old = this.channels.get(ch.id);
    this.channels.set(ch.id, old ? { ...old, ...ch } : ch);
  }

  ref(ch: ApiChannel): DiscordChannelRef {
    return { id: ch.id, name: ch.name ?? null, type: ch.type };
  }

  channelNames(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const c of this.channels.values()) if (c.name) out[c.id] = c.name;
    return out;
  }

  /** Whether messages of this channel (or of a thread under it) belong to this source. */
  inScope(ch: ApiChannel): boolean {
    if (ch.guild_id && ch.guild_id !== this.guildId) return false;
    const top = THREAD_TYPES.has(ch.type) && ch.parent_id ? this.channels.get(ch.parent_id) : ch;
    const topId = THREAD_TYPES.has(ch.type) ? (ch.parent_id ?? ch.id) : ch.id;
    if (this.configured.length) return this.configured.includes(topId);
    return top ? TEXT_TYPES.has(top.type) || FORUM_TYPES.has(top.type) || THREAD_TYPES.has(top.type) : true;
  }

  /** The forum tag names applied to a thread. */
  labelsOf(thread: ApiChannel): string[] {
    if (!thread.applied_tags?.length || !thread.parent_id) return [];
    const parent = this.channels.get(thread.parent_id);
    if (!parent?.available_tags) return [];
    const byId = new Map(parent.available_tags.map((t) => [t.id, t.name]));
    return thread.applied_tags.map((id) => byId.get(id)).filter((x): x is string => !!x);
  }

  /** The context an item about a message in this channel carries. */
  placement(ch: ApiChannel): Pick<DiscordMessageItem, 'channel' | 'parent' | 'labels'> {
    const parent = THREAD_TYPES.has(ch.type) && ch.parent_id ? this.channels.get(ch.parent_id) : undefined;
    const labels = THREAD_TYPES.has(ch.type) ? this.labelsOf(ch) : [];
    return { channel: this.ref(ch), parent: parent ? this.ref(parent) : null, ...(labels.length ? { labels } : {}) };
  }
}
