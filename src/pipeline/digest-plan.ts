// The digest's plan for clusters, pure: one cluster's entry for a period from its record and items
// (reporters, segments, channels, trend, an explained score, the sentence and its evidence, the quotes
// chosen, with links, and the status line), and the ranking that keeps the best. The one
// implementation of a cluster's figures: the digest, `gleaner clusters` and the web UI's cluster pages
// read through src/digest/clusters.ts and plan here, so they always agree.
import type { DigestCluster, DigestJson, DigestQuote } from '../model/index.js';
import type { ClusterRecord, StoredItem } from '../model/cluster.js';
import type { StoreStats } from '../model/digest.js';
import { clusterPriority, channelLabel, DEFAULT_SEGMENT_WEIGHTS } from './priority.js';
import { sentenceExcerpt } from './own-words.js';
import { isAgreementOnly } from './feedback.js';
import { quoteLink, type ArchiveConfig } from './archives.js';
import { answerStatus } from './answer-status.js';
import type { Period } from './period.js';

export interface ClusterEntryOptions {
  /** Segment weights, as in config `segments:` (e.g. `{ customer: { weight: 3 } }`). */
  segments?: Record<string, { weight: number }>;
  /** At most this many entries, best first (default: all). */
  top?: number;
  /** Quotes per entry (default 3). */
  quotes?: number;
  /** Keep each entry's items (default true); the digest needs only the entries, and a big cluster's items are most of the memory. */
  withItems?: boolean;
  /** Mail archives per list (config `archives:`): links for quotes without an Archived-At. */
  archives?: readonly ArchiveConfig[];
}

export interface ClusterEntry {
  entry: DigestCluster;
  clusterId: number;
  /** The cluster's items with their conversations up to the period's end. */
  items: StoredItem[];
  /** Whether anyone voiced the need in the period. */
  active: boolean;
  record: ClusterRecord;
  /** Mail lists quoted in the entry that have no web archive link (no Archived-At, no `archives:` entry). */
  unlinkedLists: string[];
}

export function segmentWeights(segments: ClusterEntryOptions['segments']): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const [k, v] of Object.entries(segments ?? {})) weights[k] = v.weight;
  return weights;
}

/**
 * At least the score of a cluster whose period reporters are among `authors` (distinct people by their
 * org's segment, null for none): the score sums the segment weight of each reporter of the period
 * (clusterPriority: the org's segment, else community; 1 for a segment without a weight). The margin
 * covers the score's rounding.
 */
export function scoreBound(authors: ReadonlyArray<{ segment: string | null; people: number }>, segments: ClusterEntryOptions['segments']): number {
  const weights: Record<string, number> = { ...DEFAULT_SEGMENT_WEIGHTS, ...segmentWeights(segments) };
  let bound = 0.01;
  for (const a of authors) if (a.segment !== 'staff') bound += a.people * Math.max(0, weights[a.segment ?? 'community'] ?? 1);
  return bound;
}

