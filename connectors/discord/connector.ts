// Discord connector: resumable history over REST (@discordjs/rest), live over the gateway (gateway.ts).
// PLATFORMS.md 2.3: GET /channels/{id}/messages is newest-first whatever the anchor; we page forward with
// `after` (the newest id read, per channel) so a single watermark per channel resumes without gap or duplicate.
import { Routes } from 'discord-api-types/v10';
import type { Connector, Gap, Page } from '../../src/model/index.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import type { DiscordConfig } from './config.js';
import { compareSnowflakes, nextSnowflake, parseDiscordCursor, snowflakeToMs, withChannel, type ChannelState, type DiscordCursor } from './cursor.js';
import { ChannelDirectory, DiscordApi, TEXT_TYPES, FORUM_TYPES, THREAD_TYPES, DAY_MS, MEMBER_CACHE_MS, Aborted, ChannelAccessError, type ApiChannel, type ApiMessageLite } from './api.js';
import { liveFromGateway } from './gateway.js';
import { normalizeDiscordItem, type DiscordDeleteItem, type DiscordItem, type DiscordMessageItem } from './normalize.js';

interface Run {
  cursor: DiscordCursor;
  dir: ChannelDirectory;
  /** The cursor handed out last (so a final bookkeeping page is sent only when something changed). */
  yielded: DiscordCursor | null;
}

export class DiscordConnector implements Connector<DiscordCursor> {
  readonly platform = 'discord' as const;
  readonly capabilities = { history: true, live: true, edits: true, threads: true };
  readonly api: DiscordApi;
  /** Kept across pulls of this instance (the live side's catch-up pulls share it). */
  readonly dir: ChannelDirectory;
  /** Authors' guild role ids (null: not a member), for `orgs:` `discordRoles`. */
  private readonly memberRoles = new Map<string, { roles: string[] | null; at: number }>();
  private memberLookup: boolean;

  constructor(
    readonly config: DiscordConfig,
    readonly deps: ConnectorDeps,
  ) {
    this.memberLookup = config.memberRoles;
    this.api = new DiscordApi(config, deps);
    this.dir = new ChannelDirectory(config.guildId, config.channels);
  }

  normalize = normalizeDiscordItem;

  private parseCursor(from: unknown): DiscordCursor {
    try {
      return parseDiscordCursor(from);
    } catch (err: unknown) {
      throw new ConnectorError('bad_data', 'the saved Discord cursor is not a v1 cursor; reset this source to read it again from the start', this.deps.source, { cause: err });
    }
  }

  async *history(from: DiscordCursor | undefined, signal: AbortSignal): AsyncGenerator<Page<DiscordCursor>> {
    const run: Run = { cursor: this.parseCursor(from), dir: this.dir, yielded: null };
    try {
      const gaps: Gap[] = [];
      const targets = await this.loadTargets(signal, gaps);
      if (gaps.length) yield this.page(run, [], gaps);
      const active = this.config.threads ? await this.activeThreads(signal, run) : { threads: [], gap: null };
      if (active.gap) yield this.page(run, [], [active.gap]);
      for (const ch of targets) {
        // One gap per unreadable channel: its thread lists would be refused the same way.
        if (TEXT_TYPES.has(ch.type) && !(yield* this.readChannel(ch, run, signal))) continue;
        if (!this.config.threads) continue;
        const threads = new Map<string, ApiChannel>();
        for (const t of active.threads) if (t.parent_id === ch.id) threads.set(t.id, t);
        const archived = await this.archivedThreads(ch, signal);
        if (archived.gap) yield this.page(run, [], [archived.gap]);
        for (const t of archived.threads) if (!threads.has(t.id)) threads.set(t.id, t);
        for (const t of [...threads.values()].sort((a, b) => compareSnowflakes(a.id, b.id))) {
          this.dir.note(t);
          yield* this.readChannel(t, run, signal);
        }
      }
      if (run.yielded !== run.cursor) yield this.page(run, []);
    } catch (err: unknown) {
      if (err instanceof Aborted) return;
      throw err;
    }
  }

