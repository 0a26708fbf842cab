// The web UI in a real browser: Debian's Chromium driven by playwright-core (never a browser
// download). Log in, filter, open a cluster, check a source link, tag three inbox items by keyboard,
// merge clusters, approve a digest; a viewer cannot tag; hostile text stays inert. Screenshots of each
// page at 1280 and 390 pixels go to test-output/screenshots/; basic accessibility checks run on each.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { templatesDir } from '../../src/paths.js';
import { PASSWORDS, seededApp, type Seeded } from '../web/seed.js';
import { SHOTS, webInChromium, type WebInChromium } from '../support/browser.js';

let s: Seeded;
let served: WebInChromium | undefined;
let base: string;
let browser: Browser;
const dialogs: string[] = [];
const pageErrors: string[] = [];

function watch(page: Page): void {
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
}

async function newSession(user: keyof typeof PASSWORDS, width = 1280): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: { width, height: 900 }, baseURL: base });
  // Nothing leaves the machine: any request that is not to the test server is refused.
  await ctx.route(/.*/, (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  const page = await ctx.newPage();
  watch(page);
  await page.goto('/login');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(PASSWORDS[user]);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/clusters/);
  return { ctx, page };
}

async function pwned(page: Page): Promise<unknown> {
  return page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);
}

