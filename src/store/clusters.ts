// The cluster repository: feedback items with their conversations (for the cluster stage, the digest
// and `gleaner clusters`), assignments of items to clusters, and the clusters' descriptions.
// Assignments are insert-only here: an item in a cluster stays there unless a human moves it
// (src/store/curation.ts), and a pinned title is never rewritten.
import { sql, type Kysely } from 'kysely';
import { chunks, dbKind } from './db.js';
import { GleanerError } from '../errors.js';
import { insertRows, runStatement } from './bulk.js';
import type { Database } from './schema.js';
import { messagesWithAuthors } from './authors.js';
import { moveTrackerLinks } from './trackers.js';
import type { FeedbackKind } from '../model/index.js';
import { segmentOf } from '../model/people.js';
import type { ItemForDoc, PriorityMessage } from '../model/records.js';

export interface ItemMessage extends PriorityMessage {
  subject: string | null;
  /** The mail's Message-ID (or the platform's message id): what an archive's link is made from. */
  externalId?: string;
  /** The channel's platform id (a mailing list's List-Id), which archive links are configured by. */
  channelExternal?: string;
}

export interface StoredItem {
  itemId: number;
  conversationId: number;
  reportMessageId: number;
  kind: FeedbackKind | null;
  subject: string | null;
  /** Active tags (human removals applied, no `kind:` tags). */
  tags: string[];
  /** A language model's summary of the item (`llm:` versions only), when one was written. */
  llmSummary?: string | null;
  /** The conversation's messages, oldest first: no copies, nothing deleted. */
  messages: ItemMessage[];
}


type ItemHead = Omit<StoredItem, 'messages'>;

/** The items (not marked "not feedback") with their subject and tags, in chunks, each with its items by conversation. */
async function* itemHeads(db: Kysely<Database>, itemIds: readonly number[]): AsyncGenerator<Map<number, ItemHead>> {
  for (const part of chunks([...new Set(itemIds)])) {
    const items = await db
      .selectFrom('feedback_items as f')
      .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
      .select(['f.id', 'f.conversation_id', 'f.message_id', 'f.kind', 'f.summary', 'f.summary_version', 'c.subject'])
      .where('f.id', 'in', part)
      .where('f.status', '!=', 'not_feedback')
      .execute();
    if (!items.length) continue;
    const tags = await itemTags(db, items.map((i) => i.id));
    const byConv = new Map<number, ItemHead>();
    for (const i of items) byConv.set(i.conversation_id, { itemId: i.id, conversationId: i.conversation_id, reportMessageId: i.message_id, kind: (i.kind as FeedbackKind | null) ?? null, subject: i.subject, tags: tags.get(i.id) ?? [], llmSummary: i.summary_version?.startsWith('llm:') ? i.summary : null });
    yield byConv;
  }
}

