// Enrich shell: for each touched conversation, detect the feedback it carries and its tags, save them
// (human decisions win), and hand the feedback items to the cluster stage.
import { createHash } from 'node:crypto';
import { EnrichPayloadSchema } from '../model/jobs.js';
import { PermanentJobError } from '../queue/port.js';
import { compileRules, detectFeedback, type CompiledRule } from '../pipeline/feedback.js';
import { loadClassifierModel } from '../models/classifier.js';
import { loadConversationMessages } from '../store/feedback.js';
import { saveDetections } from './save-detections.js';
import { resolvePeople } from './people.js';
import { contentHash } from '../pipeline/hash.js';
import { clearEnrichPending, enrichPendingOf } from '../store/pending.js';
import { autoTag } from './tagging.js';
import type { StageContext } from './context.js';

function rulesFor(ctx: StageContext): { rules: CompiledRule[]; version: string } {
  const cache = ctx.services.enrich;
  let r = cache.rules;
  if (r?.config !== ctx.config) {
    const version = `rules-${createHash('sha256').update(JSON.stringify(ctx.config.tags)).digest('hex').slice(0, 10)}`;
    cache.rules = r = { config: ctx.config, rules: compileRules(ctx.config.tags), version };
  }
  return r;
}

/**
 * `followUp: false`: the new items are left to finishPendingWork (they are pending from their insert).
 * `after`: the batch before this one, when they run overlapped (finishPendingWork): this one saves its
 * items only once that one is done, so item ids follow the batches' order whatever finished its
 * detection first (ids break ties in grouping: the same store gives the same clusters).
 */
export async function runEnrich(ctx: StageContext, data: unknown, opts: { followUp?: boolean; after?: Promise<unknown> | null } = {}): Promise<{ items: number[] }> {
  const parsed = EnrichPayloadSchema.safeParse(data);
  if (!parsed.success) throw new PermanentJobError(`enrich: bad payload: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const model = loadClassifierModel();
  const { rules, version } = rulesFor(ctx);
  // Read before the messages: an ingest touching a conversation after this keeps it pending.
  const pending = await enrichPendingOf(ctx.db, parsed.data.conversationIds);
  await resolvePeople(ctx, 'enrich', parsed.data.conversationIds);
  const convs = await loadConversationMessages(ctx.db, parsed.data.conversationIds);
  const items: number[] = [];
  const now = ctx.now();
  // Suggestions from human tags and the optional language model come on top of the classifier and rules.
  // Detection is pure CPU work: shared with the helper threads (the same model and rules there).
  const ids = parsed.data.conversationIds;
  const detections = await ctx.services
    .detectPool()
    .detect({ modelVersion: model.version, rules: ctx.config.tags, rulesVersion: version, conversations: ids.map((id) => convs.get(id) ?? []) }, (messages) =>
      detectFeedback(model, messages, rules, version),
    );
  const detected = new Map(ids.map((id, i) => [id, detections[i] ?? null]));
  const tagged = await autoTag(ctx, ids, convs, (id) => detected.get(id) ?? null);
  if (opts.after) await opts.after;
  // One transaction for the batch: a commit per conversation cost more than the writes themselves.
  const saved = await saveDetections(
    ctx.db,
    tagged.map(({ conversationId, detected, summary }) => ({ conversationId, detected, summary: summary ? { text: summary.text, version: summary.version } : null })),
    now,
  );
  for (const { conversationId } of tagged) {
    const itemId = saved.get(conversationId);
    if (itemId !== undefined && itemId !== null) items.push(itemId);
  }
  if (items.length && opts.followUp !== false) await ctx.queue.add('cluster', 'cluster', { itemIds: items }, { jobId: `cluster-${contentHash(...items)}` });
  // Only now: a run that dies before this enriches these conversations again (the save is idempotent).
  // New items are pending for the cluster stage from their insert (cluster_pending), not by this job.
  await clearEnrichPending(ctx.db, pending);
  return { items };
}
