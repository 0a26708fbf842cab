// Slack history for one channel: the window `(oldest, latest)` newest-first with every thread parent's
// replies, re-reading the recheck window and the watched threads so that edits and deletes are seen
// (fingerprints in the cursor); and the same bookkeeping for one Socket Mode `message` event.
import { sinceMs } from './config.js';
import { compareTs, isTs, maxTs, minTs, msToTs, tsToMs, type ChannelState } from './cursor.js';
import type { SlackMessage } from './normalize.js';
import { MAX_RECENT, SlackCallError, type Entry, type HistoryResult, type SlackApi, type SlackChannel } from './api.js';

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

/** The whole thread, parent first (oldest first), or null when it is gone. */
async function readThread(api: SlackApi, channel: string, parentTs: string, limit: number): Promise<SlackMessage[] | null> {
  const out: SlackMessage[] = [];
  let cursor: string | undefined;
  try {
    do {
      const res = await api.call<HistoryResult>('conversations.replies', { channel, ts: parentTs, limit, cursor });
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
async function refreshThread(api: SlackApi, ch: SlackChannel, st: ChannelState, parentTs: string, emitted: Set<string>, w: Windows, limit: number): Promise<Entry[]> {
  const last = st.threads[parentTs];
  const thread = await readThread(api, ch.id, parentTs, limit);
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
  if (api.cfg.threadWindowDays > 0 && (w.threadFrom === null || compareTs(newest, w.threadFrom) > 0)) st.threads[parentTs] = newest;
  else delete st.threads[parentTs];
  return out;
}

/** One channel: the history window, then the watched threads. Yields entries; `st` is updated in place. */
export async function* pullChannel(api: SlackApi, ch: SlackChannel, st: ChannelState): AsyncGenerator<{ entries: Entry[] }> {
  const { pageSize } = api.limits;
  const nowMs = api.deps.now();
  const w: Windows = {
    recheckFrom: api.cfg.recheckHours > 0 ? msToTs(nowMs - api.cfg.recheckHours * 3600_000) : null,
    threadFrom: api.cfg.threadWindowDays > 0 ? msToTs(nowMs - api.cfg.threadWindowDays * 86_400_000) : null,
    nowTs: msToTs(nowMs),
  };
  const emitted = new Set<string>();
  const refreshed = new Set<string>();
  if (!st.pending) {
    const since = sinceMs(api.cfg);
    const oldest = st.latestTs ? (w.recheckFrom ? minTs(st.latestTs, w.recheckFrom) : st.latestTs) : since !== undefined ? msToTs(since - 1) : null;
    st.pending = { oldest, latest: null, top: null, seen: [] };
  }
  const p = st.pending;
  const knownUpTo = st.latestTs;
  const requestLatest = p.latest;
  let cursor: string | undefined;
  do {
    const res = await api.call<HistoryResult>('conversations.history', {
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
          entries.push(...(await refreshThread(api, ch, st, ts, emitted, w, pageSize)));
          refreshed.add(ts);
        }
      } else if (m.subtype === 'thread_broadcast' && isTs(m.thread_ts) && !known && st.threads[m.thread_ts] === undefined && !refreshed.has(m.thread_ts)) {
        // A reply to a thread we do not watch (its parent is older than the window): read it now.
        entries.push(...(await refreshThread(api, ch, st, m.thread_ts, emitted, w, pageSize)));
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
    const entries = await refreshThread(api, ch, st, parentTs, emitted, w, pageSize);
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

export function channelFrom(api: SlackApi, ch: SlackChannel, st: ChannelState | undefined): number {
  if (st?.latestTs) return tsToMs(st.latestTs);
  return sinceMs(api.cfg) ?? (typeof ch.created === 'number' ? ch.created * 1000 : 0);
}

/**
 * One Socket Mode `message` event -> the entry to hand out, or null when it is not ours or was
 * already handed out unchanged. Updates the channel's fingerprints (and watched threads) like a pull would.
 */
export function eventEntry(api: SlackApi, ev: SlackMessage, st: ChannelState): Entry | null {
  const nowMs = api.deps.now();
  const recheckFrom = api.cfg.recheckHours > 0 ? msToTs(nowMs - api.cfg.recheckHours * 3600_000) : null;
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
    if (parent && api.cfg.threadWindowDays > 0 && st.threads[parent] === undefined && st.latestTs && compareTs(parent, st.latestTs) <= 0) st.threads[parent] = ts;
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
