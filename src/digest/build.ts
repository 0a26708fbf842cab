// Builds the digest JSON for a period from the store (the contract in src/model: DigestJson).
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { DigestJson } from '../model/index.js';
import { conversationsInPeriod, feedbackFor, quotesFor, storeStats } from '../store/queries.js';
import { rankConversations } from '../pipeline/rank.js';
import type { Period } from '../pipeline/period.js';
import { clusterEntries } from './clusters.js';
import type { ArchiveConfig } from './archives.js';
import { clusterOutbound } from '../trackers/links.js';

export interface BuildDigestOptions {
  /** At most this many clusters, best score first. */
  top: number;
  /** Segment weights for the score (config `segments:`); default customer 3, partner 2, others 1. */
  segments?: Record<string, { weight: number }>;
  /** Mail archives per list (config `archives:`), for quotes without an Archived-At. */
  archives?: readonly ArchiveConfig[];
}

/**
 * The digest JSON for a period: the single entry point for the CLI, the web preview and the digest
 * scheduler. `clusters[]` are the clusters someone voiced a need in during the period (see
 * src/digest/clusters.ts and README "Priority"), best score first; when no cluster exists yet (the
 * cluster stage has not run), conversations ranked by participants stand in.
 */
export async function buildDigest(db: Kysely<Database>, period: Period, opts: BuildDigestOptions): Promise<DigestJson> {
  const entries = await clusterEntries(db, period, { top: opts.top, segments: opts.segments, withItems: false, archives: opts.archives });
  // Each entry's tracker issues and resolution (a regression is shown as one).
  const outbound = await clusterOutbound(db, entries.map((e) => e.clusterId));
  const fromClusters = entries.map((e) => {
    const o = outbound.get(e.clusterId);
    return o && (o.issues.length || o.resolution) ? { ...e.entry, issues: o.issues, resolution: o.resolution } : e.entry;
  });
  const listsWithoutArchive = [...new Set(entries.flatMap((e) => e.unlinkedLists))].sort();
  const clusters = fromClusters.length ? fromClusters : await conversationFallback(db, period, opts.top);
  const stats = await storeStats(db, period);
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

/** Before clustering has run: the period's conversations ranked by distinct participants. */
async function conversationFallback(db: Kysely<Database>, period: Period, top: number): Promise<DigestJson['clusters']> {
  const rows = await conversationsInPeriod(db, period);
  const feedback = await feedbackFor(db, rows.map((r) => r.id));
  const convs = rows.map((r) => {
    const f = feedback.get(r.id);
    return { ...r, feedback: f ? { kind: f.kind as DigestJson['clusters'][number]['kind'], tags: f.tags } : null };
  });
  // Rank first on counts, then fetch quotes only for what will be shown.
  const prelim = rankConversations(convs, [], top);
  const ids = prelim.map((c) => Number(c.id.slice('conversation-'.length)));
  const quotes = await quotesFor(db, ids, 3, period);
  return rankConversations(convs, quotes, top);
}