/** Items (not marked "not feedback") with their conversations' messages and authors resolved to people, orgs and segments. */
export async function loadItems(db: Kysely<Database>, itemIds: readonly number[]): Promise<StoredItem[]> {
  const out = new Map<number, StoredItem>();
  for await (const heads of itemHeads(db, itemIds)) {
    const byConv = new Map<number, StoredItem>();
    for (const [conv, head] of heads) {
      const item: StoredItem = { ...head, messages: [] };
      byConv.set(conv, item);
      out.set(item.itemId, item);
    }
    const rows = await itemMessages(db, [...heads.keys()])
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

function docMessage(r: { id: number; sent_at: number | bigint; clean_text: string; is_bot: number; identityBot: number; personId: number; is_staff: number; orgSegment: string | null }): ItemForDoc['messages'][number] {
  const isBot = r.is_bot === 1 || r.identityBot === 1;
  return { messageId: r.id, personId: r.personId, segment: segmentOf({ isBot, isStaff: r.is_staff === 1, orgSegment: r.orgSegment }), at: Number(r.sent_at), text: r.clean_text };
}

/**
 * Items as the cluster stage places and describes them (see itemDoc): the same items and messages as
 * loadItems, with only the fields that reads (no channels, sources, names or reactions: a third of
 * the reading time on a big store).
 */
export async function loadItemsForDocs(db: Kysely<Database>, itemIds: readonly number[]): Promise<ItemForDoc[]> {
  type DocItem = ItemForDoc & { messages: Array<ItemForDoc['messages'][number]> };
  const out = new Map<number, DocItem>();
  for await (const heads of itemHeads(db, itemIds)) {
    const byConv = new Map<number, DocItem>();
    for (const [conv, head] of heads) {
      const item: DocItem = { ...head, messages: [] };
      byConv.set(conv, item);
      out.set(item.itemId, item);
    }
    for (const r of await itemMessages(db, [...heads.keys()]).execute()) byConv.get(r.conversation_id!)?.messages.push(docMessage(r));
  }
  return itemIds.map((id) => out.get(id)).filter((x): x is DocItem => x !== undefined);
}

/** Which of these items still have no cluster (and are feedback). All unclustered items when `itemIds` is omitted. */
export async function unclusteredItems(db: Kysely<Database>, itemIds?: readonly number[]): Promise<number[]> {
  const q = (ids?: number[]) => {
    let b = db
      .selectFrom('feedback_items as f')
      .leftJoin('cluster_items as ci', 'ci.item_id', 'f.id')
      .select('f.id')
      .where('ci.item_id', 'is', null)
      .where('f.status', '!=', 'not_feedback');
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
  const r = await sql<{ version: number | null; bumped: string | null }>`SELECT (SELECT version FROM cluster_state WHERE id = 1) AS version, current_setting('gleaner.cluster_state_bumped', true) AS bumped`.execute(trx);
  const { version, bumped } = r.rows[0] ?? { version: null, bumped: null };
  const after = String(version ?? 0);
  return Number(after) === Number(before) + (bumped === 'on' ? 1 : 0) ? after : before;
}

export interface NewAssignment {
  itemId: number;
  /** An existing cluster id, or a negative key: a cluster to create. */
  clusterKey: number;
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
 * Stores new placements in one transaction: clusters to create get a placeholder title (the caller
 * describes them next). An item that meanwhile got a cluster keeps it; one removed meanwhile is skipped.
 * With `expectedVersion`, nothing is stored if the clusters changed since (ClusterStateConflict).
 * Returns provisional key -> id, the state version right after the writes (settleClusterState), and the
 * skipped items.
 */
export async function saveAssignments(db: Kysely<Database>, proposed: readonly NewAssignment[], now: number, expectedVersion?: string, regroup?: Regrouping): Promise<{ ids: Map<number, number>; version: string; skipped: Set<number> }> {
  return db.transaction().execute(async (trx) => {
    await lockClusterWrites(trx);
    const found = await clusterStateVersion(trx);
    if (expectedVersion !== undefined && found !== expectedVersion) throw new ClusterStateConflict(expectedVersion, found);
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
    const existing = new Set((await trx.selectFrom('clusters').select('id').where('id', 'in', [...new Set(assignments.filter((a) => a.clusterKey > 0).map((a) => a.clusterKey)), -1]).execute()).map((r) => r.id));
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

/** What a re-grouping changes beyond placements: clusters left empty, and merges to record. */
export interface Regrouping {
  emptied: readonly number[];
  merges: ReadonlyArray<{ from: number; into: number; score: number; items: readonly number[] }>;
}

/** Removes the clusters a re-grouping emptied (only if really empty) and records its merges (actor "auto"). */
async function applyRegrouping(trx: Kysely<Database>, r: Regrouping, ids: ReadonlyMap<number, number>, now: number): Promise<void> {
  for (const m of r.merges) {
    const into = m.into < 0 ? ids.get(m.into) : m.into;
    if (into === undefined) continue;
    await trx.insertInto('cluster_merges').values({ into_id: into, from_id: m.from, item_ids: JSON.stringify(m.items), score: m.score, actor: 'auto', created_at: now, undone_at: null }).execute();
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

/** Stores the need texts of items (what grouping compares; `gleaner items --format json` shows it). */
export async function saveNeedTexts(db: Kysely<Database>, texts: ReadonlyMap<number, string>): Promise<void> {
  if (!texts.size) return;
  await db.transaction().execute(async (trx) => {
    for (const [id, text] of texts) await runStatement(trx, 'update "feedback_items" set "need_text" = ? where "id" = ?', [text, id]);
  });
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
  return rows.map((r) => ({ id: r.id, intoId: r.into_id, fromId: r.from_id, itemIds: JSON.parse(r.item_ids) as number[], score: r.score, at: Number(r.created_at), undoneAt: r.undone_at == null ? null : Number(r.undone_at) }));
}

/** The first `limit` item ids (lowest first) of each cluster: enough to tell whether it has more. */
export async function firstClusterMembers(db: Kysely<Database>, clusterIds: readonly number[], limit: number): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  for (const id of new Set(clusterIds)) {
    // A fixed statement: a batch touches thousands of clusters, and building each cost more than running it.
    const rows = await runStatement<{ item_id: number }>(db, 'select "item_id" from "cluster_items" where "cluster_id" = ? order by "item_id" limit ?', [id, limit]);
    if (rows.length) out.set(id, rows.map((r) => Number(r.item_id)));
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

export interface ClusterSeen {
  firstSeen: number | null;
  lastSeen: number | null;
}

export interface ClusterDescription extends ClusterSeen {
  title: string;
  summary: string | null;
  kind: FeedbackKind | null;
}

/** Writes descriptions (or only first/last seen, when that is all that changed); a pinned title stays as the human left it. */
export async function saveDescriptions(db: Kysely<Database>, descriptions: ReadonlyMap<number, ClusterDescription | ClusterSeen>, now: number): Promise<void> {
  if (!descriptions.size) return;
  await db.transaction().execute(async (trx) => {
    // Fixed statements (a big batch describes thousands of clusters); a pinned title stays.
    for (const [id, d] of descriptions) {
      if (!('title' in d)) await runStatement(trx, 'update "clusters" set "first_seen" = ?, "last_seen" = ?, "updated_at" = ? where "id" = ?', [d.firstSeen, d.lastSeen, now, id]);
      else await runStatement(trx, 'update "clusters" set "summary" = ?, "kind" = ?, "first_seen" = ?, "last_seen" = ?, "updated_at" = ?, "title" = case when "pinned_title" = 0 then ? else "title" end where "id" = ?', [d.summary, d.kind, d.firstSeen, d.lastSeen, now, d.title, id]);
    }
  });
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

export interface ClusterRecord {
  id: number;
  title: string;
  pinnedTitle: boolean;
  summary: string | null;
  kind: FeedbackKind | null;
  firstSeen: number | null;
  lastSeen: number | null;
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
