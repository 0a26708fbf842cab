// The IRC connector: live capture with irc-framework (TLS, SASL PLAIN, nick fallback, IRCv3 server-time,
// msgid, batch, CHATHISTORY), reconnecting per network with backoff; history through CHATHISTORY where
// the server offers it. Downtime that CHATHISTORY cannot fill is recorded as a gap, never hidden.
import type { Connector, Gap, Page, RawMessage, Skip } from '../../src/model/index.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import type { IrcConfig, IrcNetworkConfig } from './config.js';
import { advance, channelKey, parseIrcCursor, seen, withConnectedUntil, type IrcCursor } from './cursor.js';
import { externalIdOf, normalizeIrcLine, type IrcLine } from './normalize.js';

import { EPOCH, STABLE_CONNECTION_MS, iso, IrcSession, Inbox } from './session.js';

export { throttleDelayMs } from './session.js';
export type IrcCursorValue = IrcCursor;
type LiveEvent =
  { t: 'lines'; lines: IrcLine[]; network: string } | { t: 'gap'; gap: Gap } | { t: 'up'; network: string; at: number } | { t: 'fatal'; error: ConnectorError } | { t: 'waited'; ms: number };

export function createIrcConnector(cfg: IrcConfig, deps: ConnectorDeps): Connector<IrcCursor> {
  const multi = cfg.networks.length > 1;
  const chanId = (net: IrcNetworkConfig, channel: string) => (multi ? `${net.name}/${channel}` : channel);
  const normOpts = { bridges: cfg.bridges, permalinkTemplate: cfg.permalinkTemplate ?? null, bots: cfg.bots };

  /** Fetches everything after the cursor's position in one channel, page by page. */
  async function* fetchAfter(s: IrcSession, channel: string, start: IrcCursor, signal: AbortSignal): AsyncGenerator<{ lines: IrcLine[]; cursor: IrcCursor; waitedMs: number; gap?: Gap }> {
    const key = channelKey(s.net.name, channel);
    const limit = s.historyLimit(cfg.historyPageSize);
    let cursor = start;
    let waitedMs = 0;
    for (;;) {
      if (signal.aborted) return;
      const st = cursor.channels[key];
      const ref = st?.lastMsgid ? `msgid=${st.lastMsgid}` : st ? `timestamp=${iso(st.lastTime - 1)}` : `timestamp=${cfg.backfillFrom ? iso(Date.parse(cfg.backfillFrom)) : EPOCH}`;
      const reply = await s.chathistory('AFTER', channel, [ref], limit, cfg.timeoutMs);
      if (reply.kind === 'throttled') {
        deps.log('info', 'CHATHISTORY throttled, waiting', { network: s.net.name, channel, waitMs: reply.waitMs });
        const t0 = Date.now();
        const ok = await deps.sleep(reply.waitMs, signal);
        waitedMs += Date.now() - t0;
        if (!ok) return;
        continue;
      }
      if (reply.kind === 'fail') {
        if (reply.code === 'DISCONNECTED' || reply.code === 'TIMEOUT') throw new ConnectorError('net', `CHATHISTORY for ${channel} on ${s.net.name}: ${reply.reason}`, deps.source);
        yield { lines: [], cursor, waitedMs, gap: { channel: chanId(s.net, channel), from: st?.lastTime ?? 0, to: deps.now(), reason: `CHATHISTORY refused (${reply.code}: ${reply.reason})` } };
        return;
      }
      const fresh: IrcLine[] = [];
      for (const l of reply.lines) {
        const id = externalIdOf(l);
        if (seen(cursor, key, l.time, id)) continue;
        cursor = advance(cursor, key, l.time, id, l.msgid ?? null);
        fresh.push(l);
      }
      if (fresh.length || reply.lines.length < limit) {
        yield { lines: fresh, cursor, waitedMs };
        waitedMs = 0;
      }
      if (reply.lines.length < limit) return;
      if (fresh.length === 0) {
        // A full page of lines we already have and no msgid to step past them: say so rather than loop.
        yield {
          lines: [],
          cursor,
          waitedMs,
          gap: { channel: chanId(s.net, channel), from: st?.lastTime ?? 0, to: deps.now(), reason: `CHATHISTORY could not page past ${limit} messages sharing one timestamp` },
        };
        return;
      }
    }
  }

  const connector: Connector<IrcCursor> = {
    platform: 'irc',
    capabilities: { history: true, live: true, edits: false, threads: false },

    async *history(from, signal) {
      let cursor = parseIrcCursor(from);
      for (const net of cfg.networks) {
        if (signal.aborted) return;
        const s = await IrcSession.open(net, cfg, deps, multi, signal, () => undefined);
        try {
          if (!s.hasChathistory) {
            // Nothing to fetch: what was said while nobody listened is lost; record it once per pull.
            const now = deps.now();
            const gaps: Gap[] = [];
            for (const channel of net.channels) {
              const st = cursor.channels[channelKey(net.name, channel)];
              const since = Math.max(st?.lastTime ?? -Infinity, cursor.connectedUntil[net.name] ?? -Infinity);
              if (Number.isFinite(since) && since < now)
                gaps.push({ channel: chanId(net, channel), from: since, to: now, reason: `${net.name} offers no CHATHISTORY: messages while Gleaner was not listening cannot be fetched` });
            }
            cursor = withConnectedUntil(cursor, net.name, now);
            yield { items: [], cursor, gaps };
            continue;
          }
          await s.join(net.channels, cfg.timeoutMs, signal);
          for (const channel of net.channels) {
            for await (const page of fetchAfter(s, channel, cursor, signal)) {
              cursor = page.cursor;
              const out: Page<IrcCursor> = { items: page.lines, cursor };
              if (page.gap) out.gaps = [page.gap];
              if (page.waitedMs) out.rateLimitedMs = page.waitedMs;
              yield out;
            }
          }
        } finally {
          s.end();
        }
      }
    },

    async *live(since, outer) {
      let cursor = parseIrcCursor(since);
      const inner = new AbortController();
      const signal = inner.signal;
      const stop = () => inner.abort();
      outer.addEventListener('abort', stop, { once: true });
      const inbox = new Inbox<LiveEvent>();
      const sessions = new Set<IrcSession>();

      const runNetwork = async (net: IrcNetworkConfig): Promise<void> => {
        let backoff = cfg.reconnectInitialMs;
        // Where the last known coverage of this network ends (a restart with a saved cursor is downtime too).
        let downSince: number | null = null;
        let downReason = 'Gleaner was not listening';
        {
          const times = net.channels.map((c) => cursor.channels[channelKey(net.name, c)]?.lastTime ?? -Infinity);
          const known = Math.max(cursor.connectedUntil[net.name] ?? -Infinity, ...times);
          if (Number.isFinite(known)) downSince = known;
        }
        while (!signal.aborted) {
          let s: IrcSession | null = null;
          try {
            s = await IrcSession.open(net, cfg, deps, multi, signal, (lines) => inbox.push({ t: 'lines', lines, network: net.name }));
            sessions.add(s);
            s.hold();
            await s.join(net.channels, cfg.timeoutMs, signal);
            const upAt = deps.now();
            deps.log('info', 'joined', { network: net.name, channels: net.channels, chathistory: s.hasChathistory });
            if (downSince !== null) {
              for (const channel of net.channels) {
                const key = channelKey(net.name, channel);
                if (s.hasChathistory && cursor.channels[key]) {
                  for await (const page of fetchAfter(s, channel, cursor, signal)) {
                    if (page.lines.length) inbox.push({ t: 'lines', lines: page.lines, network: net.name });
                    if (page.gap) inbox.push({ t: 'gap', gap: page.gap });
                    if (page.waitedMs) inbox.push({ t: 'waited', ms: page.waitedMs });
                  }
                } else {
                  inbox.push({
                    t: 'gap',
                    gap: { channel: chanId(net, channel), from: downSince, to: upAt, reason: `${downReason}${s.hasChathistory ? '' : `; ${net.name} offers no CHATHISTORY`}` },
                  });
                }
              }
            }
            s.release();
            inbox.push({ t: 'up', network: net.name, at: upAt });
            let onAbort: () => void = () => undefined;
            const aborted = new Promise<null>((r) => {
              onAbort = () => r(null);
              signal.addEventListener('abort', onAbort, { once: true });
            });
            const closed = await Promise.race([s.closed, aborted]);
            signal.removeEventListener('abort', onAbort);
            if (!closed) return;
            downSince = deps.now();
            downReason = `disconnected from ${net.name}: ${closed.reason}`;
            deps.log('warn', 'disconnected', { network: net.name, reason: closed.reason });
            if (downSince - upAt > STABLE_CONNECTION_MS) backoff = cfg.reconnectInitialMs;
            if (/too fast|throttl/i.test(closed.reason)) backoff = Math.max(backoff, 60_000);
          } catch (err: unknown) {
            if (err instanceof ConnectorError && (err.kind === 'auth' || err.kind === 'config')) {
              inbox.push({ t: 'fatal', error: err });
              return;
            }
            if (signal.aborted) return;
            downSince ??= deps.now();
            deps.log('warn', 'connection failed, will retry', { network: net.name, error: err instanceof Error ? err.message : String(err), backoffMs: backoff });
          } finally {
            if (s) {
              s.end();
              sessions.delete(s);
            }
          }
          if (!(await deps.sleep(backoff, signal))) return;
          backoff = Math.min(backoff * 2, cfg.reconnectMaxMs);
        }
      };

      const loops = cfg.networks.map((n) => runNetwork(n));
      try {
        while (!signal.aborted) {
          const events = await inbox.drain(signal);
          if (signal.aborted) break;
          const items: IrcLine[] = [];
          const gaps: Gap[] = [];
          let waited = 0;
          for (const e of events) {
            if (e.t === 'fatal') throw e.error;
            if (e.t === 'gap') gaps.push(e.gap);
            else if (e.t === 'waited') waited += e.ms;
            else if (e.t === 'up') cursor = withConnectedUntil(cursor, e.network, e.at);
            else {
              for (const l of e.lines) {
                const key = channelKey(e.network, l.channel ?? '');
                const id = externalIdOf(l);
                if (l.channel && seen(cursor, key, l.time, id)) continue;
                if (l.channel) cursor = advance(cursor, key, l.time, id, l.msgid ?? null);
                items.push(l);
              }
              cursor = withConnectedUntil(cursor, e.network, deps.now());
            }
          }
          if (!items.length && !gaps.length && !waited) continue;
          const page: Page<IrcCursor> = { items, cursor };
          if (gaps.length) page.gaps = gaps;
          if (waited) page.rateLimitedMs = waited;
          yield page;
        }
      } finally {
        outer.removeEventListener('abort', stop);
        inner.abort();
        for (const s of sessions) s.end();
        await Promise.allSettled(loops);
      }
    },

    normalize(raw: unknown, ctx): RawMessage | Skip {
      return normalizeIrcLine(raw, ctx, normOpts);
    },
  };
  return connector;
}
