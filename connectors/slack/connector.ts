// Slack connector (@slack/web-api 8.x, fetch-based): resumable history per channel; live by polling,
// or by Socket Mode events (@slack/socket-mode) when an app-level token is configured.
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
// Socket Mode (`appToken`): each session (socket-session.ts, a SocketModeClient that does not reconnect
// on its own) calls apps.connections.open with the app token, connects to the wss URL, waits for
// `hello`, then runs the ordinary pull from the cursor (the catch-up: events that arrive meanwhile are
// buffered, so nothing between the pull and the socket is lost), then yields
// one page per batch of `message` events (run through the same item/normalize path as history) and
// acknowledges their envelopes once the page was taken. Events update the cursor's fingerprints, so the
// next catch-up does not hand the same messages out again. `disconnect` or a closed socket ends the
// session: a new one (with its catch-up) follows, at once after `refresh_requested`/`warning`,
// otherwise with exponential backoff.
import { REFRESH_REASONS, SocketSession } from './socket-session.js';
import type { Connector, Gap, Page } from '../../src/model/index.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import type { SlackConfig } from './config.js';
import { emptyChannelState, emptySlackCursor, parseSlackCursor, type SlackCursor } from './cursor.js';
import { normalizeSlack, type SlackItem } from './normalize.js';
import { Aborted, CHANNEL_ERRORS, SlackApi, SlackCallError, type SlackConnectorOptions } from './api.js';
import { channelFrom, eventEntry, pullChannel } from './pull.js';

export type { SlackChannel, SlackConnectorOptions } from './api.js';
export { fingerprint } from './pull.js';

export function createSlackConnector(cfg: SlackConfig, deps: ConnectorDeps, opts: SlackConnectorOptions = {}): Connector<SlackCursor> {
  const api = new SlackApi(cfg, deps, opts);

  async function* history(from: SlackCursor | undefined, signal: AbortSignal): AsyncGenerator<Page<SlackCursor>> {
    let cur: SlackCursor;
    try {
      cur = from === undefined || from === null ? emptySlackCursor() : parseSlackCursor(from);
    } catch (err: unknown) {
      throw new ConnectorError('config', 'the stored cursor is not a v1 Slack cursor; reset the source to backfill again', deps.source, { cause: err });
    }
    api.begin(signal);
    const snapshot = (): SlackCursor => structuredClone(cur);
    try {
      await api.ensureWorkspace();
      const { channels, gaps } = await api.listChannels();
      if (gaps.length) yield { items: [], cursor: snapshot(), gaps, rateLimitedMs: api.takeRateLimited() };
      for (const ch of channels) {
        const st = (cur.channels[ch.id] ??= emptyChannelState());
        try {
          for await (const part of pullChannel(api, ch, st)) {
            const items = await api.toItems(ch, part.entries);
            yield { items, cursor: snapshot(), rateLimitedMs: api.takeRateLimited() };
          }
        } catch (err: unknown) {
          if (!(err instanceof SlackCallError) || !CHANNEL_ERRORS.has(err.slackCode)) {
            if (err instanceof SlackCallError) throw new ConnectorError('bad_data', `#${ch.name ?? ch.id}: ${err.message}`, deps.source, { cause: err });
            throw err;
          }
          // This channel only: a gap, the others go on. An unfinished window is read again next time.
          delete st.pending;
          const gap: Gap = { channel: ch.id, from: channelFrom(api, ch, st), to: null, reason: `${err.slackCode}: cannot read #${ch.name ?? ch.id}${err.needed ? ` (needs ${err.needed})` : ''}` };
          deps.log('warn', `channel skipped: ${gap.reason}`, { channel: ch.id });
          yield { items: [], cursor: snapshot(), gaps: [gap], rateLimitedMs: api.takeRateLimited() };
        }
      }
    } catch (err: unknown) {
      if (err instanceof Aborted) return;
      throw err;
    }
  }

  async function* liveSocket(since: SlackCursor | undefined, signal: AbortSignal): AsyncGenerator<Page<SlackCursor>> {
    const backoff = opts.socketBackoff ?? { minMs: 1000, maxMs: 60_000 };
    let cursor = since;
    let failures = 0;
    while (!signal.aborted) {
      api.begin(signal);
      let session: SocketSession | null = null;
      let why: string;
      try {
        session = new SocketSession({ appToken: cfg.appToken!, clientOptions: api.clientOptions() }, signal, deps.log);
        const open = session;
        let hello: boolean;
        try {
          hello = await api.withAppToken('apps.connections.open', () => open.start(opts.socketHelloTimeoutMs ?? 30_000));
        } catch (err: unknown) {
          if (err instanceof Aborted || signal.aborted) return;
          if (err instanceof SlackCallError) throw new ConnectorError('bad_data', `cannot open a Socket Mode connection: ${err.message}`, deps.source, { cause: err });
          throw err;
        }
        if (hello) {
          failures = 0;
          deps.log('info', 'socket mode connected; catching up from the cursor');
          // Catch-up: the ordinary pull. Events arriving meanwhile wait in the session's buffer.
          for await (const page of history(cursor, signal)) {
            cursor = page.cursor;
            yield page;
          }
          if (signal.aborted) return;
          const cur = cursor === undefined || cursor === null ? emptySlackCursor() : parseSlackCursor(structuredClone(cursor));
          const { channels } = await api.listChannels();
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
              const entry = eventEntry(api, ev, (cur.channels[ch.id] ??= emptyChannelState()));
              if (entry) items.push(...(await api.toItems(ch, [entry])));
            }
            if (items.length) {
              cursor = structuredClone(cur);
              yield { items, cursor: structuredClone(cur), rateLimitedMs: api.takeRateLimited() };
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
