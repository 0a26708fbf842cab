// Shared by the polling connectors (Discourse, GitHub): the stored cursor read back, and the live side
// of a platform without a stream (catch up through history from the cursor, sleep abortably, again).
import type { Page } from '../src/model/index.js';
import { ConnectorError, type ConnectorDeps } from './types.js';

/** The stored cursor, validated; one that is not this connector's stops the source with a config error. */
export function storedCursor<Cursor>(from: unknown, parse: (x: unknown) => Cursor, empty: () => Cursor, platform: string, source: string): Cursor {
  try {
    return from == null ? empty() : parse(from);
  } catch (err: unknown) {
    throw new ConnectorError('config', `the stored cursor is not a v1 ${platform} cursor; reset the source to backfill again`, source, { cause: err });
  }
}

export function pollingLive<Cursor>(history: (from: Cursor | undefined, signal: AbortSignal) => AsyncIterable<Page<Cursor>>, deps: ConnectorDeps, intervalMs: number) {
  return async function* live(since: Cursor | undefined, signal: AbortSignal): AsyncGenerator<Page<Cursor>> {
    let cursor = since;
    while (!signal.aborted) {
      for await (const page of history(cursor, signal)) {
        cursor = page.cursor;
        yield page;
      }
      if (signal.aborted || !(await deps.sleep(intervalMs, signal))) return;
    }
  };
}
