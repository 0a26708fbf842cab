// Discord live side: the gateway through @discordjs/ws's WebSocketManager (HELLO, IDENTIFY with intents,
// heartbeats, RESUME after a drop, re-IDENTIFY after an invalid session are the library's), and a REST catch-up
// pull from the cursor on every (re)connect, so what was said while disconnected is read too.
//
// Why @discordjs/ws and not discord.js's Client: the Client is the same WebSocketManager plus caches that need
// full GUILD_CREATE payloads and a REST-backed cache layer; we only want raw dispatches, and the manager is the
// seam both share.
import { DiscordAPIError, RateLimitError, type REST } from '@discordjs/rest';
import { WebSocketManager, WebSocketShardEvents, type SessionInfo } from '@discordjs/ws';
import { GatewayIntentBits } from 'discord-api-types/v10';
import type { Page } from '../../src/model/index.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import type { DiscordConfig } from './config.js';
import { compareSnowflakes, withChannel, type DiscordCursor } from './cursor.js';
import type { DiscordDeleteItem, DiscordItem, DiscordMessageItem } from './normalize.js';

/** GUILDS (channels, threads), GUILD_MESSAGES (create/update/delete), MESSAGE_CONTENT (privileged: the text). */
export const DISCORD_INTENTS = GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent;

/** Authors remembered from MESSAGE_CREATE so a later MESSAGE_DELETE can name them. */
const MAX_REMEMBERED_AUTHORS = 10_000;

/** Gateway close codes that retrying cannot fix (docs `opcodes-and-status-codes.mdx`). */
const FATAL_CLOSE: Record<number, { kind: 'auth' | 'config'; why: string }> = {
  4004: { kind: 'auth', why: 'the gateway refused the bot token (4004 Authentication failed); set a new bot token for this source' },
  4010: { kind: 'config', why: 'the gateway rejected the shard (4010 Invalid shard)' },
  4011: { kind: 'config', why: 'the bot is in too many guilds for one shard (4011 Sharding required)' },
  4012: { kind: 'config', why: 'invalid gateway API version (4012)' },
  4013: { kind: 'config', why: 'invalid intents (4013)' },
  4014: { kind: 'config', why: 'disallowed intents (4014): enable the MESSAGE_CONTENT privileged intent for this bot in the Developer Portal' },
};

type Placement = Pick<DiscordMessageItem, 'channel' | 'parent' | 'labels'>;

/** What the connector lends the live side. */
export interface GatewayHost {
  config: DiscordConfig;
  deps: ConnectorDeps;
  /** The connector's REST client: the manager asks it for `GET /gateway/bot`. */
  rest: REST;
  history(cursor: DiscordCursor, signal: AbortSignal): AsyncIterable<Page<DiscordCursor>>;
  /** The placement of a channel's messages, or null when the channel is not part of this source. */
  channelFor(channelId: string, signal: AbortSignal): Promise<Placement | null>;
  noteChannel(channel: unknown): void;
  names(): { roles: Record<string, string>; channels: Record<string, string> };
  takeRateLimitedMs(): number;
}

type LiveEvent = { kind: 'connected'; how: 'ready' | 'resumed' } | { kind: 'closed'; code: number } | { kind: 'dispatch'; t: string; d: unknown } | { kind: 'fatal'; error: Error };

/** Events from the manager, consumed in order by the generator. */
class EventQueue<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | null = null;

  push(x: T): void {
    this.items.push(x);
    this.wake?.();
  }

  /** The next event, or null once the signal aborts. */
  async next(signal: AbortSignal): Promise<T | null> {
    for (;;) {
      if (signal.aborted) return null;
      const x = this.items.shift();
      if (x !== undefined) return x;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.wake = null;
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}

interface GatewayMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author?: { id: string; username?: string; global_name?: string | null; bot?: boolean };
}

function sourceError(err: unknown, source: string): ConnectorError {
  if (err instanceof ConnectorError) return err;
  if (err instanceof DiscordAPIError && err.status === 401)
    return new ConnectorError('auth', 'Discord refused the bot token (401) when asking for the gateway; set a new bot token for this source', source, { cause: err });
  const msg = err instanceof Error ? err.message : String(err);
  if (/Authentication failed/i.test(msg)) return new ConnectorError('auth', `the gateway refused the bot token (${msg}); set a new bot token for this source`, source, { cause: err });
  if (/intents|shard|API version/i.test(msg)) return new ConnectorError('config', `the gateway refused the connection: ${msg}`, source, { cause: err });
  return new ConnectorError('net', `Discord gateway: ${msg}`, source, { cause: err });
}

