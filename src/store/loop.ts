// Closing the loop: a cluster's resolution (set by a curator, or by a tracker's sync) and the replies
// drafted to the threads where its need was voiced. The claim columns of loop_replies are handled by
// src/store/outbound.ts.
import type { Kysely, Selectable } from 'kysely';
import type { Database, LoopRepliesTable } from './schema.js';

type Db = Kysely<Database>;

export interface ClusterResolution {
  clusterId: number;
  title: string;
  resolvedAt: number | null;
  resolvedBy: string | null;
  resolution: string | null;
  url: string | null;
}

export async function getResolution(db: Db, clusterId: number): Promise<ClusterResolution | null> {
  const r = await db.selectFrom('clusters').select(['id', 'title', 'resolved_at', 'resolved_by', 'resolution', 'resolution_url']).where('id', '=', clusterId).executeTakeFirst();
  if (!r) return null;
  return {
    clusterId: r.id,
    title: r.title,
    resolvedAt: r.resolved_at == null ? null : Number(r.resolved_at),
    resolvedBy: r.resolved_by ?? null,
    resolution: r.resolution ?? null,
    url: r.resolution_url ?? null,
  };
}

/** Marks a cluster resolved (again: the reference and link are replaced). False when there is no such cluster. */
export async function setResolution(db: Db, clusterId: number, r: { by: string; reference: string; url: string | null; now: number }): Promise<boolean> {
  const u = await db
    .updateTable('clusters')
    .set({ resolved_at: r.now, resolved_by: r.by, resolution: r.reference, resolution_url: r.url, updated_at: r.now })
    .where('id', '=', clusterId)
    .executeTakeFirst();
  return Number(u.numUpdatedRows) === 1;
}

/** The thread a need was voiced in: the message that carries the report, where it was said, and its references. */
export interface VoicedThread {
  conversationId: number;
  sourceId: number;
  source: string;
  platform: string;
  channelExternalId: string;
  channelName: string | null;
  messageExternalId: string;
  permalink: string | null;
  subject: string | null;
  /** ref keys of the message (`thread`, `reply`, `reference`), as ingest stored them. */
  refs: Array<{ kind: string; key: string }>;
  /** The conversation's root message id (external), when the store knows it. */
  rootExternalId: string | null;
  /** The reporter's name on the platform (an IRC nick). */
  authorName: string | null;
}

/** One thread per conversation of the cluster's items (the first report in it), staff and bots left out. */
export async function voicedThreads(db: Db, clusterId: number): Promise<VoicedThread[]> {
  const rows = await db
    .selectFrom('cluster_items as ci')
    .innerJoin('feedback_items as f', 'f.id', 'ci.item_id')
    .innerJoin('messages as m', 'm.id', 'f.message_id')
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .innerJoin('sources as s', 's.id', 'm.source_id')
    .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
    .innerJoin('identities as i', 'i.id', 'm.identity_id')
    .leftJoin('messages as root', 'root.id', 'c.root_message_id')
    .select([
      'f.conversation_id as conversationId',
      'm.id as messageId',
      's.id as sourceId',
      's.name as source',
      's.platform as platform',
      'ch.external_id as channelExternalId',
      'ch.name as channelName',
      'm.external_id as messageExternalId',
      'm.permalink as permalink',
      'm.subject as subject',
      'm.sent_at as at',
      'root.external_id as rootExternalId',
      'c.subject as conversationSubject',
      'i.display_name as authorName',
    ])
    .where('ci.cluster_id', '=', clusterId)
    .where('f.status', '!=', 'not_feedback')
    .where('m.deleted', '=', 0)
    .where('m.is_bot', '=', 0)
    .orderBy('m.sent_at')
    .orderBy('m.id')
    .execute();
  const first = new Map<number, (typeof rows)[number]>();
  for (const r of rows) if (!first.has(r.conversationId)) first.set(r.conversationId, r);
  const picked = [...first.values()];
  const refs = picked.length
    ? await db
        .selectFrom('message_refs')
        .select(['message_id', 'kind', 'ref_key'])
        .where(
          'message_id',
          'in',
          picked.map((r) => r.messageId),
        )
        .execute()
    : [];
  return picked.map((r) => ({
    conversationId: r.conversationId,
    sourceId: r.sourceId,
    source: r.source,
    platform: r.platform,
    channelExternalId: r.channelExternalId,
    channelName: r.channelName,
    messageExternalId: r.messageExternalId,
    permalink: r.permalink,
    subject: r.subject ?? r.conversationSubject ?? null,
    refs: refs.filter((x) => x.message_id === r.messageId).map((x) => ({ kind: x.kind, key: x.ref_key })),
    rootExternalId: r.rootExternalId ?? null,
    authorName: r.authorName ?? null,
  }));
}

