// The public edition as a web page (Handlebars, every value escaped) and the public editions as an Atom
// feed (RFC 4287, every value XML-escaped).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { templatesDir } from '../paths.js';
import type { PublicEdition } from './public.js';

let page: Handlebars.TemplateDelegate | undefined;

function template(): Handlebars.TemplateDelegate {
  if (page) return page;
  const hb = Handlebars.create();
  hb.registerHelper('date', (iso: unknown) => (typeof iso === 'string' ? iso.slice(0, 10) : ''));
  hb.registerHelper('plural', (n: unknown, one: string, many: string) => (n === 1 ? one : many));
  hb.registerHelper('join', (xs: unknown, sep: unknown) => (Array.isArray(xs) ? xs.join(typeof sep === 'string' ? sep : ', ') : ''));
  page = hb.compile(readFileSync(join(templatesDir(), 'digest', 'public.html.hbs'), 'utf8'), { strict: false });
  return page;
}

const base = (baseUrl: string) => baseUrl.replace(/\/+$/, '');
export const publicUrl = (baseUrl: string, id: number): string => `${base(baseUrl)}/public/digests/${id}`;
export const atomUrl = (baseUrl: string): string => `${base(baseUrl)}/public/digests.atom`;

export function renderPublicHtml(p: PublicEdition, opts: { baseUrl: string | null }): string {
  return template()({ ...p, title: 'Community feedback', team: p.team === 'default' ? null : p.team, atomUrl: opts.baseUrl ? atomUrl(opts.baseUrl) : null });
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function renderAtom(editions: readonly PublicEdition[], opts: { baseUrl: string; now: number }): string {
  const host = (() => {
    try {
      return new URL(opts.baseUrl).hostname || 'localhost';
    } catch {
      return 'localhost';
    }
  })();
  const updated =
    editions
      .map((e) => e.publishedAt)
      .sort()
      .at(-1) ?? new Date(opts.now).toISOString();
  const entries = editions.map((e) => {
    const url = publicUrl(opts.baseUrl, e.id);
    const summary = e.entries.map((x, i) => `${i + 1}. ${x.title} (${x.reporters} ${x.reporters === 1 ? 'person' : 'people'})`).join('\n');
    const html = `<ol>${e.entries.map((x) => `<li>${xml(x.title)} (${x.reporters})</li>`).join('')}</ol>`;
    return [
      '  <entry>',
      `    <id>tag:${xml(host)},2026:gleaner/public-digest/${e.id}</id>`,
      `    <title>${xml(`Community feedback · ${e.team === 'default' ? '' : `${e.team} · `}${e.week}`)}</title>`,
      `    <updated>${xml(e.publishedAt)}</updated>`,
      `    <link rel="alternate" type="text/html" href="${xml(url)}"/>`,
      `    <summary type="text">${xml(summary)}</summary>`,
      `    <content type="html">${xml(html)}</content>`,
      '  </entry>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>tag:${xml(host)},2026:gleaner/public-digests</id>`,
    '  <title>Community feedback</title>',
    `  <updated>${xml(updated)}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${xml(atomUrl(opts.baseUrl))}"/>`,
    `  <link rel="alternate" type="text/html" href="${xml(`${base(opts.baseUrl)}/public/digests`)}"/>`,
    '  <author><name>Gleaner</name></author>',
    ...entries,
    '</feed>',
    '',
  ].join('\n');
}