export async function* liveFromGateway(host: GatewayHost, since: DiscordCursor, signal: AbortSignal): AsyncGenerator<Page<DiscordCursor>> {
  const { config, deps } = host;
  let cursor = since;
  // Per connector, not the library's process-wide default store: two sources must never share a session.
  let session: SessionInfo | null = null;
  const queue = new EventQueue<LiveEvent>();
  const manager = new WebSocketManager({
    token: config.token,
    intents: DISCORD_INTENTS,
    rest: host.rest,
    shardCount: 1,
    retrieveSessionInfo: () => session,
    updateSessionInfo: (_shardId: number, info: SessionInfo | null) => {
      session = info;
    },
  });
  manager.on(WebSocketShardEvents.Ready, () => queue.push({ kind: 'connected', how: 'ready' }));
  manager.on(WebSocketShardEvents.Resumed, () => queue.push({ kind: 'connected', how: 'resumed' }));
  manager.on(WebSocketShardEvents.Closed, ({ code }) => queue.push({ kind: 'closed', code }));
  manager.on(WebSocketShardEvents.Dispatch, ({ data }) => queue.push({ kind: 'dispatch', t: data.t, d: data.d }));
  manager.on(WebSocketShardEvents.Error, ({ error }) => {
    const e = sourceError(error, deps.source);
    if (e.kind === 'auth' || e.kind === 'config') queue.push({ kind: 'fatal', error: e });
    else deps.log('warn', 'Discord gateway error; the client reconnects', { error: error.message });
  });

  // Connect in the background; the first READY arrives as an event. `GET /gateway/bot` may be rate limited:
  // wait that out here (abortably), as the REST client is set to reject rather than sleep.
  void (async () => {
    for (;;) {
      try {
        await manager.connect();
        return;
      } catch (err: unknown) {
        if (signal.aborted) return;
        if (err instanceof RateLimitError) {
          if (!(await deps.sleep(Math.max(err.retryAfter, err.timeToReset, 0) || 1000, signal))) return;
          continue;
        }
        queue.push({ kind: 'fatal', error: sourceError(err, deps.source) });
        return;
      }
    }
  })();

  const authors = new Map<string, NonNullable<DiscordDeleteItem['author']>>();
  const remember = (m: GatewayMessage) => {
    if (!m.author) return;
    authors.set(m.id, { id: m.author.id, name: m.author.global_name || m.author.username || null, isBot: m.author.bot === true });
    if (authors.size > MAX_REMEMBERED_AUTHORS) authors.delete(authors.keys().next().value as string);
  };

  // Until the catch-up pull after a (re)connect has run, live messages do not move the cursor: the pull
  // starts from it and must cover what was missed.
  let stale = true;
  try {
    for (;;) {
      const ev = await queue.next(signal);
      if (ev === null) return;
      switch (ev.kind) {
        case 'fatal':
          throw ev.error;
        case 'closed': {
          const fatal = FATAL_CLOSE[ev.code];
          if (fatal) throw new ConnectorError(fatal.kind, fatal.why, deps.source);
          stale = true;
          deps.log('info', 'Discord gateway connection closed; resuming', { code: ev.code });
          break;
        }
        case 'connected': {
          deps.log('info', `Discord gateway ${ev.how}; catching up over REST`, {});
          for await (const page of host.history(cursor, signal)) {
            cursor = page.cursor;
            yield page;
          }
          if (signal.aborted) return;
          stale = false;
          break;
        }
        case 'dispatch': {
          const items = await itemsOf(ev.t, ev.d);
          if (!items) break;
          yield { items, cursor, rateLimitedMs: host.takeRateLimitedMs() };
          break;
        }
      }
    }
  } finally {
    await Promise.resolve(manager.destroy({ reason: 'source stopped' })).catch(() => undefined);
  }

  /** The items a dispatch brings (and the cursor it moves), or null for events that carry no message. */
  async function itemsOf(t: string, d: unknown): Promise<DiscordItem[] | null> {
    switch (t) {
      case 'GUILD_CREATE': {
        const g = d as { id: string; channels?: Array<{ id: string }>; threads?: Array<{ id: string }> };
        if (g.id !== config.guildId) return null;
        for (const c of [...(g.channels ?? []), ...(g.threads ?? [])]) host.noteChannel({ ...c, guild_id: g.id });
        return null;
      }
      case 'CHANNEL_CREATE':
      case 'CHANNEL_UPDATE':
      case 'THREAD_CREATE':
      case 'THREAD_UPDATE': {
        const c = d as { guild_id?: string };
        if (c.guild_id === config.guildId) host.noteChannel(d);
        return null;
      }
      case 'THREAD_LIST_SYNC': {
        const s = d as { guild_id: string; threads?: unknown[] };
        if (s.guild_id === config.guildId) for (const th of s.threads ?? []) host.noteChannel(th);
        return null;
      }
      case 'MESSAGE_CREATE':
      case 'MESSAGE_UPDATE': {
        const m = d as GatewayMessage;
        if (m.guild_id !== config.guildId) return null;
        const place = await host.channelFor(m.channel_id, signal);
        if (!place) return null;
        remember(m);
        if (t === 'MESSAGE_CREATE' && !stale) {
          const st = cursor.channels[m.channel_id];
          if (st && compareSnowflakes(m.id, st.lastId) > 0)
            cursor = withChannel(cursor, m.channel_id, { ...st, lastId: m.id, recent: st.recent ? [m.id, ...st.recent].slice(0, config.recheck.messages) : st.recent });
        }
        const item: DiscordMessageItem = { kind: 'discord.message', guildId: config.guildId, ...place, names: host.names(), via: 'gateway', message: d };
        return [item];
      }
      case 'MESSAGE_DELETE':
      case 'MESSAGE_DELETE_BULK': {
        const x = d as { id?: string; ids?: string[]; channel_id: string; guild_id?: string };
        if (x.guild_id !== config.guildId) return null;
        const place = await host.channelFor(x.channel_id, signal);
        if (!place) return null;
        const ids = x.ids ?? (x.id ? [x.id] : []);
        return ids.map((id) => {
          const author = authors.get(id) ?? null;
          authors.delete(id);
          return { kind: 'discord.delete', guildId: config.guildId, channel: place.channel, parent: place.parent, id, seenAt: deps.now(), via: 'gateway', author } satisfies DiscordDeleteItem;
        });
      }
      default:
        return null;
    }
  }
}
