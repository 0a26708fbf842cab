// Ingest shell: validate the payload, store the batch in one transaction (messages, raw items,
// cursor, quarantine), then hand the touched conversations to enrich.
import { z } from 'zod';
import { GapSchema, QuarantineEntrySchema, RawMessageSchema } from '../model/index.js';
import { ingestBatch, type IngestResult } from './ingest-batch.js';
import { batchInTimeOrder, channelStreams } from '../pipeline/ingest-plan.js';
import { PermanentJobError } from '../queue/port.js';
import { contentHash } from '../pipeline/hash.js';
import { loadDisentangleModel } from '../models/disentangle.js';
import { ChannelThreader } from '../pipeline/chat-threads.js';
import type { StageContext } from './context.js';
import { LinkAhead } from './link-ahead.js';

export const IngestPayloadSchema = z.object({
  sourceId: z.number().int(),
  platform: z.string(),
  messages: z.array(RawMessageSchema),
  raw: z.array(z.object({ externalId: z.string(), payload: z.string() })).optional(),
  normalizerVersion: z.number().int(),
  cursor: z.object({ key: z.string(), value: z.string() }).optional(),
  quarantine: z.array(QuarantineEntrySchema).optional(),
  gaps: z.array(GapSchema).optional(),
});
export type IngestPayload = z.infer<typeof IngestPayloadSchema>;

export function ingestJobId(p: IngestPayload): string {
  return `ingest-${p.sourceId}-${contentHash(...p.messages.map((m) => m.externalId + '|' + (m.editedAt ?? '') + '|' + (m.deleted ? 'd' : '')), p.cursor?.value, p.quarantine?.length)}`;
}

// One threader per process and store: it keeps each channel's recent stream between batches.
const threaders = new WeakMap<object, ChannelThreader>();
function threaderFor(ctx: StageContext): ChannelThreader {
  let t = threaders.get(ctx.db);
  if (!t) {
    t = new ChannelThreader(loadDisentangleModel());
    threaders.set(ctx.db, t);
  }
  return t;
}

// Per store, for bulk imports in this process: the helper thread that links batches ahead.
const aheads = new WeakMap<object, LinkAhead>();

/**
 * A bulk import's next batch, before the current one is stored: its chat lines are linked on a helper
 * thread meanwhile (see link-ahead.ts). Optional: runIngest links whatever was not linked ahead.
 */
export function prefetchIngest(ctx: StageContext, payload: IngestPayload): void {
  if (payload.platform === 'mail') return;
  let ahead = aheads.get(ctx.db);
  if (!ahead) {
    ahead = new LinkAhead((message) => ctx.log.warn({ stage: 'ingest' }, message));
    if (!ahead.usable) return;
    aheads.set(ctx.db, ahead);
  }
  ahead.prefetch(payload.sourceId, channelStreams(payload.sourceId, batchInTimeOrder(payload.messages)));
}

/** How many channel batches took links made ahead, and how many were linked here after all. */
export function linkAheadStats(db: object): { taken: number; missed: number } {
  return { ...(aheads.get(db)?.stats ?? { taken: 0, missed: 0 }) };
}

/** Stops the link-ahead helper of a store (app.close). */
export async function closeLinkAhead(db: object): Promise<void> {
  const ahead = aheads.get(db);
  aheads.delete(db);
  await ahead?.close();
}

/**
 * `followUp: false`: the touched conversations are left to finishPendingWork (src/runner/pending.ts),
 * which an in-process import runs after storing; the batch records them as pending either way.
 */
export async function runIngest(ctx: StageContext, data: unknown, opts: { followUp?: boolean } = {}): Promise<IngestResult> {
  const parsed = IngestPayloadSchema.safeParse(data);
  if (!parsed.success) throw new PermanentJobError(`ingest: bad payload: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const chat = parsed.data.platform !== 'mail';
  const result = await ingestBatch(ctx.db, parsed.data, ctx.now(), { threader: chat ? threaderFor(ctx) : undefined, ahead: chat ? aheads.get(ctx.db) : undefined });
  if (result.conversationIds.length && opts.followUp !== false) {
    await ctx.queue.add('enrich', 'enrich', { conversationIds: result.conversationIds }, { jobId: `enrich-${contentHash(...result.conversationIds, parsed.data.sourceId, ingestJobId(parsed.data))}` });
  }
  return result;
}
