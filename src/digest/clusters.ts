// Digest entries from clusters: for a period, the clusters someone voiced in it, with reporters,
// segments, channels, trend, an explained score, the sentence and its evidence, quotes with links.
// Shared by the digest (buildDigest) and `gleaner clusters`.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { DigestCluster, DigestQuote } from '../model/index.js';
import { clusterMembers, clustersWithActivity, getClusters, loadItems, type StoredItem } from '../store/clusters.js';
import { clusterPriority, channelLabel } from '../pipeline/priority.js';
import { excerpt } from '../pipeline/rank.js';
import type { Period } from '../pipeline/period.js';

export interface ClusterEntryOptions {
  /** Segment weights, as in config `segments:` (e.g. `{ customer: { weight: 3 } }`). */
  segments?: Record<string, { weight: number }>;
  /** At most this many entries, best first (default: all). */
  top?: number;
  /** Quotes per entry (default 3). */
  quotes?: number;
}

export interface ClusterEntry {
  entry: DigestCluster;
  clusterId: number;
  /** The cluster's items with their conversations up to the period's end. */
  items: StoredItem[];
}

/** The clusters active in the period (someone voiced the need in it), best score first. */
export async function clusterEntries(db: Kysely<Database>, period: Period, opts: ClusterEntryOptions = {}): Promise<ClusterEntry[]> {
  const weights: Record<string, number> = {};
  for (const [k, v] of Object.entries(opts.segments ?? {})) weights[k] = v.weight;
  const ids = await clustersWithActivity(db, period.start, period.end);
  if (!ids.length) return [];
  const members = await clusterMembers(db, ids);
  const records = new Map((await getClusters(db, ids)).map((c) => [c.id, c]));
  const allItems = new Map((await loadItems(db, [...members.values()].flat())).map((i) => [i.itemId, i]));
  const out: Array<ClusterEntry & { order: [number, number, number] }> = [];
  for (const id of ids) {
    const record = records.get(id);
    if (!record) continue;
    const items = (members.get(id) ?? [])
      .map((i) => allItems.get(i))
      .filter((i): i is StoredItem => i !== undefined)
      .map((i) => ({ ...i, messages: i.messages.filter((m) => m.at < period.end) }))
      .filter((i) => i.messages.length > 0);
    if (!items.length) continue;
    const p = clusterPriority(items, period, { weights });
    if (!p.active) continue;
    const tagCounts = new Map<string, number>();
    for (const i of items) for (const t of i.tags) tagCounts.set(t, (tagCounts.get(t) ?? 0) + 1);
    const tags = [...tagCounts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t]) => t).slice(0, 8);
    // One quote per reporter, in the order they spoke: the need in each person's own words.
    const byId = new Map(items.flatMap((i) => i.messages.map((m) => [m.messageId, m] as const)));
    const quotes: DigestQuote[] = [];
    for (const r of p.reporters) {
      if (quotes.length >= (opts.quotes ?? 3)) break;
      const m = byId.get(r.messageIds[0]!);
      if (!m || !m.text.trim()) continue;
      quotes.push({ text: excerpt(m.text), author: m.personName, channel: channelLabel(m), url: m.permalink, at: new Date(m.at).toISOString() });
    }
    const iso = (t: number | null) => new Date(t ?? period.start).toISOString();
    const entry: DigestCluster = {
      id: `cluster-${id}`,
      title: record.title,
      kind: record.kind,
      tags,
      reporters: p.reporters.length,
      mentions: p.mentions,
      segments: p.segments,
      channels: p.channels,
      trend: p.trend,
      firstSeen: iso(p.firstSeen ?? record.firstSeen),
      lastSeen: iso(p.lastSeen ?? record.lastSeen),
      score: p.score,
      why: p.why,
      summary: record.summary,
      quotes,
      scoreExplanation: p.explanation,
      evidence: p.evidence,
    };
    out.push({ entry, clusterId: id, items, order: [p.score, p.reporters.length, p.lastSeen ?? 0] });
  }
  out.sort((a, b) => b.order[0] - a.order[0] || b.order[1] - a.order[1] || b.order[2] - a.order[2] || a.clusterId - b.clusterId);
  const top = opts.top ?? out.length;
  return out.slice(0, top).map(({ entry, clusterId, items }) => ({ entry, clusterId, items }));
}
