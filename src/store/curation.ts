// Human decisions: tags added, removed or confirmed, items marked "not feedback", clusters merged,
// split, renamed, items moved. Every decision keeps who and when, and no automatic re-run undoes it.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { messagesWithAuthors } from './authors.js';
import { moveTrackerLinks } from './trackers.js';
import { segmentOf } from '../model/people.js';
import { InputError, NotFoundError } from '../errors.js';

async function requireItem(db: Kysely<Database>, itemId: number): Promise<void> {
  const r = await db.selectFrom('feedback_items').select('id').where('id', '=', itemId).executeTakeFirst();
  if (!r) throw new NotFoundError(`feedback item ${itemId}`);
}

async function requireCluster(db: Kysely<Database>, clusterId: number): Promise<void> {
  const r = await db.selectFrom('clusters').select('id').where('id', '=', clusterId).executeTakeFirst();
  if (!r) throw new NotFoundError(`cluster ${clusterId}`);
}

export function normalizeTag(tag: string): string {
  const t = tag.trim().toLowerCase().replace(/\s+/g, '-');
  if (!/^[\p{L}\p{N}][\p{L}\p{N}:_.\-/]{0,63}$/u.test(t)) throw new InputError(`not a valid tag: ${JSON.stringify(tag)} (letters, digits, : _ . - /; at most 64 characters)`);
  return t;
}

/** A human adds (or confirms) a tag: it stays whatever the models say later. */
export async function addTag(db: Kysely<Database>, itemId: number, tag: string, actor: string, now: number): Promise<void> {
  const t = normalizeTag(tag);
  await db.transaction().execute(async (trx) => {
    await requireItem(trx, itemId);
    await trx
      .insertInto('tags')
      .values({ item_id: itemId, tag: t, provenance: 'human', confidence: null, version: null, actor, state: 'active', created_at: now })
      .onConflict((oc) => oc.columns(['item_id', 'tag', 'provenance']).doUpdateSet({ state: 'active', actor, created_at: now }))
      .execute();
    if (t.startsWith('kind:'))
      await trx
        .updateTable('feedback_items')
        .set({ kind: t.slice(5), status: 'confirmed', updated_at: now })
        .where('id', '=', itemId)
        .execute();
  });
}

/** A human removes a tag: kept as a "removed" decision so automatic re-runs never bring it back. */
export async function removeTag(db: Kysely<Database>, itemId: number, tag: string, actor: string, now: number): Promise<void> {
  const t = normalizeTag(tag);
  await db.transaction().execute(async (trx) => {
    await requireItem(trx, itemId);
    await trx.deleteFrom('tags').where('item_id', '=', itemId).where('tag', '=', t).where('provenance', '!=', 'human').execute();
    await trx
      .insertInto('tags')
      .values({ item_id: itemId, tag: t, provenance: 'human', confidence: null, version: null, actor, state: 'removed', created_at: now })
      .onConflict((oc) => oc.columns(['item_id', 'tag', 'provenance']).doUpdateSet({ state: 'removed', actor, created_at: now }))
      .execute();
  });
}

/** Confirms an item as feedback (its current automatic tags become the accepted state). */
export async function confirmItem(db: Kysely<Database>, itemId: number, actor: string, now: number): Promise<void> {
  await requireItem(db, itemId);
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('feedback_items').set({ status: 'confirmed', updated_at: now }).where('id', '=', itemId).execute();
    const auto = await trx.selectFrom('tags').select('tag').where('item_id', '=', itemId).where('provenance', '!=', 'human').where('state', '=', 'active').execute();
    for (const a of auto) {
      await trx
        .insertInto('tags')
        .values({ item_id: itemId, tag: a.tag, provenance: 'human', confidence: null, version: null, actor, state: 'active', created_at: now })
        .onConflict((oc) => oc.columns(['item_id', 'tag', 'provenance']).doNothing())
        .execute();
    }
  });
}

/** "Not feedback": the item leaves clusters and digests, and stays out on every re-run. */
export async function markNotFeedback(db: Kysely<Database>, itemId: number, actor: string, now: number): Promise<void> {
  await requireItem(db, itemId);
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('feedback_items').set({ status: 'not_feedback', updated_at: now }).where('id', '=', itemId).execute();
    await trx.deleteFrom('cluster_items').where('item_id', '=', itemId).execute();
    await trx
      .insertInto('tags')
      .values({ item_id: itemId, tag: 'not-feedback', provenance: 'human', confidence: null, version: null, actor, state: 'active', created_at: now })
      .onConflict((oc) => oc.columns(['item_id', 'tag', 'provenance']).doUpdateSet({ state: 'active', actor, created_at: now }))
      .execute();
  });
}

