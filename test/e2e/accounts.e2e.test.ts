// Accounts and people in a real browser (Debian's Chromium through playwright-core): no page asks for
// anything that is not there (the favicon included), a curator finds the person to merge in by name
// and merges them, a user changes their own password and is logged out everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PASSWORDS, seededApp, type Seeded } from '../web/seed.js';
import { webInChromium, type WebInChromium } from '../support/browser.js';

let s: Seeded;
let served: WebInChromium | undefined;
let base: string;
let browser: Browser;
const missing: string[] = [];

beforeAll(async () => {
  s = await seededApp();
  served = await webInChromium(s);
  ({ base, browser } = served);
}, 120_000);

afterAll(async () => {
  await served?.close();
  await s?.app.close();
});

async function session(user: string, password: string): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  await ctx.route(/.*/, (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  const page = await ctx.newPage();
  page.on('response', (r) => {
    if (r.status() === 404) missing.push(r.url());
  });
  await page.goto('/login');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/clusters/);
  return { ctx, page };
}

describe('accounts and people in Chromium', () => {
  it('no page gets a 404 for something it asks for (the favicon included)', async () => {
    const { ctx, page } = await session('admin', PASSWORDS.admin);
    for (const url of ['/clusters', '/people', `/people/${s.people.ada}`, '/account', '/admin/users']) {
      expect((await page.goto(url))?.status(), url).toBe(200);
      await page.waitForLoadState('load');
    }
    // Chromium asks for the icon the layout names; answer it, and /favicon.ico too.
    expect((await page.request.get('/favicon.ico')).status()).toBe(200);
    expect(missing).toEqual([]);
    await ctx.close();
  }, 60_000);

  it('a curator finds the person to merge in by name and merges them', async () => {
    const { ctx, page } = await session('curator', PASSWORDS.curator);
    await page.goto(`/people/${s.people.ada}`);
    await page.getByLabel('Name, email or handle of the person to merge in').fill('bob');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('button', { name: `Merge Bob (person ${s.people.bob}) into Ada Lovelace` }).click();
    await page.waitForURL(/done=people_merged/);
    expect(await page.getByRole('status').textContent()).toContain('The people were merged');
    expect(await page.locator('.evidence-text').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining(`Merged in on ${new Date().toISOString().slice(0, 10)} by curator from Bob (person ${s.people.bob}).`)]),
    );
    await ctx.close();
  }, 60_000);

  it('a user changes their own password: logged out everywhere, the new password works', async () => {
    const other = await session('viewer', PASSWORDS.viewer);
    const { ctx, page } = await session('viewer', PASSWORDS.viewer);
    await page.goto('/account');
    await page.getByLabel('Current password').fill(PASSWORDS.viewer);
    await page.getByLabel('New password (at least 10 characters)').fill('viewer-new-password');
    await page.getByLabel('New password again').fill('viewer-new-password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(/\/login\?done=password_changed/);
    expect(await page.getByRole('status').textContent()).toContain('Your password was changed');
    // The other browser's session ended too.
    await other.page.goto('/clusters');
    expect(other.page.url()).toContain('/login');
    await page.getByLabel('User name').fill('viewer');
    await page.getByLabel('Password').fill('viewer-new-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/clusters/);
    await ctx.close();
    await other.ctx.close();
  }, 60_000);
});
