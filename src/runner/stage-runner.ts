// Where the stages run, chosen once from the queue in `stageRunner`: here, as a command goes (no
// Redis: a batch is stored as it is read, and the tagging and clustering it leaves pending is finished
// before the command ends), or by worker processes (Redis: a batch is an `ingest` job; the work an
// earlier run left pending is queued again first). Commands and runners ask this, never the queue's kind.
import { startWorkers, type App } from '../app.js';
import { QUEUE_NAMES } from '../queue/port.js';
import { ingestJobId, prefetchIngest, runIngest, type IngestPayload } from '../stages/ingest.js';
import type { IngestResult } from '../store/ingest.js';
import { finishPendingWork, sweepPendingWhenIdle, type PendingDone } from './pending.js';
import type { PendingCounts } from '../store/pending.js';

/**
 * Messages per ingest batch. A queued batch is a job (about 500 keep the queue cheap and a retry small);
 * in-process each batch is one SQLite transaction, and bigger ones write each index page fewer times.
 */
export const IMPORT_BATCH = { queued: 500, inprocess: 2000 } as const;

/** What a run of batches adds up to. */
export interface BatchCounts {
  new: number;
  updated: number;
  duplicates: number;
  copies: number;
  quarantined: number;
  enqueuedBatches: number;
}

/**
 * Where a source's pages go as a pull reads them: each is stored (or queued) while the caller reads
 * the next one, and `put` first waits for the page before it (its error, if any, is thrown there):
 * pages are stored in order, one at a time, as soon as they come, none held back.
 */
export interface PageTurns {
  put(payload: IngestPayload): Promise<void>;
  /** The last page put is stored; throws its error. */
  end(): Promise<void>;
}

/** Where an import hands its batches, in order. */
export interface BatchSink {
  readonly batchSize: number;
  /** Whether a big file may be parsed on a helper thread meanwhile (when this thread stores the batches). */
  readonly parseAhead: boolean;
  put(payload: IngestPayload): Promise<void>;
  /** Everything put is stored or queued. */
  end(): Promise<void>;
}

export interface StageRunner {
  /** True when the stages run in this process (the counts of a run are stored messages, not queued batches). */
  readonly here: boolean;
  /** Before a command reads sources or files. */
  begin(): Promise<void>;
  /** A pull's pages, stored in turn (see PageTurns). */
  turns(): PageTurns;
  /** A sink for an import's batches; `followUp: false` leaves stored batches' conversations to `finish`. */
  sink(counts: BatchCounts, opts: { followUp?: boolean }): BatchSink;
  /** After reading: here, the tagging and clustering left pending; with workers and `wait`, until they are idle. */
  finish(opts?: { wait?: boolean; onProgress?: (done: PendingDone, left: PendingCounts) => void }): Promise<void>;
  /** For a command that runs until stopped: here, the stage workers of every queue in this process. */
  serve(): void;
}

export function stageRunner(app: App): StageRunner {
  return app.queue.kind === 'inprocess' ? hereRunner(app) : workersRunner(app);
}

function add(counts: BatchCounts, r: IngestResult): void {
  counts.new += r.new;
  counts.updated += r.updated;
  counts.duplicates += r.unchanged;
  counts.copies += r.copies;
  counts.quarantined += r.quarantined;
}

/**
 * Batches stored in turn on this thread (PageTurns): each one's chat lines are handed to the helper
 * thread when it is put, while the one before is stored here; then it is stored while the caller reads
 * the next. The batch being stored is held as its error or null, caught at once, so a rejection is not
 * left unhandled while the caller reads.
 */
function inTurn(app: App, store: (p: IngestPayload) => Promise<unknown>): PageTurns {
  let storing: Promise<Error | null> = Promise.resolve(null);
  const settle = async () => {
    const err = await storing;
    storing = Promise.resolve(null);
    if (err) throw err;
  };
  return {
    put: async (payload) => {
      prefetchIngest(app.ctx, payload);
      await settle();
      storing = store(payload).then(
        () => null,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
    },
    end: settle,
  };
}

function hereRunner(app: App): StageRunner {
  return {
    here: true,
    begin: async () => {},
    turns: () => inTurn(app, (p) => runIngest(app.ctx, p)),
    // An import's batches go the same way: each stored while the next is read, its chat lines linked
    // on a helper thread meanwhile.
    sink: (counts, opts) => ({
      batchSize: IMPORT_BATCH.inprocess,
      parseAhead: true,
      ...inTurn(app, async (p) => add(counts, await runIngest(app.ctx, p, { followUp: opts.followUp }))),
    }),
    finish: async (opts = {}) => {
      await finishPendingWork(app.ctx, opts.onProgress);
    },
    serve: () => startWorkers(app, QUEUE_NAMES),
  };
}

function workersRunner(app: App): StageRunner {
  return {
    here: false,
    // With Redis and nothing queued, work an earlier run left pending is queued again first.
    begin: async () => {
      await sweepPendingWhenIdle(app.ctx);
    },
    turns: () => ({
      put: async (payload) => {
        await app.queue.add('ingest', 'ingest', payload, { jobId: ingestJobId(payload) });
      },
      end: async () => {},
    }),
    sink: (counts) => ({
      batchSize: IMPORT_BATCH.queued,
      parseAhead: false,
      put: async (payload) => {
        counts.quarantined += payload.quarantine?.length ?? 0;
        await app.queue.add('ingest', 'ingest', payload, { jobId: ingestJobId(payload) });
        counts.enqueuedBatches++;
      },
      end: async () => {},
    }),
    finish: async (opts = {}) => {
      if (opts.wait) await app.queue.idle();
    },
    serve: () => {},
  };
}
