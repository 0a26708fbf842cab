// Runs importers over files: detect the format, read pages, normalize, and hand batches to ingest
// (the stage runner, ./stage-runner.ts, stores them here or queues them as `ingest` jobs). Bad input is
// quarantined with its location and the rest goes on; nothing already stored is touched except by a newer version of the same message.
import { existsSync, statSync, readdirSync, openSync, readSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { App } from '../app.js';
import { GleanerError } from '../errors.js';
import type { Importer, ImportItem } from '../../connectors/types.js';
import { importers as allImporters } from '../../connectors/index.js';
import { isSkip, type QuarantineEntry, type RawMessage } from '../model/index.js';
import { ensureSource, markSourcePulled } from '../store/queries.js';
import type { IngestPayload } from '../stages/ingest.js';
import { IMPORT_BATCH, stageRunner } from './stage-runner.js';
import { ParseThreadError, parseAheadUsable } from '../threads/parse-ahead.js';

export { IMPORT_BATCH };

export interface ImportSummary {
  files: number;
  read: number;
  new: number;
  updated: number;
  duplicates: number;
  copies: number;
  skipped: Record<string, number>;
  quarantined: number;
  enqueuedBatches: number;
  errors: string[];
}

export interface ImportOptions {
  format?: string;
  source?: string;
  channel?: string;
  onProgress?: (p: { file: string; bytesRead: number; totalBytes: number; read: number }) => void;
  /**
   * In-process: false leaves the stored batches' conversations to finishPendingWork (the CLI does
   * that after importing) instead of queuing an enrich job per batch. Default true.
   */
  followUp?: boolean;
}

export class ImportError extends GleanerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('import_failed', message, options);
    this.name = 'ImportError';
  }
}

/** Expands folders into the files below them (sorted, hidden files left out). */
export function expandPaths(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    // An unpacked Slack export is one input (its importer reads the folder), not a tree of files.
    if (st.isDirectory() && !(existsSync(join(p, 'channels.json')) && existsSync(join(p, 'users.json')))) {
      // Inside folders, documentation (and a gleaner.yaml) beside the data is not data.
      for (const name of readdirSync(p).sort()) if (!name.startsWith('.') && !/^(README|LICENSE|NOTICE)(\..*)?$|\.md$|^gleaner\.ya?ml$/i.test(name)) walk(join(p, name));
    } else out.push(p);
  };
  for (const p of paths) {
    try {
      walk(resolve(p));
    } catch (err: unknown) {
      throw new ImportError(`cannot read ${p}: ${(err as Error).message}`);
    }
  }
  return out;
}

function readHead(path: string, n = 64 * 1024): Buffer {
  if (statSync(path).isDirectory()) return Buffer.alloc(0);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    let head = buf.subarray(0, got);
    if (head[0] === 0x1f && head[1] === 0x8b) {
      try {
        head = gunzipSync(head, { finishFlush: 2 /* Z_SYNC_FLUSH: accept a truncated stream */ });
      } catch {
        // a broken gzip head: no importer will claim it
      }
    }
    return head;
  } finally {
    closeSync(fd);
  }
}

export function detectImporter(path: string, format: string | undefined, list: Importer[] = allImporters): Importer | undefined {
  if (format && format !== 'auto') {
    const imp = list.find((i) => i.format === format);
    if (!imp) throw new ImportError(`unknown format ${format}; known formats: ${list.map((i) => i.format).join(', ')}`);
    return imp;
  }
  const head = readHead(path);
  return list.find((i) => i.detect(path, head));
}

