// One edition of the digest: a team's view of a week. The clusters come from buildDigest (the
// contract in src/model); this adds what an email edition needs around them: the team's filter, the
// "new / rising / resurfaced / quiet now" sections from the clusters' trends, per-channel activity
// and the coverage footer. The result is stored as the edition's JSON and rendered from it, so an
// archived edition re-renders exactly as it was sent.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { DigestCluster, DigestJson } from '../model/index.js';
import type { Config, TeamFilter } from '../config/index.js';
import type { Period } from '../pipeline/period.js';
import { buildDigest } from './build.js';
import { coverageFor } from '../store/digests.js';

export const DEFAULT_TEAM = 'default';
/** Candidates read before a team's filter narrows them (config `digest.top` is at most 200). */
const MAX_CANDIDATES = 200;
const SECTION_MAX = 10;
/** "Quiet now": voiced in these previous weeks, silent in this one. */
const QUIET_WEEKS = 3;
const WEEK_MS = 7 * 24 * 3600 * 1000;

export interface Team {
  name: string;
  recipients: string[];
  filter: TeamFilter;
  top: number;
}

/** The configured teams, or one default edition for everyone when none is configured. */
export function teamsOf(config: Config): Team[] {
  if (!config.teams.length) return [{ name: DEFAULT_TEAM, recipients: config.digest.recipients, filter: {}, top: config.digest.top }];
  return config.teams.map((t) => ({ name: t.name, recipients: t.recipients, filter: t.filter, top: t.top ?? config.digest.top }));
}

export function teamByName(config: Config, name: string | undefined): Team {
  const teams = teamsOf(config);
  if (name === undefined) {
    if (teams.length === 1) return teams[0]!;
    throw new Error(`several teams are configured (${teams.map((t) => t.name).join(', ')}); choose one with --team`);
  }
  const t = teams.find((x) => x.name === name);
  if (!t) throw new Error(`no team named ${name} in the config; teams: ${teams.map((x) => x.name).join(', ')}`);
  return t;
}