export interface InboxItem {
  id: number;
  kind: string | null;
  confidence: number | null;
  text: string;
  channel: string;
  at: number;
  /** Who wrote the report message, their org and segment ('staff', 'bot', an org's segment or 'community'). */
  author: string;
  personId: number;
  org: string | null;
  segment: string;
  /** The conversation's subject (mail, forum), when it has one. */
  subject: string | null;
  tags: Array<{ tag: string; provenance: string; confidence: number | null }>;
}

export interface InboxOptions {
  /** Also list items whose report message is staff's or a bot's (default: left out, they are rarely feedback). */
  staffAndBots?: boolean;
}

function pendingItemsQuery(db: Kysely<Database>, opts: InboxOptions) {
  let q = messagesWithAuthors(db).innerJoin('feedback_items as f', 'f.message_id', 'm.id').where('f.status', '=', 'auto');
  if (!opts.staffAndBots) {
    q = q
      .where('m.is_bot', '=', 0)
      .where('i.is_bot', '=', 0)
      .where('p.is_staff', '=', 0)
      .where((eb) => eb.or([eb('o.segment', 'is', null), eb('o.segment', '!=', 'staff')]));
  }
  return q;
}

/** How many items wait for a decision (staff's and bots' only with `staffAndBots`). */
export async function pendingInboxCount(db: Kysely<Database>, opts: InboxOptions = {}): Promise<number> {
  const r = await pendingItemsQuery(db, opts)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Items still waiting for a human decision, newest first, with who wrote them and the subject. */
export async function untaggedItems(db: Kysely<Database>, limit = 50, offset = 0, opts: InboxOptions = {}): Promise<InboxItem[]> {
  const items = await pendingItemsQuery(db, opts)
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
    .select([
      'f.id',
      'f.kind',
      'f.kind_confidence',
      'm.clean_text',
      'ch.name as channel',
      'ch.external_id as channelExternal',
      'm.sent_at',
      'm.subject as messageSubject',
      'c.subject as conversationSubject',
      'm.is_bot',
      'i.is_bot as identityBot',
      'p.id as personId',
      'p.display_name',
      'p.is_staff',
      'o.name as org',
      'o.segment as orgSegment',
    ])
    .orderBy('m.sent_at', 'desc')
    .orderBy('f.id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
  if (!items.length) return [];
  const tags = await db
    .selectFrom('tags')
    .select(['item_id', 'tag', 'provenance', 'confidence'])
    .where(
      'item_id',
      'in',
      items.map((i) => i.id),
    )
    .where('state', '=', 'active')
    .orderBy('tag')
    .execute();
  return items.map((i) => ({
    id: i.id,
    kind: i.kind,
    confidence: i.kind_confidence,
    text: i.clean_text,
    channel: i.channel ?? i.channelExternal,
    at: Number(i.sent_at),
    author: i.display_name,
    personId: i.personId,
    org: i.org,
    segment: segmentOf({ isBot: i.is_bot === 1 || i.identityBot === 1, isStaff: i.is_staff === 1, orgSegment: i.orgSegment }),
    subject: i.messageSubject ?? i.conversationSubject,
    tags: tags.filter((t) => t.item_id === i.id).map((t) => ({ tag: t.tag, provenance: t.provenance, confidence: t.confidence })),
  }));
}

// Clusters -----------------------------------------------------------------------------------------

/** Moves every item of `fromId` into `intoId` (pinned there) and removes `fromId`. */
export async function mergeClusters(db: Kysely<Database>, intoId: number, fromId: number, now: number): Promise<void> {
  if (intoId === fromId) throw new InputError('cannot merge a cluster into itself');
  await db.transaction().execute(async (trx) => {
    await requireCluster(trx, intoId);
    await requireCluster(trx, fromId);
    await trx.updateTable('cluster_items').set({ cluster_id: intoId, pinned: 1 }).where('cluster_id', '=', fromId).execute();
    await trx.updateTable('cluster_items').set({ pinned: 1 }).where('cluster_id', '=', intoId).execute();
    await moveTrackerLinks(trx, fromId, intoId);
    await trx.deleteFrom('clusters').where('id', '=', fromId).execute();
    await trx.updateTable('clusters').set({ updated_at: now }).where('id', '=', intoId).execute();
  });
}

/** Splits the given items out of a cluster into a new cluster (both sides pinned); returns its id. */
export async function splitCluster(db: Kysely<Database>, clusterId: number, itemIds: number[], title: string | null, now: number): Promise<number> {
  if (!itemIds.length) throw new InputError('name at least one item to split out');
  return db.transaction().execute(async (trx) => {
    const c = await trx.selectFrom('clusters').selectAll().where('id', '=', clusterId).executeTakeFirst();
    if (!c) throw new NotFoundError(`cluster ${clusterId}`);
    const members = await trx.selectFrom('cluster_items').select('item_id').where('cluster_id', '=', clusterId).execute();
    const set = new Set(members.map((m) => m.item_id));
    for (const i of itemIds) if (!set.has(i)) throw new InputError(`item ${i} is not in cluster ${clusterId}`);
    if (itemIds.length === set.size) throw new InputError('a split must leave at least one item behind');
    const row = await trx
      .insertInto('clusters')
      .values({ title: title ?? `${c.title} (split)`, pinned_title: title ? 1 : 0, summary: null, kind: c.kind, first_seen: null, last_seen: null, created_at: now, updated_at: now })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    await trx.updateTable('cluster_items').set({ cluster_id: row.id, pinned: 1 }).where('item_id', 'in', itemIds).execute();
    await trx.updateTable('cluster_items').set({ pinned: 1 }).where('cluster_id', '=', clusterId).execute();
    return row.id;
  });
}

/** Moves one item to another cluster and pins it there. */
export async function moveItem(db: Kysely<Database>, itemId: number, toClusterId: number, now: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await requireItem(trx, itemId);
    await requireCluster(trx, toClusterId);
    await trx
      .insertInto('cluster_items')
      .values({ cluster_id: toClusterId, item_id: itemId, pinned: 1 })
      .onConflict((oc) => oc.column('item_id').doUpdateSet({ cluster_id: toClusterId, pinned: 1 }))
      .execute();
    await trx.updateTable('clusters').set({ updated_at: now }).where('id', '=', toClusterId).execute();
  });
}

