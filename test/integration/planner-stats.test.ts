// A PostgreSQL store analyzes the tables its writes changed much (src/store/planner-stats.ts): a store
// being filled has statistics to plan with before autovacuum (if on at all) comes round.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';
import { openDb, type OpenedDb } from '../../src/store/db.js';
import { analyzeChangedTables, PlannerStats, tablesToAnalyze } from '../../src/store/planner-stats.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let tdb: TestDatabase;
let store: OpenedDb;

beforeAll(async () => {
  tdb = await createTestDatabase(inject('pgUrl'));
  store = await openDb(tdb.url, { poolSize: 4, analyzeAsItGrows: false });
});
afterAll(async () => {
  await store?.close();
  await tdb?.drop();
});

/**
 * Runs the writes on one connection whose statistics are flushed at its next commit (PostgreSQL 15+):
 * a busy server (the whole suite at once) may otherwise hold a backend's counts back for up to a minute.
 */
async function flushed(write: (db: Kysely<Database>) => Promise<unknown>): Promise<void> {
  await store.db.connection().execute(async (conn) => {
    await sql`select pg_stat_force_next_flush()`.execute(conn).catch(() => undefined);
    await write(conn);
  });
}

async function addPeople(n: number): Promise<void> {
  await flushed((db) => sql`insert into people (display_name, org_id, is_staff, created_at) select 'p' || g, null, 0, 0 from generate_series(1, ${n}::integer) g`.execute(db));
}

async function lastAnalyze(table: string): Promise<Date | null> {
  const r = await sql<{ t: Date | null }>`select coalesce(last_analyze, last_autoanalyze) as t from pg_stat_user_tables where relname = ${table}`.execute(store.db);
  return r.rows[0]?.t ?? null;
}

/** Statistics reach pg_stat_user_tables within a second or so (PostgreSQL flushes them in the background; at the latest within a minute). */
async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 70_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('planner statistics of a PostgreSQL store', { timeout: 240_000 }, () => {
  it('a table with more rows changed than it had is analyzed once, then no longer due', async () => {
    await addPeople(500);
    expect(
      await until(
        () => tablesToAnalyze(store.db),
        (t) => t.includes('people'),
      ),
    ).toContain('people');
    expect(await analyzeChangedTables(store.db)).toContain('people');
    expect(
      await until(
        () => lastAnalyze('people'),
        (t) => t !== null,
      ),
    ).not.toBeNull();
    expect(
      await until(
        () => tablesToAnalyze(store.db),
        (t) => !t.includes('people'),
      ),
    ).not.toContain('people');
    // More rows changed than the 500 it had + 50: due again; fewer: not.
    await addPeople(400);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await tablesToAnalyze(store.db)).not.toContain('people');
    await addPeople(200);
    expect(
      await until(
        () => tablesToAnalyze(store.db),
        (t) => t.includes('people'),
      ),
    ).toContain('people');
  });

  it('a table only ever written (raw_items) is never analyzed by the store, however much it changed', async () => {
    await sql`insert into sources (name, platform, status, created_at) values ('s', 'slack', 'ok', 0)`.execute(store.db);
    await flushed((db) =>
      sql`insert into raw_items (source_id, external_id, payload, normalizer_version, fetched_at) select (select max(id) from sources), 'e' || g, '{}', 1, 0 from generate_series(1, 3000) g`.execute(
        db,
      ),
    );
    // Due by the rule (3,000 rows changed, far past 50 + the rows it had), once the statistics show it.
    const changed = await until(
      async () => Number((await sql<{ n: string | null }>`select n_mod_since_analyze as n from pg_stat_user_tables where relname = 'raw_items'`.execute(store.db)).rows[0]?.n ?? 0),
      (n) => n >= 3000,
    );
    expect(changed).toBeGreaterThanOrEqual(3000);
    expect(await tablesToAnalyze(store.db)).not.toContain('raw_items');
    expect(await analyzeChangedTables(store.db)).not.toContain('raw_items');
  });

  it('two processes at it at once: one analyzes, the other skips, neither fails', async () => {
    await addPeople(2000);
    await until(
      () => tablesToAnalyze(store.db),
      (t) => t.includes('people'),
    );
    const [a, b] = await Promise.all([analyzeChangedTables(store.db), analyzeChangedTables(store.db)]);
    expect([...a, ...b].filter((t) => t === 'people').length).toBeGreaterThanOrEqual(1);
  });

  it('PlannerStats analyzes after writes are noted, and sends nothing once closed', async () => {
    const before = await lastAnalyze('people');
    const warnings: string[] = [];
    const stats = new PlannerStats(store.db, (m) => warnings.push(m), 50);
    const after = await until(
      async () => {
        await addPeople(1000);
        stats.wrote();
        await new Promise((r) => setTimeout(r, 200));
        return lastAnalyze('people');
      },
      (t) => t !== null && (before === null || t.getTime() > before.getTime()),
    );
    expect(after).not.toBeNull();
    expect(before === null || after!.getTime() > before.getTime()).toBe(true);
    await stats.close();
    stats.wrote(); // after close: no timer, nothing sent
    expect(warnings).toEqual([]);
  });
});
