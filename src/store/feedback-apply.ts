// The feedback repository, write side: applies a detection plan (src/pipeline/enrich-plan.ts) inside
// the transaction its reads ran in. Set-wise: a few statements for a whole run rather than five to
// seven per conversation.
import { sql, type Insertable, type Kysely } from 'kysely';
import { chunks } from './db.js';
import { insertRows } from './bulk.js';
import type { Database, TagsTable } from './schema.js';
import type { DetectionPlan } from '../model/enrich.js';
import type { DetectedFeedback } from '../model/records.js';

/** Rows per multi-row statement: at most 11 parameters a row, far under SQLite's 32766 and PostgreSQL's 65535. */
const ROW_CHUNK = 1000;

interface ItemFields {
  message_id: number;
  kind: string | null;
  kind_confidence: number | null;
  kind_groups: string | null;
  sentiment: string | null;
  model_version: string | null;
}

function itemFields(d: DetectedFeedback): ItemFields {
  return { message_id: d.messageId, kind: d.kind, kind_confidence: d.kindConfidence, kind_groups: d.kindGroups?.join(',') ?? null, sentiment: d.sentiment, model_version: d.modelVersion };
}

/** Writes one run's plan; returns the item id (or null) per conversation, inserted items included. */
export async function applyDetections(trx: Kysely<Database>, plan: DetectionPlan, now: number): Promise<Map<number, number | null>> {
  const out = new Map(plan.result);
  for (const part of chunks(plan.untag)) await trx.deleteFrom('tags').where('item_id', 'in', part).where('provenance', '!=', 'human').execute();

  for (const part of chunks(plan.drop)) {
    // The items first: a cluster worker holding one (FOR SHARE) makes this wait, and its placement,
    // committed by then, is removed by the next statement.
    await trx.deleteFrom('feedback_items').where('id', 'in', part).execute();
    await trx.deleteFrom('cluster_items').where('item_id', 'in', part).execute();
  }

  await updateItems(
    trx,
    plan.update.map((u) => ({ id: u.id, ...itemFields(u.detected) })),
    ['message_id', 'kind', 'kind_confidence', 'kind_groups', 'sentiment', 'model_version'],
    now,
  );

  for (const part of chunks(plan.insert, ROW_CHUNK)) {
    const rows = await insertRows(
      trx,
      'feedback_items',
      ['conversation_id', 'message_id', 'kind', 'kind_confidence', 'kind_groups', 'sentiment', 'model_version', 'status', 'summary', 'summary_version', 'created_at', 'updated_at'],
      part.map(({ conversationId, detected: d, summary }) => [
        conversationId,
        d.messageId,
        d.kind,
        d.kindConfidence,
        d.kindGroups?.join(',') ?? null,
        d.sentiment,
        d.modelVersion,
        'auto',
        summary?.text ?? null,
        summary?.version ?? null,
        now,
        now,
      ]),
      { returning: ['id', 'conversation_id'] },
    );
    // conversation_id is unique among items: the returned rows map back by it, whatever their order.
    for (const r of rows) out.set(Number(r.conversation_id), Number(r.id));
  }

  const tagRows: Array<Insertable<TagsTable>> = [];
  for (const { conversationId, itemId: known, tag: t } of plan.tags) {
    const itemId = known ?? out.get(conversationId);
    if (itemId == null) continue;
    tagRows.push({ item_id: itemId, tag: t.tag, provenance: t.provenance, confidence: t.confidence, version: t.version, actor: null, state: 'active', created_at: now });
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

  await updateItems(
    trx,
    plan.summaries.map((s) => ({ id: s.id, summary: s.text, summary_version: s.version })),
    ['summary', 'summary_version'],
    now,
  );
  return out;
}

const COLUMN_TYPES: Record<string, string> = {
  id: 'integer',
  message_id: 'integer',
  kind: 'text',
  kind_confidence: 'double precision',
  kind_groups: 'text',
  sentiment: 'text',
  model_version: 'text',
  summary: 'text',
  summary_version: 'text',
};

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
