// Renders a digest with the Handlebars templates in templates/digest/: HTML (escaped, email-safe:
// table layout, inline styles, explicit colours on every cell, light and dark) and plain text that
// reads on its own. Community text is untrusted: HTML output escapes everything; links are http(s)
// and mailto only. Takes the digest contract (DigestJson) or a stored edition with its curation.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { DigestJson } from '../model/index.js';
import { templatesDir } from '../paths.js';
import { weekLabel } from '../pipeline/period.js';
import { whoSentence } from '../pipeline/priority.js';
import { applyCuration, EMPTY_CURATION, type CuratedCluster, type Curation } from './curation.js';
import { isEditionJson, type EditionExtras } from '../model/digest.js';

type Compiled = { html: Handlebars.TemplateDelegate; text: Handlebars.TemplateDelegate };
let compiled: Compiled | undefined;

/** Channels listed under "Activity by channel"; the rest are counted. */
const ACTIVITY_MAX = 15;

/** Only http(s) and mailto links survive; anything else (javascript:, data:) renders as no link. */
export function safeUrl(url: unknown): string | null {
  if (typeof url !== 'string') return null;
  const u = url.trim();
  return /^(https?:\/\/|mailto:)/i.test(u) && !/[\s"'<>]/.test(u) ? u : null;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${(m / 60).toFixed(1)} h`;
}

function makeEnv(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('safeUrl', (u: unknown) => safeUrl(u));
  hb.registerHelper('date', (iso: unknown) => (typeof iso === 'string' ? iso.slice(0, 10) : ''));
  hb.registerHelper('datetime', (iso: unknown) => (typeof iso === 'string' ? iso.slice(0, 16).replace('T', ' ') + ' UTC' : ''));
  hb.registerHelper('plural', (n: unknown, one: string, many: string) => (n === 1 ? one : many));
  hb.registerHelper('inc', (n: unknown) => Number(n) + 1);
  hb.registerHelper('join', (xs: unknown, sep: unknown) => (Array.isArray(xs) ? xs.join(typeof sep === 'string' ? sep : ', ') : ''));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('upper', (s: unknown) => (typeof s === 'string' ? s.toUpperCase() : ''));
  hb.registerHelper('duration', (ms: unknown) => formatDuration(Number(ms)));
  hb.registerHelper('indent', (s: unknown) => (typeof s === 'string' ? s.replace(/\n/g, '\n    ') : ''));
  const dir = join(templatesDir(), 'digest', 'partials');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir)) {
      if (f.endsWith('.hbs')) hb.registerPartial(f.replace(/\.(html|text)?\.?hbs$/, ''), readFileSync(join(dir, f), 'utf8'));
    }
  }
  return hb;
}

function templates(): Compiled {
  if (compiled) return compiled;
  const dir = join(templatesDir(), 'digest');
  const html = makeEnv().compile(readFileSync(join(dir, 'digest.html.hbs'), 'utf8'), { strict: false });
  const text = makeEnv().compile(readFileSync(join(dir, 'digest.text.hbs'), 'utf8'), { noEscape: true, strict: false });
  compiled = { html, text };
  return compiled;
}

export interface RenderOptions {
  title?: string;
  archiveUrl?: string | null;
  team?: string;
  /** The curator's decisions, applied here (stored editions keep theirs beside the JSON). */
  curation?: Curation | null;
}

const SECTION_LABELS: Array<[keyof EditionExtras['sections'], string]> = [
  ['new', 'New this week'],
  ['rising', 'Rising'],
  ['resurfaced', 'Resurfaced'],
  ['quiet', 'Quiet now'],
];

function viewModel(d: DigestJson, opts: RenderOptions) {
  const start = Date.parse(d.period.start);
  let clusters: Array<DigestJson['clusters'][number] & Partial<CuratedCluster>> = d.clusters;
  let extras: EditionExtras | null = null;
  let hiddenCount = 0;
  if (isEditionJson(d)) {
    const curated = applyCuration(d, opts.curation ?? EMPTY_CURATION);
    clusters = curated.clusters;
    extras = curated.edition;
    hiddenCount = curated.hiddenCount;
  }
  const sections = extras ? SECTION_LABELS.map(([key, label]) => ({ key, label, quiet: key === 'quiet', entries: extras.sections[key] })).filter((s) => s.entries.length > 0) : [];
  const activity = extras?.activity ?? [];
  const team = opts.team ?? (extras && extras.team !== 'default' ? extras.team : null);
  return {
    ...d,
    title: opts.title ?? 'Community feedback digest',
    team,
    week: weekLabel({ start, end: Date.parse(d.period.end) }),
    periodEndInclusive: new Date(Date.parse(d.period.end) - 1).toISOString(),
    archiveUrl: safeUrl(opts.archiveUrl ?? null),
    hasClusters: clusters.length > 0,
    shown: clusters.length,
    matching: extras?.matching ?? 0,
    sections,
    hasSections: sections.length > 0,
    activity: activity.slice(0, ACTIVITY_MAX),
    activityMore: Math.max(0, activity.length - ACTIVITY_MAX),
    coverage: extras?.coverage ?? null,
    hiddenCount,
    listsWithoutArchive: d.stats.listsWithoutArchive ?? [],
    clusters: clusters.map((c, i) => ({
      ...c,
      rank: i + 1,
      // "3 people this week, 9 in total": the total only when it says more than the week's count.
      toDate: c.reportersToDate !== undefined && c.reportersToDate !== c.reporters ? c.reportersToDate : null,
      // Under the header (people, channels, dates, trend), the one part of `why` it does not say: who
      // they are beyond the community. Without the evidence (an older digest's JSON), `why` whole.
      who: c.evidence ? whoSentence(c.reportersToDate ?? c.reporters, c.evidence.segments) : c.why,
      status: c.status ? { ...c.status, link: safeUrl(c.status.url) } : null,
      quotes: c.quotes.map((q) => ({ ...q, link: safeUrl(q.url) })),
      issues: (c.issues ?? []).map((x) => ({ ...x, link: safeUrl(x.url) })),
      regression: c.resolution?.status === 'regressed' ? { ...c.resolution, link: safeUrl(c.resolution.referenceUrl) } : null,
      resolved: c.resolution?.status === 'resolved' ? { ...c.resolution, link: safeUrl(c.resolution.referenceUrl) } : null,
    })),
  };
}

// Text output is not HTML-escaped, but control characters from community text are removed.
// eslint-disable-next-line no-control-regex
const stripControls = (s: string) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');

export function renderDigestHtml(d: DigestJson, opts: RenderOptions = {}): string {
  return templates().html(viewModel(d, opts));
}

export function renderDigestText(d: DigestJson, opts: RenderOptions = {}): string {
  return stripControls(templates().text(viewModel(d, opts))).replace(/\n{3,}/g, '\n\n');
}

/** Both bodies from one view model (what an edition stores and sends). */
export function renderDigest(d: DigestJson, opts: RenderOptions = {}): { html: string; text: string } {
  const vm = viewModel(d, opts);
  const t = templates();
  return { html: t.html(vm), text: stripControls(t.text(vm)).replace(/\n{3,}/g, '\n\n') };
}
