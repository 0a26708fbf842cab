// A bulk write hands WAL checkpoints to a helper thread: it starts once the WAL has grown (and not for
// a small store), copies the whole WAL back while the writer goes on, loses nothing, and stops on close,
// after which the file is whole (integrity_check) with every row.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { ensureSource } from '../../src/store/queries.js';
import { tempDir } from '../support/factories.js';

describe('WAL checkpoints on a helper thread', () => {
  it('start with a bulk write, keep the WAL bounded, and leave every row in a sound file', async () => {
    const path = join(tempDir(), 'bulk.db');
    const store = await openDb(path);
    const sourceId = await ensureSource(store.db, 'irc', 'irc', 0);
    // A small store never starts the thread.
    await store.db.insertInto('raw_items').values({ source_id: sourceId, external_id: 'small', payload: 'x', normalizer_version: 1, fetched_at: 0 }).execute();
    expect(store.checkpoints().running).toBe(false);
    const payload = 'p'.repeat(4000);
    let maxWal = 0;
    for (let t = 0; t < 300; t++) {
      await store.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('raw_items')
          .values(Array.from({ length: 100 }, (_, i) => ({ source_id: sourceId, external_id: `r${t}-${i}`, payload: `${t}-${i}-${payload}`, normalizer_version: 1, fetched_at: t })))
          .execute();
      });
      maxWal = Math.max(maxWal, statSync(`${path}-wal`).size);
      // The helper checkpoints while the writer pauses between batches (as an import does while parsing).
      if (t % 10 === 0) await new Promise((r) => setTimeout(r, 120));
    }
    const bg = store.checkpoints();
    expect(bg.running).toBe(true);
    // The helper copied the whole WAL back (the writer's own checkpoint waits for 256 MB), so the WAL
    // could start over. (Its size is not asserted: how far it grows first depends on the machine's load.)
    expect(bg.full).toBeGreaterThan(0);
    expect(maxWal).toBeGreaterThan(0);
    await store.close();
    expect(store.checkpoints().running).toBe(false);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(check.prepare('select count(*) as n from raw_items').get()).toEqual({ n: 30_001 });
    check.close();
  });
});
