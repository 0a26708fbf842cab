// Lists of feedback: the filters every list offers, item facts, the item list, filter options.
import { sql } from 'kysely';
import { inChannel, inSegment, itemsInContext } from './context.js';
import { searchConversations } from './search.js';
import { messagesWithAuthors } from '../authors.js';
import type { Db } from './tables.js';

// Shared shapes -----------------------------------------------------------------------------------

export type Trend = 'new' | 'rising' | 'steady' | 'falling' | 'resurfaced';

/** The filters every list of feedback offers (items, clusters). */
export interface FeedbackFilter {
  kind?: string;
  tag?: string;
  area?: string;
  channel?: string;
  platform?: string;
  segment?: string;
  /** Full-text search. */
  q?: string;
}

export interface ListFilter extends FeedbackFilter {
  trend?: string;
  /** Days back from the latest message; null for all time. */
  periodDays?: number | null;
  sort?: 'score' | 'recent';
  limit?: number;
  offset?: number;
}

export interface Reporter {
  personId: number;
  name: string;
  org: string | null;
  segment: string;
}

interface ItemFact {
  clusterId: number | null;
  itemId: number;
  conversationId: number;
  kind: string | null;
  at: number;
  personId: number;
  personName: string;
  isStaff: boolean;
  org: string | null;
  segment: string | null;
  channel: string;
  platform: string;
}

const DAY_MS = 86_400_000;

export function segmentOf(f: { isStaff: boolean; segment: string | null }): string {
  if (f.isStaff) return 'staff';
  return f.segment ?? 'community';
}

/** When the latest message was sent (now when there is none): the web's periods end there. */
export async function latestAt(db: Db): Promise<number> {
  const r = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.max<number>('sent_at').as('t'))
    .executeTakeFirst();
  return r?.t == null ? Date.now() : Number(r.t);
}

/** Item facts (one row per feedback item, its report message's author, org, channel, platform). */
async function itemFacts(db: Db, where: { clusterIds?: number[]; itemIds?: number[]; clustered: boolean }): Promise<ItemFact[]> {
  let q = itemsInContext(db)
    .leftJoin('cluster_items as ci', 'ci.item_id', 'f.id')
    .select([
      'ci.cluster_id',
      'f.id',
      'f.conversation_id',
      'f.kind',
      'm.sent_at',
      'p.id as person_id',
      'p.display_name',
      'p.is_staff',
      'o.name as org',
      'o.segment',
      'ch.name as channel',
      'ch.external_id',
      's.platform',
    ]);
  if (where.clustered) q = q.where('ci.cluster_id', 'is not', null);
  if (where.clusterIds) q = where.clusterIds.length ? q.where('ci.cluster_id', 'in', where.clusterIds) : q.where(sql<boolean>`1 = 0`);
  if (where.itemIds) q = where.itemIds.length ? q.where('f.id', 'in', where.itemIds) : q.where(sql<boolean>`1 = 0`);
  const rows = await q.execute();
  return rows.map((r) => ({
    clusterId: r.cluster_id ?? null,
    itemId: r.id,
    conversationId: r.conversation_id,
    kind: r.kind,
    at: Number(r.sent_at),
    personId: r.person_id,
    personName: r.display_name,
    isStaff: r.is_staff === 1,
    org: r.org ?? null,
    segment: r.segment ?? null,
    channel: r.channel ?? r.external_id,
    platform: r.platform,
  }));
}

