// The web's cluster list and cluster page. Every figure (reporters, segments, channels, trend, score,
// the sentence and its evidence) is the digest's own: computed by clusterEntry (src/digest/clusters.ts)
// over the same period, so a cluster reads the same on the web as in the digest. The database narrows
// the candidates (kind, tags, areas, search, activity in the period, channel/platform/segment); the
// figures are computed a chunk of clusters at a time and only a light row per cluster is kept.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Config } from '../config/index.js';
import type { ClusterEvidence, ScoreExplanation, TrendEvidence } from '../model/index.js';
import { clusterEntryChunks } from '../digest/clusters.js';
import { compareEntries, type ClusterEntry } from '../pipeline/digest-plan.js';
import { parseWeek, weekLabel, type Period } from '../pipeline/period.js';
import { clusterCandidates, clusterRecordView, type ConversationView } from '../store/web/clusters.js';
import { latestAt, type FeedbackFilter, type Reporter, type Trend } from '../store/web/items.js';

const DAY_MS = 86_400_000;

export type PeriodChoice = '7' | '30' | '90' | '365' | 'all';

/** The period the figures are computed for, as the digest computes them for its week. */
export interface WebPeriod extends Period {
  /** Only clusters someone voiced the need in during the period (as in the digest). */
  onlyActive: boolean;
  /** The ISO week, when one was asked for (`2026-W47`). */
  week: string | null;
  /** Days of a rolling period, null for a week or "all time". */
  days: number | null;
}

/**
 * `week` (an ISO week: the digest's period) wins; otherwise the last N days up to the latest message.
 * "All time" lists every cluster, with trend and score as of the latest message over the last 7 days
 * (a digest week) against the three weeks before.
 */
export async function resolvePeriod(db: Kysely<Database>, choice: PeriodChoice, week?: string): Promise<WebPeriod> {
  if (week) {
    const p = parseWeek(week);
    return { ...p, onlyActive: true, week: weekLabel(p), days: null };
  }
  const end = (await latestAt(db)) + 1;
  if (choice === 'all') return { start: end - 7 * DAY_MS, end, onlyActive: false, week: null, days: null };
  const days = Number(choice);
  return { start: end - days * DAY_MS, end, onlyActive: true, week: null, days };
}

export interface ClusterListFilter extends FeedbackFilter {
  trend?: string;
  sort?: 'score' | 'recent';
  limit?: number;
  offset?: number;
}

export interface ClusterRow {
  id: number;
  title: string;
  pinnedTitle: boolean;
  kind: string | null;
  summary: string | null;
  tags: string[];
  /** The digest's sentence ("5 people in 3 channels, 4 of them from customers (Acme); first seen 9 days ago, rising"). */
  sentence: string;
  reporters: Reporter[];
  reporterCount: number;
  mentions: number;
  channels: string[];
  segments: Record<string, number>;
  trend: Trend | null;
  score: number;
  scoreExplanation: string | null;
  firstSeen: number | null;
  lastSeen: number | null;
  /** Whether anyone voiced the need in the period. */
  active: boolean;
}

export interface ClusterDetail extends ClusterRow {
  evidence: WebEvidence;
  timeline: Array<{ start: number; count: number }>;
  conversations: ConversationView[];
  tagCounts: Array<{ tag: string; count: number }>;
}

export interface EvidenceLink {
  messageId: number;
  at: number;
  role: string;
  channel: string;
  permalink: string | null;
}

/** The evidence of the sentence, shaped for the page: every number with the messages behind it. */
export interface WebEvidence {
  reporters: Array<Reporter & { firstAt: number; messages: EvidenceLink[] }>;
  channels: Array<{ channel: string; platform: string; messages: EvidenceLink[] }>;
  segments: Array<{ segment: string; people: number; orgs: string[] }>;
  score: ScoreExplanation | null;
  trend: TrendEvidence | null;
  reactions: Array<{ reaction: string; count: number }>;
}

const ms = (iso: string) => Date.parse(iso);

function toRow(e: ClusterEntry): ClusterRow {
  const c = e.entry;
  const voiced = (c.evidence?.messages.length ?? 0) > 0;
  return {
    id: e.clusterId,
    title: c.title,
    pinnedTitle: e.record.pinnedTitle,
    kind: c.kind,
    summary: c.summary,
    tags: c.tags,
    sentence: c.why ?? '',
    reporters: (c.evidence?.reporters ?? []).map((r) => ({ personId: r.personId, name: r.name, org: r.org, segment: r.segment })),
    reporterCount: c.reportersToDate ?? c.reporters,
    mentions: c.mentions,
    channels: c.channels,
    segments: c.segmentsToDate ?? c.segments,
    trend: c.trend,
    score: c.score,
    scoreExplanation: c.scoreExplanation ?? null,
    firstSeen: voiced ? ms(c.firstSeen) : null,
    lastSeen: voiced ? ms(c.lastSeen) : null,
    active: e.active,
  };
}

