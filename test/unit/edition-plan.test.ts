// The digest's plans, pure: a team's edition from the period's digest, the previous weeks' and the
// coverage (filter, sections, quiet now, activity, coverage footer); the best entries kept in order.
import { describe, expect, it } from 'vitest';
import { planEdition } from '../../src/pipeline/edition-plan.js';
import { keepBest, type ClusterEntry } from '../../src/pipeline/digest-plan.js';
import type { DigestCluster, DigestJson } from '../../src/model/index.js';
import type { CoverageRecord } from '../../src/model/digest.js';

const T0 = Date.UTC(2026, 10, 16);
const iso = (t: number) => new Date(t).toISOString();

function cluster(id: number, over: Partial<DigestCluster> = {}): DigestCluster {
  return {
    id: `cluster-${id}`,
    title: `need ${id}`,
    kind: 'bug',
    tags: [],
    reporters: 2,
    mentions: 3,
    segments: { community: 2 },
    channels: ['slack #general'],
    trend: 'new',
    firstSeen: iso(T0),
    lastSeen: iso(T0 + 1000),
    score: 2,
    why: null,
    summary: null,
    quotes: [],
    ...over,
  };
}
function digest(clusters: DigestCluster[]): DigestJson {
  return { period: { start: iso(T0), end: iso(T0 + 7 * 86_400_000) }, clusters, stats: { messages: 10, conversations: 4, feedbackItems: 3, sources: [], listsWithoutArchive: [] } };
}
const coverage: CoverageRecord = {
  sources: [
    {
      name: 'community',
      platform: 'slack',
      status: 'error',
      lastPullAt: T0 + 5000,
      lastError: 'token revoked',
      channels: [
        { name: 'general', firstAt: T0, lastAt: T0 + 10, messages: 8, conversations: 3, feedbackItems: 2, people: 4 },
        { name: 'help', firstAt: T0, lastAt: T0 + 10, messages: 2, conversations: 1, feedbackItems: 2, people: 1 },
        { name: 'random', firstAt: null, lastAt: null, messages: 0, conversations: 0, feedbackItems: 0, people: 0 },
      ],
      gaps: [{ channel: 'secret', from: T0, to: null, reason: 'not_in_channel' }],
      rateLimitedMs: 1200,
      rateLimitedPages: 2,
      failures: [],
    },
  ],
};

describe('edition plan', () => {
  it("keeps the team's clusters, sorts them into sections, finds the quiet ones and reports coverage", () => {
    const all = digest([
      cluster(1, { trend: 'rising', tags: ['area:sso'] }),
      cluster(2, { kind: 'feature', tags: ['area:sso'] }),
      cluster(3, { trend: 'new', tags: ['area:sso'] }),
      cluster(4, { tags: ['area:csv'] }),
    ]);
    const before = digest([cluster(1), cluster(5, { tags: ['area:sso'], lastSeen: iso(T0 - 5000) }), cluster(6, { tags: ['area:sso'], lastSeen: iso(T0 - 1000) }), cluster(7, { tags: ['area:csv'] })]);
    const e = planEdition(all, before, coverage, { name: 'identity', filter: { area: ['sso'], kind: ['bug'] }, top: 1 });
    expect(e.clusters.map((c) => c.id)).toEqual(['cluster-1']);
    expect(e.edition.matching).toBe(2);
    expect(e.edition.sections.rising.map((s) => s.id)).toEqual(['cluster-1']);
    expect(e.edition.sections.new.map((s) => s.id)).toEqual(['cluster-3']);
    // Voiced before, silent now, the team's: latest first.
    expect(e.edition.sections.quiet.map((s) => [s.id, s.trend])).toEqual([
      ['cluster-6', null],
      ['cluster-5', null],
    ]);
    expect(e.edition.activity.map((a) => a.channel)).toEqual(['general', 'help']);
    expect(e.edition.coverage).toMatchObject({ channelsCovered: 2, channelsSilent: 1, rateLimits: [{ source: 'community', waitedMs: 1200, pages: 2 }] });
    expect(e.edition.coverage.gaps).toEqual([{ source: 'community', channel: 'secret', from: iso(T0), to: null, reason: 'not_in_channel' }]);
    // In error now, with no failure recorded in the period: said once.
    expect(e.edition.coverage.failed).toEqual([{ source: 'community', error: 'token revoked', at: iso(T0 + 5000) }]);
  });
});

describe('best entries', () => {
  it('keeps the best `top` in order, whatever order they come in', () => {
    const entry = (id: number, score: number, reporters = 1): ClusterEntry => ({
      entry: cluster(id, { score, reporters }),
      clusterId: id,
      items: [],
      active: true,
      record: { id, title: '', pinnedTitle: false, summary: null, kind: null, firstSeen: null, lastSeen: null },
      unlinkedLists: [],
    });
    const out: ClusterEntry[] = [];
    for (const e of [entry(1, 1), entry(2, 5), entry(3, 3, 2), entry(4, 3, 1), entry(5, 0.5), entry(6, 5)]) keepBest(out, e, 3);
    expect(out.map((e) => e.clusterId)).toEqual([2, 6, 3]);
  });
});
