// The feedback repository: items and their tags. Human decisions (status, added and removed tags)
// win over every automatic re-run, forever.
import { sql, type Insertable, type Kysely } from 'kysely';
import { chunks, dbKind } from './db.js';
import { insertRows } from './bulk.js';
import type { Database, TagsTable } from './schema.js';
import type { AutoTag, ConversationMessage, DetectedFeedback } from '../model/records.js';
import { isListHostAddress } from '../model/people.js';

/**
 * The conversations' messages as detection reads them. Staff: the person's flag (config, org, or the
 * maintainer rules of src/pipeline/people.ts, see resolveOrgs), or an address at the list's own domain.
 */
export async function loadConversationMessages(db: Kysely<Database>, conversationIds: number[]): Promise<Map<number, ConversationMessage[]>> {
  const out = new Map<number, ConversationMessage[]>();
  for (let i = 0; i < conversationIds.length; i += 400) {
    const part = conversationIds.slice(i, i + 400);
    const rows = await db
      .selectFrom('messages as m')
      .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
      // identities.person_id is a NOT NULL foreign key (enforced on both dialects): the join with
      // people filters nothing, it brings the person's staff flag and org.
      .innerJoin('identities as idn', 'idn.id', 'm.identity_id')
      .innerJoin('people as p', 'p.id', 'idn.person_id')
      .leftJoin('orgs as o', 'o.id', 'p.org_id')
      .select(['m.id', 'm.conversation_id', 'm.clean_text', 'm.subject', 'ch.name as channel', 'ch.external_id as channelExternal', 'm.is_bot', 'idn.is_bot as identityBot', 'idn.kind as identityKind', 'idn.value as identityValue', 'idn.email as identityEmail', 'p.id as personId', 'p.is_staff', 'o.segment as orgSegment', 'm.labels'])
      .where('m.conversation_id', 'in', part)
      .where('m.copy_of', 'is', null)
      .where('m.deleted', '=', 0)
      .orderBy('m.sent_at')
      .orderBy('m.id')
      .execute();
    for (const r of rows) {
      const list = out.get(r.conversation_id!) ?? [];
      const email = r.identityEmail ?? (r.identityKind === 'email' ? r.identityValue : null);
      const isStaff = r.is_staff === 1 || r.orgSegment === 'staff' || (r.identityKind === 'email' && isListHostAddress(email, r.channelExternal));
      list.push({ id: r.id, text: r.clean_text, subject: r.subject, channel: r.channel ?? '', isBot: r.is_bot === 1 || r.identityBot === 1, isStaff, labels: r.labels ? (JSON.parse(r.labels) as string[]) : [] });
      out.set(r.conversation_id!, list);
    }
  }
  return out;
}

/**
 * Saves the detection for a conversation. A human "not feedback" or a confirmed item is kept as the
 * human left it; automatic tags are replaced, except that a tag a human removed never comes back.
 * Returns the item id when the conversation is (still) feedback.
 */
export async function saveDetection(db: Kysely<Database>, conversationId: number, d: DetectedFeedback | null, now: number): Promise<number | null> {
  const saved = await saveDetections(db, [{ conversationId, detected: d }], now);
  return saved.get(conversationId) ?? null;
}

export interface DetectionToSave {
  conversationId: number;
  detected: DetectedFeedback | null;
  /** The item's short summary, when one was written for it. */
  summary?: { text: string; version: string } | null;
}

/**
 * Saves a batch of detections (as saveDetection each, in list order) in one transaction; returns the
 * item id per conversation. The batch is written set-wise: a few statements for the whole batch
 * rather than five to seven per conversation.
 */
export async function saveDetections(db: Kysely<Database>, list: readonly DetectionToSave[], now: number): Promise<Map<number, number | null>> {
  return db.transaction().execute(async (trx) => {
    const out = new Map<number, number | null>();
    for (const run of runs(list)) for (const [conversationId, id] of await saveRun(trx, run, now)) out.set(conversationId, id);
    return out;
  });
}

/** Rows per multi-row statement: at most 11 parameters a row, far under SQLite's 32766 and PostgreSQL's 65535. */
const ROW_CHUNK = 1000;


/**
 * The list cut into runs in which no conversation appears twice (one run unless one does): each run is
 * saved as a whole, after the runs before it, so a conversation listed again is saved over its first
 * result, and items get their ids in list order, as one by one.
 */
function runs(list: readonly DetectionToSave[]): DetectionToSave[][] {
  const out: DetectionToSave[][] = [];
  let run: DetectionToSave[] = [];
  let inRun = new Set<number>();
  for (const entry of list) {
    if (inRun.has(entry.conversationId)) {
      out.push(run);
      run = [];
      inRun = new Set();
    }
    run.push(entry);
    inRun.add(entry.conversationId);
  }
  if (run.length) out.push(run);
  return out;
}

