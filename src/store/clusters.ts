// The cluster repository, read side: feedback items with their conversations (for the cluster stage,
// the digest and `gleaner clusters`), assignments of items to clusters, the clusters and their state
// version. What the cluster stage writes is applied by ./cluster-apply.ts.
import type { Kysely } from 'kysely';
import { chunks, dbKind } from './db.js';
import { runStatement } from './bulk.js';
import type { Database } from './schema.js';
import { messagesWithAuthors } from './authors.js';
import { NEED_GROUPS, NEED_GROUP_OF, type FeedbackKind } from '../model/index.js';
import { segmentOf } from '../model/people.js';
import type { ItemForDoc } from '../model/records.js';
import type { ClusterRecord, ClusterSeen, StoredItem } from '../model/cluster.js';

type ItemHead = Omit<StoredItem, 'messages'>;

/** The stored need-group probabilities; one-hot on the kind's group when none were stored or a human set the kind. */
function kindGroupsOf(stored: string | null | undefined, kind: FeedbackKind | null): number[] | null {
  const p = stored ? stored.split(',').map(Number) : [];
  if (p.length === NEED_GROUPS.length && p.every(Number.isFinite)) return p;
  if (!kind) return null;
  return NEED_GROUPS.map((_, g) => (g === NEED_GROUP_OF[kind] ? 1 : 0));
}

/** The items (not marked "not feedback") with their subject (and tags, unless `withTags` is false), in chunks, each with its items by conversation. */
async function* itemHeads(db: Kysely<Database>, itemIds: readonly number[], withTags = true): AsyncGenerator<Map<number, ItemHead>> {
  for (const part of chunks([...new Set(itemIds)])) {
    const items = await db
      .selectFrom('feedback_items as f')
      .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
      .select(['f.id', 'f.conversation_id', 'f.message_id', 'f.kind', 'f.kind_groups', 'f.status', 'f.summary', 'f.summary_version', 'c.subject'])
      .where('f.id', 'in', part)
      .where('f.status', '!=', 'not_feedback')
      .execute();
    if (!items.length) continue;
    const tags = withTags
      ? await itemTags(
          db,
          items.map((i) => i.id),
        )
      : new Map<number, string[]>();
    const byConv = new Map<number, ItemHead>();
    for (const i of items)
      byConv.set(i.conversation_id, {
        itemId: i.id,
        conversationId: i.conversation_id,
        reportMessageId: i.message_id,
        kind: (i.kind as FeedbackKind | null) ?? null,
        kindGroups: kindGroupsOf(i.status === 'confirmed' ? null : i.kind_groups, i.kind as FeedbackKind | null),
        subject: i.subject,
        tags: tags.get(i.id) ?? [],
        llmSummary: i.summary_version?.startsWith('llm:') ? i.summary : null,
      });
    yield byConv;
  }
}

/** The items of itemHeads with no messages yet, in chunks by conversation, each also kept in `out` by item id: for the caller to fill. */
async function* itemsToFill<M>(
  db: Kysely<Database>,
  itemIds: readonly number[],
  out: Map<number, ItemHead & { messages: M[] }>,
  withTags = true,
): AsyncGenerator<Map<number, ItemHead & { messages: M[] }>> {
  for await (const heads of itemHeads(db, itemIds, withTags)) {
    const byConv = new Map<number, ItemHead & { messages: M[] }>();
    for (const [conv, head] of heads) {
      const item = { ...head, messages: [] };
      byConv.set(conv, item);
      out.set(item.itemId, item);
    }
    yield byConv;
  }
}

/** Items (not marked "not feedback") with their conversations' messages and authors resolved to people, orgs and segments. */
export async function loadItems(db: Kysely<Database>, itemIds: readonly number[]): Promise<StoredItem[]> {
  const out = new Map<number, StoredItem>();
  for await (const byConv of itemsToFill(db, itemIds, out)) {
    const rows = await itemMessages(db, [...byConv.keys()])
      .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
      .innerJoin('sources as s', 's.id', 'm.source_id')
      .select(['m.subject', 'm.external_id', 'm.permalink', 'm.reactions', 'p.display_name', 'o.name as org', 'ch.name as channel', 'ch.external_id as channelExternal', 's.platform'])
      .execute();
    for (const r of rows) {
      const item = byConv.get(r.conversation_id!);
      if (!item) continue;
      item.messages.push({
        ...docMessage(r),
        conversationId: r.conversation_id!,
        personName: r.display_name,
        org: r.org,
        subject: r.subject,
        externalId: r.external_id,
        channelExternal: r.channelExternal,
        channel: r.channel ?? r.channelExternal,
        platform: r.platform,
        permalink: r.permalink,
        reactions: r.reactions ? (JSON.parse(r.reactions) as Record<string, number>) : null,
      });
    }
  }
  return itemIds.map((id) => out.get(id)).filter((x): x is StoredItem => x !== undefined);
}

