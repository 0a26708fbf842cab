// WAL checkpoints off the writing thread. SQLite in WAL mode appends each commit to the -wal file and,
// every wal_autocheckpoint pages, the committing connection copies the WAL back into the database and
// syncs both files: inside that commit, on the thread that writes. A bulk import then spent a sixth of
// its time waiting on those copies and syncs (29 s of commits for a million messages, 9 s of it with
// no syncing at all). Here a helper thread with a connection of its own runs PASSIVE checkpoints (they
// never block a writer or a reader) while the writer goes on; the writer's own automatic checkpoint is
// raised to a backstop, for when the helper cannot keep up or is gone.
//
// Started lazily: only once a connection's WAL has grown past START_BYTES (a bulk write), so a small
// store, the tests and the web app's short transactions never start a thread.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import { logger } from '../log.js';

/** WAL size at which the helper starts. */
const START_BYTES = 32 * 1024 * 1024;
/** Commits between two looks at the WAL's size (a stat each). */
const LOOK_EVERY = 8;
/** How often the helper checkpoints, in ms. */
const INTERVAL_MS = 100;
/** The writer's own automatic checkpoint while the helper runs, in pages (4 KiB): 256 MiB. */
const BACKSTOP_PAGES = 65536;

// CommonJS, evaluated: no file to find beside the compiled module, and the same under tsx and vitest.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
let db = null;
let timer = null;
try {
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('busy_timeout = 0');
  db.pragma('synchronous = NORMAL');
} catch (err) {
  parentPort.postMessage({ error: 'cannot open ' + workerData.path + ': ' + err.message });
  process.exit(1);
}
let reported = 0;
const tick = () => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    // A whole WAL copied back: the writer can start it over.
    if (r && r.log > 0 && r.checkpointed === r.log) parentPort.postMessage({ full: true });
  } catch (err) {
    // A full disk, another process checkpointing: the next tick tries again (the WAL keeps the data).
    if (Date.now() - reported > 60000) { reported = Date.now(); parentPort.postMessage({ error: err.message }); }
  }
  timer = setTimeout(tick, workerData.interval);
};
timer = setTimeout(tick, workerData.interval);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearTimeout(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

export class BackgroundCheckpointer {
  private commits = 0;
  private worker: Worker | null = null;
  private stopped = false;
  /** Checkpoints of the helper that copied the whole WAL back. */
  fullCheckpoints = 0;

  constructor(
    private readonly path: string,
    private readonly sqlite: SQLite.Database,
  ) {}

  /** Called after each commit on the writing connection. */
  afterCommit(): void {
    if (this.worker || this.stopped || ++this.commits % LOOK_EVERY !== 0) return;
    let size: number;
    try {
      size = statSync(`${this.path}-wal`).size;
    } catch {
      return; // no WAL file (yet)
    }
    if (size >= START_BYTES) this.start();
  }

  get running(): boolean {
    return this.worker !== null;
  }

  private start(): void {
    const log = logger('store');
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: this.path, module: createRequire(import.meta.url).resolve('better-sqlite3'), interval: INTERVAL_MS } });
    } catch (err: unknown) {
      this.stopped = true;
      log.warn({ db: this.path, err: (err as Error).message }, 'background checkpoints off: the helper thread did not start');
      return;
    }
    worker.unref();
    worker.on('message', (m: { error?: string; full?: boolean }) => {
      if (m.full) this.fullCheckpoints++;
      if (m.error) log.warn({ db: this.path, err: m.error }, 'background checkpoint failed; the writer checkpoints itself as before');
    });
    const gone = () => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.stopped = true;
      // The writer checkpoints for itself again.
      try {
        if (this.sqlite.open) this.sqlite.pragma('wal_autocheckpoint = 16384');
      } catch {
        // closing
      }
    };
    worker.on('error', (err) => {
      log.warn({ db: this.path, err: err.message }, 'background checkpoint thread failed; the writer checkpoints itself as before');
      gone();
    });
    worker.on('exit', gone);
    this.worker = worker;
    this.sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  }

  /** Stops the helper (its connection closes first; then the writer's close checkpoints the rest). */
  async stop(): Promise<void> {
    this.stopped = true;
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    // Held while it closes: an unref'd thread's exit would not keep this process waiting for it.
    w.ref();
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage('close');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 5000)));
    const how = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (how === 'timeout') await w.terminate();
  }
}
