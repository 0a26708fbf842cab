// The parse helper thread (see parse-ahead.ts): reads export files with their importers and normalizes
// their items, one file (job) at a time, handing batches of messages to the thread that stores them.
// At most a few batches are ahead of the store (each answered with an 'ack'), so a big file is never
// all in memory. The thread lives on between files (starting one costs about a second).
import { parentPort } from 'node:worker_threads';
import { importerFor } from '../../connectors/index.js';
import { isSkip } from '../model/index.js';
import type { ParseBatch, ParseRequest } from './parse-ahead.js';

interface Job {
  id: number;
  credit: number;
  stopped: boolean;
  wake: (() => void) | null;
}

let chain: Promise<void> = Promise.resolve();
/** Jobs asked to start, not finished: a stop may come before its job's turn. */
const jobs = new Map<number, Job>();

parentPort?.on('message', (req: ParseRequest) => {
  if (req.kind === 'start') {
    const job: Job = { id: req.job, credit: req.ahead, stopped: false, wake: null };
    jobs.set(job.id, job);
    // One file at a time, in the order asked.
    chain = chain.then(async () => {
      try {
        if (!job.stopped) await parse(req, job);
      } catch (err: unknown) {
        if (!job.stopped) post({ kind: 'error', job: job.id, message: err instanceof Error ? err.message : String(err) });
      } finally {
        jobs.delete(job.id);
      }
    });
    return;
  }
  const job = jobs.get(req.job);
  if (!job) return;
  if (req.kind === 'ack') job.credit++;
  else job.stopped = true;
  job.wake?.();
});

function post(b: ParseBatch): void {
  parentPort!.postMessage(b);
}

async function send(job: Job, b: Extract<ParseBatch, { kind: 'batch' }>): Promise<void> {
  while (job.credit <= 0 && !job.stopped) await new Promise<void>((resolve) => (job.wake = resolve));
  if (job.stopped) return;
  job.credit--;
  post(b);
}

async function parse(req: Extract<ParseRequest, { kind: 'start' }>, job: Job): Promise<void> {
  const importer = importerFor(req.format);
  if (!importer) throw new Error(`unknown format ${req.format}`);
  const ctx = { source: req.source, channel: req.channel };
  const empty = (bytesRead: number, totalBytes: number): Extract<ParseBatch, { kind: 'batch' }> => ({
    kind: 'batch',
    job: job.id,
    messages: [],
    raw: [],
    quarantine: [],
    skipped: {},
    read: 0,
    bytesRead,
    totalBytes,
  });
  let batch = empty(0, 0);
  const flush = async () => {
    const b = batch;
    batch = empty(b.bytesRead, b.totalBytes);
    await send(job, b);
  };
  try {
    for await (const page of importer.read(req.path, { source: req.source, channel: req.channel, maxEntryBytes: req.maxEntryBytes, maxTotalBytes: req.maxTotalBytes })) {
      if (job.stopped) return;
      batch.quarantine.push(...page.quarantine);
      for (const item of page.items) {
        batch.read++;
        let out: Awaited<ReturnType<typeof importer.normalize>>;
        try {
          out = await importer.normalize(item.raw, ctx);
        } catch (err: unknown) {
          batch.quarantine.push({ location: item.location, reason: `could not be normalized: ${(err as Error).message}`, excerpt: item.payload?.slice(0, 500) ?? '' });
          continue;
        }
        if (isSkip(out)) {
          batch.skipped[out.reason] = (batch.skipped[out.reason] ?? 0) + 1;
          continue;
        }
        batch.messages.push(out);
        if (item.payload !== undefined) batch.raw.push({ externalId: out.externalId, payload: item.payload });
        // Cut exactly where the storing thread cuts its batches when it parses itself.
        if (batch.messages.length >= req.batchSize) await flush();
      }
      batch.bytesRead = page.bytesRead;
      batch.totalBytes = page.totalBytes;
    }
  } catch (err: unknown) {
    // What was read before the failure is stored, as when the storing thread reads the file itself.
    await flush();
    throw err;
  }
  await flush();
  if (!job.stopped) post({ kind: 'end', job: job.id });
}
