// What every stage shell needs: the store, the queue, a clock, the app's services. Built once in the composition root.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';
import type { JobQueue } from '../queue/port.js';
import type { Config } from '../config/index.js';
import type { Services } from '../services.js';

export interface StageContext {
  db: Kysely<Database>;
  queue: JobQueue;
  config: Config;
  log: Logger;
  now: () => number;
  /** What this app keeps between jobs: caches, helper threads (src/services.ts). */
  services: Services;
}
