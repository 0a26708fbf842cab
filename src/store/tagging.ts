// Tagging reads and writes beyond single human decisions (those are in curation.ts): the items waiting
// for a decision with their suggested tags, the human decisions that retraining and tag suggestions
// learn from, and one-line summaries written by the optional language model.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface ItemTag {
  tag: string;
  provenance: string;
  confidence: number | null;
  version: string | null;
  actor: string | null;
  state: string;
}

export interface ListedItem {
  id: number;
  conversationId: number;
  status: string;
  kind: string | null;
  kindConfidence: number | null;
  sentiment: string | null;
  summary: string | null;
  subject: string | null;
  text: string;
  /** The need's own text, as grouping compares it (null until the cluster stage has seen the item). */
  needText: string | null;
  channel: string;
  at: number;
  tags: ItemTag[];
}

export interface ListItemsOptions {
  /** Only items no human has decided on yet (status auto). */
  untagged?: boolean;
  kind?: string;
  /** Only items carrying this tag (active, any provenance). */
  tag?: string;
  /** Only these items. */
  ids?: number[];
  limit?: number;
  offset?: number;
}

/** Feedback items, newest first, with every tag (human removals included, marked by state). */
export async function listItems(db: Kysely<Database>, opts: ListItemsOptions = {}): Promise<ListedItem[]> {
  let q = db
    .selectFrom('feedback_items as f')
    .innerJoin('messages as m', 'm.id', 'f.message_id')
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
    .select(['f.id', 'f.conversation_id', 'f.status', 'f.kind', 'f.kind_confidence', 'f.sentiment', 'f.summary', 'f.need_text', 'c.subject', 'm.clean_text', 'ch.name as channel', 'm.sent_at']);
  if (opts.untagged) q = q.where('f.status', '=', 'auto');
  if (opts.kind) q = q.where('f.kind', '=', opts.kind);
  if (opts.ids) q = q.where('f.id', 'in', opts.ids.length ? opts.ids : [-1]);
  if (opts.tag) {
    const tag = opts.tag;
    q = q.where((eb) => eb.exists(eb.selectFrom('tags as t').select('t.id').whereRef('t.item_id', '=', 'f.id').where('t.tag', '=', tag).where('t.state', '=', 'active')));
  }
  const items = await q
    .orderBy('m.sent_at', 'desc')
    .orderBy('f.id', 'desc')
    .limit(opts.limit ?? 50)
    .offset(opts.offset ?? 0)
    .execute();
  if (!items.length) return [];
  const tags = await db
    .selectFrom('tags')
    .select(['item_id', 'tag', 'provenance', 'confidence', 'version', 'actor', 'state'])
    .where(
      'item_id',
      'in',
      items.map((i) => i.id),
    )
    .orderBy('tag')
    .orderBy('provenance')
    .execute();
  const byItem = new Map<number, ItemTag[]>();
  for (const t of tags) {
    const list = byItem.get(t.item_id) ?? [];
    list.push({ tag: t.tag, provenance: t.provenance, confidence: t.confidence, version: t.version, actor: t.actor, state: t.state });
    byItem.set(t.item_id, list);
  }
  return items.map((i) => ({
    id: i.id,
    conversationId: i.conversation_id,
    status: i.status,
    kind: i.kind,
    kindConfidence: i.kind_confidence,
    sentiment: i.sentiment,
    summary: i.summary ?? null,
    subject: i.subject,
    text: i.clean_text,
    needText: i.need_text ?? null,
    channel: i.channel ?? '',
    at: Number(i.sent_at),
    tags: byItem.get(i.id) ?? [],
  }));
}

export interface HumanTaggedRow {
  itemId: number;
  conversationId: number;
  title?: string;
  text: string;
  tags: string[];
}

