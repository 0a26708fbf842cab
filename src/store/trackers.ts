// Tracker links (a cluster's issue in each tracker) and cluster resolutions. A push claims the
// (cluster, tracker) row first: the unique key makes a second push find the row, and the claim
// (a token with a lease) makes it wait until the first has stored the issue it created, then update it.
import type { Kysely, Selectable } from 'kysely';
import type { Database, TrackerLinksTable } from './schema.js';

export interface TrackerLink {
  id: number;
  clusterId: number;
  tracker: string;
  externalId: string | null;
  key: string | null;
  url: string | null;
  state: 'open' | 'closed' | null;
  lastError: string | null;
  lastErrorCode: string | null;
  pushedAt: number | null;
  syncedAt: number | null;
}

type LinkRow = Selectable<TrackerLinksTable>;

function toLink(r: LinkRow): TrackerLink {
  return {
    id: r.id,
    clusterId: r.cluster_id,
    tracker: r.tracker,
    externalId: r.external_id,
    key: r.issue_key,
    url: r.url,
    state: r.state === 'open' || r.state === 'closed' ? r.state : null,
    lastError: r.last_error,
    lastErrorCode: r.last_error_code,
    pushedAt: r.pushed_at == null ? null : Number(r.pushed_at),
    syncedAt: r.synced_at == null ? null : Number(r.synced_at),
  };
}

/**
 * Claims the (cluster, tracker) link for `token` until `now + leaseMs`: the row is created when there
 * is none; an existing row is taken when nobody holds it or the holder's lease ran out. Null when
 * another push holds it.
 */
export async function claimLink(db: Kysely<Database>, clusterId: number, tracker: string, token: string, now: number, leaseMs: number): Promise<TrackerLink | null> {
  await db
    .insertInto('tracker_links')
    .values({ cluster_id: clusterId, tracker, claim_token: token, claim_until: now + leaseMs, created_at: now })
    .onConflict((oc) => oc.columns(['cluster_id', 'tracker']).doNothing())
    .execute();
  await db
    .updateTable('tracker_links')
    .set({ claim_token: token, claim_until: now + leaseMs })
    .where('cluster_id', '=', clusterId)
    .where('tracker', '=', tracker)
    .where((eb) => eb.or([eb('claim_token', 'is', null), eb('claim_until', '<', now), eb('claim_token', '=', token)]))
    .execute();
  const row = await db.selectFrom('tracker_links').selectAll().where('cluster_id', '=', clusterId).where('tracker', '=', tracker).executeTakeFirst();
  return row && row.claim_token === token ? toLink(row) : null;
}

/** Stores the issue a claimed push created or updated, and lets go of the claim. */
export async function storeLinkIssue(db: Kysely<Database>, id: number, token: string, issue: { externalId: string; key: string; url: string; state: 'open' | 'closed' }, now: number): Promise<void> {
  await db
    .updateTable('tracker_links')
    .set({ external_id: issue.externalId, issue_key: issue.key, url: issue.url, state: issue.state, pushed_at: now, last_error: null, last_error_code: null, claim_token: null, claim_until: null })
    .where('id', '=', id)
    .where('claim_token', '=', token)
    .execute();
}

/** Keeps what a tracker call failed with (shown on the cluster page and in `gleaner trackers`); lets go of the claim when `token` holds it. */
export async function storeLinkError(db: Kysely<Database>, id: number, code: string, message: string, token?: string): Promise<void> {
  await db
    .updateTable('tracker_links')
    .set({ last_error: message.slice(0, 2000), last_error_code: code })
    .where('id', '=', id)
    .execute();
  if (token) await db.updateTable('tracker_links').set({ claim_token: null, claim_until: null }).where('id', '=', id).where('claim_token', '=', token).execute();
}

/** The links of the given clusters (those with an issue, and those whose push failed). */
export async function linksOfClusters(db: Kysely<Database>, clusterIds: readonly number[]): Promise<Map<number, TrackerLink[]>> {
  const out = new Map<number, TrackerLink[]>();
  if (!clusterIds.length) return out;
  const rows = await db
    .selectFrom('tracker_links')
    .selectAll()
    .where('cluster_id', 'in', [...clusterIds])
    .orderBy('id')
    .execute();
  for (const r of rows) {
    const l = toLink(r);
    if (!l.externalId && !l.lastError) continue;
    const list = out.get(l.clusterId) ?? [];
    list.push(l);
    out.set(l.clusterId, list);
  }
  return out;
}

/** Every link with an issue, for the sync. */
export async function linkedIssues(db: Kysely<Database>, tracker?: string): Promise<TrackerLink[]> {
  let q = db.selectFrom('tracker_links').selectAll().where('external_id', 'is not', null);
  if (tracker) q = q.where('tracker', '=', tracker);
  return (await q.orderBy('id').execute()).map((r) => toLink(r));
}

export async function storeLinkState(db: Kysely<Database>, id: number, state: 'open' | 'closed', now: number): Promise<void> {
  await db.updateTable('tracker_links').set({ state, synced_at: now, last_error: null, last_error_code: null }).where('id', '=', id).execute();
}

