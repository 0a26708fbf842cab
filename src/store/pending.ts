// Follow-up work recorded in the store (migration 0010): conversations whose feedback is still to be
// detected, items still to be placed in clusters. A queued job is only a messenger: when it is lost
// (an in-process run killed, a Redis flushed), the store still says what is owed, and the next run
// hands it out again. Every query here reads the partial indexes over the pending rows only.
import { sql, type Kysely } from 'kysely';
import { chunks } from './db.js';
import type { Database } from './schema.js';

/** Each conversation's pending count as it is now: enrich clears only what it has seen. */
export async function enrichPendingOf(db: Kysely<Database>, ids: readonly number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const part of chunks([...ids])) {
    for (const r of await db.selectFrom('conversations').select(['id', 'enrich_pending']).where('id', 'in', part).execute()) out.set(r.id, Number(r.enrich_pending));
  }
  return out;
}

/**
 * Marks conversations enriched, unless an ingest touched one again since its value was read (that
 * one stays pending: the detection just saved may have missed the new messages).
 */
export async function clearEnrichPending(db: Kysely<Database>, seen: ReadonlyMap<number, number>): Promise<void> {
  const byValue = new Map<number, number[]>();
  for (const [id, v] of seen) if (v > 0) byValue.set(v, [...(byValue.get(v) ?? []), id]);
  if (!byValue.size) return;
  await db.transaction().execute(async (trx) => {
    for (const [v, ids] of byValue) {
      for (const part of chunks(ids.sort((a, b) => a - b))) await trx.updateTable('conversations').set({ enrich_pending: 0 }).where('id', 'in', part).where('enrich_pending', '=', v).execute();
    }
  });
}

/** Up to `limit` conversations owed enrichment, by id after `afterId`. */
export async function pendingConversations(db: Kysely<Database>, afterId: number, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('conversations')
    .select('id')
    .where(sql<boolean>`enrich_pending > 0`)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Up to `limit` items not yet seen placed by the cluster stage, in conversation order after the
 * conversation `afterConversationId` (an item's conversation is unique among items).
 */
export async function pendingItems(db: Kysely<Database>, afterConversationId: number, limit: number): Promise<Array<{ id: number; conversationId: number }>> {
  const rows = await db
    .selectFrom('feedback_items')
    .select(['id', 'conversation_id'])
    .where(sql<boolean>`cluster_pending = 1`)
    .where('conversation_id', '>', afterConversationId)
    .orderBy('conversation_id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, conversationId: r.conversation_id }));
}

/** Items the cluster stage has placed (or found placed, gone or set aside); run inside the caller's transaction. */
export async function clearClusterPending(trx: Kysely<Database>, ids: readonly number[]): Promise<void> {
  for (const part of chunks([...new Set(ids)].sort((a, b) => a - b)))
    await trx
      .updateTable('feedback_items')
      .set({ cluster_pending: 0 })
      .where('id', 'in', part)
      .where(sql<boolean>`cluster_pending = 1`)
      .execute();
}

export interface PendingCounts {
  conversations: number;
  items: number;
}

export async function pendingWorkCounts(db: Kysely<Database>): Promise<PendingCounts> {
  const c = await db
    .selectFrom('conversations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(sql<boolean>`enrich_pending > 0`)
    .executeTakeFirstOrThrow();
  const i = await db
    .selectFrom('feedback_items')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(sql<boolean>`cluster_pending = 1`)
    .executeTakeFirstOrThrow();
  return { conversations: Number(c.n), items: Number(i.n) };
}

/**
 * `gleaner repair --recheck`: a full pass over the store (not a run's fast path). Items that are
 * neither placed nor set aside are marked for the cluster stage; with `conversations`, every
 * conversation without a feedback item is marked for enrichment again (a store that an interrupted
 * run of a version before 0010 left without its detections). Returns how many rows were marked.
 */
export async function markUnfinishedWork(db: Kysely<Database>, opts: { conversations: boolean }): Promise<PendingCounts> {
  return db.transaction().execute(async (trx) => {
    const items =
      await sql`UPDATE feedback_items SET cluster_pending = 1 WHERE cluster_pending = 0 AND status <> 'not_feedback' AND NOT EXISTS (SELECT 1 FROM cluster_items ci WHERE ci.item_id = feedback_items.id)`.execute(
        trx,
      );
    let conversations = 0;
    if (opts.conversations) {
      const r =
        await sql`UPDATE conversations SET enrich_pending = enrich_pending + 1 WHERE enrich_pending = 0 AND NOT EXISTS (SELECT 1 FROM feedback_items f WHERE f.conversation_id = conversations.id)`.execute(
          trx,
        );
      conversations = Number(r.numAffectedRows ?? 0);
    }
    return { conversations, items: Number(items.numAffectedRows ?? 0) };
  });
}

/** Which of `ids` are still marked pending for the cluster stage. */
export async function stillClusterPending(db: Kysely<Database>, ids: readonly number[]): Promise<Set<number>> {
  const out = new Set<number>();
  for (const part of chunks([...new Set(ids)])) {
    for (const r of await db
      .selectFrom('feedback_items')
      .select('id')
      .where('id', 'in', part)
      .where(sql<boolean>`cluster_pending = 1`)
      .execute())
      out.add(r.id);
  }
  return out;
}

/** The clusters holding any of `itemIds`. */
export async function clustersOfItems(db: Kysely<Database>, itemIds: readonly number[]): Promise<number[]> {
  const out = new Set<number>();
  for (const part of chunks([...itemIds])) for (const r of await db.selectFrom('cluster_items').select('cluster_id').where('item_id', 'in', part).execute()) out.add(r.cluster_id);
  return [...out].sort((a, b) => a - b);
}

/**
 * Whether items other than `itemIds` are waiting to be placed: a backlog the cluster stage places
 * before it describes the clusters it touched (any pending rows, read through the partial index).
 */
export async function otherItemsPending(db: Kysely<Database>, itemIds: readonly number[]): Promise<boolean> {
  const own = new Set(itemIds);
  const rows = await db
    .selectFrom('feedback_items')
    .select('id')
    .where(sql<boolean>`cluster_pending = 1`)
    .limit(own.size + 1)
    .execute();
  return rows.some((r) => !own.has(r.id));
}
