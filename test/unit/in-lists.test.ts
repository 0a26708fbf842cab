// Long `in (...)` lists are padded to a few lengths so that SQLite statements differing only in a
// list's length share one prepared statement; the padded statement selects exactly the same rows.
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb, padInLists, type OpenedDb } from '../../src/store/db.js';
import { tempDir } from '../support/factories.js';

describe('in-list padding', () => {
  it('pads long lists to the next power of two, repeating the last value, and leaves the rest', () => {
    const q = 'select "id" from "t" where "a" = ? and "b" in (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) and "c" not in (?, ?) and "d" in (?, ?, ?, ?, ?, ?, ?, ?, ?) limit ?';
    const p = padInLists(q)!;
    expect(p.sql).toBe(`select "id" from "t" where "a" = ? and "b" in (${Array(16).fill('?').join(', ')}) and "c" not in (?, ?) and "d" in (${Array(16).fill('?').join(', ')}) limit ?`);
    const params = ['a', ...Array.from({ length: 10 }, (_, i) => `b${i}`), 'c0', 'c1', ...Array.from({ length: 9 }, (_, i) => `d${i}`), 5];
    const padded = p.pad(params);
    expect(padded).toEqual(['a', ...Array.from({ length: 10 }, (_, i) => `b${i}`), ...Array(6).fill('b9'), 'c0', 'c1', ...Array.from({ length: 9 }, (_, i) => `d${i}`), ...Array(7).fill('d8'), 5]);
    expect(padded.length).toBe(p.sql.split('?').length - 1);
  });

  it('leaves short lists, inserts and statements with literals alone', () => {
    expect(padInLists('select 1 from t where a in (?, ?, ?)')).toBeNull();
    expect(padInLists(`insert into "t" ("a", "b") values (?, ?), (?, ?), (?, ?), (?, ?), (?, ?)`)).toBeNull();
    expect(padInLists(`select 1 from t where a = 'in (?, ?)' and b in (${Array(20).fill('?').join(', ')})`)).toBeNull();
    expect(padInLists('select "join" (1) from t')).toBeNull();
  });

  describe('on a store', () => {
    let store: OpenedDb;
    afterAll(async () => store?.close());

    it('selects the same rows for every list length', async () => {
      store = await openDb(join(tempDir('gleaner-in-lists-'), 'x.db'));
      await sql`create table t (id integer primary key, v text)`.execute(store.db);
      for (let i = 1; i <= 700; i++) await sql`insert into t (id, v) values (${i}, ${`v${i}`})`.execute(store.db);
      const db = store.db as unknown as import('kysely').Kysely<{ t: { id: number; v: string } }>;
      for (const n of [1, 8, 9, 15, 16, 17, 100, 255, 256, 257, 400, 513, 700]) {
        const ids = Array.from({ length: n }, (_, i) => 700 - i * (n > 350 ? 1 : 2));
        const rows = await db
          .selectFrom('t')
          .select(['id', 'v'])
          .where('id', 'in', ids)
          .where('v', 'not in', ['v699', ...Array.from({ length: 10 }, (_, i) => `nope${i}`)])
          .orderBy('id')
          .execute();
        const want = [...new Set(ids)].filter((id) => id >= 1 && id !== 699).sort((a, b) => a - b);
        expect(
          rows.map((r) => r.id),
          `n=${n}`,
        ).toEqual(want);
        expect(rows.every((r) => r.v === `v${r.id}`)).toBe(true);
      }
    });
  });
});