/** Per tracker: links, issues, and the latest error (a 401 says the token is bad). */
export async function trackerSummaries(db: Kysely<Database>): Promise<Map<string, { links: number; open: number; closed: number; lastError: string | null; lastErrorCode: string | null }>> {
  const rows = await db.selectFrom('tracker_links').select(['tracker', 'external_id', 'state', 'last_error', 'last_error_code', 'id']).orderBy('id').execute();
  const out = new Map<string, { links: number; open: number; closed: number; lastError: string | null; lastErrorCode: string | null }>();
  for (const r of rows) {
    const s = out.get(r.tracker) ?? { links: 0, open: 0, closed: 0, lastError: null, lastErrorCode: null };
    if (r.external_id) s.links++;
    if (r.state === 'open') s.open++;
    if (r.state === 'closed') s.closed++;
    if (r.last_error) [s.lastError, s.lastErrorCode] = [r.last_error, r.last_error_code];
    out.set(r.tracker, s);
  }
  return out;
}

export interface ClusterResolution {
  clusterId: number;
  status: 'resolved' | 'reopened' | 'regressed';
  reference: string | null;
  referenceUrl: string | null;
  resolvedAt: number | null;
  regressedAt: number | null;
  regressionItems: number;
}

export async function resolutionsOf(db: Kysely<Database>, clusterIds: readonly number[]): Promise<Map<number, ClusterResolution>> {
  if (!clusterIds.length) return new Map();
  const rows = await db
    .selectFrom('cluster_resolutions')
    .selectAll()
    .where('cluster_id', 'in', [...clusterIds])
    .execute();
  return new Map(
    rows.map((r) => [
      r.cluster_id,
      {
        clusterId: r.cluster_id,
        status: r.status as ClusterResolution['status'],
        reference: r.reference,
        referenceUrl: r.reference_url,
        resolvedAt: r.resolved_at == null ? null : Number(r.resolved_at),
        regressedAt: r.regressed_at == null ? null : Number(r.regressed_at),
        regressionItems: Number(r.regression_items),
      },
    ]),
  );
}

/** Marks the cluster resolved (the closing reference kept); false when it was resolved already. */
export async function resolveCluster(db: Kysely<Database>, clusterId: number, reference: string, referenceUrl: string | null, now: number): Promise<boolean> {
  const prev = await db.selectFrom('cluster_resolutions').select('status').where('cluster_id', '=', clusterId).executeTakeFirst();
  if (prev?.status === 'resolved') return false;
  await db
    .insertInto('cluster_resolutions')
    .values({ cluster_id: clusterId, status: 'resolved', reference, reference_url: referenceUrl, resolved_at: now, regressed_at: null, regression_items: 0, updated_at: now })
    .onConflict((oc) => oc.column('cluster_id').doUpdateSet({ status: 'resolved', reference, reference_url: referenceUrl, resolved_at: now, regressed_at: null, regression_items: 0, updated_at: now }))
    .execute();
  return true;
}

/** The issue was reopened: the cluster is open again. False when it was not resolved. */
export async function reopenCluster(db: Kysely<Database>, clusterId: number, now: number): Promise<boolean> {
  const r = await db
    .updateTable('cluster_resolutions')
    .set({ status: 'reopened', updated_at: now })
    .where('cluster_id', '=', clusterId)
    .where('status', 'in', ['resolved', 'regressed'])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * New reports placed in resolved clusters: a cluster gets `regressed` when one was voiced after the
 * resolution (older history imported later does not count). Returns the clusters that became regressed now.
 */
export async function markRegressions(db: Kysely<Database>, placed: ReadonlyMap<number, readonly number[]>, now: number): Promise<number[]> {
  const res = await resolutionsOf(db, [...placed.keys()]);
  const regressed: number[] = [];
  for (const [clusterId, ats] of placed) {
    const r = res.get(clusterId);
    if (!r || (r.status !== 'resolved' && r.status !== 'regressed') || r.resolvedAt == null) continue;
    const after = ats.filter((at) => at > r.resolvedAt!).length;
    if (!after) continue;
    await db
      .updateTable('cluster_resolutions')
      .set((eb) => ({ status: 'regressed', regressed_at: r.regressedAt ?? now, regression_items: eb('regression_items', '+', after), updated_at: now }))
      .where('cluster_id', '=', clusterId)
      .execute();
    if (r.status === 'resolved') regressed.push(clusterId);
  }
  return regressed;
}

/**
 * A cluster merged into another (by a curator or the grouping): its issues and resolution go with its
 * items, unless the other cluster has its own issue in that tracker (then the merged one's link stays
 * as it was, pointing at a cluster that is gone) or its own resolution.
 */
export async function moveTrackerLinks(trx: Kysely<Database>, fromId: number, intoId: number): Promise<void> {
  const taken = (await trx.selectFrom('tracker_links').select('tracker').where('cluster_id', '=', intoId).execute()).map((r) => r.tracker);
  let q = trx.updateTable('tracker_links').set({ cluster_id: intoId }).where('cluster_id', '=', fromId);
  if (taken.length) q = q.where('tracker', 'not in', taken);
  await q.execute();
  const own = await trx.selectFrom('cluster_resolutions').select('cluster_id').where('cluster_id', '=', intoId).executeTakeFirst();
  if (!own) await trx.updateTable('cluster_resolutions').set({ cluster_id: intoId }).where('cluster_id', '=', fromId).execute();
}
