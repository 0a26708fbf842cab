// The browser tests' common ground: Debian's Chromium (never a downloaded browser) with the flags
// the machine needs, the web app of a seeded store on a loopback port, screenshots under
// test-output/screenshots/.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildWebApp } from '../../src/web/app.js';
import type { Seeded } from '../web/seed.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SHOTS = join(process.cwd(), 'test-output', 'screenshots');

export interface WebInChromium {
  web: FastifyInstance;
  /** http://127.0.0.1:PORT */
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Serves the seeded app's web UI and launches Chromium (a fresh temporary profile each run). */
export async function webInChromium(s: Seeded): Promise<WebInChromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}; install Debian's package: apt-get install -y chromium`);
  mkdirSync(SHOTS, { recursive: true });
  const web = buildWebApp(s.app);
  await web.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(web.server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  return {
    web,
    base,
    browser,
    close: async () => {
      await browser.close();
      await web.close();
    },
  };
}
