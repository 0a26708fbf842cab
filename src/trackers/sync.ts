// `gleaner sync` and the scheduled job: each linked issue's state is read back. An issue that closed
// (GitHub/GitLab closed, Jira's done category, Linear completed or canceled) marks its cluster resolved
// with what closed it; one reopened reopens the cluster. Only changes count: a cluster whose closed
// issue stays closed keeps its state (a regression stays a regression until the issue moves again).
import { reopenCluster, resolveCluster, linkedIssues, storeLinkError, storeLinkState } from '../store/trackers.js';
import { getClusters } from '../store/clusters.js';
import { errorCode } from '../errors.js';
import { emitEvent } from '../webhooks/deliver.js';
import { setResolution } from '../store/loop.js';
import { onClusterResolved } from '../loop/drafts.js';
import { trackerClient } from './index.js';
import { withRetry } from './http.js';
import { safeTrackerError, type TrackerContext } from './push.js';
import { clusterUrl } from './content.js';
import type { TrackerClient } from './types.js';

export interface SyncChange {
  clusterId: number;
  tracker: string;
  issue: string;
  change: 'resolved' | 'reopened';
  reference: string | null;
}

export interface SyncResult {
  checked: number;
  changes: SyncChange[];
  errors: Array<{ tracker: string; issue: string; code: string; message: string }>;
}

export async function syncTrackers(ctx: TrackerContext, opts: { tracker?: string } = {}): Promise<SyncResult> {
  const out: SyncResult = { checked: 0, changes: [], errors: [] };
  const clients = new Map<string, TrackerClient>();
  for (const link of await linkedIssues(ctx.db, opts.tracker)) {
    const cfg = ctx.config.trackers.find((t) => t.name === link.tracker);
    if (!cfg) continue; // a tracker removed from the config: its links stay, unsynced
    let client = clients.get(cfg.name);
    if (!client) clients.set(cfg.name, (client = (ctx.client ?? trackerClient)(cfg)));
    const c = client;
    out.checked++;
    try {
      const s = await withRetry(() => c.state(link.externalId!), { retries: cfg.retries, backoffMs: cfg.retryBackoffMs, sleep: ctx.sleep });
      const now = ctx.now();
      await storeLinkState(ctx.db, link.id, s.state, now);
      if (s.state === 'closed' && link.state !== 'closed') {
        const reference = s.reference ?? `${s.key} closed`;
        if (await resolveCluster(ctx.db, link.clusterId, reference, s.referenceUrl, now)) {
          out.changes.push({ clusterId: link.clusterId, tracker: cfg.name, issue: s.key, change: 'resolved', reference });
          const [rec] = await getClusters(ctx.db, [link.clusterId]);
          // The loop's side: the cluster carries the resolution, and a reply is drafted per thread that voiced it.
          await setResolution(ctx.db, link.clusterId, { by: `tracker:${cfg.name}`, reference, url: s.referenceUrl ?? s.url, now });
          await onClusterResolved(ctx, link.clusterId);
          await emitEvent(ctx, 'cluster.resolved', `${link.clusterId}:${now}`, {
            cluster: { id: link.clusterId, title: rec?.title ?? null, url: clusterUrl(ctx.config, link.clusterId) },
            issue: { tracker: cfg.name, key: s.key, url: s.url },
            reference,
            referenceUrl: s.referenceUrl,
          });
        }
      } else if (s.state === 'open' && link.state === 'closed') {
        if (await reopenCluster(ctx.db, link.clusterId, now)) out.changes.push({ clusterId: link.clusterId, tracker: cfg.name, issue: s.key, change: 'reopened', reference: null });
      }
    } catch (err: unknown) {
      const safe = safeTrackerError(ctx.config, cfg.name, err);
      await storeLinkError(ctx.db, link.id, errorCode(safe), safe.message);
      out.errors.push({ tracker: cfg.name, issue: link.key ?? link.externalId!, code: errorCode(safe), message: safe.message });
      ctx.log.warn({ tracker: cfg.name, cluster: link.clusterId, code: errorCode(safe) }, safe.message);
    }
  }
  return out;
}
