// Copies a whole store from SQLite into PostgreSQL (`gleaner migrate`): every table in foreign-key
// order, in batches, ids kept, in one target transaction (a failed copy leaves the target as it was),
// sequences moved past the copied ids, row counts verified before the commit.
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { dbKind } from './db.js';
import { StoreError } from '../errors.js';

export interface CopyOptions {
  /** Empty the target's tables first instead of refusing a target that holds rows. */
  force?: boolean;
  /** Rows per read and per insert (capped so one insert stays under PostgreSQL's 65535 parameters). */
  batchRows?: number;
  onTable?: (table: string, rows: number) => void;
}

export interface CopiedTable {
  table: string;
  source: number;
  target: number;
}

export interface CopyReport {
  tables: CopiedTable[];
  /** Text values that held U+0000, which PostgreSQL cannot store: copied without it. */
  nulStripped: number;
  /** Identity sequences moved past the copied ids. */
  sequencesReset: number;
}

const PG_MAX_PARAMS = 65_535;
/**
 * Bookkeeping the target keeps for itself (both sides run the same migrations): the migrations, and the
 * clusters' state counter (its triggers move the target's own as the clusters are copied in; a worker
 * builds its index from scratch on a store it has not seen).
 */
const isOwnTable = (t: string) => t.startsWith('kysely_migration') || t === 'cluster_state';

/** Tables by name, as read at run time (the copy takes whatever tables the migrations made). */
type AnyDb = Kysely<Record<string, Record<string, unknown>>>;

export async function copyStore(source: Kysely<Database>, target: Kysely<Database>, opts: CopyOptions = {}): Promise<CopyReport> {
  if (dbKind(source) !== 'sqlite' || dbKind(target) !== 'postgres') throw new StoreError('the store copy goes from a SQLite file to PostgreSQL');
  const src = source as unknown as AnyDb;
  const dst = target as unknown as AnyDb;
  await sameMigrations(src, dst);
  const tables = await sqliteTablesInOrder(src);
  const targetColumns = await postgresColumns(dst);
  for (const t of tables) {
    if (!targetColumns.has(t.name)) throw new StoreError(`table ${t.name} of the SQLite store has no counterpart in PostgreSQL; are both at the same Gleaner version?`);
    const missing = t.columns.filter((c) => !targetColumns.get(t.name)!.has(c));
    if (missing.length) throw new StoreError(`PostgreSQL table ${t.name} lacks column(s) ${missing.join(', ')}; are both at the same Gleaner version?`);
  }

  // A snapshot of the source (WAL: writers may go on, we read one consistent state) ...
  return src.transaction().execute(async (from) =>
    // ... into one target transaction.
    dst.transaction().execute(async (to) => {
      const nonEmpty: string[] = [];
      for (const t of [...targetColumns.keys()].filter((x) => !isOwnTable(x))) {
        if (await hasRows(to, t)) nonEmpty.push(t);
      }
      if (nonEmpty.length) {
        if (!opts.force) throw new StoreError(`the PostgreSQL database is not empty (${nonEmpty.join(', ')} hold rows); use an empty database, or --force to replace its contents`);
        await sql`TRUNCATE ${sql.join(nonEmpty.map((t) => sql.table(t)))} RESTART IDENTITY CASCADE`.execute(to);
      }
      let nulStripped = 0;
      const copied: CopiedTable[] = [];
      for (const t of tables) {
        const perInsert = Math.max(1, Math.min(opts.batchRows ?? 2000, Math.floor(PG_MAX_PARAMS / t.columns.length)));
        let last = Number.MIN_SAFE_INTEGER;
        let n = 0;
        for (;;) {
          const rows = await sql<
            Record<string, unknown> & { __rowid: number }
          >`SELECT rowid AS __rowid, ${sql.join(t.columns.map((c) => sql.ref(c)))} FROM ${sql.table(t.name)} WHERE rowid > ${last} ORDER BY rowid LIMIT ${perInsert}`.execute(from);
          if (!rows.rows.length) break;
          last = rows.rows[rows.rows.length - 1]!.__rowid;
          const values = rows.rows.map((r) => {
            const out: Record<string, unknown> = {};
            for (const c of t.columns) {
              const v = r[c];
              if (typeof v === 'string' && v.includes('\u0000')) {
                out[c] = v.replaceAll('\u0000', '');
                nulStripped++;
              } else out[c] = v;
            }
            return out;
          });
          await to.insertInto(t.name).values(values).execute();
          n += values.length;
          if (rows.rows.length < perInsert) break;
        }
        opts.onTable?.(t.name, n);
        copied.push({ table: t.name, source: await countRows(from, t.name), target: await countRows(to, t.name) });
      }
      const sequencesReset = await resetSequences(to);
      const wrong = copied.filter((c) => c.source !== c.target);
      if (wrong.length) throw new StoreError(`row counts differ after the copy (nothing was committed): ${wrong.map((c) => `${c.table} ${c.source} -> ${c.target}`).join(', ')}`);
      return { tables: copied, nulStripped, sequencesReset };
    }),
  );
}

