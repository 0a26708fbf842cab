// What an ingest stored, as counts and one digest: the benchmarks check that a faster path stores the
// same thing (the same run twice, or in-process against BullMQ). Times of storing (created_at,
// updated_at, the person's created_at) are left out: they are the clock, not the content.
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../src/store/schema.js';

export interface StoredDigest {
  /** e.g. `messages 100000, conversations 41234, refs 70000, channels 12, identities 2000` */
  counts: string;
  /** sha256 of the rows, hex, first 16 */
  digest: string;
}

const TABLES: Array<{ table: string; order: string }> = [
  { table: 'messages', order: 'id' },
  { table: 'conversations', order: 'id' },
  { table: 'message_refs', order: 'message_id, ref_key, kind' },
  { table: 'channels', order: 'id' },
  { table: 'identities', order: 'id' },
  { table: 'people', order: 'id' },
];
const CLOCK = new Set(['created_at', 'updated_at']);

function asText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

export async function storedDigest(db: Kysely<Database>): Promise<StoredDigest> {
  const h = createHash('sha256');
  const counts: string[] = [];
  for (const { table, order } of TABLES) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by ${sql.raw(order)}`.execute(db)).rows;
    counts.push(`${table} ${rows.length}`);
    h.update(`\u0000${table}\u0000`);
    for (const r of rows) {
      const vals: unknown[] = [];
      // Values as text: SQLite gives numbers where PostgreSQL gives bigint columns as strings.
      for (const k of Object.keys(r).sort()) if (!CLOCK.has(k)) vals.push(k, asText(r[k]));
      h.update(JSON.stringify(vals));
    }
  }
  return { counts: counts.join(', '), digest: h.digest('hex').slice(0, 16) };
}
