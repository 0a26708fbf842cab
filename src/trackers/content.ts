// The issue a cluster becomes: its title, its sentence, the reporters and segments (organisation names
// only with `includeOrgs`), the top quotes linked to where they were said, and the cluster page. The
// same content as blocks (Jira's ADF) and as Markdown; community text is escaped so that it cannot
// ping people (@name), format, or inject HTML in the tracker.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Config } from '../config/index.js';
import type { TrackerConfig } from '../config/outbound.js';
import { clusterEntryChunks } from '../digest/clusters.js';
import type { ClusterEntry } from '../pipeline/digest-plan.js';
import { whySentence } from '../pipeline/priority.js';
import { NotFoundError } from '../errors.js';
import type { ContentBlock, IssueContent, Run } from './types.js';

const DAY_MS = 86_400_000;

export function clusterUrl(config: Config, clusterId: number): string {
  return `${config.web.baseUrl.replace(/\/+$/, '')}/clusters/${clusterId}`;
}

/** The cluster's entry over the week up to `now` (reporters and segments to date). */
export async function clusterEntryNow(db: Kysely<Database>, config: Config, clusterId: number, now: number, quotes: number): Promise<ClusterEntry> {
  let found: ClusterEntry | undefined;
  for await (const chunk of clusterEntryChunks(db, [clusterId], { start: now - 7 * DAY_MS, end: now + 1 }, { segments: config.segments, quotes, archives: config.archives })) found ??= chunk[0];
  if (!found) throw new NotFoundError({ message: `There is no cluster ${clusterId} with feedback in it (it may have been merged into another).` });
  return found;
}

export function issueContent(e: ClusterEntry, tracker: Pick<TrackerConfig, 'includeOrgs'>, pageUrl: string, asOf: number): IssueContent {
  const entry = e.entry;
  const ev = entry.evidence;
  const orgsOk = tracker.includeOrgs;
  const segEvidence = Object.fromEntries(Object.entries(ev?.segments ?? {}).map(([k, v]) => [k, { personIds: v.personIds, orgs: orgsOk ? v.orgs : [] }]));
  const sentence = ev ? whySentence({ reporters: ev.reporters, channels: ev.channels.length, segEvidence, firstSeen: e.record.firstSeen, asOf, trend: entry.trend ?? 'steady' }) : (entry.why ?? '');
  const blocks: ContentBlock[] = [];
  blocks.push({ type: 'paragraph', runs: [{ text: sentence, strong: true }] });
  if (entry.summary) blocks.push({ type: 'paragraph', runs: [{ text: entry.summary }] });
  const segs = Object.entries(entry.segmentsToDate ?? entry.segments).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const who: Run[][] = [
    [{ text: `Reporters: ${entry.reportersToDate ?? entry.reporters} to date, ${entry.reporters} in the last 7 days; ${entry.mentions} ${entry.mentions === 1 ? 'mention' : 'mentions'}` }],
  ];
  if (segs.length) who.push([{ text: `Segments: ${segs.map(([s, n]) => `${s} ${n}${orgsOk && ev?.segments[s]?.orgs.length ? ` (${ev.segments[s].orgs.join(', ')})` : ''}`).join(', ')}` }]);
  if (entry.channels.length) who.push([{ text: `Channels: ${entry.channels.join(', ')}` }]);
  blocks.push({ type: 'heading', text: 'Who raised it' }, { type: 'list', items: who });
  if (entry.quotes.length) {
    blocks.push({ type: 'heading', text: 'In their own words' });
    for (const q of entry.quotes) {
      const where = [orgsOk && q.author ? q.author : null, q.channel, q.at.slice(0, 10)].filter(Boolean).join(', ');
      blocks.push({ type: 'quote', runs: [{ text: q.text }, { text: ' — ' }, q.url ? { text: where || 'source', href: q.url } : { text: where }] });
    }
  }
  blocks.push({ type: 'paragraph', runs: [{ text: 'All the evidence: ' }, { text: pageUrl, href: pageUrl }, { text: ' (Gleaner keeps this issue up to date when the cluster is pushed again).' }] });
  return { title: entry.title, blocks, markdown: toMarkdown(blocks) };
}

/** Community text as inert Markdown: no formatting, no HTML, no @mentions or #references that notify. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_[\]<>#|~!]/g, (c) => `\\${c}`)
    .replace(/@(?=\w)/g, '@\u200b')
    .replace(/\r?\n+/g, ' ');
}

function runsMd(runs: readonly Run[]): string {
  return runs
    .map((r) => {
      const t = escapeMarkdown(r.text);
      const linked = r.href && /^https?:\/\//i.test(r.href) ? `[${t}](<${r.href.replace(/[<>\s]/g, encodeURIComponent)}>)` : t;
      return r.strong ? `**${linked}**` : linked;
    })
    .join('');
}

export function toMarkdown(blocks: readonly ContentBlock[]): string {
  return blocks
    .map((b) => {
      switch (b.type) {
        case 'heading':
          return `### ${escapeMarkdown(b.text)}`;
        case 'paragraph':
          return runsMd(b.runs);
        case 'quote':
          return `> ${runsMd(b.runs)}`;
        case 'list':
          return b.items.map((i) => `- ${runsMd(i)}`).join('\n');
      }
    })
    .join('\n\n');
}