  live(since: DiscordCursor | undefined, signal: AbortSignal): AsyncIterable<Page<DiscordCursor>> {
    return liveFromGateway(
      {
        config: this.config,
        deps: this.deps,
        rest: this.api.rest,
        history: (cursor, s) => this.history(cursor, s),
        channelFor: (id, s) => this.channelFor(id, s),
        noteChannel: (ch) => this.dir.note(ch as ApiChannel),
        names: () => ({ roles: this.dir.roles, channels: this.dir.channelNames() }),
        takeRateLimitedMs: () => this.api.takeRateLimitedMs(),
      },
      this.parseCursor(since),
      signal,
    );
  }

  /** What the live side needs to file a gateway message: the channel's placement, if it is in scope. */
  private async channelFor(id: string, signal: AbortSignal): Promise<Pick<DiscordMessageItem, 'channel' | 'parent' | 'labels'> | null> {
    let ch = this.dir.channels.get(id);
    if (!ch) {
      try {
        ch = await this.api.get<ApiChannel>(Routes.channel(id), undefined, signal);
        this.dir.note(ch);
        if (ch.parent_id && !this.dir.channels.has(ch.parent_id)) this.dir.note(await this.api.get<ApiChannel>(Routes.channel(ch.parent_id), undefined, signal));
      } catch (err: unknown) {
        if (err instanceof ChannelAccessError) return null;
        throw err;
      }
    }
    return this.dir.inScope(ch) ? this.dir.placement(ch) : null;
  }

  private page(run: Run, items: DiscordItem[], gaps?: Gap[]): Page<DiscordCursor> {
    run.yielded = run.cursor;
    const p: Page<DiscordCursor> = { items, cursor: run.cursor, rateLimitedMs: this.api.takeRateLimitedMs() };
    if (gaps?.length) p.gaps = gaps;
    return p;
  }

  private gapFor(ch: ApiChannel | { id: string; name?: string | null }, err: ChannelAccessError, what: string, run?: Run): Gap {
    const st = run?.cursor.channels[ch.id];
    const label = ch.name ? `#${ch.name} (${ch.id})` : ch.id;
    const why = err.status === 404 ? 'it does not exist or the bot cannot see it' : 'the bot lacks access (View Channel / Read Message History)';
    return {
      channel: ch.id,
      from: st && st.lastId !== '0' ? snowflakeToMs(st.lastId) : 0,
      to: this.deps.now(),
      reason: `${what} ${label} skipped: ${err.discordMessage} (HTTP ${err.status}, code ${String(err.code)}); ${why}`,
    };
  }

  /** The guild's channels and roles, and the channels to read. */
  private async loadTargets(signal: AbortSignal, gaps: Gap[]): Promise<ApiChannel[]> {
    const gid = this.config.guildId;
    let all: ApiChannel[];
    try {
      all = await this.api.get<ApiChannel[]>(Routes.guildChannels(gid), undefined, signal);
    } catch (err: unknown) {
      if (err instanceof ChannelAccessError)
        throw new ConnectorError('config', `cannot list the channels of guild ${gid}: ${err.message}; is the bot a member of this server?`, this.deps.source, { cause: err });
      throw err;
    }
    for (const c of all) this.dir.note({ ...c, guild_id: c.guild_id ?? gid });
    try {
      const roles = await this.api.get<Array<{ id: string; name: string }>>(Routes.guildRoles(gid), undefined, signal);
      for (const r of roles) this.dir.roles[r.id] = r.name;
    } catch (err: unknown) {
      // Role names only make `<@&id>` readable; without them it reads `@unknown-role`.
      if (!(err instanceof ChannelAccessError)) throw err;
    }
    if (!this.config.channels.length) return all.filter((c) => TEXT_TYPES.has(c.type) || FORUM_TYPES.has(c.type)).sort((a, b) => compareSnowflakes(a.id, b.id));
    const out: ApiChannel[] = [];
    for (const id of this.config.channels) {
      let ch = this.dir.channels.get(id);
      if (!ch) {
        try {
          ch = await this.api.get<ApiChannel>(Routes.channel(id), undefined, signal);
          this.dir.note(ch);
        } catch (err: unknown) {
          if (!(err instanceof ChannelAccessError)) throw err;
          gaps.push(this.gapFor({ id }, err, 'channel'));
          continue;
        }
      }
      if (TEXT_TYPES.has(ch.type) || FORUM_TYPES.has(ch.type) || THREAD_TYPES.has(ch.type)) out.push(ch);
      else this.deps.log('warn', 'configured Discord channel is not a text, announcement or forum channel; ignored', { channel: id, type: ch.type });
    }
    return out;
  }

