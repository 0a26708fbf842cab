// The cluster repository, write side: applies the cluster stage's plans (src/pipeline/cluster-plan.ts),
// each in one transaction. Placements are written only if nobody changed the clusters since the plan's
// reads (a state version kept by triggers, under an advisory lock on PostgreSQL and BEGIN IMMEDIATE on
// SQLite); descriptions never rewrite a pinned title.
import { sql, type Kysely } from 'kysely';
import { chunks, dbKind } from './db.js';
import { GleanerError } from '../errors.js';
import { insertRows, runStatement, valuesList } from './bulk.js';
import type { Database } from './schema.js';
import { clusterStateVersion } from './clusters.js';
import { clearClusterPending } from './pending.js';
import { moveTrackerLinks } from './trackers.js';
import type { ClusterDescription, ClusterSeen, PlacementPlan, Regrouping } from '../model/cluster.js';

export interface PlacementResult {
  /** Provisional (negative) key -> the id of the cluster made for it. */
  ids: Map<number, number>;
  /** The clusters' state version right after these writes. */
  version: string;
  /** Items not placed: removed (or marked not feedback) meanwhile. */
  skipped: Set<number>;
}

/** The deferred triggers that move the counter on PostgreSQL (migration 0008). */
const CLUSTER_STATE_TRIGGERS = sql.raw('cluster_state_clusters, cluster_state_cluster_items, cluster_state_cluster_items_move');

/**
 * The version after this transaction's own writes. On PostgreSQL the deferred triggers fire now (the
 * counter moves once for the whole transaction, and its row stays locked until the commit). When another
 * transaction's change committed since `before` was read (an enrich removing a placement does not take
 * the cluster lock), `before` is returned: the caller's index does not hold that change, and the next
 * resync must not take the counter as already seen.
 */
async function settleClusterState(trx: Kysely<Database>, before: string): Promise<string> {
  if (dbKind(trx) !== 'postgres') return clusterStateVersion(trx);
  await sql`SET CONSTRAINTS ${CLUSTER_STATE_TRIGGERS} IMMEDIATE`.execute(trx);
  const r = await sql<{
    version: number | null;
    bumped: string | null;
  }>`SELECT (SELECT version FROM cluster_state WHERE id = 1) AS version, current_setting('gleaner.cluster_state_bumped', true) AS bumped`.execute(trx);
  const { version, bumped } = r.rows[0] ?? { version: null, bumped: null };
  const after = String(version ?? 0);
  return Number(after) === Number(before) + (bumped === 'on' ? 1 : 0) ? after : before;
}

/** The clusters changed since the caller read them (another worker, a human): place the items again. */
export class ClusterStateConflict extends GleanerError {
  constructor(expected: string, found: string) {
    super('conflict', `the clusters changed while placing items (state ${expected} -> ${found})`);
    this.name = 'ClusterStateConflict';
  }
}

/**
 * Serialises the writers of cluster placements: BEGIN IMMEDIATE does it on SQLite; on PostgreSQL a
 * transaction-scoped advisory lock (two workers reading the same version must not both create the
 * cluster for the same new need).
 */
async function lockClusterWrites(trx: Kysely<Database>): Promise<void> {
  if (dbKind(trx) === 'postgres') await sql`SELECT pg_advisory_xact_lock(${CLUSTER_LOCK_KEY})`.execute(trx);
}
/** "GLCL": the advisory lock key of cluster placement writes. */
const CLUSTER_LOCK_KEY = 0x474c434c;

/**
 * Writes a placement plan in one transaction: the new items' need texts, then the placements; clusters
 * to create get a placeholder title (described next). An item that meanwhile got a cluster keeps it; one
 * removed meanwhile is skipped. With `expectedVersion`, nothing is written if the clusters changed since
 * (ClusterStateConflict). Returns provisional key -> id, the state version right after the writes
 * (settleClusterState), and the skipped items.
 */
