// Ingest shell: validate the payload, store the batch in one transaction (messages, raw items,
// cursor, quarantine), then hand the touched conversations to enrich.
import { IngestPayloadSchema, type IngestPayload } from '../model/jobs.js';
import { ingestBatch, MAX_TRANSACTION_MESSAGES, type IngestResult } from './ingest-batch.js';
import { batchInTimeOrder, channelStreams } from '../pipeline/ingest-plan.js';
import { PermanentJobError } from '../queue/port.js';
import { contentHash } from '../pipeline/hash.js';
import type { StageContext } from './context.js';

export type { IngestPayload };

export function ingestJobId(p: IngestPayload): string {
  return `ingest-${p.sourceId}-${contentHash(...p.messages.map((m) => m.externalId + '|' + (m.editedAt ?? '') + '|' + (m.deleted ? 'd' : '')), p.cursor?.value, p.quarantine?.length)}`;
}

/**
 * A bulk import's next batch, before the current one is stored: its chat lines are linked on a helper
 * thread meanwhile (see link-ahead.ts). Optional: runIngest links whatever was not linked ahead.
 */
export function prefetchIngest(ctx: StageContext, payload: IngestPayload): void {
  // A batch stored in parts is linked part by part here: lines linked ahead as one stream would not match a part.
  if (payload.platform === 'mail' || payload.messages.length > MAX_TRANSACTION_MESSAGES) return;
  let streams: ReturnType<typeof channelStreams>;
  try {
    streams = channelStreams(payload.sourceId, batchInTimeOrder(payload.messages));
  } catch {
    // Not a valid batch (not checked yet): nothing is linked ahead; runIngest says what is wrong with it.
    return;
  }
  handedOver.add(payload);
  ctx.services.ingest.linkAhead(true)?.prefetch(payload.sourceId, streams);
}

/** Below this many messages a batch's lines are linked here: a round trip to the helper costs more. */
const AHEAD_MIN_MESSAGES = 16;
/** Payloads whose lines prefetchIngest handed over already (an import's next batch). */
const handedOver = new WeakSet<object>();

/**
 * `followUp: false`: the touched conversations are left to finishPendingWork (src/runner/pending.ts),
 * which an in-process import runs after storing; the batch records them as pending either way.
 * A batch's chat lines are linked on the helper thread while this one reads what the store holds
 * (unless `linkAhead: false`, or the batch is small, or links made ahead seldom stand here); a batch
 * handed over earlier (prefetchIngest) is not handed over again.
 */
export async function runIngest(ctx: StageContext, data: unknown, opts: { followUp?: boolean; inTurn?: number; linkAhead?: boolean } = {}): Promise<IngestResult> {
  const parsed = IngestPayloadSchema.safeParse(data);
  if (!parsed.success)
    throw new PermanentJobError(
      `ingest: bad payload: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  const chat = parsed.data.platform !== 'mail';
  const helpers = ctx.services.ingest;
  const store = () => ingestBatch(ctx.db, parsed.data, ctx.now(), { threader: chat ? helpers.threader() : undefined, ahead: chat ? helpers.linkAhead(false) : undefined });
  // A worker taking jobs ahead: this job's lines are linked on the helper thread while the jobs before
  // it are stored (at most `inTurn` stored at once in this process, in the order taken). Otherwise
  // while this batch's own reads run.
  const handed = typeof data === 'object' && data !== null && handedOver.has(data);
  if (chat && !handed && opts.linkAhead !== false && parsed.data.messages.length >= AHEAD_MIN_MESSAGES && helpers.aheadWorthIt()) prefetchIngest(ctx, parsed.data);
  const result = opts.inTurn === undefined ? await store() : await helpers.inTurn(opts.inTurn, store);
  if (result.conversationIds.length && opts.followUp !== false) {
    await ctx.queue.add('enrich', 'enrich', { conversationIds: result.conversationIds }, { jobId: `enrich-${contentHash(...result.conversationIds, parsed.data.sourceId, ingestJobId(parsed.data))}` });
  }
  return result;
}
