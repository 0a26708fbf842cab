// Opens the store: SQLite (better-sqlite3, WAL) by default, PostgreSQL (pg pool) for a postgres:// URL;
// the dialect is chosen here, once.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import {
  ColumnDefinitionNode,
  DataTypeNode,
  GeneratedNode,
  Kysely,
  Migrator,
  PostgresDialect,
  PostgresQueryCompiler,
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type LogEvent,
  type Driver,
  type SqliteDialectConfig,
  type MigrationProvider,
  type Migration,
  type QueryCompiler,
} from 'kysely';
import type { Database } from './schema.js';
import { StoreError } from '../errors.js';
// Kept importable from here for the store modules (src/store/ingest.ts imports it from db.js).
export { StoreError };
import { migrations } from './migrations/index.js';
import { logger } from '../log.js';
import { BackgroundCheckpointer } from '../threads/checkpointer.js';
import { PlannerStats } from './planner-stats.js';

export type DbKind = 'sqlite' | 'postgres';

export interface OpenedDb {
  db: Kysely<Database>;
  kind: DbKind;
  location: string;
  /** Whether a SQLite store's WAL is checkpointed by a helper thread now (see checkpointer.ts), and how many of its checkpoints copied the whole WAL back. */
  checkpoints(): { running: boolean; full: number };
  close(): Promise<void>;
}

class StaticMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export interface OpenDbOptions {
  /** PostgreSQL pool size (config store.poolSize; default 10). */
  poolSize?: number;
  /** SQLite page cache per connection in MB (config store.sqliteCacheMb; default 64). */
  sqliteCacheMb?: number;
  /** Time every statement and print the costliest at exit (config store.queryStats). */
  queryStats?: boolean;
  /** Skip migrations (the copy command checks the target's state itself). */
  migrate?: boolean;
  /** A SQLite store must exist already (read-only commands): no folder or empty store is made. */
  mustExist?: boolean;
  /** PostgreSQL: analyze the tables this process's writes changed much (see planner-stats.ts); default true. */
  analyzeAsItGrows?: boolean;
}

/** A read-only command pointed at a SQLite file that is not there. */
export class MissingStoreError extends StoreError {
  constructor(readonly path: string) {
    super(
      `no Gleaner store at ${path}: nothing has been imported there. Import first (gleaner --db ${path} import <files>), or point --db, GLEANER_DB or database: in gleaner.yaml at an existing store`,
    );
    this.name = 'MissingStoreError';
  }
}

/** Runs `f`, again after a short pause while it fails with SQLITE_BUSY, for up to `ms`. */
function retryBusy<T>(f: () => T, ms: number): T {
  const deadline = Date.now() + ms;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return f();
    } catch (err: unknown) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
      Atomics.wait(pause, 0, 0, 25 + Math.floor(Math.random() * 50));
    }
  }
}

