// The digest email is readable in light and dark mode: rendered in Chromium, every element with text
// has a contrast ratio of at least 4.5:1 against its effective background (computed colours, walking up
// to the first ancestor that paints one). Two kinds of client: Apple-Mail-like (the whole document,
// `prefers-color-scheme` honoured) and Gmail-like (the <style> block dropped, inline styles only), each
// in light and dark; for the plain digest and for a team edition with sections, a note and a status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import type { App } from '../../src/app.js';
import { buildDigest } from '../../src/digest/build.js';
import { prepareEditions } from '../../src/digest/workflow.js';
import { renderDigestHtml } from '../../src/digest/render.js';
import type { EditionJson } from '../../src/model/digest.js';
import type { DigestJson } from '../../src/model/index.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
import { appWith, configYaml, seed, TEAMS, WEEK } from './support.js';

let browser: Browser;
let app: App;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  app = await appWith(configYaml(2525, TEAMS));
  await seed(app.db);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

interface Low {
  text: string;
  ratio: number;
  color: string;
  background: string;
}

/** In the page: every element with its own text, its colour against the first painted background above it. */
const CHECK = `(() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null; const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  const canvas = dark && getComputedStyle(document.documentElement).colorScheme.includes('dark') ? { r: 18, g: 18, b: 18, a: 1 } : { r: 255, g: 255, b: 255, a: 1 };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent.trim()).join(' ');
    if (!own) continue;
    const fg = parse(getComputedStyle(el).color);
    let bg = null;
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0) { bg = c; break; } }
    bg = bg || canvas;
    const blended = { r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a) };
    const [hi, lo] = [lum(blended), lum(bg)].sort((x, y) => y - x);
    out.push({ text: own.slice(0, 60), ratio: (hi + 0.05) / (lo + 0.05), color: getComputedStyle(el).color, background: 'rgb(' + bg.r + ', ' + bg.g + ', ' + bg.b + ')' });
  }
  return out;
})()`;

async function contrastIn(html: string, client: 'apple' | 'gmail', scheme: 'light' | 'dark'): Promise<{ checked: number; low: Low[] }> {
  // A Gmail-like client keeps inline styles only: no <style>, so no media query and no class rules.
  const doc = client === 'gmail' ? html.replace(/<style[\s\S]*?<\/style>/gi, '') : html;
  const page = await browser.newPage({ colorScheme: scheme });
  try {
    await page.setContent(doc, { waitUntil: 'load' });
    expect(await page.evaluate(`matchMedia('(prefers-color-scheme: dark)').matches`)).toBe(scheme === 'dark');
    const rows = await page.evaluate<Low[]>(CHECK);
    return { checked: rows.length, low: rows.filter((r) => r.ratio < 4.5) };
  } finally {
    await page.close();
  }
}

/** A status and a curator's note on the first entry, so every kind of box is on the page. */
function withEverything<T extends DigestJson>(d: T): T {
  const clusters = d.clusters.map((c, i) =>
    i === 0
      ? {
          ...c,
          status: {
            label: 'workaround',
            text: 'Export in pages of 5k rows until 4.2.1 ships.',
            author: 'Nadia',
            channel: 'slack #help',
            url: 'https://lumen.slack.com/archives/C01/p9',
            at: c.lastSeen,
          },
        }
      : c,
  );
  return { ...d, clusters, stats: { ...d.stats, listsWithoutArchive: ['dev.maven.apache.org'] } };
}

describe('the digest in dark mode', () => {
  it('every text reads at 4.5:1 or better: plain digest and team edition, Apple-Mail-like and Gmail-like, light and dark', async () => {
    const plain = withEverything(await buildDigest(app.db, WEEK, { top: 10 }));
    expect(plain.clusters.some((c) => c.quotes.length > 0)).toBe(true);
    const [product] = await prepareEditions(app.ctx, WEEK);
    const edition = withEverything(JSON.parse(product!.json) as EditionJson);
    expect(edition.edition.sections.new.length + edition.edition.sections.rising.length).toBeGreaterThan(0);
    const firstId = edition.clusters[0]!.id;
    const renders = {
      plain: renderDigestHtml(plain),
      team: renderDigestHtml(edition, {
        team: 'product',
        archiveUrl: 'https://gleaner.example.org/digests/1',
        curation: { hidden: [], order: [], titles: {}, notes: { [firstId]: 'Acme renews next month.' } },
      }),
    };
    expect(renders.team).toContain('Why this matters now');
    expect(renders.team).toContain('Status: workaround.');
    const failures: string[] = [];
    for (const [name, html] of Object.entries(renders)) {
      for (const client of ['apple', 'gmail'] as const) {
        for (const scheme of ['light', 'dark'] as const) {
          const r = await contrastIn(html, client, scheme);
          expect(r.checked, `${name} ${client} ${scheme}`).toBeGreaterThan(20);
          for (const l of r.low) failures.push(`${name}/${client}/${scheme}: "${l.text}" ${l.color} on ${l.background} = ${l.ratio.toFixed(2)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
