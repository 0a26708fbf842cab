// Global test setup: finds or starts the real servers the suite talks to, on loopback ports,
// and hands their addresses to the tests through vitest's provide/inject.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startRedis, type RunningServer } from '../support/servers.js';
import { testPostgres } from '../support/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** An admin URL on a PostgreSQL server; tests make their own database with createTestDatabase. */
    pgUrl: string;
  }
}

const running: RunningServer[] = [];

export async function setup(project: TestProject): Promise<void> {
  const redis = process.env.REDIS_URL ? { url: process.env.REDIS_URL, stop: async () => {} } : await startRedis();
  running.push(redis);
  project.provide('redisUrl', redis.url);
  // Boots in the background (initdb takes seconds); createTestDatabase waits for it.
  const pg = await testPostgres();
  running.push(pg);
  pg.ready.catch((err: unknown) => console.error((err as Error).message));
  project.provide('pgUrl', pg.url);
}

export async function teardown(): Promise<void> {
  for (const s of running.reverse()) await s.stop();
}
