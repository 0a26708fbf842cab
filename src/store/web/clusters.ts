// One cluster, one item: the conversations behind items, cluster candidates for the filters, the
// cluster's record, the choices for a move.
import { sql, type ExpressionBuilder } from 'kysely';
import type { Database } from '../schema.js';
import { messagesWithPeople } from '../authors.js';
import { inChannel, inSegment, messagesInContext } from './context.js';
import { itemTitle, type FeedbackFilter } from './items.js';
import { searchConversations } from './search.js';
import type { Db } from './tables.js';

// One cluster / one item --------------------------------------------------------------------------

export interface MessageView {
  id: number;
  author: string;
  personId: number;
  text: string;
  at: number;
  url: string | null;
  isBot: boolean;
}

export interface ConversationView {
  id: number;
  itemId: number;
  title: string;
  channel: string;
  source: string;
  platform: string;
  kind: string | null;
  status: string;
  pinned: boolean;
  tags: Array<{ tag: string; provenance: string; confidence: number | null; state: string }>;
  messages: MessageView[];
  moreMessages: number;
}

const MESSAGES_PER_CONVERSATION = 30;

export async function conversationsForItems(db: Db, itemIds: number[]): Promise<ConversationView[]> {
  if (!itemIds.length) return [];
  const items = await db
    .selectFrom('feedback_items as f')
    .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
    .innerJoin('channels as ch', 'ch.id', 'c.channel_id')
    .innerJoin('sources as s', 's.id', 'ch.source_id')
    .innerJoin('messages as rm', 'rm.id', 'f.message_id')
    .leftJoin('cluster_items as ci', 'ci.item_id', 'f.id')
    .select(['f.id', 'f.conversation_id', 'f.kind', 'f.status', 'c.subject', 'ch.name as channel', 'ch.external_id', 's.name as source', 's.platform', 'rm.clean_text', 'rm.sent_at', 'ci.pinned'])
    .where('f.id', 'in', itemIds)
    .orderBy('rm.sent_at', 'desc')
    .execute();
  const tags = await db.selectFrom('tags').select(['item_id', 'tag', 'provenance', 'confidence', 'state']).where('item_id', 'in', itemIds).orderBy('tag').execute();
  const out: ConversationView[] = [];
  for (const i of items) {
    const msgs = await messagesWithPeople(db)
      .select(['m.id', 'p.display_name', 'p.id as person_id', 'm.clean_text', 'm.text', 'm.sent_at', 'm.permalink', 'm.is_bot'])
      .where('m.conversation_id', '=', i.conversation_id)
      .where('m.copy_of', 'is', null)
      .where('m.deleted', '=', 0)
      .orderBy('m.sent_at')
      .orderBy('m.id')
      .limit(MESSAGES_PER_CONVERSATION + 1)
      .execute();
    const total =
      msgs.length > MESSAGES_PER_CONVERSATION
        ? Number(
            (
              await db
                .selectFrom('messages')
                .select((eb) => eb.fn.countAll<number>().as('n'))
                .where('conversation_id', '=', i.conversation_id)
                .where('copy_of', 'is', null)
                .where('deleted', '=', 0)
                .executeTakeFirstOrThrow()
            ).n,
          )
        : msgs.length;
    out.push({
      id: i.conversation_id,
      itemId: i.id,
      title: itemTitle(i.subject, i.clean_text),
      channel: i.channel ?? i.external_id,
      source: i.source,
      platform: i.platform,
      kind: i.kind,
      status: i.status,
      pinned: i.pinned === 1,
      tags: tags.filter((t) => t.item_id === i.id).map((t) => ({ tag: t.tag, provenance: t.provenance, confidence: t.confidence, state: t.state })),
      messages: msgs
        .slice(0, MESSAGES_PER_CONVERSATION)
        .map((m) => ({ id: m.id, author: m.display_name, personId: m.person_id, text: m.clean_text || m.text, at: Number(m.sent_at), url: m.permalink, isBot: m.is_bot === 1 })),
      moreMessages: Math.max(0, total - MESSAGES_PER_CONVERSATION),
    });
  }
  return out;
}

/** The SQL side of the cluster list: which clusters can match (the exact figures are the digest's, see src/web/clusters.ts). */
/** channel / platform / segment: clusters with a message there or by someone of it (a superset; the caller narrows to reporters). */
export interface ClusterCandidateFilter extends FeedbackFilter {
  /** Clusters with a message in [activeFrom, activeTo). */
  activeFrom?: number;
  activeTo?: number;
}

