// The composition root: config, store and queue are chosen here, once.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config/index.js';
import { openDb, type OpenedDb } from './store/db.js';
import type { Database } from './store/schema.js';
import { createJobQueue, type JobQueue, type QueueName } from './queue/index.js';
import { logger } from './log.js';
import type { StageContext } from './stages/context.js';
import { runIngest } from './stages/ingest.js';
import { registeredStages } from './stages/index.js';
import { Services } from './services.js';
import { boundHeapGrowth } from './heap.js';

/** How long a command waits for Redis to answer at start before it gives up, naming the URL. */
export const REDIS_CONNECT_TIMEOUT_MS = 10_000;

export interface App {
  config: Config;
  configPath: string | null;
  store: OpenedDb;
  db: Kysely<Database>;
  queue: JobQueue;
  ctx: StageContext;
  log: Logger;
  services: Services;
  close(): Promise<void>;
}

export interface AppOptions {
  config?: string;
  db?: string;
  /** Overrides config/env: null forces in-process. */
  redisUrl?: string | null;
  queuePrefix?: string;
  now?: () => number;
  configObject?: Config;
  /** A read-only command: the store must exist (SQLite), else MissingStoreError; nothing is created. */
  mustExist?: boolean;
}

export async function openApp(opts: AppOptions = {}): Promise<App> {
  boundHeapGrowth();
  const { config, path } = opts.configObject ? { config: opts.configObject, path: null } : loadConfig(opts.config);
  const dbUrl = opts.db ?? process.env.GLEANER_DB ?? config.database ?? 'gleaner.db';
  const store = await openDb(dbUrl, { mustExist: opts.mustExist });
  const redisUrl = opts.redisUrl === undefined ? (process.env.REDIS_URL ?? config.redis ?? null) : opts.redisUrl;
  const queue = createJobQueue({
    redisUrl,
    prefix: opts.queuePrefix ?? process.env.GLEANER_QUEUE_PREFIX ?? config.queue.prefix,
    retry: { attempts: config.queue.attempts, baseDelayMs: config.queue.backoffMs },
    lockDurationMs: numberEnv('GLEANER_LOCK_DURATION_MS'),
    stalledIntervalMs: numberEnv('GLEANER_STALLED_INTERVAL_MS'),
  });
  try {
    await queue.ready(numberEnv('GLEANER_REDIS_CONNECT_TIMEOUT_MS') ?? REDIS_CONNECT_TIMEOUT_MS);
  } catch (err: unknown) {
    await store.close();
    throw err;
  }
  const log = logger('app');
  const services = new Services(store, queue, log);
  const ctx: StageContext = { db: store.db, queue, config, log, now: opts.now ?? Date.now, services };
  return {
    config,
    configPath: path,
    store,
    db: store.db,
    queue,
    ctx,
    log,
    services,
    close: () => services.close(),
  };
}

function numberEnv(name: string): number | undefined {
  const v = process.env[name];
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** Starts consuming the given queues in this process with the stage shells. */
export function startWorkers(app: App, queues: readonly QueueName[], concurrency = 1): void {
  const stages = registeredStages();
  for (const q of queues) {
    const handler = stages[q];
    if (!handler) continue;
    // Clustering places items in order against the state every worker shares: one cluster job at a
    // time across all workers (two at once would mostly redo each other's work after a conflict).
    app.queue.process(q, async (job) => {
      await handler(app.ctx, job.data);
    }, q === 'cluster' ? { concurrency: 1, globalConcurrency: 1 } : { concurrency });
  }
}

export { runIngest };