  private async activeThreads(signal: AbortSignal, run: Run): Promise<{ threads: ApiChannel[]; gap: Gap | null }> {
    try {
      const res = await this.api.get<{ threads: ApiChannel[] }>(Routes.guildActiveThreads(this.config.guildId), undefined, signal);
      for (const t of res.threads) this.dir.note(t);
      return { threads: res.threads, gap: null };
    } catch (err: unknown) {
      if (!(err instanceof ChannelAccessError)) throw err;
      return { threads: [], gap: this.gapFor({ id: this.config.guildId, name: null }, err, 'active threads of guild', run) };
    }
  }

  /** Archived public threads, newest archived first, paged by `archive_timestamp` (PLATFORMS.md 2.5). */
  private async archivedThreads(ch: ApiChannel, signal: AbortSignal): Promise<{ threads: ApiChannel[]; gap: Gap | null }> {
    const threads: ApiChannel[] = [];
    let before: string | undefined;
    try {
      for (;;) {
        const q: Record<string, string> = { limit: '100' };
        if (before) q.before = before;
        const res = await this.api.get<{ threads: ApiChannel[]; has_more?: boolean }>(Routes.channelThreads(ch.id, 'public'), q, signal);
        threads.push(...res.threads);
        const last = res.threads.at(-1)?.thread_metadata?.archive_timestamp;
        if (!res.has_more || !res.threads.length || !last || last === before) break;
        before = last;
      }
    } catch (err: unknown) {
      if (!(err instanceof ChannelAccessError)) throw err;
      return { threads, gap: this.gapFor(ch, err, 'archived threads of') };
    }
    return { threads, gap: null };
  }

  private messageItem(ch: ApiChannel, m: ApiMessageLite, via: DiscordMessageItem['via']): DiscordMessageItem {
    const item: DiscordMessageItem = {
      kind: 'discord.message',
      guildId: this.config.guildId,
      ...this.dir.placement(ch),
      names: { roles: this.dir.roles, channels: this.dir.channelNames() },
      via,
      message: m,
    };
    const id = m.author?.id;
    const known = typeof id === 'string' ? this.memberRoles.get(id) : undefined;
    if (known?.roles) item.authorRoles = known.roles;
    return item;
  }

  /**
   * Looks up the guild roles of these messages' human authors (not bots, not webhooks), once per author per
   * MEMBER_CACHE_MS. An author who left is cached as no member; a refusal (403) turns lookups off for this
   * connector with one warning, and messages are read without roles.
   */
  private async lookUpRoles(messages: ApiMessageLite[], signal: AbortSignal): Promise<void> {
    if (!this.memberLookup) return;
    const now = this.deps.now();
    const want = new Set<string>();
    for (const m of messages) {
      const id = m.author?.id;
      if (typeof id !== 'string' || !/^\d{1,20}$/.test(id) || m.author?.bot === true || m.webhook_id) continue;
      const hit = this.memberRoles.get(id);
      if (!hit || now - hit.at > MEMBER_CACHE_MS) want.add(id);
    }
    for (const id of want) {
      try {
        const member = await this.api.get<{ roles?: unknown }>(Routes.guildMember(this.config.guildId, id), undefined, signal);
        const roles = Array.isArray(member.roles) ? member.roles.filter((r): r is string => typeof r === 'string') : null;
        this.memberRoles.set(id, { roles, at: now });
      } catch (err: unknown) {
        if (!(err instanceof ChannelAccessError)) throw err;
        if (err.status === 403) {
          this.memberLookup = false;
          this.deps.log('warn', 'Discord refused a guild member lookup: people read over REST carry no roles, so orgs by discordRoles cannot place them; set memberRoles: false to stop trying', {
            code: err.code,
          });
          return;
        }
        this.memberRoles.set(id, { roles: null, at: now }); // 10007 Unknown Member: left the server
      }
    }
  }

  private deleteItem(ch: ApiChannel, id: string): DiscordDeleteItem {
    const place = this.dir.placement(ch);
    return { kind: 'discord.delete', guildId: this.config.guildId, channel: place.channel, parent: place.parent, id, seenAt: this.deps.now(), via: 'recheck' };
  }

