// The BullMQ dashboard (bull-board) in Chromium, on the real Redis of the test setup: an admin logs in,
// opens /admin/queues, and the dashboard renders its queues and jobs under its own CSP with no
// violation and no script error; a curator gets 403. Screenshots go to test-output/screenshots/.
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { PASSWORDS, seededApp, type Seeded } from '../web/seed.js';
import { SHOTS, webInChromium, type WebInChromium } from '../support/browser.js';

let s: Seeded;
let served: WebInChromium | undefined;
let base: string;
let browser: Browser;

async function loggedIn(user: keyof typeof PASSWORDS, width = 1280): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
  const ctx = await browser.newContext({ viewport: { width, height: 900 }, baseURL: base });
  const blocked: string[] = [];
  // Nothing leaves the machine (the dashboard asks for Google Fonts; the CSP refuses them, and so does this).
  await ctx.route(/.*/, (route) => {
    if (route.request().url().startsWith(base)) return route.continue();
    blocked.push(route.request().url());
    return route.abort();
  });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // Only violations of what the page itself is allowed to do count (foreign fonts are refused on purpose).
    if (/Content Security Policy/i.test(m.text()) && !/fonts\.googleapis\.com/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.goto('/login');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(PASSWORDS[user]);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/clusters/);
  return { page, problems, close: () => ctx.close() };
}

beforeAll(async () => {
  s = await seededApp(undefined, { redisUrl: inject('redisUrl'), prefix: `test-${randomUUID()}` });
  await s.app.queue.add('enrich', 'enrich', { conversationIds: [1] }, { jobId: 'enrich-e2e-waiting' });
  served = await webInChromium(s);
  ({ base, browser } = served);
}, 120_000);

afterAll(async () => {
  await served?.close();
  await (s?.app.queue as unknown as { obliterate?(): Promise<void> } | undefined)?.obliterate?.();
  await s?.app.close();
});

describe('queue dashboard in Chromium', () => {
  it('renders for an admin under its own CSP, without violations or script errors', async () => {
    const { page, problems, close } = await loggedIn('admin');
    const res = await page.goto('/admin/queues');
    expect(res!.status()).toBe(200);
    // The React app replaced its "Loading" placeholder with the queue list.
    await page.getByText('enrich', { exact: true }).first().waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('#root').innerText()).not.toMatch(/^\s*Loading\s*$/);
    for (const q of ['ingest', 'cluster', 'digest']) expect(await page.getByText(q, { exact: true }).count(), q).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'admin-queues-1280.png'), fullPage: true });
    // One queue's page lists the waiting job.
    await page.goto('/admin/queues/queue/enrich?status=waiting');
    await page.getByText('enrich-e2e-waiting').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(SHOTS, 'admin-queues-enrich-1280.png'), fullPage: true });
    expect(problems).toEqual([]);
    await close();
  }, 60_000);

  it('is refused to a curator', async () => {
    const { page, close } = await loggedIn('curator');
    const res = await page.goto('/admin/queues');
    expect(res!.status()).toBe(403);
    expect(await page.locator('body').innerText()).toContain('for admins');
    await close();
  }, 60_000);
});
