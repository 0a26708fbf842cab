// PostgreSQL plans each statement from its tables' statistics, which only ANALYZE gathers. A store that
// is filling (the first import into a fresh store, a big backfill) has none, or ones from when it was a
// tenth of its size, until autovacuum analyzes it: a minute later at best, never where autovacuum is
// off. Meanwhile PostgreSQL guesses, and for this store's lookups by a list of keys it guessed a
// parallel scan of every message where an index gives the few rows wanted (a 100k-message import
// through workers: 70 CPU seconds of PostgreSQL's, 40 with the tables analyzed as they grow).
// So a process writing to PostgreSQL analyzes the tables that changed much since their last ANALYZE,
// at most every CHECK_MS; one process at a time. Much is autovacuum's threshold but as many rows
// changed as the table had (autovacuum's default: a tenth): the planner scales its row counts by a
// table's size now, so what a new ANALYZE adds is the values' spread, which a filling store changes
// slowly; at a tenth, a store filling at import speed had its biggest tables analyzed every CHECK_MS,
// a fifth of PostgreSQL's time in a 100k-message import through workers (ANALYZE reads a sample of
// 30,000 rows however few columns it looks at).
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** How often a process looks at what changed (one small read of pg_stat_user_tables). */
const CHECK_MS = 5_000;
/** autovacuum_analyze_threshold (PostgreSQL's default) and the share of a table's rows changed (see above). */
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE = 1;
/**
 * Tables no statement plans from statistics: raw_items is only ever written, one upsert a batch whose
 * conflict target is its unique key (it was analyzed as often as messages, a sample of 30,000 raw
 * payloads each time, for nothing). Autovacuum still analyzes them on its own schedule.
 */
const NEVER_PLANNED = ['raw_items'];
/** "GLAN": the advisory lock that keeps two processes from analyzing the same tables at once. */
const ANALYZE_LOCK_KEY = 0x474c414e;

/** Tables with more rows changed since their last ANALYZE than ANALYZE_THRESHOLD + ANALYZE_SCALE of their rows (but NEVER_PLANNED). */
export async function tablesToAnalyze(db: Kysely<Database>): Promise<string[]> {
  const r = await sql<{ relname: string }>`
    select s.relname from pg_stat_user_tables s join pg_class c on c.oid = s.relid
    where s.schemaname = current_schema() and s.n_mod_since_analyze > ${ANALYZE_THRESHOLD} + ${ANALYZE_SCALE} * greatest(c.reltuples, 0)
      and s.relname <> all(${NEVER_PLANNED}::text[])
    order by s.relname`.execute(db);
  return r.rows.map((x) => x.relname);
}

/**
 * Analyzes the tables tablesToAnalyze names, unless another process is at it (then nothing: it is
 * done by that one). Returns the tables analyzed.
 */
export async function analyzeChangedTables(db: Kysely<Database>): Promise<string[]> {
  const tables = await tablesToAnalyze(db);
  if (!tables.length) return [];
  return db.transaction().execute(async (trx) => {
    const r = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${ANALYZE_LOCK_KEY}) as ok`.execute(trx);
    if (!r.rows[0]?.ok) return [];
    // Read again under the lock: the process that held it may have analyzed them just now.
    const still = await tablesToAnalyze(trx);
    if (still.length) await sql`analyze ${sql.join(still.map((t) => sql.id(t)))}`.execute(trx);
    return still;
  });
}

/**
 * Keeps a PostgreSQL store's statistics up with its growth while this process writes to it: after a
 * write is noted (`wrote`), the changed tables are looked at within CHECK_MS and analyzed when due.
 * An idle process sends nothing. Failures are reported to `warn` and the next write tries again.
 */
export class PlannerStats {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly warn: (message: string) => void,
    private readonly checkMs = CHECK_MS,
  ) {}

  /** Something was written: the tables are looked at within `checkMs` (once, however many writes). */
  wrote(): void {
    if (this.closed || this.timer || this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = analyzeChangedTables(this.db)
        .then(
          () => undefined,
          (err: unknown) => {
            if (!this.closed) this.warn(`could not analyze the changed tables: ${(err as Error).message}`);
          },
        )
        .finally(() => {
          this.running = null;
        });
    }, this.checkMs);
    this.timer.unref();
  }

  /** No more checks; waits for one under way. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