/** `url`: a SQLite file path (or `sqlite:PATH`, or `:memory:`), or a `postgres://` URL. */
export async function openDb(url: string, opts: OpenDbOptions = {}): Promise<OpenedDb> {
  if (isPostgresUrl(url)) return openPostgres(url, opts);
  const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (path !== ':memory:' && opts.mustExist && !existsSync(path)) throw new MissingStoreError(path);
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  let sqlite: SQLite.Database;
  try {
    sqlite = new SQLite(path);
    // First: another process creating the same new file holds locks that the next pragmas wait on.
    sqlite.pragma('busy_timeout = 10000');
    // Switching a new file to WAL can fail with SQLITE_BUSY at once, without the busy handler, while
    // another process is creating the same file's WAL: try again for a while.
    retryBusy(() => sqlite.pragma('journal_mode = WAL'), 15_000);
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
    // A 64 MB page cache by default (SQLite's is 2 MB: a big store's indexes thrash it;
    // store.sqliteCacheMb sets another) and checkpoints every 16k pages rather than 1k: fewer,
    // larger WAL checkpoints for bulk imports.
    sqlite.pragma(`cache_size = -${(opts.sqliteCacheMb ?? 64) * 1024}`);
    sqlite.pragma('wal_autocheckpoint = 16384');
    // A WAL that a bulk import grew is cut back to 64 MB when it starts over (else it keeps its size).
    sqlite.pragma('journal_size_limit = 67108864');
    sqlite.pragma('temp_store = MEMORY');
  } catch (err: unknown) {
    throw new StoreError(`cannot open the SQLite database at ${path}: ${(err as Error).message}`, { cause: err });
  }
  const checkpointer = path === ':memory:' ? null : new BackgroundCheckpointer(path, sqlite);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: statementCache(sqlite, () => checkpointer?.afterCommit()) }), ...queryStatsLog(opts.queryStats) });
  if (opts.migrate !== false) await migrate(db);
  return {
    db,
    kind: 'sqlite',
    location: path,
    checkpoints: () => ({ running: checkpointer?.running ?? false, full: checkpointer?.fullCheckpoints ?? 0 }),
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/**
 * Kysely prepares every statement anew; compiling SQL costs about as much as running a small
 * statement, so prepared statements are kept by their SQL text (the most recent STATEMENT_CACHE). A
 * statement still being iterated (busy) is not shared: a fresh one is prepared for that call.
 *
 * `x in (?, ?, ...)` lists come in every length, and each length was a statement of its own: lists are
 * padded to a few sizes (see padInLists) so that they share prepared statements.
 */
function statementCache(sqlite: SQLite.Database, afterCommit: () => void): SqliteDialectConfig['database'] {
  const cache = new Map<string, SQLite.Statement>();
  const paddings = new Map<string, InListPadding | null>();
  const prepared = (sql: string): SQLite.Statement => {
    let stmt = cache.get(sql);
    if (stmt && !stmt.busy) {
      cache.delete(sql); // re-inserted below: the Map's order is the recency order
      cache.set(sql, stmt);
      return stmt;
    }
    stmt = sqlite.prepare(sql);
    cache.set(sql, stmt);
    if (cache.size > STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
    return stmt;
  };
  return {
    close: () => sqlite.close(),
    prepare: (sql: string) => {
      if (sql === 'commit') {
        const stmt = prepared(sql);
        return {
          reader: false,
          all: (params: ReadonlyArray<unknown>) => stmt.all(params),
          iterate: (params: ReadonlyArray<unknown>) => stmt.iterate(params),
          run: (params: ReadonlyArray<unknown>) => {
            const r = stmt.run(params);
            afterCommit();
            return r;
          },
        };
      }
      let padding = paddings.get(sql);
      if (padding === undefined) {
        padding = padInLists(sql);
        paddings.set(sql, padding);
        if (paddings.size > STATEMENT_CACHE * 4) paddings.delete(paddings.keys().next().value!);
      }
      if (!padding) return prepared(sql);
      const stmt = prepared(padding.sql);
      const pad = padding.pad;
      return {
        reader: stmt.reader,
        all: (params: ReadonlyArray<unknown>) => stmt.all(pad(params)),
        run: (params: ReadonlyArray<unknown>) => stmt.run(pad(params)),
        iterate: (params: ReadonlyArray<unknown>) => stmt.iterate(pad(params)),
      };
    },
  };
}
const STATEMENT_CACHE = 500;

export interface InListPadding {
  /** The statement with every long `in (...)` list at its padded length. */
  sql: string;
  /** The parameters for it: each padded list repeats its last value (the same set of values). */
  pad: (params: ReadonlyArray<unknown>) => unknown[];
}

/** SQLite's limit on a statement's parameters (SQLITE_MAX_VARIABLE_NUMBER). */
const SQLITE_MAX_PARAMS = 32766;

/**
 * Pads the `in (?, ?, ...)` lists of a compiled statement longer than 8 to the next power of two, or
 * null when there is nothing to pad (or the statement is not one to rewrite safely: string literals,
 * numbered parameters).
 */
export function padInLists(sql: string): InListPadding | null {
  if (sql.includes("'") || /\?\d/.test(sql)) return null;
  const groups: Array<{ at: number; n: number; to: number }> = [];
  let out = '';
  let last = 0;
  let params = 0;
  for (const m of sql.matchAll(/\bin \((\?(?:, \?)*)\)/gi)) {
    const before = sql.slice(last, m.index);
    params += before.split('?').length - 1;
    const n = (m[1]!.length + 2) / 3;
    const to = n > 8 ? 2 ** Math.ceil(Math.log2(n)) : n;
    out += before + (to > n ? `${m[0].slice(0, -1)}${', ?'.repeat(to - n)})` : m[0]);
    if (to > n) groups.push({ at: params, n, to });
    params += n;
    last = m.index + m[0].length;
  }
  if (!groups.length) return null;
  const total = params + (sql.slice(last).split('?').length - 1) + groups.reduce((s, g) => s + g.to - g.n, 0);
  if (total > SQLITE_MAX_PARAMS) return null;
  out += sql.slice(last);
  return {
    sql: out,
    pad: (values) => {
      const padded: unknown[] = [];
      let from = 0;
      for (const g of groups) {
        for (let i = from; i < g.at + g.n; i++) padded.push(values[i]);
        const fill = values[g.at + g.n - 1];
        for (let i = g.n; i < g.to; i++) padded.push(fill);
        from = g.at + g.n;
      }
      for (let i = from; i < values.length; i++) padded.push(values[i]);
      return padded;
    },
  };
}

// Transactions take SQLite's write lock when they begin (BEGIN IMMEDIATE): with several worker
// processes on one file, a deferred transaction that read first and then writes fails at once with
// SQLITE_BUSY ("database is locked") when another process wrote meanwhile; an immediate one waits on
// the busy timeout instead.
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly sqliteConfig: SqliteDialectConfig) {
    super(sqliteConfig);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.sqliteConfig);
  }
  override createAdapter(): SqliteAdapter {
    return new MigratingSqliteAdapter();
  }
}