/**
 * The messages of these conversations, oldest first, that count (no copies, nothing deleted), with
 * their authors' people and orgs: what itemDoc reads of each; loadItems selects more.
 */
function itemMessages(db: Kysely<Database>, conversationIds: number[]) {
  return messagesWithAuthors(db)
    .select(['m.id', 'm.conversation_id', 'm.sent_at', 'm.clean_text', 'm.is_bot', 'i.is_bot as identityBot', 'p.id as personId', 'p.is_staff', 'o.segment as orgSegment'])
    .where('m.conversation_id', 'in', conversationIds)
    .where('m.copy_of', 'is', null)
    .where('m.deleted', '=', 0)
    .orderBy('m.sent_at')
    .orderBy('m.id');
}

function docMessage(r: {
  id: number;
  sent_at: number | bigint;
  clean_text: string;
  is_bot: number;
  identityBot: number;
  personId: number;
  is_staff: number;
  orgSegment: string | null;
}): ItemForDoc['messages'][number] {
  const isBot = r.is_bot === 1 || r.identityBot === 1;
  return { messageId: r.id, personId: r.personId, segment: segmentOf({ isBot, isStaff: r.is_staff === 1, orgSegment: r.orgSegment }), at: Number(r.sent_at), text: r.clean_text };
}

/**
 * Items as the cluster stage places and describes them (see itemDoc): the same items and messages as
 * loadItems, with only the fields that reads (no channels, sources, names or reactions: a third of
 * the reading time on a big store) and without tags: neither grouping nor describing reads them, and
 * their query was a sixth of the stage's reading.
 */
export async function loadItemsForDocs(db: Kysely<Database>, itemIds: readonly number[]): Promise<ItemForDoc[]> {
  type DocItem = ItemHead & { messages: Array<ItemForDoc['messages'][number]> };
  const out = new Map<number, DocItem>();
  for await (const byConv of itemsToFill(db, itemIds, out, false)) {
    for (const r of await itemMessages(db, [...byConv.keys()]).execute()) byConv.get(r.conversation_id!)?.messages.push(docMessage(r));
  }
  return itemIds.map((id) => out.get(id)).filter((x): x is DocItem => x !== undefined);
}

/** Which of these items still have no cluster (and are feedback). All unclustered items when `itemIds` is omitted. */
export async function unclusteredItems(db: Kysely<Database>, itemIds?: readonly number[]): Promise<number[]> {
  const q = (ids?: number[]) => {
    let b = db.selectFrom('feedback_items as f').leftJoin('cluster_items as ci', 'ci.item_id', 'f.id').select('f.id').where('ci.item_id', 'is', null).where('f.status', '!=', 'not_feedback');
    if (ids) b = b.where('f.id', 'in', ids);
    return b.orderBy('f.id').execute();
  };
  if (!itemIds) return (await q()).map((r) => r.id);
  const out: number[] = [];
  for (const part of chunks([...new Set(itemIds)])) out.push(...(await q(part)).map((r) => r.id));
  return out;
}

/** Every assignment, in cluster then item order. */
export async function loadAssignments(db: Kysely<Database>): Promise<Array<{ itemId: number; clusterId: number; pinned: boolean }>> {
  const rows = await db.selectFrom('cluster_items').select(['item_id', 'cluster_id', 'pinned']).orderBy('cluster_id').orderBy('item_id').execute();
  return rows.map((r) => ({ itemId: r.item_id, clusterId: r.cluster_id, pinned: r.pinned === 1 }));
}

/**
 * The clusters' state version: when it changes, someone else (a human, another worker) changed a placement.
 * A counter kept by triggers (migration 0008): a cluster created or removed, an item placed, moved,
 * pinned, unpinned or removed moves it; a title, summary or pinned title does not (nothing the index
 * holds). One row to read. On PostgreSQL a transaction's own changes move it when it commits, or earlier
 * at settleClusterState.
 */