const norm = (s: string) => s.trim().toLowerCase();
/** `slack #general`, `#general` and `general` name the same channel (as in a team's digest filter). */
const channelKey = (s: string) =>
  norm(s)
    .replace(/^(slack|discord|matrix|irc|mail|discourse|github)\s+/, '')
    .replace(/^#/, '');

/** The filters the figures decide: a reporter of the segment, a voicing in the channel or on the platform, the trend. */
function passes(row: ClusterRow, evidence: ClusterEvidence | undefined, f: ClusterListFilter): boolean {
  if (f.segment && !((row.segments[f.segment] ?? 0) > 0)) return false;
  if (f.channel && !row.channels.some((c) => channelKey(c) === channelKey(f.channel!))) return false;
  if (f.platform && !(evidence?.channels ?? []).some((c) => c.platform === f.platform)) return false;
  if (f.trend && row.trend !== f.trend) return false;
  return true;
}

function sortRows(rows: Array<{ row: ClusterRow; order: Pick<ClusterEntry, 'entry' | 'clusterId'> }>, sort: ClusterListFilter['sort']): void {
  if (sort === 'recent') rows.sort((a, b) => (b.row.lastSeen ?? 0) - (a.row.lastSeen ?? 0) || b.row.id - a.row.id);
  else rows.sort((a, b) => compareEntries(a.order, b.order));
}

/** One page of clusters with the digest's figures for the period; filtered, searched, sorted. */
export async function listClusters(db: Kysely<Database>, f: ClusterListFilter, period: WebPeriod, segments: Config['segments'] | undefined): Promise<{ rows: ClusterRow[]; total: number }> {
  const ids = await clusterCandidates(db, {
    kind: f.kind,
    tag: f.tag,
    area: f.area,
    channel: f.channel,
    platform: f.platform,
    segment: f.segment,
    q: f.q,
    activeFrom: period.onlyActive ? period.start : undefined,
    activeTo: period.end,
  });
  const kept: Array<{ row: ClusterRow; order: Pick<ClusterEntry, 'entry' | 'clusterId'> }> = [];
  for await (const chunk of clusterEntryChunks(db, ids, period, { segments, quotes: 0 })) {
    for (const e of chunk) {
      if (period.onlyActive && !e.active) continue;
      const row = toRow(e);
      if (!passes(row, e.entry.evidence, f)) continue;
      // Only what sorting needs is kept of the entry: no evidence, no items.
      kept.push({ row, order: { clusterId: e.clusterId, entry: { ...e.entry, evidence: undefined, quotes: [] } } });
    }
  }
  sortRows(kept, f.sort);
  const offset = f.offset ?? 0;
  return { rows: kept.slice(offset, offset + (f.limit ?? 50)).map((k) => k.row), total: kept.length };
}

function weekStart(t: number): number {
  const d = new Date(t);
  const day = (d.getUTCDay() + 6) % 7; // Monday = 0
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day);
}

/** Mentions per ISO week, with empty weeks filled in. */
export function weeklyTimeline(ats: number[]): Array<{ start: number; count: number }> {
  if (!ats.length) return [];
  const counts = new Map<number, number>();
  for (const t of ats) counts.set(weekStart(t), (counts.get(weekStart(t)) ?? 0) + 1);
  const first = Math.min(...counts.keys());
  const last = Math.max(...counts.keys());
  const out: Array<{ start: number; count: number }> = [];
  for (let wk = first; wk <= last && out.length < 520; wk += 7 * DAY_MS) out.push({ start: wk, count: counts.get(wk) ?? 0 });
  return out;
}

function webEvidence(ev: ClusterEvidence | undefined): WebEvidence {
  if (!ev) return { reporters: [], channels: [], segments: [], score: null, trend: null, reactions: [] };
  const links = new Map<number, EvidenceLink>(ev.messages.map((m) => [m.messageId, { messageId: m.messageId, at: ms(m.at), role: m.role, channel: m.channel, permalink: m.permalink }]));
  const pick = (ids: number[]) => ids.map((id) => links.get(id)).filter((x): x is EvidenceLink => x !== undefined);
  return {
    reporters: ev.reporters.map((r) => ({ personId: r.personId, name: r.name, org: r.org, segment: r.segment, firstAt: ms(r.firstAt), messages: pick(r.messageIds) })),
    channels: ev.channels.map((c) => ({ channel: c.channel, platform: c.platform, messages: pick(c.messageIds) })),
    segments: Object.entries(ev.segments)
      .map(([segment, e]) => ({ segment, people: e.personIds.length, orgs: e.orgs }))
      .sort((a, b) => b.people - a.people || a.segment.localeCompare(b.segment)),
    score: ev.score,
    trend: ev.trend,
    reactions: Object.entries(ev.reactions).map(([reaction, count]) => ({ reaction, count })),
  };
}

/** One cluster with the digest's figures for the period, their evidence, the weekly chart, its conversations and tags. */
export async function clusterDetail(db: Kysely<Database>, clusterId: number, period: WebPeriod, segments: Config['segments'] | undefined): Promise<ClusterDetail | null> {
  const rec = await clusterRecordView(db, clusterId);
  if (!rec) return null;
  let e: ClusterEntry | undefined;
  for await (const chunk of clusterEntryChunks(db, [clusterId], period, { segments })) e ??= chunk[0];
  const row: ClusterRow = e
    ? toRow(e)
    : {
        id: rec.id,
        title: rec.title,
        pinnedTitle: rec.pinnedTitle,
        kind: rec.kind,
        summary: rec.summary,
        tags: [],
        sentence: 'Nobody raised this before the end of the period.',
        reporters: [],
        reporterCount: 0,
        mentions: 0,
        channels: [],
        segments: {},
        trend: null,
        score: 0,
        scoreExplanation: null,
        firstSeen: null,
        lastSeen: null,
        active: false,
      };
  const evidence = webEvidence(e?.entry.evidence);
  return {
    ...row,
    evidence,
    timeline: weeklyTimeline((e?.entry.evidence?.messages ?? []).map((m) => ms(m.at))),
    conversations: rec.conversations,
    tagCounts: rec.tagCounts,
  };
}
