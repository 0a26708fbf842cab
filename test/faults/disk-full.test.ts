// The disk holding the SQLite file fills up mid-import: the batch fails whole with an error naming
// the file, earlier batches stay intact, `PRAGMA integrity_check` is ok, and once space is freed the
// same batch goes in. A tiny tmpfs when this process may mount one (root), else SQLite's max_page_count.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { ensureSource } from '../../src/store/queries.js';
import { ingestBatch } from '../../src/stages/ingest-batch.js';
import type { RawMessage } from '../../src/model/index.js';
import { tempDir } from '../support/factories.js';

const dir = tempDir('gleaner-full-');
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir], { stdio: 'ignore' });
  mounted = true;
} catch {
  // not root, or no mount here: emulate with max_page_count below
}

afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
});

function batchOf(b: number, size: number): RawMessage[] {
  return Array.from({ length: size }, (_, i) => ({
    externalId: `b${b}m${i}`,
    channel: 'general',
    author: { id: `U${i % 13}` },
    text: `batch ${b} message ${i} ${'words about the export page '.repeat(8)}`,
    sentAt: Date.UTC(2024, 0, 1) + (b * size + i) * 1000,
  }));
}

describe('disk full for the SQLite file', () => {
  it('fails the batch with a clear error, keeps earlier data, no corruption, resumes after space is freed', async () => {
    const file = join(dir, 'full.db');
    const store = await openDb(file);
    const filler = join(dir, 'filler');
    if (mounted)
      writeFileSync(filler, Buffer.alloc(1024 * 1024)); // freed later
    else await sql`pragma max_page_count = 400`.execute(store.db);
    const sourceId = await ensureSource(store.db, 'chat', 'slack', Date.now());

    let stored = 0;
    let failure: unknown = null;
    let b = 0;
    for (; b < 200; b++) {
      try {
        await ingestBatch(store.db, { sourceId, platform: 'slack', messages: batchOf(b, 200), normalizerVersion: 1, cursor: { key: 'cursor', value: String(b) } }, Date.now());
        stored += 200;
      } catch (err: unknown) {
        failure = err;
        break;
      }
    }
    expect(failure, 'the disk never filled up').toBeInstanceOf(Error);
    const message = (failure as Error).message;
    expect(message).toContain(file);
    expect(message).toMatch(/disk is full/);
    expect(stored).toBeGreaterThan(0);

    const count = async () =>
      Number(
        (
          await store.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count()).toBe(stored); // the failed batch left nothing behind
    const cursor = await store.db.selectFrom('checkpoints').select('cursor').executeTakeFirst();
    expect(cursor?.cursor).toBe(String(b - 1));

    // Space comes back: the same batch goes in.
    if (mounted) rmSync(filler);
    else await sql`pragma max_page_count = 1000000`.execute(store.db);
    await ingestBatch(store.db, { sourceId, platform: 'slack', messages: batchOf(b, 200), normalizerVersion: 1, cursor: { key: 'cursor', value: String(b) } }, Date.now());
    expect(await count()).toBe(stored + 200);
    await store.close();

    const check = new Database(file, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((check.prepare('select count(*) as n from messages').get() as { n: number }).n).toBe(stored + 200);
    check.close();
  }, 120_000);
});