/** Item ids passing the item-level filters (tag, area, channel, platform, segment, search). null: no such filter. */
async function filteredItemIds(db: Db, f: ListFilter): Promise<Set<number> | null> {
  const any = f.tag || f.area || f.channel || f.platform || f.segment || f.q;
  if (!any) return null;
  let q = itemsInContext(db).select('f.id');
  const activeTag = (tag: string, provenance?: string) =>
    q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('tags as t')
          .select('t.id')
          .whereRef('t.item_id', '=', 'f.id')
          .where('t.tag', '=', tag)
          .where('t.state', '=', 'active')
          .$if(provenance !== undefined, (qq) => qq.where('t.provenance', '=', provenance!)),
      ),
    );
  if (f.tag) q = activeTag(f.tag);
  if (f.area) q = activeTag(f.area, 'rule');
  if (f.channel) q = q.where(inChannel(f.channel));
  if (f.platform) q = q.where('s.platform', '=', f.platform);
  if (f.segment) q = q.where(inSegment(f.segment));
  if (f.q) {
    const convs = await searchConversations(db, f.q);
    if (!convs.length) return new Set();
    q = q.where('f.conversation_id', 'in', convs);
  }
  const rows = await q.execute();
  return new Set(rows.map((r) => r.id));
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

const ymd = (t: number) => new Date(t).toISOString().slice(0, 10);

export interface ListResult<T> {
  rows: T[];
  total: number;
  periodStart: number | null;
  periodEnd: number;
}

function periodBounds(end: number, days: number | null | undefined): number | null {
  return days == null ? null : end - days * DAY_MS;
}

function sortRows<T extends { score: number; lastSeen: number | null; id: number }>(rows: T[], sort: ListFilter['sort']): void {
  if (sort === 'recent') rows.sort((a, b) => (b.lastSeen ?? 0) - (a.lastSeen ?? 0) || b.id - a.id);
  else rows.sort((a, b) => b.score - a.score || (b.lastSeen ?? 0) - (a.lastSeen ?? 0) || b.id - a.id);
}

