// Parsing ahead for in-process imports: an export file is read and normalized on a helper thread while
// this thread stores the batches before (parsing was a tenth of an import's time on the storing
// thread). The batches come in file order, as the importer reads them; the helper stays at most a few
// batches ahead. Used when helper threads are (GLEANER_THREADS > 0) and the worker file is there.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { QuarantineEntry, RawMessage } from '../model/index.js';
import { detectThreads } from './detect-pool.js';
import type { Worker } from 'node:worker_threads';
import { helperThreadPath, startHelperThread, stopHelperThread } from './helper-thread.js';

export type ParseRequest =
  | { kind: 'start'; job: number; path: string; format: string; source: string; channel?: string; batchSize: number; ahead: number; maxEntryBytes?: number; maxTotalBytes?: number }
  | { kind: 'ack'; job: number }
  | { kind: 'stop'; job: number };
export type ParseBatch =
  | {
      kind: 'batch';
      job: number;
      messages: RawMessage[];
      raw: Array<{ externalId: string; payload: string }>;
      quarantine: QuarantineEntry[];
      skipped: Record<string, number>;
      read: number;
      bytesRead: number;
      totalBytes: number;
    }
  | { kind: 'end'; job: number }
  | { kind: 'error'; job: number; message: string; thread?: boolean };

/** The helper thread itself failed (not the file): the caller may parse on its own thread instead. */
export class ParseThreadError extends Error {
  constructor(
    message: string,
    /** Whether any batch was handed over before the failure. */
    readonly started: boolean,
  ) {
    super(message);
    this.name = 'ParseThreadError';
  }
}

/** Batches the helper may have ready before the store takes the first of them. */
const AHEAD = 3;

/** Inputs smaller than this are parsed on the storing thread: starting a helper costs more than it saves. */
export const PARSE_AHEAD_MIN_BYTES = 4 * 1024 * 1024;

/** Whether to parse `path` on a helper thread: threads are wanted, the worker file is there, and the input is big. */
export function parseAheadUsable(path?: string): boolean {
  if (detectThreads() <= 0 || !helperThreadPath('parse-worker').present) return false;
  return path === undefined || inputBytes(path) >= PARSE_AHEAD_MIN_BYTES;
}

/** The size of a file, or of the files in a folder (an unpacked Slack export), up to the threshold. */
function inputBytes(path: string): number {
  let total = 0;
  const walk = (p: string, depth: number) => {
    if (total >= PARSE_AHEAD_MIN_BYTES) return;
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (!st.isDirectory()) total += st.size;
    else if (depth < 3) for (const name of readdirSync(p)) walk(join(p, name), depth + 1);
  };
  walk(path, 0);
  return total;
}

/** The parse thread of one app, kept between files (starting one costs about a second); owned by the app's services. */
export class ParseAhead {
  private idle: Worker | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private busy = false;
  private jobs = 0;

  /**
   * The file's batches (about `batchSize` messages each, with their raw payloads, quarantine and skip
   * counts), parsed on a helper thread. A failure of the file (unreadable, the helper gone) is thrown
   * after the batches read before it, as reading on this thread would.
   */
  async *parse(
    path: string,
    format: string,
    opts: { source: string; channel?: string; batchSize: number; maxEntryBytes?: number; maxTotalBytes?: number },
  ): AsyncGenerator<Extract<ParseBatch, { kind: 'batch' }>> {
    // The kept thread; a second import running meanwhile gets its own.
    const shared = !this.busy;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const worker = shared ? (this.idle ??= this.startParseThread()) : this.startParseThread();
    if (shared) this.busy = true;
    const job = ++this.jobs;
    const queue: ParseBatch[] = [];
    let wake: (() => void) | null = null;
    const push = (b: ParseBatch) => {
      if (b.job !== job) return;
      queue.push(b);
      wake?.();
      wake = null;
    };
    const onMessage = (b: ParseBatch) => push(b);
    const onError = (err: Error) => push({ kind: 'error', job, message: `the parse thread failed: ${err.message}`, thread: true });
    const onExit = (code: number) => push({ kind: 'error', job, message: `the parse thread exited with code ${code}`, thread: true });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.ref();
    worker.postMessage({
      kind: 'start',
      job,
      path,
      format,
      source: opts.source,
      channel: opts.channel,
      batchSize: opts.batchSize,
      ahead: AHEAD,
      maxEntryBytes: opts.maxEntryBytes,
      maxTotalBytes: opts.maxTotalBytes,
    } satisfies ParseRequest);
    let started = false;
    let failed = false;
    try {
      for (;;) {
        while (!queue.length) await new Promise<void>((resolve) => (wake = resolve));
        const b = queue.shift()!;
        if (b.kind === 'end') return;
        if (b.kind === 'error') {
          failed = Boolean(b.thread);
          throw b.thread ? new ParseThreadError(b.message, started) : new Error(b.message);
        }
        worker.postMessage({ kind: 'ack', job } satisfies ParseRequest);
        started = true;
        yield b;
      }
    } finally {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (shared && !failed) {
        // Back to idle: a file left midway is abandoned by the thread, which then waits for the next
        // file a little while (an import's files come one after another) and is then let go (its heap
        // with every connector loaded is a hundred megabytes).
        worker.postMessage({ kind: 'stop', job } satisfies ParseRequest);
        worker.unref();
        this.busy = false;
        this.idleTimer = setTimeout(() => {
          if (!this.busy && this.idle === worker) {
            this.idle = null;
            void worker.terminate();
          }
        }, IDLE_MS);
        this.idleTimer.unref();
      } else {
        if (shared) {
          this.idle = null;
          this.busy = false;
        }
        await stopHelperThread(worker);
      }
    }
  }

  private startParseThread(): Worker {
    const w = startHelperThread('parse-worker');
    w.unref();
    w.on('error', () => undefined); // reported to the import running, if any
    w.on('exit', () => {
      if (this.idle === w) {
        this.idle = null;
        this.busy = false;
      }
    });
    return w;
  }

  /** Stops the parse thread unless an import is using it (it is unref'd: a process exits without this too). */
  async close(): Promise<void> {
    if (this.busy) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const w = this.idle;
    this.idle = null;
    if (w) await stopHelperThread(w);
  }
}

/** How long the parse thread waits for the next file before it is let go. */
const IDLE_MS = 2000;
