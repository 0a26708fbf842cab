// A team's edition of the digest, pure: from the period's digest (buildDigest's contract), the previous
// weeks' and the store's coverage, what an email edition holds around the clusters: the team's filter,
// the "new / rising / resurfaced / quiet now" sections from the clusters' trends, per-channel activity
// and the coverage footer. The result is stored as the edition's JSON and rendered from it, so an
// archived edition re-renders exactly as it was sent.
import type { DigestCluster, DigestJson } from '../model/index.js';
import type { ChannelActivity, Coverage, CoverageRecord, EditionFilter, EditionJson, SectionEntry } from '../model/digest.js';

const SECTION_MAX = 10;

const norm = (s: string) => s.trim().toLowerCase();
/** `slack #general`, `#general` and `general` name the same channel. */
const channelKey = (s: string) =>
  norm(s)
    .replace(/^(slack|discord|matrix|irc|mail|discourse|github)\s+/, '')
    .replace(/^#/, '');

/** Every key of the filter must match (any of its values); an empty filter matches everything. */
export function matchesFilter(c: DigestCluster, f: EditionFilter): boolean {
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

function sectionEntry(c: DigestCluster): SectionEntry {
  return { id: c.id, title: c.title, kind: c.kind, trend: c.trend, reporters: c.reporters, why: c.why, firstSeen: c.firstSeen, lastSeen: c.lastSeen };
}

/** The edition of a team (its name, filter and how many clusters it shows) from the period's digest (`all`), the previous weeks' (`before`) and the coverage. */
export function planEdition(all: DigestJson, before: DigestJson, cov: CoverageRecord, team: { name: string; filter: EditionFilter; top: number }): EditionJson {
  const matching = all.clusters.filter((c) => matchesFilter(c, team.filter));
  const withTrend = (t: DigestCluster['trend']) =>
    matching
      .filter((c) => c.trend === t)
      .slice(0, SECTION_MAX)
      .map(sectionEntry);

  // Quiet now: clusters someone voiced in the previous weeks and nobody in this one. Only clusters
  // (not the conversation stand-ins) have a history to compare with.
  const activeIds = new Set(all.clusters.map((c) => c.id));
  const quiet = before.clusters
    .filter((c) => c.id.startsWith('cluster-') && !activeIds.has(c.id) && matchesFilter(c, team.filter))
    .sort((a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen) || b.reporters - a.reporters)
    .slice(0, SECTION_MAX)
    .map((c) => ({ ...sectionEntry(c), trend: null }));

  const iso = (t: number | null) => (t == null ? null : new Date(t).toISOString());
  const activity: ChannelActivity[] = cov.sources
    .flatMap((s) =>
      s.channels
        .filter((c) => c.messages > 0)
        .map((c) => ({ source: s.name, platform: s.platform, channel: c.name, messages: c.messages, conversations: c.conversations, feedbackItems: c.feedbackItems, people: c.people })),
    )
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