  /**
   * One channel or thread: re-check the newest messages already read (edits, deletions), then page forward
   * from the newest id read. Each page carries the cursor up to its last message. Returns false when the
   * channel could not be read (a gap was yielded).
   */
  private async *readChannel(ch: ApiChannel, run: Run, signal: AbortSignal): AsyncGenerator<Page<DiscordCursor>, boolean> {
    const st: ChannelState | undefined = run.cursor.channels[ch.id];
    const { messages: window, days } = this.config.recheck;
    let pending: DiscordItem[] = [];
    let recent: string[] = [];
    let yielded = false;
    const keepRecent = (ids: string[]) => {
      recent = [...new Set([...recent, ...ids])].sort((a, b) => compareSnowflakes(b, a)).slice(0, window);
    };
    let editsSeenUpTo = st?.editsSeenUpTo;
    const save = (lastId: string) => {
      const next: ChannelState = { lastId };
      if (editsSeenUpTo !== undefined) next.editsSeenUpTo = editsSeenUpTo;
      if (window > 0 && recent.length) next.recent = recent;
      run.cursor = withChannel(run.cursor, ch.id, next);
    };

    try {
      if (st && st.lastId !== '0' && window > 0 && st.recent?.length && this.deps.now() - snowflakeToMs(st.lastId) <= days * DAY_MS) {
        const seen = await this.api.get<ApiMessageLite[]>(Routes.channelMessages(ch.id), { before: nextSnowflake(st.lastId), limit: String(window) }, signal);
        const alive = new Set(seen.map((m) => m.id));
        const oldest = seen.reduce<string | null>((o, m) => (o === null || compareSnowflakes(m.id, o) < 0 ? m.id : o), null);
        for (const id of st.recent) {
          const covered = seen.length < window || (oldest !== null && compareSnowflakes(id, oldest) >= 0);
          if (!alive.has(id) && covered) pending.push(this.deleteItem(ch, id));
        }
        // Only the window moves the watermark: an edit made while later pages are read is caught next time.
        // Before the first re-check it is unknown, so edits already read may be reported once more (harmless).
        const since = st.editsSeenUpTo ?? 0;
        let upTo = since;
        const sorted = [...seen].sort((a, b) => compareSnowflakes(a.id, b.id));
        await this.lookUpRoles(
          sorted.filter((m) => (m.edited_timestamp ? Date.parse(m.edited_timestamp) : NaN) > since),
          signal,
        );
        for (const m of sorted) {
          const edited = m.edited_timestamp ? Date.parse(m.edited_timestamp) : NaN;
          if (edited > since) pending.push(this.messageItem(ch, m, 'recheck'));
          upTo = Math.max(upTo, Number.isFinite(edited) ? edited : 0, Date.parse(m.timestamp) || 0);
        }
        editsSeenUpTo = upTo;
        keepRecent(seen.map((m) => m.id));
      }

      let after = st?.lastId ?? '0';
      const nothingNew = st && ch.last_message_id && compareSnowflakes(ch.last_message_id, st.lastId) <= 0;
      if (!nothingNew) {
        for (;;) {
          const batch = await this.api.get<ApiMessageLite[]>(Routes.channelMessages(ch.id), { after, limit: String(this.config.pageSize) }, signal);
          const fresh = batch.filter((m) => compareSnowflakes(m.id, after) > 0).sort((a, b) => compareSnowflakes(a.id, b.id));
          if (!fresh.length) break;
          after = fresh.at(-1)!.id;
          keepRecent(fresh.map((m) => m.id));
          await this.lookUpRoles(fresh, signal);
          save(after);
          yield this.page(run, [...pending, ...fresh.map((m) => this.messageItem(ch, m, 'history'))]);
          yielded = true;
          pending = [];
          if (batch.length < this.config.pageSize) break;
        }
      }
    } catch (err: unknown) {
      if (!(err instanceof ChannelAccessError)) throw err;
      yield this.page(run, pending, [this.gapFor(ch, err, THREAD_TYPES.has(ch.type) ? 'thread' : 'channel', run)]);
      return false;
    }
    if (yielded) return true;
    // Nothing new: still record the re-check (or that an empty channel was read) for the next run.
    if (!st) save('0');
    else if (st.lastId !== '0' && (recent.length || st.recent?.length)) save(st.lastId);
    if (pending.length) yield this.page(run, pending);
    return true;
  }
}

export function createDiscordConnector(config: DiscordConfig, deps: ConnectorDeps): DiscordConnector {
  return new DiscordConnector(config, deps);
}
