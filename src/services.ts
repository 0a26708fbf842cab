// Everything one app holds for as long as it runs, built once in openApp (src/app.ts) and closed with
// one call: the store (with its checkpointer), the queue, the helper threads (detection, linking
// and parsing ahead), and what the stage shells keep between jobs (the cluster index, compiled rules, the
// threader's model and state). No module keeps per-process state of its own.
import type { Logger } from 'pino';
import type { OpenedDb } from './store/db.js';
import type { JobQueue } from './queue/port.js';
import { ClusterCache, EnrichCache, IngestHelpers } from './stages/caches.js';
import { DetectPool, detectThreads } from './threads/detect-pool.js';
import { ParseAhead } from './threads/parse-ahead.js';

export class Services {
  readonly cluster = new ClusterCache();
  readonly enrich = new EnrichCache();
  readonly ingest: IngestHelpers;
  /** The thread that parses big export files ahead of the storing. */
  readonly parse = new ParseAhead();
  private detect: DetectPool | null = null;

  constructor(
    readonly store: OpenedDb,
    readonly queue: JobQueue,
    private readonly log: Logger,
  ) {
    this.ingest = new IngestHelpers((message) => log.warn({ stage: 'ingest' }, message));
  }

  /** The detection helper threads (started on first use, detectThreads() of them). */
  detectPool(): DetectPool {
    return (this.detect ??= new DetectPool(detectThreads(), (message) => this.log.warn({ stage: 'enrich' }, message)));
  }

  /** Stops the queue, the helper threads and the store, in that order. */
  async close(): Promise<void> {
    await this.queue.close();
    await this.ingest.close();
    await this.store.close();
    const detect = this.detect;
    this.detect = null;
    await detect?.close();
    await this.parse.close();
  }
}