/** Ids of clusters passing the filters, in id order: filtered in the database, nothing aggregated here. */
export async function clusterCandidates(db: Db, f: ClusterCandidateFilter): Promise<number[]> {
  let q = db.selectFrom('clusters as c').select('c.id');
  if (f.kind) q = q.where('c.kind', '=', f.kind);
  const items = (eb: ExpressionBuilder<Database & { c: Database['clusters'] }, 'c'>) =>
    eb.selectFrom('cluster_items as ci').innerJoin('feedback_items as fi', 'fi.id', 'ci.item_id').select('ci.item_id').whereRef('ci.cluster_id', '=', 'c.id').where('fi.status', '!=', 'not_feedback');
  const withTag = (tag: string, provenance?: string) =>
    q.where((eb) =>
      eb.exists(
        items(eb)
          .innerJoin('tags as t', 't.item_id', 'fi.id')
          .where('t.tag', '=', tag)
          .where('t.state', '=', 'active')
          .$if(provenance !== undefined, (qq) => qq.where('t.provenance', '=', provenance!)),
      ),
    );
  if (f.tag) q = withTag(f.tag);
  if (f.area) q = withTag(f.area, 'rule');
  const msgFilter = f.channel || f.platform || f.segment || f.activeFrom != null || f.activeTo != null;
  if (msgFilter) {
    // Conversations with a message passing the filters; a cluster passes when one of its items is in one.
    const conversations = messagesInContext(db)
      .select('m.conversation_id')
      .where('m.copy_of', 'is', null)
      .where('m.deleted', '=', 0)
      .$if(!!f.channel, (qq) => qq.where(inChannel(f.channel!)))
      .$if(!!f.platform, (qq) => qq.where('s.platform', '=', f.platform!))
      .$if(!!f.segment, (qq) => qq.where(inSegment(f.segment!)))
      .$if(f.activeFrom != null, (qq) => qq.where('m.sent_at', '>=', f.activeFrom!))
      .$if(f.activeTo != null, (qq) => qq.where('m.sent_at', '<', f.activeTo!));
    q = q.where((eb) => eb.exists(items(eb).where('fi.conversation_id', 'in', conversations)));
  }
  if (f.q) {
    const convs = await searchConversations(db, f.q);
    const like = `%${f.q
      .trim()
      .toLowerCase()
      .replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        ...(convs.length ? [eb.exists(items(eb).where('fi.conversation_id', 'in', convs))] : []),
        eb(sql<string>`lower(c.title || ' ' || coalesce(c.summary, ''))`, 'like', sql<string>`${like} escape '\\'`),
      ]),
    );
  }
  return (await q.orderBy('c.id').execute()).map((r) => r.id);
}

export interface ClusterRecordView {
  id: number;
  title: string;
  pinnedTitle: boolean;
  kind: string | null;
  summary: string | null;
  conversations: ConversationView[];
  tagCounts: Array<{ tag: string; count: number }>;
}

/** A cluster's record, its conversations with their messages, and its tags (the figures come from src/web/clusters.ts). */
export async function clusterRecordView(db: Db, clusterId: number): Promise<ClusterRecordView | null> {
  const c = await db.selectFrom('clusters').selectAll().where('id', '=', clusterId).executeTakeFirst();
  if (!c) return null;
  const members = await db
    .selectFrom('cluster_items as ci')
    .innerJoin('feedback_items as fi', 'fi.id', 'ci.item_id')
    .select('ci.item_id')
    .where('ci.cluster_id', '=', clusterId)
    .where('fi.status', '!=', 'not_feedback')
    .execute();
  const conversations = await conversationsForItems(
    db,
    members.map((m) => m.item_id),
  );
  const tagCount = new Map<string, number>();
  for (const conv of conversations) for (const t of new Set(conv.tags.filter((x) => x.state === 'active' && x.tag !== 'not-feedback').map((x) => x.tag))) tagCount.set(t, (tagCount.get(t) ?? 0) + 1);
  return {
    id: c.id,
    title: c.title,
    pinnedTitle: c.pinned_title === 1,
    kind: c.kind,
    summary: c.summary,
    conversations,
    tagCounts: [...tagCount].map(([tag, count]) => ({ tag, count })).sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag)),
  };
}

/** Other clusters, for merge and move menus. */
export async function clusterChoices(db: Db, exceptId: number | null, limit = 500): Promise<Array<{ id: number; title: string }>> {
  let q = db.selectFrom('clusters').select(['id', 'title']).orderBy('title').limit(limit);
  if (exceptId != null) q = q.where('id', '!=', exceptId);
  return q.execute();
}

export async function itemDetail(db: Db, itemId: number): Promise<ConversationView | null> {
  const [v] = await conversationsForItems(db, [itemId]);
  return v ?? null;
}