export async function clusterStateVersion(db: Kysely<Database>): Promise<string> {
  const r = await db.selectFrom('cluster_state').select('version').where('id', '=', 1).executeTakeFirst();
  return String(r?.version ?? 0);
}

export interface AutoMerge {
  id: number;
  intoId: number;
  fromId: number;
  itemIds: number[];
  score: number;
  at: number;
  undoneAt: number | null;
}

/** The automatic merges recorded into a cluster (newest first). */
export async function autoMerges(db: Kysely<Database>, intoId?: number): Promise<AutoMerge[]> {
  let q = db.selectFrom('cluster_merges').selectAll().where('actor', '=', 'auto');
  if (intoId !== undefined) q = q.where('into_id', '=', intoId);
  const rows = await q.orderBy('id', 'desc').execute();
  return rows.map((r) => ({
    id: r.id,
    intoId: r.into_id,
    fromId: r.from_id,
    itemIds: JSON.parse(r.item_ids) as number[],
    score: r.score,
    at: Number(r.created_at),
    undoneAt: r.undone_at == null ? null : Number(r.undone_at),
  }));
}

/** The first `limit` item ids (lowest first) of each cluster: enough to tell whether it has more. */
export async function firstClusterMembers(db: Kysely<Database>, clusterIds: readonly number[], limit: number): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (dbKind(db) === 'postgres') {
    // One statement for all of them (a round trip per cluster was most of a cluster job's statements).
    for (const part of chunks([...new Set(clusterIds)], 2000)) {
      const rows = await runStatement<{ cluster_id: number; item_id: number }>(
        db,
        'select "c"."id" as "cluster_id", "x"."item_id" from unnest(?::integer[]) as "c"("id") cross join lateral (select "item_id" from "cluster_items" where "cluster_id" = "c"."id" order by "item_id" limit ?) as "x"',
        [part, limit],
      );
      for (const r of rows) {
        const list = out.get(r.cluster_id) ?? [];
        list.push(Number(r.item_id));
        out.set(r.cluster_id, list);
      }
    }
    for (const list of out.values()) list.sort((a, b) => a - b);
    return new Map([...new Set(clusterIds)].flatMap((id) => (out.has(id) ? [[id, out.get(id)!] as const] : [])));
  }
  // One fixed statement per chunk (a batch touches thousands of clusters, and a statement each was most
  // of their reading): each cluster's first items through the (cluster_id, item_id) index, as a JSON array.
  for (const part of chunks([...new Set(clusterIds)], 500)) {
    const rows = await runStatement<{ cluster_id: number; items: string }>(
      db,
      'select "c"."value" as "cluster_id", (select json_group_array("x"."item_id") from (select "item_id" from "cluster_items" where "cluster_id" = "c"."value" order by "item_id" limit ?) as "x") as "items" from json_each(?) as "c"',
      [limit, JSON.stringify(part)],
    );
    for (const r of rows) {
      const ids = (JSON.parse(r.items) as number[]).sort((a, b) => a - b);
      if (ids.length) out.set(Number(r.cluster_id), ids);
    }
  }
  return out;
}