/**
 * Kysely takes no lock for SQLite migrations (one connection per process, it assumes one process):
 * two processes starting on a new file both ran 0001 ("table sources already exists"). SQLite's DDL is
 * transactional, so the migrations run in one transaction, begun IMMEDIATE (above): it holds the write
 * lock, a second process waits for it (busy timeout) and then finds the migrations done.
 */
class MigratingSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

// Times are ms integers in bigint columns and counts come back as bigint: both fit a JS number
// (2^53 ms is year 287396), so read them as numbers, as better-sqlite3 does. Set per pool, not on
// pg's global type table, so other pg users in the process are not affected.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  }) as typeof pg.types.getTypeParser,
};

/**
 * The migrations are written once, with SQLite's meanings: `autoIncrement()` ids (never reused) and
 * `real` (8 bytes). On PostgreSQL those are an identity column (by default, so `gleaner migrate` can
 * keep ids) and `double precision` (`real` there is 4 bytes and would round confidences).
 */
class StorePostgresQueryCompiler extends PostgresQueryCompiler {
  protected override visitColumnDefinition(node: ColumnDefinitionNode): void {
    let n = node;
    if (n.autoIncrement) n = ColumnDefinitionNode.cloneWith(n, { autoIncrement: false, generated: GeneratedNode.create({ identity: true, byDefault: true }) });
    if (DataTypeNode.is(n.dataType) && n.dataType.dataType === 'real') n = { ...n, dataType: DataTypeNode.create('double precision') };
    super.visitColumnDefinition(n);
  }
}

class StorePostgresDialect extends PostgresDialect {
  override createQueryCompiler(): QueryCompiler {
    return new StorePostgresQueryCompiler();
  }
}

