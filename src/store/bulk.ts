// Multi-row inserts without the query builder. Kysely builds, freezes and compiles a tree for every
// statement; for an insert of 200 rows of 24 columns that took longer than SQLite took to store them
// (about a tenth of a million-message import went to compiling inserts). The statements here are
// plain text kept per shape (table, columns, row count, conflict and returning clauses), with the
// dialect's placeholders, and run through the same connection, transaction and statement cache.
import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { dbKind } from './db.js';

export interface InsertOptions<R extends string> {
  /** A conflict clause as SQL, e.g. `on conflict do nothing` or `on conflict ("item_id") do nothing`. */
  onConflict?: string;
  /** Columns to return for the inserted rows. */
  returning?: readonly R[];
}

const texts = new Map<string, string>();
const MAX_TEXTS = 500;

const quote = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a column or table name: ${name}`);
  return `"${name}"`;
};

function statement(pg: boolean, table: string, columns: readonly string[], rows: number, opts: InsertOptions<string>): string {
  const key = `${pg ? 'pg' : 'sqlite'}\u0000${table}\u0000${columns.join(',')}\u0000${rows}\u0000${opts.onConflict ?? ''}\u0000${opts.returning?.join(',') ?? ''}`;
  let text = texts.get(key);
  if (text !== undefined) return text;
  const width = columns.length;
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const ps: string[] = [];
    for (let c = 0; c < width; c++) ps.push(pg ? `$${r * width + c + 1}` : '?');
    tuples.push(`(${ps.join(', ')})`);
  }
  text = `insert into ${quote(table)} (${columns.map(quote).join(', ')}) values ${tuples.join(', ')}`;
  if (opts.onConflict) text += ` ${opts.onConflict}`;
  if (opts.returning?.length) text += ` returning ${opts.returning.map(quote).join(', ')}`;
  texts.set(key, text);
  if (texts.size > MAX_TEXTS) texts.delete(texts.keys().next().value!);
  return text;
}

/**
 * Inserts `rows` (values in the order of `columns`) in one statement; returns the `returning` columns
 * of the inserted rows. Values are bound as parameters, never spliced into the text.
 */
export async function insertRows<R extends string = never>(
  db: Kysely<Database>,
  table: keyof Database,
  columns: readonly string[],
  rows: ReadonlyArray<readonly unknown[]>,
  opts: InsertOptions<R> = {},
): Promise<Array<Record<R, unknown>>> {
  if (!rows.length) return [];
  const params: unknown[] = new Array<unknown>(rows.length * columns.length);
  let k = 0;
  for (const row of rows) {
    if (row.length !== columns.length) throw new Error(`insert into ${table}: a row of ${row.length} values for ${columns.length} columns`);
    for (const v of row) params[k++] = v;
  }
  const text = statement(dbKind(db) === 'postgres', table, columns, rows.length, opts);
  const result = await db.executeQuery<Record<R, unknown>>(CompiledQuery.raw(text, params));
  return result.rows;
}

const marksOfSize = new Map<number, string>();

/**
 * The `?, ?, ...` of an `in (...)` list of `values` for runStatement, padded to a power of two (at
 * least 8) by repeating the last value (the same set): a few statement texts serve every length.
 */
export function inList<T>(values: readonly T[]): { marks: string; values: T[] } {
  if (!values.length) throw new Error('inList: an empty list (in () is not SQL)');
  let size = 8;
  while (size < values.length) size *= 2;
  let marks = marksOfSize.get(size);
  if (marks === undefined) marks = '?, '.repeat(size - 1) + '?';
  marksOfSize.set(size, marks);
  const padded = values.slice();
  while (padded.length < size) padded.push(values[values.length - 1]!);
  return { marks, values: padded };
}

const rowMarks = new Map<string, string>();

/**
 * SQLite: the `(?, ?), (?, ?), ...` of a `values` list of `rows` (each `width` values) for runStatement,
 * padded to a power of two rows (at least 8) by repeating the last row: a few statement texts serve
 * every length. For an `update ... from (values ...)` the repeated row sets the same values again.
 */
export function valuesList(rows: ReadonlyArray<readonly unknown[]>, width: number): { marks: string; values: unknown[] } {
  if (!rows.length) throw new Error('valuesList: no rows (values () is not SQL)');
  let size = 8;
  while (size < rows.length) size *= 2;
  const key = `${size}x${width}`;
  let marks = rowMarks.get(key);
  if (marks === undefined) {
    const row = `(${'?, '.repeat(width - 1)}?)`;
    marks = `${row}, `.repeat(size - 1) + row;
    rowMarks.set(key, marks);
  }
  const values = new Array<unknown>(size * width);
  for (let r = 0; r < size; r++) {
    const row = rows[Math.min(r, rows.length - 1)]!;
    if (row.length !== width) throw new Error(`valuesList: a row of ${row.length} values for ${width} columns`);
    for (let c = 0; c < width; c++) values[r * width + c] = row[c];
  }
  return { marks, values };
}

const pgTexts = new Map<string, string>();
const MAX_PG_TEXTS = 500;

/**
 * Runs one fixed statement written with `?` placeholders (numbered `$n` on PostgreSQL), for
 * statements run many times a batch where building them cost more than running them. `text` must be
 * a constant (or one with the marks of an `inList`): values go in `params` only.
 */
export async function runStatement<R = unknown>(db: Kysely<Database>, text: string, params: readonly unknown[]): Promise<R[]> {
  let sqlText = text;
  if (dbKind(db) === 'postgres') {
    let pgText = pgTexts.get(text);
    if (pgText === undefined) {
      let n = 0;
      pgText = text.replace(/\?/g, () => `$${++n}`);
      pgTexts.set(text, pgText);
      if (pgTexts.size > MAX_PG_TEXTS) pgTexts.delete(pgTexts.keys().next().value!);
    }
    sqlText = pgText;
  }
  return (await db.executeQuery<R>(CompiledQuery.raw(sqlText, [...params]))).rows;
}

/** A PostgreSQL column type for `unnest(?::type[])`. */
export type PgType = 'integer' | 'bigint' | 'text' | 'double precision';

/**
 * PostgreSQL: inserts `rows` in one statement whatever their number, a parameter per column (an array
 * each, `unnest`), inserted in the order given. A multi-row VALUES list of 200 rows of 25 columns is
 * 5,000 parameters to bind and a statement PostgreSQL parses and plans per chunk; this is one fixed
 * text per shape. Returns the `returning` columns of the inserted rows.
 */
export async function insertUnnest<R extends string = never>(
  db: Kysely<Database>,
  table: keyof Database,
  columns: ReadonlyArray<readonly [name: string, type: PgType]>,
  rows: ReadonlyArray<readonly unknown[]>,
  opts: InsertOptions<R> = {},
): Promise<Array<Record<R, unknown>>> {
  if (!rows.length) return [];
  const arrays: unknown[][] = columns.map(() => new Array<unknown>(rows.length));
  rows.forEach((row, r) => {
    if (row.length !== columns.length) throw new Error(`insert into ${table}: a row of ${row.length} values for ${columns.length} columns`);
    row.forEach((v, c) => (arrays[c]![r] = v));
  });
  const key = `unnest\u0000${table}\u0000${columns.map(([n, t]) => `${n}:${t}`).join(',')}\u0000${opts.onConflict ?? ''}\u0000${opts.returning?.join(',') ?? ''}`;
  let text = texts.get(key);
  if (text === undefined) {
    const names = columns.map(([n]) => quote(n));
    text = `insert into ${quote(table)} (${names.join(', ')}) select ${names.map((n) => `"v".${n}`).join(', ')} from unnest(${columns.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')}) with ordinality as "v"(${names.join(', ')}, "n") order by "v"."n"`;
    if (opts.onConflict) text += ` ${opts.onConflict}`;
    if (opts.returning?.length) text += ` returning ${opts.returning.map(quote).join(', ')}`;
    texts.set(key, text);
    if (texts.size > MAX_TEXTS) texts.delete(texts.keys().next().value!);
  }
  return (await db.executeQuery<Record<R, unknown>>(CompiledQuery.raw(text, arrays))).rows;
}