/** Renames a cluster; with `pin`, later runs never change the title again. */
export async function renameCluster(db: Kysely<Database>, clusterId: number, title: string, pin: boolean, now: number): Promise<void> {
  const t = title.replace(/\s+/g, ' ').trim();
  if (!t || t.length > 200) throw new InputError('a title has 1 to 200 characters');
  await requireCluster(db, clusterId);
  await db
    .updateTable('clusters')
    .set({ title: t, pinned_title: pin ? 1 : 0, updated_at: now })
    .where('id', '=', clusterId)
    .execute();
}

/**
 * Undoes an automatic merge (recorded by the cluster stage in cluster_merges): the items that came
 * from the merged cluster and are still in the cluster they were merged into are split out again,
 * both sides pinned as after a curator's split, so no re-clustering merges them back. Returns the
 * new cluster's id.
 */
export async function undoAutoMerge(db: Kysely<Database>, mergeId: number, now: number): Promise<number> {
  const m = await db.selectFrom('cluster_merges').selectAll().where('id', '=', mergeId).executeTakeFirst();
  if (!m) throw new NotFoundError(`merge ${mergeId}`);
  if (m.undone_at != null) throw new InputError(`merge ${mergeId} was undone already`);
  const items = JSON.parse(m.item_ids) as number[];
  const still = (
    await db
      .selectFrom('cluster_items')
      .select('item_id')
      .where('cluster_id', '=', m.into_id)
      .where('item_id', 'in', items.length ? items : [-1])
      .execute()
  ).map((r) => r.item_id);
  if (!still.length) throw new InputError(`none of the items merged by ${mergeId} is in cluster ${m.into_id} any more`);
  const id = await splitCluster(db, m.into_id, still, null, now);
  await db.updateTable('cluster_merges').set({ undone_at: now }).where('id', '=', mergeId).execute();
  return id;
}
