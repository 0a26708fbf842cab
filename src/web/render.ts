// Server-side pages: Handlebars templates in templates/web/ (HTML-escaped by default; the templates
// never use triple braces), a layout partial, and helpers for untrusted text, links, dates, charts.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { templatesDir } from '../paths.js';

function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Only http(s) links are links; anything else (javascript:, data:, relative) renders as plain text. */
export function httpUrl(url: unknown): string | null {
  if (typeof url !== 'string') return null;
  const u = url.trim();
  if (!/^https?:\/\/[^\s/?#]+/i.test(u) || /\s/.test(u) || hasControlChars(u)) return null;
  try {
    const parsed = new URL(u);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

export const CLIP_CHARS = 1200;
export const MORE_CHARS = 20_000;

/** Splits long text into what is shown, what "show more" reveals, and how much is left out. */
export function clip(text: unknown, head = CLIP_CHARS): { head: string; more: string; hidden: number } {
  const s = typeof text === 'string' ? text : '';
  if (s.length <= head) return { head: s, more: '', hidden: 0 };
  const more = s.slice(head, head + MORE_CHARS);
  return { head: s.slice(0, head), more, hidden: s.length - head - more.length };
}

const iso = (t: unknown) => (typeof t === 'number' && Number.isFinite(t) ? new Date(t).toISOString() : '');

export interface ChartBar {
  x: number;
  y: number;
  width: number;
  height: number;
  label: string;
  count: number;
}

export interface Chart {
  width: number;
  height: number;
  bars: ChartBar[];
  max: number;
  firstLabel: string;
  lastLabel: string;
  baseline: number;
  summary: string;
}

/** Geometry of a weekly bar chart; the template draws it as inline SVG. */
export function timelineChart(points: Array<{ start: number; count: number }>, width = 640, height = 140): Chart | null {
  if (!points.length) return null;
  const top = 12;
  const bottom = 22;
  const max = Math.max(1, ...points.map((p) => p.count));
  const slot = width / points.length;
  const barW = Math.max(1, Math.min(40, slot * 0.8));
  const plotH = height - top - bottom;
  const bars = points.map((p, i) => {
    const h = Math.round((p.count / max) * plotH * 10) / 10;
    return {
      x: Math.round((i * slot + (slot - barW) / 2) * 10) / 10,
      y: Math.round((top + plotH - h) * 10) / 10,
      width: Math.round(barW * 10) / 10,
      height: h,
      label: `week of ${iso(p.start).slice(0, 10)}`,
      count: p.count,
    };
  });
  const total = points.reduce((a, p) => a + p.count, 0);
  return {
    width,
    height,
    bars,
    max,
    baseline: top + plotH,
    firstLabel: iso(points[0]!.start).slice(0, 10),
    lastLabel: iso(points[points.length - 1]!.start).slice(0, 10),
    summary: `${total} mentions over ${points.length} weeks, at most ${max} in one week`,
  };
}

let env: typeof Handlebars | undefined;
const compiled = new Map<string, Handlebars.TemplateDelegate>();

function makeEnv(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('httpUrl', (u: unknown) => httpUrl(u));
  hb.registerHelper('clip', (t: unknown) => clip(t));
  hb.registerHelper('date', (t: unknown) => iso(t).slice(0, 10));
  hb.registerHelper('datetime', (t: unknown) => (iso(t) ? `${iso(t).slice(0, 16).replace('T', ' ')} UTC` : ''));
  // Periods end exclusive; people read the last day included.
  hb.registerHelper('lastDay', (t: unknown) => (typeof t === 'number' ? iso(t - 1).slice(0, 10) : ''));
  hb.registerHelper('isoTime', (t: unknown) => iso(t));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hb.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  hb.registerHelper('not', (a: unknown) => !a);
  hb.registerHelper('percent', (x: unknown) => (typeof x === 'number' ? `${Math.round(x * 100)}%` : ''));
  hb.registerHelper('plural', (n: unknown, one: string, many: string) => `${String(n)} ${n === 1 ? one : many}`);
  hb.registerHelper('join', (xs: unknown, sep: unknown) =>
    Array.isArray(xs) ? (xs as unknown[]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(typeof sep === 'string' ? sep : ', ') : '',
  );
  hb.registerHelper('take', (xs: unknown, n: unknown) => (Array.isArray(xs) ? xs.slice(0, Number(n)) : []));
  hb.registerHelper('gt', (a: unknown, b: unknown) => Number(a) > Number(b));
  hb.registerHelper('minus', (a: unknown, b: unknown) => Number(a) - Number(b));
  hb.registerHelper('json', (x: unknown) => JSON.stringify(x, null, 2));
  hb.registerHelper('entries', (o: unknown) => (o && typeof o === 'object' ? Object.entries(o as Record<string, unknown>).map(([key, value]) => ({ key, value })) : []));
  hb.registerHelper('selected', (a: unknown, b: unknown) => ((typeof a === 'string' || typeof a === 'number') && String(a) === String(b) ? 'selected' : null));
  hb.registerHelper('truncate', (s: unknown, n: unknown) => {
    const str = typeof s === 'string' ? s : '';
    const max = typeof n === 'number' ? n : 200;
    return str.length > max ? `${str.slice(0, max)}…` : str;
  });
  const partials = join(templatesDir(), 'web', 'partials');
  for (const f of readdirSync(partials)) if (f.endsWith('.hbs')) hb.registerPartial(f.slice(0, -'.hbs'.length), readFileSync(join(partials, f), 'utf8'));
  return hb;
}

/** Renders templates/web/<name>.hbs; templates are read once per process. */
export function renderPage(name: string, data: Record<string, unknown>): string {
  env ??= makeEnv();
  let t = compiled.get(name);
  if (!t) {
    t = env.compile(readFileSync(join(templatesDir(), 'web', `${name}.hbs`), 'utf8'), { strict: false, preventIndent: true });
    compiled.set(name, t);
  }
  return t(data);
}