/** Labels, alt text, heading order, and no sideways scrolling; returns the problems found. */
async function a11yProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    for (const el of Array.from(document.querySelectorAll('input, select, textarea'))) {
      const input = el as HTMLInputElement;
      if (input.type === 'hidden') continue;
      const labelled =
        (input.id && document.querySelector(`label[for="${CSS.escape(input.id)}"]`)) || input.closest('label') || input.getAttribute('aria-label') || input.getAttribute('aria-labelledby');
      if (!labelled) problems.push(`unlabelled ${input.tagName.toLowerCase()} name=${input.name}`);
    }
    for (const img of Array.from(document.querySelectorAll('img'))) if (!img.hasAttribute('alt')) problems.push(`img without alt: ${img.src}`);
    for (const svg of Array.from(document.querySelectorAll('svg')))
      if (!svg.getAttribute('aria-labelledby') && !svg.getAttribute('aria-label') && svg.getAttribute('aria-hidden') !== 'true') problems.push('svg without a text alternative');
    const levels = Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6')).map((h) => Number(h.tagName[1]));
    if (levels[0] !== 1) problems.push(`first heading is h${levels[0]}`);
    if (levels.filter((l) => l === 1).length !== 1) problems.push('not exactly one h1');
    for (let i = 1; i < levels.length; i++) if (levels[i]! > levels[i - 1]! + 1) problems.push(`heading jumps from h${levels[i - 1]} to h${levels[i]}`);
    if (!document.documentElement.lang) problems.push('no lang on <html>');
    if (document.documentElement.scrollWidth > window.innerWidth + 1) problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    return problems;
  });
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}-${page.viewportSize()!.width}.png`), fullPage: true });
}

// WCAG relative luminance and contrast ratio.
function luminance(hex: string): number {
  const h = hex.replace('#', '');
  const full =
    h.length === 3
      ? h
          .split('')
          .map((c) => c + c)
          .join('')
      : h;
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

beforeAll(async () => {
  s = await seededApp();
  served = await webInChromium(s);
  ({ base, browser } = served);
}, 120_000);

afterAll(async () => {
  await served?.close();
  await s?.app.close();
});

describe('web UI in Chromium', () => {
  it('palette: every text colour in app.css has at least 4.5:1 contrast on its background', () => {
    const css = readFileSync(join(templatesDir(), 'web', 'static', 'app.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    const failures: string[] = [];
    let checked = 0;
    for (const m of css.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
      const selector = m[1]!.trim();
      const body = m[2]!;
      const color = /(?:^|;)\s*color:\s*(#[0-9a-f]{3,6})/i.exec(body)?.[1];
      if (!color) continue;
      const own = /background(?:-color)?:\s*(#[0-9a-f]{3,6})/i.exec(body)?.[1];
      // Without its own background, text sits on the page, a panel, or (in the top bar) the dark header.
      const backgrounds = own ? [own] : selector.startsWith('.top') ? ['#1f2328'] : ['#ffffff', '#f6f8fa'];
      for (const bg of backgrounds) {
        checked++;
        const ratio = contrast(color, bg);
        if (ratio < 4.5) failures.push(`${selector}: ${color} on ${bg} is ${ratio.toFixed(2)}:1`);
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(failures).toEqual([]);
  });

  it('logs in, filters clusters, opens one, and links back to the source without leaving', async () => {
    const { ctx, page } = await newSession('admin');
    await page.getByLabel('Kind').selectOption('bug');
    await page.getByLabel('Sort by').selectOption('recent');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/kind=bug/);
    const titles = await page.locator('.row h2 a').allTextContents();
    expect(titles).toEqual(['Login is slow', 'CSV export crashes on large reports']);
    await page.getByRole('link', { name: 'CSV export crashes on large reports' }).click();
    await page.waitForURL(/\/clusters\/\d+$/);
    await expect.poll(() => page.locator('h1').textContent()).toBe('CSV export crashes on large reports');
    // The message in its conversation, and the sentence's evidence (by reporter, by channel), link to the source.
    expect(await page.locator(`.messages a.source-link[href="${s.sourceUrl}"]`).count()).toBe(1);
    expect(await page.locator(`.evidence a.source-link[href="${s.sourceUrl}"]`).count()).toBe(2);
    for (const link of await page.locator(`a.source-link[href="${s.sourceUrl}"]`).all()) {
      expect(await link.getAttribute('target')).toBe('_blank');
      expect(await link.getAttribute('rel')).toContain('noopener');
    }
    // The evidence also points at the message on this page.
    const anchor = (await page.locator('.evidence a[href^="#m"]').first().getAttribute('href'))!;
    expect(await page.locator(anchor).count()).toBe(1);
    const hrefs = await page.locator('a[href]').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).protocol));
    expect(hrefs.every((p) => p === 'http:' || p === 'https:')).toBe(true);
    expect(await a11yProblems(page)).toEqual([]);
    await ctx.close();
  });

  it('keeps hostile messages inert', async () => {
    const { ctx, page } = await newSession('curator');
    for (const url of [`/clusters/${s.clusters.login}`, `/items/${s.items.hostile}`, `/people/${s.people.mallory}`, '/inbox', `/digests/${s.digests.draft}`]) {
      await page.goto(url);
      await page.waitForLoadState('load');
      expect(await pwned(page), url).toBeUndefined();
      expect(await a11yProblems(page), url).toEqual([]);
    }
    await page.goto(`/clusters/${s.clusters.login}`);
    // The 1 MB line is clipped, with an escaped "show more"; the hostile markup is text.
    expect(await page.locator('.message .text').filter({ hasText: '<script>window.__pwned = 1;' }).count()).toBe(1);
    expect(await page.locator('.message .text').filter({ hasText: 'onerror="window.__pwned = 2;' }).count()).toBe(1);
    const huge = page.locator('.message .text').filter({ hasText: 'Login slow: AAAA' });
    expect((await huge.evaluate((el) => el.firstChild?.textContent ?? '')).length).toBe(1200);
    expect(await huge.evaluate((el) => el.getBoundingClientRect().width <= window.innerWidth)).toBe(true);
    await page.locator('details.more summary').first().click();
    expect(await page.locator('details.more').first().getAttribute('open')).not.toBeNull();
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('a[href^="javascript:"], a[href^="data:"]').count()).toBe(0);
    // The digest iframe is sandboxed: its script never runs.
    await page.goto(`/digests/${s.digests.draft}`);
    const frame = page.frameLocator('iframe.digest-frame');
    await expect.poll(() => frame.locator('h1').textContent()).toBe('Weekly digest');
    await page.waitForTimeout(200);
    expect(await pwned(page)).toBeUndefined();
    expect(dialogs).toEqual([]);
    await ctx.close();
  });

  it('tags three items from the inbox by keyboard only, without a reload', async () => {
    const { ctx, page } = await newSession('curator');
    await page.goto('/inbox');
    const ids = (await page.locator('.inbox-item').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-id'))))).slice(0, 3);
    const pending = Number(await page.locator('#pending-count').textContent());
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-id'))).toBe(String(ids[0]));

    // Focus order follows the page: Tab walks the first item's controls in document order.
    const order: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      order.push(
        await page.evaluate((n) => {
          const el = document.activeElement as HTMLElement;
          el.setAttribute('data-tab', String(n));
          return `${el.tagName}:${el.getAttribute('id') ?? el.textContent?.trim().slice(0, 20)}`;
        }, i),
      );
    }
    // querySelectorAll returns document order: the Tab stops must come out as 0, 1, 2, ...
    const tabStops = await page.evaluate(() => Array.from(document.querySelectorAll('[data-tab]')).map((e) => Number(e.getAttribute('data-tab'))));
    expect(tabStops).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(order[0]).toMatch(/^A:/); // the item's own link comes first
    expect(order).toContain(`INPUT:sel-${ids[0]}`);
    expect(order.indexOf(`INPUT:sel-${ids[0]}`)).toBeLessThan(order.indexOf(`INPUT:tag-${ids[0]}`));
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Escape');

    // Item 1: reject its first suggestion (r), then accept (a).
    await page.locator(`.inbox-item[data-id="${ids[0]}"]`).focus();
    const firstSuggestion = await page.locator(`.inbox-item[data-id="${ids[0]}"] .suggestion`).first().getAttribute('data-tag');
    await page.keyboard.press('r');
    await expect.poll(() => page.locator('#inbox-status').textContent()).toContain(`Rejected tag ${firstSuggestion}`);
    await page.keyboard.press('a');
    await expect.poll(() => page.locator(`.inbox-item[data-id="${ids[0]}"]`).count()).toBe(0);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-id'))).toBe(String(ids[1]));
    // Item 2: add a tag (t, type, Enter), back to the item (Escape), accept (a).
    await page.keyboard.press('t');
    await page.keyboard.type('area:billing');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#inbox-status').textContent()).toContain('Added tag area:billing');
    // The page refills its list after a decision. The refill after item 2 is read at once but answered
    // only after item 3 is decided, as a slow request is: its total and its list still hold item 3.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    let answered!: () => void;
    const staleAnswered = new Promise<void>((r) => (answered = r));
    let refills = 0;
    await page.route('**/api/items?status=pending*', async (route) => {
      const first = ++refills === 1;
      const response = await route.fetch();
      if (first) await held;
      await route.fulfill({ response });
      if (first) answered();
    });
    await page.keyboard.press('a');
    await expect.poll(() => page.locator(`.inbox-item[data-id="${ids[1]}"]`).count()).toBe(0);
    await expect.poll(() => refills).toBe(1);
    // Item 3: not feedback (x).
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-id'))).toBe(String(ids[2]));
    await page.keyboard.press('x');
    await expect.poll(() => page.locator(`.inbox-item[data-id="${ids[2]}"]`).count()).toBe(0);
    release();
    await staleAnswered;
    await page.waitForTimeout(100);
    // The stale answer neither lists item 3 again nor takes back its decision from the count.
    expect(await page.locator(`.inbox-item[data-id="${ids[2]}"]`).count()).toBe(0);
    await expect.poll(() => page.locator('#pending-count').textContent()).toBe(String(pending - 3));
    await page.unroute('**/api/items?status=pending*');
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);

    const rows = await s.app.db.selectFrom('feedback_items').select(['id', 'status']).where('id', 'in', ids).execute();
    const status = new Map(rows.map((r) => [r.id, r.status]));
    expect(ids.map((i) => status.get(i))).toEqual(['confirmed', 'confirmed', 'not_feedback']);
    const human = await s.app.db.selectFrom('tags').select(['item_id', 'tag', 'state']).where('provenance', '=', 'human').where('item_id', 'in', ids).execute();
    expect(human).toEqual(
      expect.arrayContaining([
        { item_id: ids[0], tag: firstSuggestion, state: 'removed' },
        { item_id: ids[1], tag: 'area:billing', state: 'active' },
        { item_id: ids[2], tag: 'not-feedback', state: 'active' },
      ]),
    );
    await ctx.close();
  });

  it('merges two clusters and approves a digest', async () => {
    const { ctx, page } = await newSession('curator');
    await page.goto(`/clusters/${s.clusters.dark}`);
    await page.getByLabel('Merge another cluster into this one').selectOption(String(s.clusters.login));
    await page.getByRole('button', { name: 'Merge into this cluster' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('The clusters were merged.');
    expect(await page.locator('.conv').count()).toBe(4);
    const gone = await page.goto(`/clusters/${s.clusters.login}`);
    expect(gone?.status()).toBe(404);

    await page.goto('/digests');
    await page.locator('table a').first().click();
    await page.getByRole('button', { name: 'Approve this digest' }).click();
    await expect.poll(() => page.locator('.notice').textContent()).toBe('The digest was approved.');
    // Approval hands the edition to the sender at once; no SMTP server is configured here, so it may
    // already show as failed (kept with its error, for a retry).
    expect(await page.locator('.badge.status-approved, .badge.status-sending, .badge.status-failed').count()).toBe(1);
    const d = await s.app.db.selectFrom('digests').select(['status', 'approved_by']).where('id', '=', s.digests.draft).executeTakeFirstOrThrow();
    expect(d.approved_by).toBe('curator');
    expect(['approved', 'sending', 'failed']).toContain(d.status);
    await ctx.close();
  });

  it('a viewer browses but cannot tag', async () => {
    const { ctx, page } = await newSession('viewer');
    expect(await page.getByRole('link', { name: 'Tag inbox' }).count()).toBe(0);
    const inbox = await page.goto('/inbox');
    expect(inbox?.status()).toBe(403);
    await page.goto(`/clusters/${s.clusters.csv}`);
    expect(await page.locator('#h-curate').count()).toBe(0);
    await page.goto(`/items/${s.items.inbox[5]}`);
    expect(await page.getByLabel('Add a tag').count()).toBe(0);
    const status = await page.evaluate(async (id) => {
      const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
      const r = await fetch(`/api/items/${id}/tags`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ tag: 'sneaky' }) });
      return r.status;
    }, s.items.inbox[5]);
    expect(status).toBe(403);
    await ctx.close();
  });

  it('every page at laptop and phone width: screenshots and accessibility checks', async () => {
    const pages: Array<[string, string]> = [
      ['clusters', '/clusters'],
      ['cluster', `/clusters/${s.clusters.csv}`],
      ['item', `/items/${s.items.csv[0]}`],
      ['inbox', '/inbox'],
      ['people', '/people'],
      ['person', `/people/${s.people.ada}`],
      ['sources', '/sources'],
      ['digests', '/digests'],
      ['digest', `/digests/${s.digests.sent}`],
      ['account', '/account'],
      ['users', '/admin/users'],
    ];
    for (const width of [1280, 390]) {
      const anon = await browser.newContext({ viewport: { width, height: 900 }, baseURL: base });
      const lp = await anon.newPage();
      await lp.goto('/login');
      expect(await a11yProblems(lp)).toEqual([]);
      await shoot(lp, 'login');
      await anon.close();
      const { ctx, page } = await newSession('admin', width);
      for (const [name, url] of pages) {
        const r = await page.goto(url);
        expect(r?.status(), url).toBe(200);
        await page.waitForLoadState('load');
        expect(await a11yProblems(page), `${url} at ${width}`).toEqual([]);
        await shoot(page, name);
      }
      await ctx.close();
    }
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
