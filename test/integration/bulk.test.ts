// The store's plain-text multi-row inserts and fixed statements behave alike on SQLite and PostgreSQL:
// rows and returned columns in order, conflicts skipped, values bound (never spliced into the text).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRows, runStatement } from '../../src/store/bulk.js';
import { suiteDialects } from '../support/stores.js';

describe.each(suiteDialects)('bulk statements on %s', (kind, make) => {
  const dialect = make();
  beforeAll(() => dialect.beforeAll());
  afterAll(() => dialect.afterAll());

  it('inserts rows, returns their columns, skips conflicts and binds hostile values as values', async () => {
    const store = await dialect.fresh();
    expect(store.kind).toBe(kind);
    const hostile = `x'); drop table sources; --`;
    const made = await insertRows(
      store.db,
      'sources',
      ['name', 'platform', 'created_at'],
      [
        ['a', 'irc', 1],
        [hostile, 'slack', 2],
        ['c', 'mail', 3],
      ],
      { returning: ['id', 'name'] },
    );
    expect(made.map((r) => r.name)).toEqual(['a', hostile, 'c']);
    const ids = made.map((r) => Number(r.id));
    expect(new Set(ids).size).toBe(3);
    // A conflicting name is skipped, the rest go in.
    const again = await insertRows(
      store.db,
      'sources',
      ['name', 'platform', 'created_at'],
      [
        ['a', 'irc', 4],
        ['d', 'irc', 5],
      ],
      { onConflict: 'on conflict do nothing', returning: ['name'] },
    );
    expect(again.map((r) => r.name)).toEqual(['d']);
    const rows = await runStatement<{ name: string; created_at: number }>(store.db, 'select "name", "created_at" from "sources" where "created_at" >= ? and "name" <> ? order by "created_at"', [
      2,
      'c',
    ]);
    expect(rows.map((r) => [r.name, Number(r.created_at)])).toEqual([
      [hostile, 2],
      ['d', 5],
    ]);
    await expect(insertRows(store.db, 'sources', ['name', 'platform'], [['e']])).rejects.toThrow(/1 values for 2 columns/);
    await expect(insertRows(store.db, 'sources', ['name; drop'], [['e']])).rejects.toThrow(/not a column/);
  });
});
