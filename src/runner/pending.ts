// Finishes the follow-up work the store records as owed (src/store/pending.ts): feedback detection for
// conversations whose messages changed, cluster placement for new items. Every run does it, so work
// that an interrupted run never got to (its jobs held in memory, or a Redis that lost them) is done by
// the next one: `import` and `pull` in-process, `worker` when its queues are idle, `gleaner repair`.
import type { StageContext } from '../stages/context.js';
import { runEnrich } from '../stages/enrich.js';
import { runCluster } from '../stages/cluster.js';
import { describeOwedClusters } from '../stages/describe.js';
import { contentHash } from '../pipeline/hash.js';
import { enrichPendingOf, pendingConversations, pendingItems, pendingWorkCounts, type PendingCounts } from '../store/pending.js';
import type { QueueName } from '../queue/port.js';

/** Conversations per enrich call (two run at once: one loads and detects while the other saves). */
export const PENDING_ENRICH_CHUNK = 500;
/** Items per cluster call. */
export const PENDING_CLUSTER_CHUNK = 1000;
/** Passes over what is still pending; another writer can leave some behind each time. */
const MAX_PASSES = 5;

export interface PendingDone {
  conversations: number;
  items: number;
}

/**
 * In this process: every pending conversation is enriched (in id order, PENDING_ENRICH_CHUNK at a time),
 * then every pending item is placed (in conversation order, PENDING_CLUSTER_CHUNK at a time). The order
 * is the store's, not the order jobs happened to be in: an interrupted run followed by this one leaves
 * the store as one uninterrupted run would.
 */
export async function finishPendingWork(ctx: StageContext, onProgress?: (done: PendingDone, left: PendingCounts) => void): Promise<PendingDone> {
  const done: PendingDone = { conversations: 0, items: 0 };
  for (let pass = 1; ; pass++) {
    let left = await pendingWorkCounts(ctx.db);
    if (!left.conversations && !left.items) {
      // Descriptions a stopped run left owing (the last placing batch describes them otherwise).
      await describeOwedClusters(ctx.db, ctx.now, ctx.services.cluster.describedAt);
      return done;
    }
    if (pass > MAX_PASSES) {
      ctx.log.warn({ stage: 'pending', left }, 'work still pending after several passes (another process is writing?); the next run takes it up');
      return done;
    }
    let after = 0;
    let ahead: Promise<unknown> | null = null;
    for (;;) {
      const ids = await pendingConversations(ctx.db, after, PENDING_ENRICH_CHUNK);
      if (!ids.length) break;
      after = ids[ids.length - 1]!;
      const run = runEnrich(ctx, { conversationIds: ids }, { followUp: false, after: ahead?.catch(() => undefined) });
      run.catch(() => undefined); // awaited below, in order
      if (ahead) await ahead;
      ahead = run.then(() => {
        done.conversations += ids.length;
        onProgress?.(done, left);
      });
    }
    await ahead;
    left = await pendingWorkCounts(ctx.db);
    let afterConv = 0;
    for (;;) {
      const items = await pendingItems(ctx.db, afterConv, PENDING_CLUSTER_CHUNK);
      if (!items.length) break;
      afterConv = items[items.length - 1]!.conversationId;
      await runCluster(ctx, { itemIds: items.map((i) => i.id) });
      done.items += items.length;
      onProgress?.(done, left);
    }
  }
}

/**
 * With BullMQ: pending work becomes jobs. Job ids are made from the rows and their pending counts, so
 * workers sweeping at once add each job once, and a conversation touched again gets a new job.
 */
export async function enqueuePendingWork(ctx: StageContext): Promise<PendingDone> {
  const out: PendingDone = { conversations: 0, items: 0 };
  let after = 0;
  for (;;) {
    const ids = await pendingConversations(ctx.db, after, PENDING_ENRICH_CHUNK);
    if (!ids.length) break;
    after = ids[ids.length - 1]!;
    const counts = await enrichPendingOf(ctx.db, ids);
    await ctx.queue.add('enrich', 'enrich', { conversationIds: ids }, { jobId: `enrich-pending-${contentHash(...ids.map((id) => `${id}.${counts.get(id) ?? 0}`))}` });
    out.conversations += ids.length;
  }
  let afterConv = 0;
  for (;;) {
    const items = await pendingItems(ctx.db, afterConv, PENDING_CLUSTER_CHUNK);
    if (!items.length) break;
    afterConv = items[items.length - 1]!.conversationId;
    const itemIds = items.map((i) => i.id);
    await ctx.queue.add('cluster', 'cluster', { itemIds }, { jobId: `cluster-pending-${contentHash(...itemIds)}` });
    out.items += items.length;
  }
  return out;
}

const FLOW: readonly QueueName[] = ['ingest', 'enrich', 'cluster'];

/**
 * A worker's sweep: when no ingest, enrich or cluster job is waiting, running or delayed, whatever the
 * store still records as pending was lost (or is a moment from being queued) and is queued again. While
 * jobs are queued it waits: they carry that work already.
 */
export async function sweepPendingWhenIdle(ctx: StageContext): Promise<PendingDone | null> {
  for (const q of FLOW) {
    const c = await ctx.queue.counts(q);
    if (c.waiting + c.active + c.delayed > 0) return null;
  }
  const left = await pendingWorkCounts(ctx.db);
  if (!left.conversations && !left.items) {
    // Nothing left to place: descriptions still owed (batches of two workers each saw the other's
    // items pending and postponed) are settled here.
    const described = await describeOwedClusters(ctx.db, ctx.now, ctx.services.cluster.describedAt);
    if (described) ctx.log.info({ stage: 'cluster', described }, 'described the clusters a backlog left owing');
    return { conversations: 0, items: 0 };
  }
  const queued = await enqueuePendingWork(ctx);
  ctx.log.info({ stage: 'pending', ...queued }, 'queued work an earlier run left pending');
  return queued;
}