export type LoopStatus = 'draft' | 'approved' | 'sending' | 'sent' | 'failed' | 'unknown' | 'dismissed';

export interface LoopReplyRow {
  id: number;
  clusterId: number;
  conversationId: number;
  sourceId: number;
  platform: string;
  target: string;
  text: string;
  status: LoopStatus;
  attempts: number;
  lastError: string | null;
  externalId: string | null;
  link: string | null;
  approvedBy: string | null;
  approvedAt: number | null;
  sentAt: number | null;
  createdAt: number;
}

type Row = Selectable<LoopRepliesTable>;

function toRow(r: Row): LoopReplyRow {
  return {
    id: r.id,
    clusterId: r.cluster_id,
    conversationId: r.conversation_id,
    sourceId: r.source_id,
    platform: r.platform,
    target: r.target,
    text: r.text,
    status: r.status as LoopStatus,
    attempts: Number(r.attempts ?? 0),
    lastError: r.last_error,
    externalId: r.external_id,
    link: r.link,
    approvedBy: r.approved_by,
    approvedAt: r.approved_at == null ? null : Number(r.approved_at),
    sentAt: r.sent_at == null ? null : Number(r.sent_at),
    createdAt: Number(r.created_at),
  };
}

/** A draft per (cluster, conversation); an existing reply (any status) is left as it is. True when created. */
export async function insertReplyDraft(
  db: Db,
  d: { clusterId: number; conversationId: number; sourceId: number; platform: string; target: string; text: string; status: 'draft' | 'approved'; actor: string | null; now: number },
): Promise<boolean> {
  const r = await db
    .insertInto('loop_replies')
    .values({
      cluster_id: d.clusterId,
      conversation_id: d.conversationId,
      source_id: d.sourceId,
      platform: d.platform,
      target: d.target,
      text: d.text,
      status: d.status,
      phase: null,
      claim_token: null,
      lease_until: null,
      last_error: null,
      external_id: null,
      link: null,
      approved_by: d.status === 'approved' ? d.actor : null,
      approved_at: d.status === 'approved' ? d.now : null,
      sent_at: null,
      created_at: d.now,
      updated_at: d.now,
    })
    .onConflict((oc) => oc.columns(['cluster_id', 'conversation_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
}

export async function getReply(db: Db, id: number): Promise<LoopReplyRow | null> {
  const r = await db.selectFrom('loop_replies').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toRow(r) : null;
}

export async function listReplies(db: Db, opts: { clusterId?: number; status?: LoopStatus[] } = {}): Promise<LoopReplyRow[]> {
  const rows = await db
    .selectFrom('loop_replies')
    .selectAll()
    .$if(opts.clusterId !== undefined, (q) => q.where('cluster_id', '=', opts.clusterId!))
    .$if(opts.status !== undefined, (q) => q.where('status', 'in', opts.status!.length ? opts.status! : ['-']))
    .orderBy('cluster_id')
    .orderBy('id')
    .execute();
  return rows.map(toRow);
}

/** A curator's edit of a draft (only drafts and approved replies not yet sent change). */
export async function editReply(db: Db, id: number, text: string, now: number): Promise<boolean> {
  const r = await db.updateTable('loop_replies').set({ text, updated_at: now }).where('id', '=', id).where('status', 'in', ['draft', 'approved', 'failed']).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** draft -> approved (or dismissed), recording who and when. */
export async function decideReply(db: Db, id: number, decision: 'approved' | 'dismissed', actor: string, now: number): Promise<boolean> {
  const r = await db.updateTable('loop_replies').set({ status: decision, approved_by: actor, approved_at: now, updated_at: now }).where('id', '=', id).where('status', '=', 'draft').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
