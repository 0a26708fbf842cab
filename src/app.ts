// The composition root: config, store and queue are chosen here, once.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config/index.js';
import { openDb, type OpenedDb } from './store/db.js';
import type { Database } from './store/schema.js';
import { createJobQueue, type JobQueue, type QueueName } from './queue/index.js';
import { logger, setLogLevel } from './log.js';
import type { StageContext } from './stages/context.js';
import { registeredStages } from './stages/index.js';
import { Services } from './services.js';
import { boundHeapGrowth } from './heap.js';
import { runIngest } from './stages/ingest.js';
import { QueryCounter } from './store/query-count.js';

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
  // loadConfig lays the environment over the file (src/config/env.ts); a config object given is used as
  // it is (it was parsed with the environment its caller chose). From here on only the config is read.
  const { config, path } = opts.configObject ? { config: opts.configObject, path: null } : loadConfig(opts.config);
  setLogLevel(config.log.level);
  const dbUrl = opts.db ?? config.database ?? 'gleaner.db';
  const store = await openDb(dbUrl, { mustExist: opts.mustExist, poolSize: config.store.poolSize, sqliteCacheMb: config.store.sqliteCacheMb, queryStats: config.store.queryStats });
  const redisUrl = opts.redisUrl === undefined ? (config.redis ?? null) : opts.redisUrl;
  const queue = createJobQueue({
    redisUrl,
    prefix: opts.queuePrefix ?? config.queue.prefix,
    retry: { attempts: config.queue.attempts, baseDelayMs: config.queue.backoffMs },
    lockDurationMs: config.queue.lockDurationMs,
    stalledIntervalMs: config.queue.stalledIntervalMs,
  });
  try {
    await queue.ready(config.queue.connectTimeoutMs);
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

/**
 * Starts consuming the given queues in this process with the stage shells. Ingest takes
 * `queue.ingestAhead` more jobs than it stores at once, to link their chat lines meanwhile.
 */
export function startWorkers(app: App, queues: readonly QueueName[], concurrency = 1): void {
  const ahead = app.config.queue.ingestAhead;
  const stages = registeredStages();
  for (const q of queues) {
    const handler = stages[q];
    if (!handler) continue;
    // Clustering places items in order against the state every worker shares: one cluster job at a
    // time across all workers (two at once would mostly redo each other's work after a conflict).
    // An ingest job's result is where its time went (the queue keeps it: the dashboard and the bench show it).
    // Every job's result also says how many statements it sent to the store for how many items (see
    // src/store/query-count.ts).
    app.queue.process(
      q,
      async (job) => {
        const counter = new QueryCounter();
        const ctx: StageContext = { ...app.ctx, db: app.ctx.db.withPlugin(counter) };
        const items = jobItems(job.data);
        if (q !== 'ingest') {
          await handler(ctx, job.data);
          return { queries: counter.queries, items };
        }
        const r = await runIngest(ctx, job.data, ahead > 0 ? { inTurn: concurrency } : {});
        return { stageMs: r.stageMs, queries: counter.queries, items };
      },
      q === 'cluster' ? { concurrency: 1, globalConcurrency: 1 } : { concurrency: q === 'ingest' ? concurrency + ahead : concurrency },
    );
  }
}

/** What a job works on, counted: an ingest's messages, an enrich's conversations, a cluster job's items. */
function jobItems(data: unknown): number {
  if (typeof data !== 'object' || data === null) return 0;
  const d = data as { messages?: unknown; conversationIds?: unknown; itemIds?: unknown };
  for (const xs of [d.messages, d.conversationIds, d.itemIds]) if (Array.isArray(xs)) return xs.length;
  return 0;
}