/** One cluster's digest entry from its record and items (only what was said before the period ends counts). Null when nothing was. */
export function clusterEntry(record: ClusterRecord, allItems: readonly StoredItem[], period: Period, opts: ClusterEntryOptions = {}): ClusterEntry | null {
  // An item counts once its report was made: a thread started in the period whose need was raised in
  // a later reply (an announcement answered next week) has nothing to report yet.
  const reported = allItems.filter((i) => (i.messages.find((m) => m.messageId === i.reportMessageId)?.at ?? -Infinity) < period.end);
  // Copied only when something was said after the period (usually nothing: the digest is of the last week).
  const items = reported.map((i) => (i.messages.every((m) => m.at < period.end) ? i : { ...i, messages: i.messages.filter((m) => m.at < period.end) })).filter((i) => i.messages.length > 0);
  if (!items.length) return null;
  const p = clusterPriority(items, period, { weights: segmentWeights(opts.segments) });
  const tagCounts = new Map<string, number>();
  for (const i of items) for (const t of i.tags) tagCounts.set(t, (tagCounts.get(t) ?? 0) + 1);
  const tags = [...tagCounts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([t]) => t)
    .slice(0, 8);
  // One quote per reporter, this period's first (each from their first message in it, in the order
  // they spoke), then those who voiced the need before: the need in each person's own words.
  const wantQuotes = opts.quotes ?? 3;
  const inPeriod = new Set(p.periodReporters.map((r) => r.personId));
  const inOrder = [...p.periodReporters, ...p.reporters.filter((r) => !inPeriod.has(r.personId))];
  const wanted = new Set(inOrder.slice(0, wantQuotes * 4).map((r) => r.messageIds[0]!));
  const byId = new Map<number, StoredItem['messages'][number]>();
  for (const i of items) for (const m of i.messages) if (wanted.has(m.messageId)) byId.set(m.messageId, m);
  // A bare "+1" or "👍" says who, not what: such quotes come after the ones in the people's own words.
  const bare = (r: (typeof inOrder)[number]) => {
    const m = byId.get(r.messageIds[0]!);
    return m !== undefined && isAgreementOnly(m.text);
  };
  const speakers = [...inOrder.filter((r) => !bare(r)), ...inOrder.filter(bare)];
  const quotes: DigestQuote[] = [];
  const unlinked = new Set<string>();
  for (const r of speakers) {
    if (quotes.length >= wantQuotes) break;
    let m = byId.get(r.messageIds[0]!);
    if (!m && !wanted.has(r.messageIds[0]!)) m = items.flatMap((i) => i.messages).find((x) => x.messageId === r.messageIds[0]);
    if (!m) continue;
    const text = sentenceExcerpt(m.text);
    if (!text) continue;
    const url = quoteLink(m, opts.archives);
    if (!url && m.platform === 'mail') unlinked.add(m.channelExternal ?? m.channel);
    quotes.push({ text, author: m.personName, channel: channelLabel(m), url, at: new Date(m.at).toISOString() });
  }
  const iso = (t: number | null) => new Date(t ?? period.start).toISOString();
  const entry: DigestCluster = {
    id: `cluster-${record.id}`,
    title: record.title,
    kind: record.kind,
    tags,
    // The period's people first (the scenario of "this week"), and everyone up to the period's end.
    reporters: p.periodReporters.length,
    reportersToDate: p.reporters.length,
    mentions: p.mentions,
    segments: p.periodSegments,
    segmentsToDate: p.segments,
    channels: p.channels,
    trend: p.trend,
    firstSeen: iso(p.firstSeen ?? record.firstSeen),
    lastSeen: iso(p.lastSeen ?? record.lastSeen),
    score: p.score,
    why: p.why,
    summary: record.summary,
    quotes,
    status: answerStatus(items, period, opts.archives),
    scoreExplanation: p.explanation,
    evidence: p.evidence,
  };
  return { entry, clusterId: record.id, items, active: p.active, record, unlinkedLists: [...unlinked].sort() };
}

/** Best first: score (the period's weighted reporters), then the period's reporters, then everyone to date, then the latest voicing, then the older cluster. */
export function compareEntries(a: Pick<ClusterEntry, 'entry' | 'clusterId'>, b: Pick<ClusterEntry, 'entry' | 'clusterId'>): number {
  return (
    b.entry.score - a.entry.score ||
    b.entry.reporters - a.entry.reporters ||
    (b.entry.reportersToDate ?? 0) - (a.entry.reportersToDate ?? 0) ||
    Date.parse(b.entry.lastSeen) - Date.parse(a.entry.lastSeen) ||
    a.clusterId - b.clusterId
  );
}

/** Puts an entry in its place among the best `top` so far (best first); one that does not make it is dropped. */
export function keepBest(out: ClusterEntry[], e: ClusterEntry, top: number): void {
  if (out.length >= top && compareEntries(e, out[out.length - 1]!) >= 0) return;
  let lo = 0;
  let hi = out.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareEntries(out[mid]!, e) <= 0) lo = mid + 1;
    else hi = mid;
  }
  out.splice(lo, 0, e);
  if (out.length > top) out.pop();
}

/**
 * The digest JSON for a period from its best cluster entries (best first) and the store's counts; before
 * the cluster stage has run (no entries), the conversations ranked by participants (`fallback`) stand in.
 */
export function planDigest(period: Period, entries: readonly ClusterEntry[], fallback: DigestJson['clusters'], stats: StoreStats): DigestJson {
  const fromClusters = entries.map((e) => e.entry);
  const listsWithoutArchive = [...new Set(entries.flatMap((e) => e.unlinkedLists))].sort();
  const clusters = fromClusters.length ? fromClusters : fallback;
  const iso = (t: number | null) => (t == null ? null : new Date(t).toISOString());
  return {
    period: { start: new Date(period.start).toISOString(), end: new Date(period.end).toISOString() },
    clusters,
    stats: {
      messages: stats.messages,
      conversations: stats.conversations,
      feedbackItems: stats.feedbackItems,
      sources: stats.sources.map((s) => ({
        name: s.name,
        from: iso(s.from),
        to: iso(s.to),
        gaps: s.gaps.map((g) => ({ channel: g.channel, from: new Date(g.from).toISOString(), to: iso(g.to), reason: g.reason })),
      })),
      listsWithoutArchive,
    },
  };
}
