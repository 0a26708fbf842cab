// The points where Gleaner emits webhook events, kept here so the stages and the digest workflow
// each call one function: clusters created (and regressions marked) after a placement, clusters
// rising in a digest, digests approved and sent. cluster.resolved is emitted by the tracker sync.
import { getClusters } from '../store/clusters.js';
import { markRegressions } from '../store/trackers.js';
import { weekLabel, type Period } from '../pipeline/period.js';
import type { DigestCluster } from '../model/index.js';
import { emitEvent, type WebhookContext } from './deliver.js';

const clusterUrl = (ctx: WebhookContext, id: number) => `${ctx.config.web.baseUrl.replace(/\/+$/, '')}/clusters/${id}`;

/**
 * After the cluster stage placed items: new reports in a resolved cluster make it a regression, and
 * each new cluster is announced (cluster.created, once per cluster).
 */
export async function afterPlacement(ctx: WebhookContext, created: readonly number[], placedAt: ReadonlyMap<number, readonly number[]>): Promise<void> {
  const regressed = await markRegressions(ctx.db, placedAt, ctx.now());
  if (regressed.length) ctx.log.info({ clusters: regressed }, 'resolved clusters voiced again: marked as regressions');
  if (!created.length || !ctx.config.webhooks.some((w) => w.events.includes('cluster.created'))) return;
  for (const c of await getClusters(ctx.db, created)) {
    await emitEvent(ctx, 'cluster.created', String(c.id), { cluster: { id: c.id, title: c.title, kind: c.kind, summary: c.summary, url: clusterUrl(ctx, c.id) } });
  }
}

/** A digest built for a week: its rising clusters (cluster.rising, once per cluster and week). */
export async function risingInDigest(ctx: WebhookContext, period: Period, clusters: readonly DigestCluster[]): Promise<void> {
  for (const c of clusters) {
    if (c.trend !== 'rising' || !c.id.startsWith('cluster-')) continue;
    const id = Number(c.id.slice('cluster-'.length));
    await emitEvent(ctx, 'cluster.rising', `${id}:${weekLabel(period)}`, {
      cluster: { id, title: c.title, kind: c.kind, url: clusterUrl(ctx, id) },
      week: weekLabel(period),
      reporters: c.reporters,
      why: c.why,
    });
  }
}

/** digest.approved / digest.sent for an edition. */
export async function digestEvent(
  ctx: WebhookContext,
  event: 'digest.approved' | 'digest.sent',
  e: { id: number; team: string; periodStart: number; periodEnd: number },
  extra: Record<string, unknown> = {},
): Promise<void> {
  const base = ctx.config.web.baseUrl.replace(/\/+$/, '');
  await emitEvent(ctx, event, String(e.id), {
    digest: { id: e.id, team: e.team, period: { start: new Date(e.periodStart).toISOString(), end: new Date(e.periodEnd).toISOString() }, url: `${base}/digests/${e.id}` },
    ...extra,
  });
}
