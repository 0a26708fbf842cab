// Turns raw platform items into a batch for ingest: normalize each, count skips by reason, and
// quarantine what cannot be normalized (with where it came from). Shared by import, pull and listen.
import { isSkip, type QuarantineEntry, type RawMessage, type NormalizeContext, type Skip } from '../model/index.js';

export interface NormalizedBatch {
  messages: RawMessage[];
  raw: Array<{ externalId: string; payload: string }>;
  quarantine: QuarantineEntry[];
  skipped: Record<string, number>;
}

export type Normalizer = (raw: unknown, ctx: NormalizeContext) => RawMessage | Skip | Promise<RawMessage | Skip>;

export async function normalizeItems(
  normalize: Normalizer,
  items: Array<{ raw: unknown; location: string; payload?: string }>,
  ctx: NormalizeContext,
  into: NormalizedBatch = { messages: [], raw: [], quarantine: [], skipped: {} },
): Promise<NormalizedBatch> {
  for (const item of items) {
    let out: RawMessage | Skip;
    try {
      out = await normalize(item.raw, ctx);
    } catch (err: unknown) {
      into.quarantine.push({ location: item.location, reason: `could not be normalized: ${(err as Error).message}`, excerpt: (item.payload ?? safeJson(item.raw)).slice(0, 500) });
      continue;
    }
    if (isSkip(out)) {
      into.skipped[out.reason] = (into.skipped[out.reason] ?? 0) + 1;
      continue;
    }
    into.messages.push(out);
    into.raw.push({ externalId: out.externalId, payload: item.payload ?? safeJson(item.raw) });
  }
  return into;
}

function safeJson(x: unknown): string {
  try {
    return JSON.stringify(x) ?? '';
  } catch {
    return String(x);
  }
}