interface ItemFields {
  message_id: number;
  kind: string | null;
  kind_confidence: number | null;
  sentiment: string | null;
  model_version: string | null;
}

function itemFields(d: DetectedFeedback): ItemFields {
  return { message_id: d.messageId, kind: d.kind, kind_confidence: d.kindConfidence, sentiment: d.sentiment, model_version: d.modelVersion };
}

/**
 * One run: conversations are distinct, so no conversation's writes touch another's rows and the
 * statements can each cover the whole run. Per conversation, as before:
 * - a human decided (status not 'auto'): a confirmed item only gets its automatic tags refreshed, a
 *   "not feedback" one is left alone (and gives null);
 * - not feedback (or nothing detected): an automatic item loses its automatic tags, and is deleted
 *   (with its placement) unless a human tagged it;
 * - feedback: the automatic item is updated or a new one inserted (unless the conversation was merged
 *   away meanwhile), and its automatic tags replaced, except the ones a human removed.
 */
async function saveRun(trx: Kysely<Database>, entries: readonly DetectionToSave[], now: number): Promise<Map<number, number | null>> {
  const pg = dbKind(trx) === 'postgres';
  const existing = new Map<number, { id: number; status: string }>();
  for (const part of chunks(entries.map((e) => e.conversationId))) {
    for (const r of await trx.selectFrom('feedback_items').select(['id', 'conversation_id', 'status']).where('conversation_id', 'in', part).execute()) existing.set(r.conversation_id, r);
  }

  const out = new Map<number, number | null>();
  /** Items whose automatic tags are deleted. */
  const untag: number[] = [];
  /** The tags each entry's item gets (in list order, as one by one would insert them). */
  const retag: Array<{ conversationId: number; itemId: number | null; tags: AutoTag[] }> = [];
  /** Automatic items no longer feedback: deleted unless a human tagged them. */
  const notFeedback: Array<{ entry: DetectionToSave; id: number }> = [];
  const updates: Array<{ id: number } & ItemFields> = [];
  const wanted: Array<{ entry: DetectionToSave; d: DetectedFeedback }> = [];
  for (const entry of entries) {
    const { conversationId, detected: d } = entry;
    const item = existing.get(conversationId);
    if (item && item.status !== 'auto') {
      if (item.status === 'confirmed' && d) {
        untag.push(item.id);
        retag.push({ conversationId, itemId: item.id, tags: d.tags });
      }
      out.set(conversationId, item.status === 'not_feedback' ? null : item.id);
    } else if (!d || !d.isFeedback) {
      out.set(conversationId, null);
      if (item) {
        untag.push(item.id);
        notFeedback.push({ entry, id: item.id });
      }
    } else if (item) {
      updates.push({ id: item.id, ...itemFields(d) });
      untag.push(item.id);
      retag.push({ conversationId, itemId: item.id, tags: d.tags });
      out.set(conversationId, item.id);
    } else {
      wanted.push({ entry, d });
      retag.push({ conversationId, itemId: null, tags: d.tags });
    }
  }

  // Human tags: a removed one never comes back, and any one keeps an item that is no longer feedback.
  const removedByHuman = new Map<number, Set<string>>();
  const humanTagged = new Set<number>();
  for (const part of chunks(untag)) {
    for (const h of await trx.selectFrom('tags').select(['item_id', 'tag', 'state']).where('item_id', 'in', part).where('provenance', '=', 'human').execute()) {
      humanTagged.add(h.item_id);
      if (h.state !== 'removed') continue;
      const set = removedByHuman.get(h.item_id) ?? new Set<string>();
      set.add(h.tag);
      removedByHuman.set(h.item_id, set);
    }
  }

  // A conversation without an item must still exist: one merged into another by a concurrent ingest
  // gets no item (that one is enriched in its turn). On PostgreSQL the rows are held (FOR SHARE) until
  // the transaction ends, so an ingest merging one away waits for this item rather than leaving it on a
  // deleted conversation; SQLite runs one writer at a time anyway.
  const alive = new Set<number>();
  for (const part of chunks(wanted.map((w) => w.entry.conversationId))) {
    const q = trx.selectFrom('conversations').select('id').where('id', 'in', part).orderBy('id');
    for (const r of await (pg ? q.forShare() : q).execute()) alive.add(r.id);
  }

  for (const part of chunks(untag)) await trx.deleteFrom('tags').where('item_id', 'in', part).where('provenance', '!=', 'human').execute();

  const dropped: number[] = [];
  for (const { entry, id } of notFeedback) {
    if (!humanTagged.has(id)) dropped.push(id);
    else out.set(entry.conversationId, id);
  }
  for (const part of chunks(dropped.sort((a, b) => a - b))) {
    // The items first: a cluster worker holding one (FOR SHARE) makes this wait, and its placement,
    // committed by then, is removed by the next statement.
    await trx.deleteFrom('feedback_items').where('id', 'in', part).execute();
    await trx.deleteFrom('cluster_items').where('item_id', 'in', part).execute();
  }

  await updateItems(trx, updates, ['message_id', 'kind', 'kind_confidence', 'sentiment', 'model_version'], now);

  const inserts = wanted.filter((w) => alive.has(w.entry.conversationId));
  for (const w of wanted) if (!alive.has(w.entry.conversationId)) out.set(w.entry.conversationId, null);
  for (const part of chunks(inserts, ROW_CHUNK)) {
    const rows = await insertRows(
      trx,
      'feedback_items',
      ['conversation_id', 'message_id', 'kind', 'kind_confidence', 'sentiment', 'model_version', 'status', 'summary', 'summary_version', 'created_at', 'updated_at'],
      part.map(({ entry, d }) => [entry.conversationId, d.messageId, d.kind, d.kindConfidence, d.sentiment, d.modelVersion, 'auto', entry.summary?.text ?? null, entry.summary?.version ?? null, now, now]),
      { returning: ['id', 'conversation_id'] },
    );
    // conversation_id is unique among items: the returned rows map back by it, whatever their order.
    for (const r of rows) out.set(Number(r.conversation_id), Number(r.id));
  }

  const tagRows: Array<Insertable<TagsTable>> = [];
  for (const { conversationId, itemId: known, tags } of retag) {
    const itemId = known ?? out.get(conversationId);
    if (itemId == null) continue; // merged away meanwhile
    const removed = removedByHuman.get(itemId);
    for (const t of tags) {
      if (!removed?.has(t.tag)) tagRows.push({ item_id: itemId, tag: t.tag, provenance: t.provenance, confidence: t.confidence, version: t.version, actor: null, state: 'active', created_at: now });
    }
  }
  const tagColumns = ['item_id', 'tag', 'provenance', 'confidence', 'version', 'actor', 'state', 'created_at'] as const;
  for (const part of chunks(tagRows, ROW_CHUNK)) {
    await insertRows(
      trx,
      'tags',
      tagColumns,
      part.map((t) => tagColumns.map((c) => t[c] ?? null)),
      { onConflict: 'on conflict do nothing' },
    );
  }

  const summaries: Array<{ id: number; summary: string; summary_version: string }> = [];
  const inserted = new Set(inserts.map((w) => w.entry.conversationId));
  for (const { conversationId, summary } of entries) {
    const id = out.get(conversationId);
    if (summary && id != null && !inserted.has(conversationId)) summaries.push({ id, summary: summary.text, summary_version: summary.version });
  }
  await updateItems(trx, summaries, ['summary', 'summary_version'], now);
  return out;
}