export async function importFiles(app: App, paths: string[], opts: ImportOptions = {}): Promise<ImportSummary> {
  const summary: ImportSummary = { files: 0, read: 0, new: 0, updated: 0, duplicates: 0, copies: 0, skipped: {}, quarantined: 0, enqueuedBatches: 0, errors: [] };
  const files = expandPaths(paths);
  const runner = stageRunner(app);
  for (const file of files) {
    let importer: Importer | undefined;
    try {
      importer = detectImporter(file, opts.format);
    } catch (err: unknown) {
      if (err instanceof ImportError) throw err;
      summary.errors.push(`${file}: ${(err as Error).message}`);
      continue;
    }
    if (!importer) {
      summary.errors.push(`${file}: not a format Gleaner reads (use --format to say which)`);
      continue;
    }
    summary.files++;
    const sourceName = opts.source ?? importer.platform;
    const sourceId = await ensureSource(app.db, sourceName, importer.platform, app.ctx.now());
    const ctx = { source: sourceName, channel: opts.channel };
    const limits = { maxEntryBytes: app.config.import.maxEntryBytes, maxTotalBytes: app.config.import.maxTotalBytes };
    let messages: RawMessage[] = [];
    let raw: Array<{ externalId: string; payload: string }> = [];
    let quarantine: QuarantineEntry[] = [];

    const sink = runner.sink(summary, { followUp: opts.followUp });
    const batchSize = sink.batchSize;
    const flush = async (last = false) => {
      if (messages.length || quarantine.length) {
        const payload: IngestPayload = { sourceId, platform: importer.platform, messages, raw, normalizerVersion: importer.normalizerVersion, quarantine };
        messages = [];
        raw = [];
        quarantine = [];
        await sink.put(payload);
      }
      if (last) await sink.end();
    };

    const handle = async (item: ImportItem) => {
      summary.read++;
      let out: Awaited<ReturnType<Importer['normalize']>>;
      try {
        out = await importer.normalize(item.raw, ctx);
      } catch (err: unknown) {
        quarantine.push({ location: item.location, reason: `could not be normalized: ${(err as Error).message}`, excerpt: item.payload?.slice(0, 500) ?? '' });
        return;
      }
      if (isSkip(out)) {
        summary.skipped[out.reason] = (summary.skipped[out.reason] ?? 0) + 1;
        return;
      }
      messages.push(out);
      if (item.payload !== undefined) raw.push({ externalId: out.externalId, payload: item.payload });
      if (messages.length >= batchSize) await flush();
    };

    try {
      let here = !(sink.parseAhead && parseAheadUsable(file));
      if (!here) {
        // Parsed on a helper thread while this one stores: the same batches, cut at the same places.
        try {
          for await (const b of app.services.parse.parse(file, importer.format, { source: sourceName, channel: opts.channel, batchSize, ...limits })) {
            summary.read += b.read;
            for (const [reason, n] of Object.entries(b.skipped)) summary.skipped[reason] = (summary.skipped[reason] ?? 0) + n;
            quarantine.push(...b.quarantine);
            for (const m of b.messages) messages.push(m);
            for (const r of b.raw) raw.push(r);
            if (messages.length >= batchSize) await flush();
            opts.onProgress?.({ file, bytesRead: b.bytesRead, totalBytes: b.totalBytes, read: summary.read });
          }
        } catch (err: unknown) {
          // A helper that could not start leaves the file to this thread; one that failed midway fails the file.
          if (!(err instanceof ParseThreadError) || err.started) throw err;
          app.log.warn({ file, err: err.message }, 'parsing on a helper thread failed; parsing here');
          here = true;
        }
      }
      if (here) {
        for await (const page of importer.read(file, { source: sourceName, channel: opts.channel, ...limits })) {
          quarantine.push(...page.quarantine);
          for (const item of page.items) await handle(item);
          opts.onProgress?.({ file, bytesRead: page.bytesRead, totalBytes: page.totalBytes, read: summary.read });
        }
      }
      await flush(true);
      await markSourcePulled(app.db, sourceId, app.ctx.now(), null);
    } catch (err: unknown) {
      // A failure reading one file: keep what was read, report, go on with the next file.
      await flush(true).catch(() => undefined);
      summary.errors.push(`${file}: ${(err as Error).message}`);
    }
  }
  return summary;
}