const norm = (s: string) => s.trim().toLowerCase();
/** `slack #general`, `#general` and `general` name the same channel. */
const channelKey = (s: string) => norm(s).replace(/^(slack|discord|matrix|irc|mail|discourse|github)\s+/, '').replace(/^#/, '');

/** Every key of the filter must match (any of its values); an empty filter matches everything. */
export function matchesFilter(c: DigestCluster, f: TeamFilter): boolean {
  const any = (values: string[] | undefined, test: (v: string) => boolean) => !values || values.length === 0 || values.some(test);
  const tags = c.tags.map(norm);
  return (
    any(f.kind, (v) => c.kind !== null && norm(v) === c.kind) &&
    any(f.tag, (v) => tags.includes(norm(v))) &&
    any(f.area, (v) => tags.includes(norm(v)) || tags.includes(`area:${norm(v).replace(/^area:/, '')}`)) &&
    any(f.segment, (v) => (c.segments[norm(v)] ?? 0) > 0) &&
    any(f.channel, (v) => c.channels.some((ch) => channelKey(ch) === channelKey(v)))
  );
}

export interface SectionEntry {
  id: string;
  title: string;
  kind: DigestCluster['kind'];
  trend: DigestCluster['trend'];
  reporters: number;
  why: string | null;
  firstSeen: string;
  lastSeen: string;
}

export interface ChannelActivity {
  source: string;
  platform: string;
  channel: string;
  messages: number;
  conversations: number;
  feedbackItems: number;
  people: number;
}

export interface Coverage {
  channelsCovered: number;
  channelsSilent: number;
  sources: Array<{ name: string; platform: string; status: string; lastPullAt: string | null; channels: number }>;
  gaps: Array<{ source: string; channel: string | null; from: string; to: string | null; reason: string }>;
  rateLimits: Array<{ source: string; waitedMs: number; pages: number }>;
  failed: Array<{ source: string; error: string; at: string | null }>;
}

export interface EditionExtras {
  version: 1;
  team: string;
  filter: TeamFilter;
  /** Clusters active in the week that matched the team's filter (before `top`). */
  matching: number;
  sections: { new: SectionEntry[]; rising: SectionEntry[]; resurfaced: SectionEntry[]; quiet: SectionEntry[] };
  activity: ChannelActivity[];
  coverage: Coverage;
}

/** What an edition stores: the digest contract plus the edition's own parts. */
export type EditionJson = DigestJson & { edition: EditionExtras };

export function isEditionJson(x: unknown): x is EditionJson {
  return typeof x === 'object' && x !== null && 'edition' in x && 'clusters' in x;
}

function sectionEntry(c: DigestCluster): SectionEntry {
  return { id: c.id, title: c.title, kind: c.kind, trend: c.trend, reporters: c.reporters, why: c.why, firstSeen: c.firstSeen, lastSeen: c.lastSeen };
}

/** Builds a team's edition for a period from the store. */
export async function buildEdition(db: Kysely<Database>, period: Period, team: Team, opts: { segments?: Config['segments']; archives?: Config['archives'] } = {}): Promise<EditionJson> {
  const all = await buildDigest(db, period, { top: MAX_CANDIDATES, segments: opts.segments, archives: opts.archives });
  const matching = all.clusters.filter((c) => matchesFilter(c, team.filter));
  const withTrend = (t: DigestCluster['trend']) => matching.filter((c) => c.trend === t).slice(0, SECTION_MAX).map(sectionEntry);

  // Quiet now: clusters someone voiced in the previous weeks and nobody in this one. Only clusters
  // (not the conversation stand-ins) have a history to compare with.
  const activeIds = new Set(all.clusters.map((c) => c.id));
  const before = await buildDigest(db, { start: period.start - QUIET_WEEKS * WEEK_MS, end: period.start }, { top: MAX_CANDIDATES, segments: opts.segments });
  const quiet = before.clusters
    .filter((c) => c.id.startsWith('cluster-') && !activeIds.has(c.id) && matchesFilter(c, team.filter))
    .sort((a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen) || b.reporters - a.reporters)
    .slice(0, SECTION_MAX)
    .map((c) => ({ ...sectionEntry(c), trend: null }));

  const cov = await coverageFor(db, period);
  const iso = (t: number | null) => (t == null ? null : new Date(t).toISOString());
  const activity: ChannelActivity[] = cov.sources
    .flatMap((s) => s.channels.filter((c) => c.messages > 0).map((c) => ({ source: s.name, platform: s.platform, channel: c.name, messages: c.messages, conversations: c.conversations, feedbackItems: c.feedbackItems, people: c.people })))
    .sort((a, b) => b.feedbackItems - a.feedbackItems || b.messages - a.messages || a.channel.localeCompare(b.channel));
  // A channel is covered when the store has read it up to (or past) the period; a channel whose last
  // message is older than the period's start was silent or not read: both are shown, not hidden.
  const channels = cov.sources.flatMap((s) => s.channels);
  const coverage: Coverage = {
    channelsCovered: channels.filter((c) => c.messages > 0).length,
    channelsSilent: channels.filter((c) => c.messages === 0).length,
    sources: cov.sources.map((s) => ({ name: s.name, platform: s.platform, status: s.status, lastPullAt: iso(s.lastPullAt), channels: s.channels.length })),
    gaps: cov.sources.flatMap((s) => s.gaps.map((g) => ({ source: s.name, channel: g.channel, from: new Date(g.from).toISOString(), to: iso(g.to), reason: g.reason }))),
    rateLimits: cov.sources.filter((s) => s.rateLimitedMs > 0).map((s) => ({ source: s.name, waitedMs: s.rateLimitedMs, pages: s.rateLimitedPages })),
    failed: cov.sources.flatMap((s) => {
      const rows = s.failures.map((f) => ({ source: s.name, error: f.detail ?? 'pull failed', at: iso(f.at) }));
      // A source that is in error now but whose failure predates the period still failed: say so once.
      if (s.status === 'error' && s.lastError && !rows.some((r) => r.error === s.lastError)) rows.push({ source: s.name, error: s.lastError, at: iso(s.lastPullAt) });
      return rows;
    }),
  };

  return {
    ...all,
    clusters: matching.slice(0, team.top),
    edition: {
      version: 1,
      team: team.name,
      filter: team.filter,
      matching: matching.length,
      sections: { new: withTrend('new'), rising: withTrend('rising'), resurfaced: withTrend('resurfaced'), quiet },
      activity,
      coverage,
    },
  };
}