/** Item ids per cluster. */
export async function clusterMembers(db: Kysely<Database>, clusterIds: readonly number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  for (const part of chunks([...new Set(clusterIds)])) {
    // Sorted here: ORDER BY item_id lets SQLite walk the whole table in item order instead of the cluster index.
    const rows = await db.selectFrom('cluster_items').select(['cluster_id', 'item_id']).where('cluster_id', 'in', part).execute();
    for (const r of rows) {
      const list = out.get(r.cluster_id) ?? [];
      list.push(r.item_id);
      out.set(r.cluster_id, list);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a - b);
  return out;
}

/** Stored first/last seen of clusters. */
export async function clusterSeen(db: Kysely<Database>, clusterIds: readonly number[]): Promise<Map<number, ClusterSeen>> {
  const out = new Map<number, ClusterSeen>();
  for (const part of chunks([...new Set(clusterIds)])) {
    const rows = await db.selectFrom('clusters').select(['id', 'first_seen', 'last_seen']).where('id', 'in', part).execute();
    for (const r of rows) out.set(r.id, { firstSeen: r.first_seen, lastSeen: r.last_seen });
  }
  return out;
}

export async function getClusters(db: Kysely<Database>, ids?: readonly number[]): Promise<ClusterRecord[]> {
  const map = (r: { id: number; title: string; pinned_title: number; summary: string | null; kind: string | null; first_seen: number | null; last_seen: number | null }): ClusterRecord => ({
    id: r.id,
    title: r.title,
    pinnedTitle: r.pinned_title === 1,
    summary: r.summary,
    kind: (r.kind as FeedbackKind | null) ?? null,
    firstSeen: r.first_seen == null ? null : Number(r.first_seen),
    lastSeen: r.last_seen == null ? null : Number(r.last_seen),
  });
  const cols = ['id', 'title', 'pinned_title', 'summary', 'kind', 'first_seen', 'last_seen'] as const;
  if (!ids) return (await db.selectFrom('clusters').select(cols).orderBy('id').execute()).map(map);
  const out: ClusterRecord[] = [];
  for (const part of chunks([...new Set(ids)])) out.push(...(await db.selectFrom('clusters').select(cols).where('id', 'in', part).orderBy('id').execute()).map(map));
  return out;
}

/** Clusters with any message (in their items' conversations) in [from, to). */
export async function clustersWithActivity(db: Kysely<Database>, from: number, to: number): Promise<number[]> {
  const rows = await db
    .selectFrom('cluster_items as ci')
    .innerJoin('feedback_items as f', 'f.id', 'ci.item_id')
    .innerJoin('messages as m', 'm.conversation_id', 'f.conversation_id')
    .select('ci.cluster_id')
    .distinct()
    .where('m.sent_at', '>=', from)
    .where('m.sent_at', '<', to)
    .where('m.copy_of', 'is', null)
    .where('m.deleted', '=', 0)
    .where('f.status', '!=', 'not_feedback')
    .orderBy('ci.cluster_id')
    .execute();
  return rows.map((r) => r.cluster_id);
}

/**
 * Per cluster with any message in [from, to): how many distinct people, neither staff nor writing as a
 * bot, wrote one then in its items' conversations, by their org's segment (null: none). Whoever voiced
 * its need in the period is among them: a bound on the period's reporters.
 */
export async function periodAuthors(db: Kysely<Database>, from: number, to: number): Promise<Map<number, Array<{ segment: string | null; people: number }>>> {
  const rows = await messagesWithAuthors(db)
    .innerJoin('feedback_items as f', 'f.conversation_id', 'm.conversation_id')
    .innerJoin('cluster_items as ci', 'ci.item_id', 'f.id')
    .select((eb) => ['ci.cluster_id', 'o.segment', eb.fn.count<number>('p.id').distinct().as('n')])
    .where('m.sent_at', '>=', from)
    .where('m.sent_at', '<', to)
    .where('m.copy_of', 'is', null)
    .where('m.deleted', '=', 0)
    .where('m.is_bot', '=', 0)
    .where('i.is_bot', '=', 0)
    .where('p.is_staff', '=', 0)
    .where('f.status', '!=', 'not_feedback')
    .groupBy(['ci.cluster_id', 'o.segment'])
    .execute();
  const out = new Map<number, Array<{ segment: string | null; people: number }>>();
  for (const r of rows) {
    const list = out.get(r.cluster_id) ?? [];
    list.push({ segment: r.segment, people: Number(r.n) });
    out.set(r.cluster_id, list);
  }
  return out;
}

/** Active tags per item (human removals applied, `kind:` tags left out). */
export async function itemTags(db: Kysely<Database>, itemIds: readonly number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const part of chunks([...new Set(itemIds)])) {
    const rows = await db.selectFrom('tags').select(['item_id', 'tag', 'provenance', 'state']).where('item_id', 'in', part).orderBy('tag').execute();
    const removed = new Set(rows.filter((t) => t.provenance === 'human' && t.state === 'removed').map((t) => `${t.item_id}\u0000${t.tag}`));
    for (const t of rows) {
      if (t.state !== 'active' || removed.has(`${t.item_id}\u0000${t.tag}`) || t.tag.startsWith('kind:') || t.tag === 'not-feedback') continue;
      const list = out.get(t.item_id) ?? [];
      if (!list.includes(t.tag)) list.push(t.tag);
      out.set(t.item_id, list);
    }
  }
  return out;
}
