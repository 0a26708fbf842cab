// A cluster's issues and resolution as the cluster page, the JSON API and the digest show them.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { DigestIssue, DigestResolution } from '../model/index.js';
import { linksOfClusters, resolutionsOf } from '../store/trackers.js';

export interface ClusterOutbound {
  issues: DigestIssue[];
  resolution: DigestResolution | null;
  /** Tracker calls that failed last (a refused token): shown to curators on the cluster page. */
  errors: Array<{ tracker: string; code: string; message: string }>;
}

const iso = (t: number | null) => (t == null ? null : new Date(t).toISOString());

export async function clusterOutbound(db: Kysely<Database>, clusterIds: readonly number[]): Promise<Map<number, ClusterOutbound>> {
  const links = await linksOfClusters(db, clusterIds);
  const res = await resolutionsOf(db, clusterIds);
  const out = new Map<number, ClusterOutbound>();
  for (const id of clusterIds) {
    const l = links.get(id) ?? [];
    const r = res.get(id);
    out.set(id, {
      issues: l.filter((x) => x.key && x.url).map((x) => ({ tracker: x.tracker, key: x.key!, url: x.url!, state: x.state })),
      resolution: r ? { status: r.status, reference: r.reference, referenceUrl: r.referenceUrl, resolvedAt: iso(r.resolvedAt), regressedAt: iso(r.regressedAt) } : null,
      errors: l.filter((x) => x.lastError).map((x) => ({ tracker: x.tracker, code: x.lastErrorCode ?? 'internal', message: x.lastError! })),
    });
  }
  return out;
}