export async function applyPlacements(db: Kysely<Database>, plan: PlacementPlan, now: number, expectedVersion?: string): Promise<PlacementResult> {
  const { place: proposed, regroup } = plan;
  return db.transaction().execute(async (trx) => {
    await lockClusterWrites(trx);
    const found = await clusterStateVersion(trx);
    if (expectedVersion !== undefined && found !== expectedVersion) throw new ClusterStateConflict(expectedVersion, found);
    await saveNeedTexts(trx, plan.needTexts);
    // Only items that still exist are placed; on PostgreSQL they are held (FOR SHARE) until commit, so
    // an enrich or ingest removing one meanwhile waits and then removes the placement with it.
    const wanted = [...new Set(proposed.map((a) => a.itemId))];
    const alive = new Set<number>();
    for (const part of chunks(wanted)) {
      const q = trx.selectFrom('feedback_items').select('id').where('id', 'in', part).where('status', '!=', 'not_feedback');
      for (const r of await (dbKind(trx) === 'postgres' ? q.forShare() : q).execute()) alive.add(r.id);
    }
    const assignments = proposed.filter((a) => alive.has(a.itemId));
    const skipped = new Set(wanted.filter((id) => !alive.has(id)));
    const ids = new Map<number, number>();
    const existing = new Set(
      (
        await trx
          .selectFrom('clusters')
          .select('id')
          .where('id', 'in', [...new Set(assignments.filter((a) => a.clusterKey > 0).map((a) => a.clusterKey)), -1])
          .execute()
      ).map((r) => r.id),
    );
    const rows: Array<{ cluster_id: number; item_id: number; pinned: number }> = [];
    if (dbKind(trx) === 'sqlite') {
      // New clusters in one statement: SQLite numbers the rows of one insert in order, in a
      // transaction that holds the write lock, so the ids sorted match the keys in order.
      const keys = [...new Set(assignments.filter((a) => a.clusterKey <= 0).map((a) => a.clusterKey))];
      for (const part of chunks(keys, 500)) {
        const made = await insertRows(
          trx,
          'clusters',
          ['title', 'pinned_title', 'summary', 'kind', 'first_seen', 'last_seen', 'created_at', 'updated_at'],
          part.map(() => ['(new cluster)', 0, null, null, null, null, now, now]),
          { returning: ['id'] },
        );
        const madeIds = made.map((r) => Number(r.id)).sort((a, b) => a - b);
        part.forEach((key, i) => ids.set(key, madeIds[i]!));
      }
    }
    if (dbKind(trx) === 'postgres') {
      // New clusters in one statement, their ids taken from the sequence first (in key order).
      const keys = [...new Set(assignments.filter((a) => a.clusterKey <= 0).map((a) => a.clusterKey))];
      if (keys.length) {
        const made = (await runStatement<{ id: number }>(trx, "select nextval(pg_get_serial_sequence('clusters', 'id'))::integer as \"id\" from generate_series(1, ?::integer)", [keys.length]))
          .map((r) => Number(r.id))
          .sort((a, b) => a - b);
        await runStatement(
          trx,
          'insert into "clusters" ("id", "title", "pinned_title", "summary", "kind", "first_seen", "last_seen", "created_at", "updated_at") select "v"."id", \'(new cluster)\', 0, null, null, null, null, ?, ? from unnest(?::integer[]) as "v"("id")',
          [now, now, made],
        );
        keys.forEach((key, i) => ids.set(key, made[i]!));
      }
    }
    for (const a of assignments) {
      let id: number | undefined = a.clusterKey > 0 ? a.clusterKey : ids.get(a.clusterKey);
      if (id !== undefined && a.clusterKey > 0 && !existing.has(id)) throw new Error(`cluster ${id} no longer exists (merged or removed by a human); the index is stale`);
      if (id === undefined) {
        const row = await trx
          .insertInto('clusters')
          .values({ title: '(new cluster)', pinned_title: 0, summary: null, kind: null, first_seen: null, last_seen: null, created_at: now, updated_at: now })
          .returning(['id'])
          .executeTakeFirstOrThrow();
        id = row.id;
        ids.set(a.clusterKey, id);
      }
      rows.push({ cluster_id: id, item_id: a.itemId, pinned: 0 });
    }
    for (const part of chunks(rows, 300)) {
      await insertRows(
        trx,
        'cluster_items',
        ['cluster_id', 'item_id', 'pinned'],
        part.map((r) => [r.cluster_id, r.item_id, r.pinned]),
        // Re-grouping moves items a human did not place; a pinned item stays where the human put it.
        { onConflict: regroup ? 'on conflict ("item_id") do update set "cluster_id" = excluded."cluster_id" where "cluster_items"."pinned" = 0' : 'on conflict ("item_id") do nothing' },
      );
    }
    if (regroup) await applyRegrouping(trx, regroup, ids, now);
    return { ids, version: await settleClusterState(trx, found), skipped };
  });
}