export async function clusterCount(db: Db): Promise<number> {
  const r = await db
    .selectFrom('clusters')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Until clusters exist: feedback items (one per conversation) as rows of the same shape. */
export interface ItemRow {
  id: number;
  conversationId: number;
  title: string;
  kind: string | null;
  status: string;
  sentence: string;
  reporters: Reporter[];
  reporterCount: number;
  mentions: number;
  channels: string[];
  trend: Trend | null;
  score: number;
  lastSeen: number | null;
  firstSeen: number | null;
  clusterId: number | null;
}

export async function listItems(db: Db, f: ListFilter, weights: Record<string, number> = {}): Promise<ListResult<ItemRow>> {
  const end = (await latestAt(db)) + 1;
  const periodStart = periodBounds(end, f.periodDays);
  const matchItems = await filteredItemIds(db, f);
  let iq = db
    .selectFrom('feedback_items as f')
    .innerJoin('conversations as c', 'c.id', 'f.conversation_id')
    .innerJoin('messages as m', 'm.id', 'f.message_id')
    .leftJoin('cluster_items as ci', 'ci.item_id', 'f.id')
    .select(['f.id', 'f.conversation_id', 'f.kind', 'f.status', 'c.subject', 'c.started_at', 'c.last_at', 'c.message_count', 'm.clean_text', 'ci.cluster_id'])
    .where('f.status', '!=', 'not_feedback');
  if (f.kind) iq = iq.where('f.kind', '=', f.kind);
  if (periodStart != null) iq = iq.where('c.last_at', '>=', periodStart);
  let items = await iq.execute();
  if (matchItems) items = items.filter((i) => matchItems.has(i.id));
  const participants = await conversationParticipants(
    db,
    items.map((i) => i.conversation_id),
  );
  const facts = await itemFacts(db, { clustered: false, itemIds: items.map((i) => i.id) });
  const factById = new Map(facts.map((x) => [x.itemId, x]));
  const out: ItemRow[] = [];
  for (const i of items) {
    const fact = factById.get(i.id);
    const reporters = participants.get(i.conversation_id) ?? [];
    const segments: Record<string, number> = {};
    for (const r of reporters) segments[r.segment] = (segments[r.segment] ?? 0) + 1;
    const channels = fact ? [fact.channel] : [];
    const firstSeen = Number(i.started_at);
    const lastSeen = Number(i.last_at);
    let score = 0;
    for (const r of reporters) if (r.segment !== 'staff') score += weights[r.segment] ?? 1;
    score += 0.25 * Number(i.message_count);
    const row: ItemRow = {
      id: i.id,
      conversationId: i.conversation_id,
      title: itemTitle(i.subject, i.clean_text),
      kind: i.kind,
      status: i.status,
      sentence: `${plural(reporters.length, 'person', 'people')}${
        Object.keys(segments).length
          ? ` (${Object.entries(segments)
              .map(([s, n]) => `${n} ${s}`)
              .join(', ')})`
          : ''
      } in ${plural(Number(i.message_count), 'message', 'messages')}${channels.length ? ` in ${channels.join(', ')}` : ''}, ${ymd(firstSeen)}${ymd(firstSeen) === ymd(lastSeen) ? '' : ` to ${ymd(lastSeen)}`}.`,
      reporters,
      reporterCount: reporters.length,
      mentions: 1,
      channels,
      trend: null,
      score: Math.round(score * 100) / 100,
      lastSeen,
      firstSeen,
      clusterId: i.cluster_id ?? null,
    };
    if (f.trend) continue; // trends are a property of clusters
    out.push(row);
  }
  sortRows(out, f.sort);
  const offset = f.offset ?? 0;
  return { rows: out.slice(offset, offset + (f.limit ?? 50)), total: out.length, periodStart, periodEnd: end };
}

export function itemTitle(subject: string | null, text: string): string {
  const s = subject?.replace(/^\s*((re|fwd?|aw)\s*:\s*)+/i, '').trim();
  const base =
    s ||
    text
      .replace(/\s+/g, ' ')
      .trim()
      .split(/(?<=[.!?])\s/)[0] ||
    '(untitled)';
  return base.length > 120 ? `${base.slice(0, 119)}…` : base;
}

async function conversationParticipants(db: Db, conversationIds: number[]): Promise<Map<number, Reporter[]>> {
  const out = new Map<number, Reporter[]>();
  for (let i = 0; i < conversationIds.length; i += 500) {
    const part = conversationIds.slice(i, i + 500);
    const rows = await messagesWithAuthors(db)
      .select(['m.conversation_id', 'p.id', 'p.display_name', 'p.is_staff', 'o.name as org', 'o.segment'])
      .distinct()
      .where('m.conversation_id', 'in', part)
      .where('m.is_bot', '=', 0)
      .where('m.deleted', '=', 0)
      .where('m.copy_of', 'is', null)
      .execute();
    for (const r of rows) {
      const list = out.get(r.conversation_id!) ?? [];
      if (!list.some((x) => x.personId === r.id))
        list.push({ personId: r.id, name: r.display_name, org: r.org ?? null, segment: segmentOf({ isStaff: r.is_staff === 1, segment: r.segment ?? null }) });
      out.set(r.conversation_id!, list);
    }
  }
  return out;
}

/** Values for the filter menus. */
export async function filterOptions(db: Db): Promise<{ kinds: string[]; tags: string[]; areas: string[]; channels: string[]; platforms: string[]; segments: string[] }> {
  const kinds = await db.selectFrom('feedback_items').select('kind').distinct().where('kind', 'is not', null).orderBy('kind').execute();
  const tags = await db.selectFrom('tags').select(['tag', 'provenance']).distinct().where('state', '=', 'active').orderBy('tag').limit(2000).execute();
  const channels = await db.selectFrom('channels').select(['name', 'external_id']).orderBy('name').limit(2000).execute();
  const platforms = await db.selectFrom('sources').select('platform').distinct().orderBy('platform').execute();
  const segs = await db.selectFrom('orgs').select('segment').distinct().orderBy('segment').execute();
  return {
    kinds: kinds.map((k) => k.kind!),
    tags: [...new Set(tags.filter((t) => !t.tag.startsWith('kind:')).map((t) => t.tag))],
    areas: [...new Set(tags.filter((t) => t.provenance === 'rule').map((t) => t.tag))],
    channels: [...new Set(channels.map((c) => c.name ?? c.external_id))],
    platforms: platforms.map((p) => p.platform),
    segments: [...new Set(['community', ...segs.map((s) => s.segment)])].sort(), // staff and bots are never reporters
  };
}