async function openPostgres(url: string, opts: OpenDbOptions): Promise<OpenedDb> {
  const location = redactUrl(url);
  const log = logger('store');
  // JIT off: the store's statements are short, and compiling a plan (10-20 ms) cost more than running it.
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10, types: pgTypes, options: '-c jit=off' });
  // An idle client losing its connection (server restart, network) must not crash the process:
  // the pool drops that client and the next query opens a new one.
  pool.on('error', (err) => log.warn({ err: err.message, db: location }, 'PostgreSQL connection lost; the pool will reconnect'));
  // A checked-out client (inside a transaction, between two queries) that loses its connection emits
  // 'error' with no pool listener attached: without this one the process would crash. Its transaction
  // fails on the next query instead, and the pool drops the dead client on release.
  pool.on('connect', (client) => client.on('error', (err) => log.warn({ err: err.message, db: location }, 'PostgreSQL connection lost during a query')));
  try {
    const client = await pool.connect();
    client.release();
  } catch (err: unknown) {
    await pool.end().catch(() => undefined);
    throw new StoreError(`cannot connect to PostgreSQL at ${location}: ${(err as Error).message}; check the URL, that the server is running and that the database exists`, { cause: err });
  }
  // A write noted by the log hook: the tables it changed are analyzed when due (planner-stats.ts).
  let planner: PlannerStats | null = null;
  const stats = queryStatsLog(opts.queryStats).log;
  const noteWrites = opts.analyzeAsItGrows !== false;
  const db = new Kysely<Database>({
    dialect: new StorePostgresDialect({ pool }),
    ...(stats || noteWrites
      ? {
          log: (event: LogEvent) => {
            stats?.(event);
            if (planner && WRITE_STATEMENT.test(event.query.sql)) planner.wrote();
          },
        }
      : {}),
  });
  if (opts.migrate !== false) {
    // A session dropped by the server while migrating (failover, an admin's pg_terminate_backend, a
    // restart) is retried: a worker starting during an outage waits it out instead of exiting.
    for (let attempt = 1; ; attempt++) {
      try {
        await migrate(db);
        break;
      } catch (err: unknown) {
        if (attempt < MIGRATE_ATTEMPTS && isTransientPgError(err)) {
          log.warn({ err: (err as Error).message, db: location, attempt }, 'PostgreSQL dropped the connection while migrating; retrying');
          await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
          continue;
        }
        await db.destroy();
        throw err;
      }
    }
  }
  if (noteWrites) planner = new PlannerStats(db, (message) => log.warn({ db: location }, message));
  return {
    db,
    kind: 'postgres',
    location,
    checkpoints: () => ({ running: false, full: 0 }),
    close: async () => {
      await planner?.close();
      await db.destroy();
    },
  };
}

/** Statements that change rows (what makes a table's statistics go stale). */
const WRITE_STATEMENT = /^\s*(insert|update|delete)\b/i;

const MIGRATE_ATTEMPTS = 6;
/** Connection-level failures worth a retry: the server went away, not a bad statement or schema. */
export function isTransientPgError(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (/^(08|57P)/.test(code) || ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(code))) return true;
    if (/Connection terminated|terminating connection|Client has encountered a connection error/i.test(e.message)) return true;
  }
  return false;
}

/**
 * store.queryStats (GLEANER_QUERY_STATS=1): time every statement and print the costliest (by total time) to stderr when
 * the process exits. For finding where a slow run spends its database time.
 */
function queryStatsLog(on = false): { log?: (event: LogEvent) => void } {
  if (!on) return {};
  const stats = new Map<string, { n: number; ms: number }>();
  process.once('exit', () => {
    const top = [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
    for (const [q, s] of top) process.stderr.write(`${s.ms.toFixed(0).padStart(8)} ms ${String(s.n).padStart(8)}x  ${q.slice(0, 220)}\n`);
  });
  return {
    log: (event) => {
      const key = event.query.sql.replace(/\(\?(?:, \?)*\)(?:, \(\?(?:, \?)*\))*/g, '(?...)').replace(/\$\d+/g, '?');
      const s = stats.get(key) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += event.queryDurationMillis;
      stats.set(key, s);
    },
  };
}

/** `xs` in slices of `n` (an `in (...)` list or a multi-row insert per slice). */
export function chunks<T>(xs: readonly T[], n = 400): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export function dbKind(db: Kysely<Database>): DbKind {
  return db.getExecutor().adapter instanceof SqliteAdapter ? 'sqlite' : 'postgres';
}

export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticMigrations() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new StoreError(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message}`, { cause: error });
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}
