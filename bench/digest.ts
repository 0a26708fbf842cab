// npm run bench -- digest [--clusters 50] [--rounds 200]: renders an edition of N clusters (three
// quotes each, sections, channel activity, coverage footer, curation) to HTML and text.
// Prints digest.render_50_ms (one render, after a warm-up: templates compiled) and digest.renders_per_s.
import { renderDigest } from '../src/digest/render.js';
import type { EditionJson, SectionEntry } from '../src/model/digest.js';
import type { Curation } from '../src/digest/curation.js';
import { arg, figure, rng } from './support.js';

function edition(n: number): EditionJson {
  const rand = rng(7);
  const start = Date.UTC(2026, 10, 23);
  const iso = (t: number) => new Date(t).toISOString();
  const kinds = ['bug', 'feature', 'question', 'docs', 'praise', 'complaint'] as const;
  const trends = ['new', 'rising', 'steady', 'falling', 'resurfaced'] as const;
  const clusters = Array.from({ length: n }, (_, i) => ({
    id: `cluster-${i + 1}`,
    title: `Need ${i + 1}: export <fails> on "large" reports & more`,
    kind: kinds[i % kinds.length]!,
    tags: ['area:export', `tag-${i % 7}`, 'kind:bug'],
    reporters: 1 + Math.floor(rand() * 12),
    mentions: 2 + Math.floor(rand() * 40),
    segments: { customer: 1 + (i % 3), community: 2 },
    channels: ['slack #help', 'mail dev@lists.example.org', 'discord #bugs'],
    trend: trends[i % trends.length]!,
    firstSeen: iso(start - 20 * 86_400_000),
    lastSeen: iso(start + 5 * 86_400_000),
    score: 100 - i,
    why: `${3 + (i % 5)} people in 3 channels, 2 of them customers (Acme, Globex), since 2026-11-03, rising`,
    summary: 'People report that exporting a report with more than ten thousand rows fails with a timeout or a stack trace.',
    quotes: Array.from({ length: 3 }, (_, q) => ({
      text: `Quote ${q} of need ${i}: <script>alert(1)</script> the export stops at 10k rows and the browser shows an error page ${'x'.repeat(Math.floor(rand() * 200))}`,
      author: `Person ${q}`,
      channel: 'slack #help',
      url: q === 2 ? 'javascript:alert(1)' : `https://lumen.slack.com/archives/C01/p${i}${q}`,
      at: iso(start + q * 3_600_000),
    })),
  }));
  const section = (t: string): SectionEntry[] =>
    clusters
      .filter((c) => c.trend === t)
      .slice(0, 10)
      .map((c) => ({ id: c.id, title: c.title, kind: c.kind, trend: c.trend, reporters: c.reporters, why: c.why, firstSeen: c.firstSeen, lastSeen: c.lastSeen }));
  return {
    period: { start: iso(start), end: iso(start + 7 * 86_400_000) },
    clusters,
    stats: { messages: 12_345, conversations: 2_345, feedbackItems: 345, sources: [] },
    edition: {
      version: 1,
      team: 'product',
      filter: {},
      matching: n + 20,
      sections: { new: section('new'), rising: section('rising'), resurfaced: section('resurfaced'), quiet: section('falling') },
      activity: Array.from({ length: 30 }, (_, i) => ({ source: 'lumen-slack', platform: 'slack', channel: `#channel-${i}`, messages: 500 - i, conversations: 80, feedbackItems: 20, people: 40 })),
      coverage: {
        channelsCovered: 30,
        channelsSilent: 4,
        sources: [{ name: 'lumen-slack', platform: 'slack', status: 'ok', lastPullAt: iso(start), channels: 34 }],
        gaps: [{ source: 'lumen-slack', channel: '#bugs', from: iso(start), to: iso(start + 86_400_000), reason: 'history not available' }],
        rateLimits: [{ source: 'lumen-slack', waitedMs: 42_000, pages: 3 }],
        failed: [],
      },
    },
  };
}

export async function run(args: string[]): Promise<void> {
  const n = arg(args, 'clusters', 50);
  const rounds = arg(args, 'rounds', 200);
  const e = edition(n);
  const curation: Curation = { hidden: ['cluster-3'], order: ['cluster-10', 'cluster-2'], titles: { 'cluster-4': 'Edited title' }, notes: { 'cluster-10': 'Acme blocks its rollout on this.' } };
  const opts = { curation, archiveUrl: 'https://gleaner.example.org/digests/1' };
  renderDigest(e, opts); // compiles the templates
  const t0 = performance.now();
  const one = renderDigest(e, opts);
  const oneMs = performance.now() - t0;
  const t1 = performance.now();
  for (let i = 0; i < rounds; i++) renderDigest(e, opts);
  const perS = rounds / ((performance.now() - t1) / 1000);
  figure(`digest.render_${n}_ms`, oneMs.toFixed(2));
  figure('digest.renders_per_s', Math.round(perS));
  figure('digest.html_kb', Math.round(one.html.length / 1024));
  figure('digest.text_kb', Math.round(one.text.length / 1024));
}
