// Runs `gleaner eval feedback`: the labelled archives imported into a temporary store (or the
// configured store as it is), the pipeline run in-process, the clusters scored against the labels.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp, startWorkers } from '../app.js';
import { importFiles } from '../runner/import.js';
import { QUEUE_NAMES } from '../queue/port.js';
import { archivesFor, evalFeedbackOnStore, readLabels } from './feedback.js';

export interface FeedbackEvalOptions {
  labels: readonly string[];
  /** Archive files the labels name; others are looked up by file name under archivesDirs. */
  archives?: readonly string[];
  archivesDirs?: readonly string[];
  /** Config file (the pipeline's settings); default ./gleaner.yaml when present. */
  config?: string;
  /** Score the configured store as it is instead of importing into a temporary one. */
  useStore?: boolean;
  /** With useStore: the store (SQLite path or postgres:// URL); default GLEANER_DB, the config's, gleaner.db. */
  db?: string;
}

function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

export async function evalFeedback(opts: FeedbackEvalOptions): Promise<Array<[string, number]>> {
  const labels = await readLabels(opts.labels);
  if (!labels.length) throw new Error(`no labels in ${opts.labels.join(', ')}`);
  if (opts.useStore) {
    const app = await openApp({ config: opts.config, db: opts.db });
    try {
      return await evalFeedbackOnStore(app.db, labels);
    } finally {
      await app.close();
    }
  }
  const archives = archivesFor(labels, [...(opts.archives ?? []), ...(opts.archivesDirs ?? []).flatMap(filesUnder)]);
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-eval-'));
  try {
    const app = await openApp({ config: opts.config, db: join(dir, 'eval.db'), redisUrl: null });
    try {
      const summary = await importFiles(app, archives, {});
      if (summary.errors.length) throw new Error(`importing the labelled archives failed: ${summary.errors.join('; ')}`);
      startWorkers(app, QUEUE_NAMES);
      await app.queue.idle();
      return await evalFeedbackOnStore(app.db, labels);
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
