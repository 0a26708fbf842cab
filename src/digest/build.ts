// Builds the digest JSON for a period from the store (the contract in src/model: DigestJson): read -> plan.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { DigestJson } from '../model/index.js';
import { conversationsInPeriod, feedbackFor, quotesFor, storeStats } from '../store/queries.js';
import { pendingWorkCounts } from '../store/pending.js';
import { rankConversations } from '../pipeline/rank.js';
import type { Period } from '../pipeline/period.js';
import { clusterEntries } from './clusters.js';
import type { ArchiveConfig } from '../pipeline/archives.js';
import { planDigest } from '../pipeline/digest-plan.js';
import { clusterOutbound } from '../trackers/links.js';
import { describeOwedClusters } from '../stages/describe.js';

export interface BuildDigestOptions {
  /** At most this many clusters, best score first. */
  top: number;
  /** Segment weights for the score (config `segments:`); default customer 3, partner 2, others 1. */
  segments?: Record<string, { weight: number }>;
  /** Mail archives per list (config `archives:`), for quotes without an Archived-At. */
  archives?: readonly ArchiveConfig[];
  /** The clock for the descriptions settled first (default Date.now). */
  now?: () => number;
}

/**
 * The digest JSON for a period, read -> plan: the single entry point for the CLI, the web preview and
 * the digest scheduler. The clusters' entries are read and planned a chunk at a time (clusters.ts), the
 * store's counts read, and src/pipeline/digest-plan.ts puts the digest together. `clusters[]` are the clusters someone voiced a need in during the period (see
 * src/digest/clusters.ts and README "Priority"), best score first; when there is none while tagging or
 * clustering is unfinished (the stages have not run), conversations ranked by participants stand in.
 */
export async function buildDigest(db: Kysely<Database>, period: Period, opts: BuildDigestOptions): Promise<DigestJson> {
  // Clusters a backlog left owing their description (src/stages/describe.ts) are described first.
  await describeOwedClusters(db, opts.now ?? Date.now);
  const entries = await clusterEntries(db, period, { top: opts.top, segments: opts.segments, withItems: false, archives: opts.archives });
  // Each entry's tracker issues and resolution (a regression is shown as one).
  const outbound = await clusterOutbound(
    db,
    entries.map((e) => e.clusterId),
  );
  const linked = entries.map((e) => {
    const o = outbound.get(e.clusterId);
    return o && (o.issues.length || o.resolution) ? { ...e, entry: { ...e.entry, issues: o.issues, resolution: o.resolution } } : e;
  });
  // Only while tagging or clustering is unfinished: once done, a week without feedback says so, not
  // which conversations were busiest ("+1" and small talk).
  const left = entries.length ? null : await pendingWorkCounts(db);
  const fallback = left && (left.conversations > 0 || left.items > 0) ? await conversationFallback(db, period, opts.top) : [];
  return planDigest(period, linked, fallback, await storeStats(db, period));
}

/** Before clustering has run: the period's conversations ranked by distinct participants. */
async function conversationFallback(db: Kysely<Database>, period: Period, top: number): Promise<DigestJson['clusters']> {
  const rows = await conversationsInPeriod(db, period);
  const feedback = await feedbackFor(
    db,
    rows.map((r) => r.id),
  );
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
