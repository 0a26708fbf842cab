// Shared by the fuzz tests: run an importer over a file the way `gleaner import` does (read pages,
// normalize every item) and classify what went wrong. A quarantine entry, a skip, or an Error with a
// message (a file the importer cannot read) are fine; a programming error (TypeError, RangeError,
// ReferenceError, SyntaxError escaping a parser), a non-Error throw or a hang is not.
import { importerFor } from '../../connectors/index.js';
import { isSkip } from '../../src/model/index.js';

export const FUZZ_RUNS = Number(process.env.GLEANER_FUZZ_RUNS ?? 200);
/** Per case: fast-check fails a case that runs longer (a hang). */
export const CASE_TIMEOUT_MS = 5_000;

export interface ImportOutcome {
  items: number;
  messages: number;
  quarantined: number;
  skipped: number;
  normalizeErrors: number;
  readError: string | null;
}

export function assertClearError(err: unknown, where: string): string {
  if (!(err instanceof Error)) throw new Error(`${where}: threw a non-Error: ${String(err)}`);
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) {
    throw new Error(`${where}: programming error escaped the parser: ${err.name}: ${err.message}`, { cause: err });
  }
  if (!err.message.trim()) throw new Error(`${where}: an error without a message`, { cause: err });
  return err.message;
}

export async function runImporter(format: string, path: string): Promise<ImportOutcome> {
  const importer = importerFor(format);
  if (!importer) throw new Error(`no importer ${format}`);
  const out: ImportOutcome = { items: 0, messages: 0, quarantined: 0, skipped: 0, normalizeErrors: 0, readError: null };
  const ctx = { source: 'fuzz' };
  try {
    for await (const page of importer.read(path, ctx)) {
      out.quarantined += page.quarantine.length;
      for (const item of page.items) {
        out.items++;
        try {
          const r = await importer.normalize(item.raw, ctx);
          if (isSkip(r)) out.skipped++;
          else out.messages++;
        } catch (err: unknown) {
          // The runner quarantines these with the item's location; it must still be a clear Error.
          assertClearError(err, `${format} normalize ${item.location}`);
          out.normalizeErrors++;
        }
      }
    }
  } catch (err: unknown) {
    out.readError = assertClearError(err, `${format} read ${path}`);
  }
  return out;
}
