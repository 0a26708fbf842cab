// Closing the loop: when a cluster is resolved (by a curator, `gleaner clusters resolve`, or a tracker's
// sync), one reply is drafted per source thread where its need was voiced, in that platform's form.
// A curator edits and approves them on the cluster page (or `gleaner loop approve`); nothing is sent
// without approval unless `loop.autoApprove: true`.
import type { StageContext } from '../stages/context.js';
import { getResolution, insertReplyDraft, listReplies, setResolution, voicedThreads, type LoopReplyRow } from '../store/loop.js';
import { replyTarget, replyText } from './target.js';
import { sendReply } from './send.js';
import { resolveCluster as recordResolution } from '../store/trackers.js';
import { getClusters } from '../store/clusters.js';
import { emitEvent } from '../webhooks/deliver.js';
import { clusterUrl } from '../trackers/content.js';

export type LoopContext = Pick<StageContext, 'db' | 'config' | 'now' | 'log'>;

export interface Drafted {
  created: number;
  skipped: Array<{ conversationId: number; platform: string; reason: string }>;
  replies: LoopReplyRow[];
}

/**
 * Drafts the replies of a resolved cluster (again: threads that already have one are left alone).
 * Every path that resolves a cluster calls this. With `loop.autoApprove` they are approved and sent.
 */
export async function onClusterResolved(ctx: LoopContext, clusterId: number): Promise<Drafted> {
  const r = await getResolution(ctx.db, clusterId);
  if (!r) throw new Error(`there is no cluster ${clusterId}`);
  if (r.resolvedAt === null) throw new Error(`cluster ${clusterId} is not resolved`);
  const auto = ctx.config.loop.autoApprove;
  const text = replyText(ctx.config.loop.template, { title: r.title, resolution: r.resolution, url: r.url });
  let created = 0;
  const skipped: Drafted['skipped'] = [];
  for (const t of await voicedThreads(ctx.db, clusterId)) {
    const target = replyTarget(t, ctx.config.loop);
    if ('skip' in target) {
      skipped.push({ conversationId: t.conversationId, platform: t.platform, reason: target.skip });
      continue;
    }
    if (
      await insertReplyDraft(ctx.db, {
        clusterId,
        conversationId: t.conversationId,
        sourceId: t.sourceId,
        platform: target.platform,
        target: JSON.stringify(target),
        text,
        status: auto ? 'approved' : 'draft',
        actor: auto ? 'autoApprove' : null,
        now: ctx.now(),
      })
    )
      created++;
  }
  ctx.log.info({ cluster: clusterId, created, skipped: skipped.length }, 'loop replies drafted');
  if (auto) for (const reply of await listReplies(ctx.db, { clusterId, status: ['approved'] })) await sendReply(ctx, reply.id);
  return { created, skipped, replies: await listReplies(ctx.db, { clusterId }) };
}

/** A curator marks a cluster resolved (reference text, optional link); the loop's replies are drafted. */
export async function resolveCluster(ctx: LoopContext, clusterId: number, r: { by: string; reference: string; url?: string | null }): Promise<Drafted> {
  const url = r.url?.trim() || null;
  if (url && !/^https?:\/\/\S+$/i.test(url)) throw new Error(`the resolution link must be an http(s) URL, not ${url}`);
  if (!(await setResolution(ctx.db, clusterId, { by: r.by, reference: r.reference.trim(), url, now: ctx.now() }))) throw new Error(`there is no cluster ${clusterId}`);
  // The same resolution the tracker sync records: new reports after it show as a regression; webhooks hear of it.
  if (await recordResolution(ctx.db, clusterId, r.reference.trim(), url, ctx.now())) {
    const [rec] = await getClusters(ctx.db, [clusterId]);
    await emitEvent(ctx, 'cluster.resolved', `${clusterId}:${ctx.now()}`, {
      cluster: { id: clusterId, title: rec?.title ?? null, url: clusterUrl(ctx.config, clusterId) },
      issue: null,
      reference: r.reference.trim(),
      referenceUrl: url,
      by: r.by,
    });
  }
  return onClusterResolved(ctx, clusterId);
}