async function sameMigrations(src: AnyDb, dst: AnyDb): Promise<void> {
  const names = async (db: AnyDb) => (await db.selectFrom('kysely_migration').select('name').orderBy('name').execute()).map((r) => String(r.name)).join(',');
  const [a, b] = [await names(src), await names(dst)];
  if (a !== b) throw new StoreError(`the two stores are at different schema versions (SQLite: ${a || 'none'}; PostgreSQL: ${b || 'none'})`);
}

interface SourceTable {
  name: string;
  columns: string[];
}

/** The SQLite store's tables, parents before children; virtual tables (the FTS5 index) and their shadow tables are each database's own and stay behind. */
async function sqliteTablesInOrder(db: AnyDb): Promise<SourceTable[]> {
  const all = (await sql<{ name: string; sql: string | null }>`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid`.execute(db)).rows;
  const virtual = all.filter((t) => /^CREATE VIRTUAL TABLE/i.test(t.sql ?? '')).map((t) => t.name);
  const names = all.map((t) => t.name).filter((n) => !isOwnTable(n) && !virtual.some((v) => n === v || n.startsWith(`${v}_`)));
  const parents = new Map<string, Set<string>>();
  const columns = new Map<string, string[]>();
  for (const n of names) {
    const fks = (await sql<{ table: string }>`SELECT "table" FROM pragma_foreign_key_list(${n})`.execute(db)).rows;
    parents.set(n, new Set(fks.map((f) => f.table).filter((p) => p !== n)));
    columns.set(
      n,
      (await sql<{ name: string }>`SELECT name FROM pragma_table_info(${n}) ORDER BY cid`.execute(db)).rows.map((c) => c.name),
    );
  }
  const ordered: SourceTable[] = [];
  const done = new Set<string>();
  const visit = (n: string, path: string[]) => {
    if (done.has(n)) return;
    if (path.includes(n)) throw new StoreError(`foreign keys form a cycle: ${[...path, n].join(' -> ')}`);
    for (const p of parents.get(n) ?? []) if (names.includes(p)) visit(p, [...path, n]);
    done.add(n);
    ordered.push({ name: n, columns: columns.get(n)! });
  };
  for (const n of names) visit(n, []);
  return ordered;
}

/** table -> columns a value may be given for (generated columns, like the search vector, are left out). */
async function postgresColumns(db: AnyDb): Promise<Map<string, Set<string>>> {
  const rows = (
    await sql<{ table_name: string; column_name: string }>`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_generated = 'NEVER'`.execute(db)
  ).rows;
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = out.get(r.table_name) ?? new Set<string>();
    set.add(r.column_name);
    out.set(r.table_name, set);
  }
  return out;
}

async function hasRows(db: AnyDb, table: string): Promise<boolean> {
  return (await sql`SELECT 1 FROM ${sql.table(table)} LIMIT 1`.execute(db)).rows.length > 0;
}

async function countRows(db: AnyDb, table: string): Promise<number> {
  const r = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Moves each identity column's sequence past the largest copied id, so new rows get fresh ids. */
async function resetSequences(db: AnyDb): Promise<number> {
  const ids = (
    await sql<{ table_name: string; column_name: string }>`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'`.execute(db)
  ).rows;
  for (const { table_name: t, column_name: c } of ids) {
    await sql`SELECT setval(pg_get_serial_sequence(${t}, ${c}), coalesce((SELECT max(${sql.ref(c)}) FROM ${sql.table(t)}), 0) + 1, false)`.execute(db);
  }
  return ids.length;
}
