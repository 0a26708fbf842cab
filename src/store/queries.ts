// Read queries for the digest, stats and the CLI. No SQL outside src/store/.
import type { StoreStats } from '../model/digest.js';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { messagesWithPeople } from './authors.js';

export interface Period {
  start: number;
  end: number; // exclusive
}

export interface ConversationRow {
  id: number;
  subject: string | null;
  channel: string;
  channelExternalId: string;
  source: string;
  platform: string;
  startedAt: number;
  lastAt: number;
  messages: number;
  participants: number;
}

/** Conversations with human activity in the period, with distinct non-bot participants in the period. */
export async function conversationsInPeriod(db: Kysely<Database>, period: Period): Promise<ConversationRow[]> {
  const rows = await db
    .selectFrom('messages as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
    .innerJoin('channels as ch', 'ch.id', 'c.channel_id')
    .innerJoin('sources as s', 's.id', 'ch.source_id')
    .innerJoin('identities as i', 'i.id', 'm.identity_id')
    .select((eb) => [
      'c.id as id',
      'c.subject as subject',
      'ch.name as channel',
      'ch.external_id as channelExternalId',
      's.name as source',
      's.platform as platform',
      'c.started_at as startedAt',
      'c.last_at as lastAt',
      eb.fn.countAll<number>().as('messages'),
      eb.fn.count<number>('i.person_id').distinct().as('participants'),
    ])
    .where('m.sent_at', '>=', period.start)
    .where('m.sent_at', '<', period.end)
    .where('m.copy_of', 'is', null)
    .where('m.deleted', '=', 0)
    .where('m.is_bot', '=', 0)
    .groupBy(['c.id', 'c.subject', 'ch.name', 'ch.external_id', 's.name', 's.platform', 'c.started_at', 'c.last_at'])
    .execute();
  return rows.map((r) => ({
    ...r,
    channel: r.channel ?? r.channelExternalId,
    startedAt: Number(r.startedAt),
    lastAt: Number(r.lastAt),
    messages: Number(r.messages),
    participants: Number(r.participants),
  }));
}

export interface QuoteRow {
  conversationId: number;
  messageId: number;
  text: string;
  author: string | null;
  channel: string;
  url: string | null;
  at: number;
}

/** The first human messages of each conversation in the period (the report and its first answers). */
export async function quotesFor(db: Kysely<Database>, conversationIds: number[], perConversation: number, period?: Period): Promise<QuoteRow[]> {
  if (!conversationIds.length) return [];
  let q = messagesWithPeople(db)
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .select(['m.conversation_id as conversationId', 'm.id as messageId', 'm.clean_text as text', 'p.display_name as author', 'ch.name as channel', 'm.permalink as url', 'm.sent_at as at'])
    .where('m.conversation_id', 'in', conversationIds)
    .where('m.copy_of', 'is', null)
    .where('m.deleted', '=', 0)
    .where('m.is_bot', '=', 0);
  if (period) q = q.where('m.sent_at', '<', period.end);
  const rows = await q.orderBy('m.sent_at').orderBy('m.id').execute();
  const per = new Map<number, number>();
  const out: QuoteRow[] = [];
  for (const r of rows) {
    const n = per.get(r.conversationId!) ?? 0;
    if (n >= perConversation || !r.text.trim()) continue;
    per.set(r.conversationId!, n + 1);
    out.push({ conversationId: r.conversationId!, messageId: r.messageId, text: r.text, author: r.author, channel: r.channel ?? '', url: r.url, at: Number(r.at) });
  }
  return out;
}

/** Counts exclude copies and deleted messages. With a period, only what happened in it. */
export async function storeStats(db: Kysely<Database>, period?: Period): Promise<StoreStats> {
  const live = () => {
    let q = db.selectFrom('messages').where('copy_of', 'is', null).where('deleted', '=', 0);
    if (period) q = q.where('sent_at', '>=', period.start).where('sent_at', '<', period.end);
    return q;
  };
  const messages = Number(
    (
      await live()
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
  const conversations = Number(
    (
      await live()
        .select((eb) => eb.fn.count<number>('conversation_id').distinct().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
  let fi = db.selectFrom('feedback_items as f').innerJoin('conversations as c', 'c.id', 'f.conversation_id').where('f.status', '!=', 'not_feedback');
  if (period) fi = fi.where('c.last_at', '>=', period.start).where('c.started_at', '<', period.end);
  const feedbackItems = Number((await fi.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const clusters = Number(
    (
      await db
        .selectFrom('clusters')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
  const quarantined = Number(
    (
      await db
        .selectFrom('quarantine')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

  const sources = await db.selectFrom('sources').select(['id', 'name', 'platform']).orderBy('name').execute();
  const out: StoreStats['sources'] = [];
  for (const s of sources) {
    const channels = await db.selectFrom('channels').select(['name', 'external_id']).where('source_id', '=', s.id).orderBy('name').execute();
    let mq = db.selectFrom('messages').where('source_id', '=', s.id).where('copy_of', 'is', null).where('deleted', '=', 0);
    if (period) mq = mq.where('sent_at', '>=', period.start).where('sent_at', '<', period.end);
    const agg = await mq.select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min<number>('sent_at').as('from'), eb.fn.max<number>('sent_at').as('to')]).executeTakeFirstOrThrow();
    const gaps = await db.selectFrom('gaps').select(['channel', 'from_at', 'to_at', 'reason']).where('source_id', '=', s.id).orderBy('from_at').execute();
    out.push({
      name: s.name,
      platform: s.platform,
      channels: channels.map((c) => c.name ?? c.external_id),
      messages: Number(agg.n),
      from: agg.from == null ? null : Number(agg.from),
      to: agg.to == null ? null : Number(agg.to),
      gaps: gaps.map((g) => ({ channel: g.channel, from: Number(g.from_at), to: g.to_at == null ? null : Number(g.to_at), reason: g.reason })),
    });
  }
  return { messages, conversations, feedbackItems, clusters, quarantined, sources: out };
}

export async function latestMessageAt(db: Kysely<Database>): Promise<number | null> {
  const r = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.max<number>('sent_at').as('t'))
    .where('copy_of', 'is', null)
    .executeTakeFirst();
  return r?.t == null ? null : Number(r.t);
}

export async function ensureSource(db: Kysely<Database>, name: string, platform: string, now: number): Promise<number> {
  const existing = await db.selectFrom('sources').select(['id', 'platform']).where('name', '=', name).executeTakeFirst();
  if (existing) {
    if (existing.platform !== platform) throw new Error(`source ${name} is a ${existing.platform} source, not ${platform}; choose another --source name`);
    return existing.id;
  }
  const row = await db.insertInto('sources').values({ name, platform, status: 'ok', last_pull_at: null, last_error: null, created_at: now }).returning(['id']).executeTakeFirstOrThrow();
  return row.id;
}

export async function markSourcePulled(db: Kysely<Database>, sourceId: number, now: number, error: string | null): Promise<void> {
  await db
    .updateTable('sources')
    .set({ last_pull_at: now, last_error: error, status: error ? 'error' : 'ok' })
    .where('id', '=', sourceId)
    .execute();
}

export async function getCheckpoint(db: Kysely<Database>, sourceId: number, key: string): Promise<string | null> {
  const r = await db.selectFrom('checkpoints').select('cursor').where('source_id', '=', sourceId).where('key', '=', key).executeTakeFirst();
  return r?.cursor ?? null;
}

export async function listQuarantine(db: Kysely<Database>, limit = 100): Promise<Array<{ id: number; location: string; reason: string; excerpt: string; createdAt: number }>> {
  const rows = await db.selectFrom('quarantine').select(['id', 'location', 'reason', 'excerpt', 'created_at']).orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, location: r.location, reason: r.reason, excerpt: r.excerpt, createdAt: Number(r.created_at) }));
}

/** Feedback kind and active tags per conversation (human decisions applied: "not feedback" hides the kind). */
export async function feedbackFor(db: Kysely<Database>, conversationIds: number[]): Promise<Map<number, { kind: string | null; tags: string[] }>> {
  const out = new Map<number, { kind: string | null; tags: string[] }>();
  if (!conversationIds.length) return out;
  const items = await db
    .selectFrom('feedback_items')
    .select(['id', 'conversation_id', 'kind', 'status'])
    .where('conversation_id', 'in', conversationIds)
    .where('status', '!=', 'not_feedback')
    .execute();
  const byItem = new Map(items.map((i) => [i.id, i.conversation_id]));
  for (const i of items) out.set(i.conversation_id, { kind: i.kind, tags: [] });
  if (!items.length) return out;
  const tags = await db
    .selectFrom('tags')
    .select(['item_id', 'tag', 'provenance', 'state'])
    .where('item_id', 'in', [...byItem.keys()])
    .orderBy('tag')
    .execute();
  const removed = new Set(tags.filter((t) => t.provenance === 'human' && t.state === 'removed').map((t) => `${t.item_id}\u0000${t.tag}`));
  for (const t of tags) {
    if (t.state !== 'active' || removed.has(`${t.item_id}\u0000${t.tag}`) || t.tag.startsWith('kind:')) continue;
    const entry = out.get(byItem.get(t.item_id)!)!;
    if (!entry.tags.includes(t.tag)) entry.tags.push(t.tag);
  }
  return out;
}
