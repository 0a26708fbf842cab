// The parse helper thread (see parse-ahead.ts): reads one export file with its importer and normalizes
// its items, handing batches of messages to the thread that stores them. At most a few batches are
// ahead of the store (each answered with an 'ack'), so a big file is never all in memory.
import { parentPort } from 'node:worker_threads';
import { importerFor } from '../../connectors/index.js';
import { isSkip } from '../model/index.js';
import type { ParseBatch, ParseRequest } from './parse-ahead.js';

let credit = 0;
let wake: (() => void) | null = null;
let stopped = false;

parentPort?.on('message', (req: ParseRequest) => {
  if (req.kind === 'ack') {
    credit++;
    wake?.();
    return;
  }
  if (req.kind === 'stop') {
    stopped = true;
    wake?.();
    return;
  }
  credit = req.ahead;
  void parse(req).catch((err: unknown) => post({ kind: 'error', message: err instanceof Error ? err.message : String(err) }));
});

function post(b: ParseBatch): void {
  parentPort!.postMessage(b);
}

async function send(b: Extract<ParseBatch, { kind: 'batch' }>): Promise<void> {
  while (credit <= 0 && !stopped) await new Promise<void>((resolve) => (wake = resolve));
  credit--;
  post(b);
}

async function parse(req: Extract<ParseRequest, { kind: 'start' }>): Promise<void> {
  const importer = importerFor(req.format);
  if (!importer) throw new Error(`unknown format ${req.format}`);
  const ctx = { source: req.source, channel: req.channel };
  let batch: Extract<ParseBatch, { kind: 'batch' }> = { kind: 'batch', messages: [], raw: [], quarantine: [], skipped: {}, read: 0, bytesRead: 0, totalBytes: 0 };
  const flush = async () => {
    const b = batch;
    batch = { kind: 'batch', messages: [], raw: [], quarantine: [], skipped: {}, read: 0, bytesRead: b.bytesRead, totalBytes: b.totalBytes };
    await send(b);
  };
  try {
    for await (const page of importer.read(req.path, { source: req.source, channel: req.channel })) {
      if (stopped) return;
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
  post({ kind: 'end' });
}
