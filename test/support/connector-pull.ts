// One whole history pull of a connector, normalized: messages, skips, gaps, the last cursor (as stored:
// through JSON) and the time spent on rate limits. For connector tests.
import { isSkip, type Connector, type Gap, type RawMessage, type Skip } from '../../src/model/index.js';

export interface Pulled<Cursor> {
  messages: RawMessage[];
  skips: Skip[];
  gaps: Gap[];
  cursor: Cursor | undefined;
  rateLimitedMs: number;
}

export async function pullAll<Cursor>(conn: Connector<Cursor>, from?: Cursor, source = 'test'): Promise<Pulled<Cursor>> {
  const out: Pulled<Cursor> = { messages: [], skips: [], gaps: [], cursor: from, rateLimitedMs: 0 };
  for await (const page of conn.history(from, new AbortController().signal)) {
    for (const raw of page.items) {
      const m = await conn.normalize(raw, { source });
      if (isSkip(m)) out.skips.push(m);
      else out.messages.push(m);
    }
    out.gaps.push(...(page.gaps ?? []));
    out.rateLimitedMs += page.rateLimitedMs ?? 0;
    out.cursor = JSON.parse(JSON.stringify(page.cursor)) as Cursor;
  }
  return out;
}

/**
 * Pulls again and again from the last cursor a page carried, as the runner does after a failed pull,
 * until one pull ends cleanly (or `maxAttempts`): the ids of every message handed out, and the errors.
 */
export async function pullUntilDone<Cursor>(conn: Connector<Cursor>, beforeAttempt: (attempt: number) => void, maxAttempts = 20): Promise<{ ids: string[]; errors: unknown[] }> {
  const ids: string[] = [];
  const errors: unknown[] = [];
  let cursor: Cursor | undefined;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    beforeAttempt(attempt);
    try {
      for await (const page of conn.history(cursor, new AbortController().signal)) {
        for (const raw of page.items) {
          const m = await conn.normalize(raw, { source: 'test' });
          if (!isSkip(m)) ids.push(m.externalId);
        }
        cursor = JSON.parse(JSON.stringify(page.cursor)) as Cursor;
      }
      return { ids, errors };
    } catch (err: unknown) {
      errors.push(err);
    }
  }
  return { ids, errors };
}