/** Removes the clusters a re-grouping emptied (only if really empty) and records its merges (actor "auto"). */
async function applyRegrouping(trx: Kysely<Database>, r: Regrouping, ids: ReadonlyMap<number, number>, now: number): Promise<void> {
  for (const m of r.merges) {
    const into = m.into < 0 ? ids.get(m.into) : m.into;
    if (into === undefined) continue;
    await trx
      .insertInto('cluster_merges')
      .values({ into_id: into, from_id: m.from, item_ids: JSON.stringify(m.items), score: m.score, actor: 'auto', created_at: now, undone_at: null })
      .execute();
    // A merged cluster that is left empty takes its tracker issues and resolution along.
    if (r.emptied.includes(m.from)) await moveTrackerLinks(trx, m.from, into);
  }
  for (const part of chunks([...r.emptied])) {
    await trx
      .deleteFrom('clusters')
      .where('id', 'in', part)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('cluster_items').select('item_id').whereRef('cluster_items.cluster_id', '=', 'clusters.id'))))
      .execute();
  }
}

/** Descriptions owed, as applyDescriptions records and settles them (migration 0016). */
export interface OwedDescriptions {
  /** Clusters whose describing this batch postponed: their count moves by one. */
  postpone?: readonly number[];
  /** Clusters just described from what they owed (the count read): cleared unless it moved meanwhile. */
  settled?: ReadonlyArray<{ id: number; owed: number }>;
}

/**
 * Writes descriptions in one transaction, a pinned title never rewritten; with it, the items `done`
 * are marked placed and the descriptions owed are recorded and settled (OwedDescriptions).
 */
export async function applyDescriptions(
  db: Kysely<Database>,
  descriptions: ReadonlyMap<number, ClusterDescription | ClusterSeen>,
  now: number,
  done: readonly number[] = [],
  owed: OwedDescriptions = {},
): Promise<void> {
  if (!descriptions.size && !done.length && !owed.postpone?.length && !owed.settled?.length) return;
  await db.transaction().execute(async (trx) => {
    if (dbKind(trx) === 'postgres') await describePg(trx, descriptions, now);
    else {
      // A statement per chunk of each shape (a big batch describes thousands of clusters); a pinned title stays.
      const seen: unknown[][] = [];
      const full: unknown[][] = [];
      for (const [id, d] of descriptions) {
        if (!('title' in d)) seen.push([id, d.firstSeen, d.lastSeen]);
        else full.push([id, d.summary, d.kind, d.firstSeen, d.lastSeen, d.title]);
      }
      for (const part of chunks(seen, 1000)) {
        const v = valuesList(part, 3);
        await runStatement(
          trx,
          `update "clusters" set "first_seen" = "v"."column2", "last_seen" = "v"."column3", "updated_at" = ? from (values ${v.marks}) as "v" where "clusters"."id" = "v"."column1"`,
          [now, ...v.values],
        );
      }
      for (const part of chunks(full, 1000)) {
        const v = valuesList(part, 6);
        await runStatement(
          trx,
          `update "clusters" set "summary" = "v"."column2", "kind" = "v"."column3", "first_seen" = "v"."column4", "last_seen" = "v"."column5", "updated_at" = ?, "title" = case when "clusters"."pinned_title" = 0 then "v"."column6" else "clusters"."title" end from (values ${v.marks}) as "v" where "clusters"."id" = "v"."column1"`,
          [now, ...v.values],
        );
      }
    }
    await settleOwed(trx, owed);
    await clearClusterPending(trx, done);
  });
}