const COLUMN_TYPES: Record<string, string> = { id: 'integer', message_id: 'integer', kind: 'text', kind_confidence: 'double precision', sentiment: 'text', model_version: 'text', summary: 'text', summary_version: 'text' };

/**
 * Sets each row's values on its feedback item (and updated_at to now), a chunk of rows per statement:
 * `WITH v(id, ...) AS (VALUES ...) UPDATE feedback_items SET ... FROM v`. Every value is cast to its
 * column's type so PostgreSQL does not read the parameters as text.
 */
async function updateItems<K extends keyof ItemFields | 'summary' | 'summary_version'>(
  trx: Kysely<Database>,
  rows: ReadonlyArray<{ id: number } & Record<K, string | number | null>>,
  columns: readonly K[],
  now: number,
): Promise<void> {
  const names = ['id', ...columns] as const;
  const cast = (c: string, v: unknown) => sql`cast(${v} as ${sql.raw(COLUMN_TYPES[c]!)})`;
  for (const part of chunks(rows, ROW_CHUNK)) {
    const values = sql.join(part.map((r) => sql`(${sql.join(names.map((c) => cast(c, (r as Record<string, unknown>)[c])))})`));
    const set = sql.join([...columns.map((c) => sql`${sql.ref(c)} = v.${sql.ref(c)}`), sql`updated_at = ${now}`]);
    await sql`with v(${sql.join(names.map((c) => sql.ref(c)))}) as (values ${values}) update feedback_items set ${set} from v where feedback_items.id = v.id`.execute(trx);
  }
}