/** Items with at least one active human tag (not marked "not feedback"), most recent decisions first. */
export async function loadHumanTaggedItems(db: Kysely<Database>, limit = 20_000): Promise<HumanTaggedRow[]> {
  const rows = await db
    .selectFrom('tags as t')
    .innerJoin('feedback_items as f', 'f.id', 't.item_id')
    .innerJoin('messages as m', 'm.id', 'f.message_id')
    .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
    .select(['f.id', 'f.conversation_id', 'c.subject', 'm.clean_text', 't.tag', 't.created_at'])
    .where('t.provenance', '=', 'human')
    .where('t.state', '=', 'active')
    .where('f.status', '!=', 'not_feedback')
    .orderBy('t.created_at', 'desc')
    .orderBy('f.id', 'desc')
    .limit(limit * 4)
    .execute();
  const out = new Map<number, HumanTaggedRow>();
  for (const r of rows) {
    let item = out.get(r.id);
    if (!item) {
      if (out.size >= limit) continue;
      item = { itemId: r.id, conversationId: r.conversation_id, ...(r.subject ? { title: r.subject } : {}), text: r.clean_text, tags: [] };
      out.set(r.id, item);
    }
    if (!item.tags.includes(r.tag)) item.tags.push(r.tag);
  }
  return [...out.values()];
}

export interface HumanKindDecision {
  itemId: number;
  title?: string;
  text: string;
  /** A feedback kind, or 'none' for an item a human marked "not feedback". */
  label: string;
  source: 'not-feedback' | 'kind-tag' | 'confirmed';
  actor: string | null;
  at: number;
}

/**
 * What humans said about items' kinds: "not feedback" -> none; an active human `kind:*` tag (the latest
 * one when there are several); otherwise a confirmed item's kind.
 */
export async function loadHumanKindDecisions(db: Kysely<Database>): Promise<HumanKindDecision[]> {
  const items = await db
    .selectFrom('feedback_items as f')
    .innerJoin('messages as m', 'm.id', 'f.message_id')
    .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
    .select(['f.id', 'f.status', 'f.kind', 'f.updated_at', 'c.subject', 'm.clean_text'])
    .where('f.status', 'in', ['confirmed', 'not_feedback'])
    .orderBy('f.id')
    .execute();
  const humanTags = await db
    .selectFrom('tags')
    .select(['item_id', 'tag', 'state', 'actor', 'created_at'])
    .where('provenance', '=', 'human')
    .where((eb) => eb.or([eb('tag', 'like', 'kind:%'), eb('tag', '=', 'not-feedback')]))
    .orderBy('created_at')
    .execute();
  const kindTag = new Map<number, { kind: string; actor: string | null; at: number }>();
  const notFeedbackBy = new Map<number, { actor: string | null; at: number }>();
  for (const t of humanTags) {
    if (t.state !== 'active') continue;
    if (t.tag === 'not-feedback') notFeedbackBy.set(t.item_id, { actor: t.actor, at: Number(t.created_at) });
    else kindTag.set(t.item_id, { kind: t.tag.slice(5), actor: t.actor, at: Number(t.created_at) });
  }
  const out: HumanKindDecision[] = [];
  for (const i of items) {
    const base = { itemId: i.id, ...(i.subject ? { title: i.subject } : {}), text: i.clean_text };
    if (i.status === 'not_feedback') {
      const by = notFeedbackBy.get(i.id);
      out.push({ ...base, label: 'none', source: 'not-feedback', actor: by?.actor ?? null, at: by?.at ?? Number(i.updated_at) });
    } else if (kindTag.has(i.id)) {
      const k = kindTag.get(i.id)!;
      out.push({ ...base, label: k.kind, source: 'kind-tag', actor: k.actor, at: k.at });
    } else if (i.kind) out.push({ ...base, label: i.kind, source: 'confirmed', actor: null, at: Number(i.updated_at) });
  }
  return out;
}

/** The item of each conversation that has one: its status and whether it has a summary. */
export async function itemStateByConversation(db: Kysely<Database>, conversationIds: number[]): Promise<Map<number, { itemId: number; status: string; hasSummary: boolean }>> {
  const out = new Map<number, { itemId: number; status: string; hasSummary: boolean }>();
  for (let i = 0; i < conversationIds.length; i += 400) {
    const part = conversationIds.slice(i, i + 400);
    const rows = await db.selectFrom('feedback_items').select(['id', 'conversation_id', 'status', 'summary']).where('conversation_id', 'in', part).execute();
    for (const r of rows) out.set(r.conversation_id, { itemId: r.id, status: r.status, hasSummary: r.summary !== null });
  }
  return out;
}