async function settleOwed(trx: Kysely<Database>, owed: OwedDescriptions): Promise<void> {
  for (const part of chunks([...new Set(owed.postpone ?? [])].sort((a, b) => a - b)))
    await trx
      .updateTable('clusters')
      .set({ describe_pending: sql<number>`describe_pending + 1` })
      .where('id', 'in', part)
      .execute();
  const settled = [...(owed.settled ?? [])].sort((a, b) => a.id - b.id);
  if (!settled.length) return;
  if (dbKind(trx) === 'postgres') {
    for (const part of chunks(settled, 5000))
      await runStatement(
        trx,
        'update "clusters" set "describe_pending" = 0 from unnest(?::integer[], ?::integer[]) as "v"("id", "owed") where "clusters"."id" = "v"."id" and "clusters"."describe_pending" = "v"."owed"',
        [part.map((o) => o.id), part.map((o) => o.owed)],
      );
    return;
  }
  for (const part of chunks(settled, 1000)) {
    const v = valuesList(
      part.map((o) => [o.id, o.owed]),
      2,
    );
    await runStatement(
      trx,
      `update "clusters" set "describe_pending" = 0 from (values ${v.marks}) as "v" where "clusters"."id" = "v"."column1" and "clusters"."describe_pending" = "v"."column2"`,
      v.values,
    );
  }
}

/** Up to `limit` clusters after `afterId` that owe a description, lowest ids first, with the count owed. */
export async function clustersOwingDescription(db: Kysely<Database>, afterId: number, limit: number): Promise<Array<{ id: number; owed: number }>> {
  const rows = await db
    .selectFrom('clusters')
    .select(['id', 'describe_pending'])
    .where(sql<boolean>`describe_pending > 0`)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, owed: Number(r.describe_pending) }));
}

/** The items' need texts: one statement per chunk (unnest on PostgreSQL, a values list on SQLite). */
async function saveNeedTexts(trx: Kysely<Database>, needTexts: ReadonlyMap<number, string> | undefined): Promise<void> {
  if (!needTexts?.size) return;
  if (dbKind(trx) === 'postgres') {
    const sorted = [...needTexts].sort((a, b) => a[0] - b[0]);
    for (const part of chunks(sorted, 5000)) {
      await runStatement(trx, 'update "feedback_items" set "need_text" = "v"."text" from unnest(?::integer[], ?::text[]) as "v"("id", "text") where "feedback_items"."id" = "v"."id"', [
        part.map(([id]) => id),
        part.map(([, text]) => text),
      ]);
    }
    return;
  }
  for (const part of chunks([...needTexts], 1000)) {
    const v = valuesList(part, 2);
    await runStatement(trx, `update "feedback_items" set "need_text" = "v"."column2" from (values ${v.marks}) as "v" where "feedback_items"."id" = "v"."column1"`, v.values);
  }
}

/** PostgreSQL: descriptions in two statements per chunk (unnest), as applyDescriptions writes them one by one on SQLite. */
async function describePg(trx: Kysely<Database>, descriptions: ReadonlyMap<number, ClusterDescription | ClusterSeen>, now: number): Promise<void> {
  const sorted = [...descriptions].sort((a, b) => a[0] - b[0]);
  const seen = sorted.filter(([, d]) => !('title' in d));
  const full = sorted.flatMap(([id, d]) => ('title' in d ? [[id, d] as const] : []));
  for (const part of chunks(seen, 5000)) {
    await runStatement(
      trx,
      'update "clusters" set "first_seen" = "v"."first_seen", "last_seen" = "v"."last_seen", "updated_at" = ? from unnest(?::integer[], ?::bigint[], ?::bigint[]) as "v"("id", "first_seen", "last_seen") where "clusters"."id" = "v"."id"',
      [now, part.map(([id]) => id), part.map(([, d]) => d.firstSeen), part.map(([, d]) => d.lastSeen)],
    );
  }
  for (const part of chunks(full, 5000)) {
    await runStatement(
      trx,
      'update "clusters" set "summary" = "v"."summary", "kind" = "v"."kind", "first_seen" = "v"."first_seen", "last_seen" = "v"."last_seen", "updated_at" = ?, "title" = case when "clusters"."pinned_title" = 0 then "v"."title" else "clusters"."title" end from unnest(?::integer[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::text[]) as "v"("id", "summary", "kind", "first_seen", "last_seen", "title") where "clusters"."id" = "v"."id"',
      [now, part.map(([id]) => id), part.map(([, d]) => d.summary), part.map(([, d]) => d.kind), part.map(([, d]) => d.firstSeen), part.map(([, d]) => d.lastSeen), part.map(([, d]) => d.title)],
    );
  }
}
