// Three real worker processes on one Redis and one database take the same stream of ingest batches:
// nothing lost, nothing stored twice, and an edit wins over its original whichever worker gets to it
// first. On SQLite (WAL, busy timeout, BEGIN IMMEDIATE per batch) and on the test PostgreSQL.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BullMqQueue } from '../../src/queue/index.js';
import { openDb, type OpenedDb } from '../../src/store/db.js';
import { ensureSource } from '../../src/store/queries.js';
import { ingestJobId, type IngestPayload } from '../../src/stages/ingest.js';
import type { RawMessage } from '../../src/model/index.js';
import { tempDir } from '../support/factories.js';
import { createTestDatabase } from '../support/postgres.js';
import { WorkerProcesses, until } from '../support/workers.js';

const SOURCES = 2;
const BATCHES_PER_SOURCE = 6;
const PER_BATCH = 500;
const EDITS_PER_BATCH = 50;
const T0 = Date.UTC(2024, 4, 1);

const workers = new WorkerProcesses();
afterAll(() => workers.stopAll());

const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
/** Distinct words per message: texts differing only in digits would be folded as copies. */
const spelled = (source: number, n: number) => [...`${source}${n}`].map((d) => DIGITS[Number(d)]).join(' ');

function original(source: number, n: number): RawMessage {
  return {
    externalId: `s${source}m${n}`,
    channel: `c${n % 5}`,
    author: { id: `U${n % 97}`, name: `user${n % 97}` },
    text: `original ${spelled(source, n)} export`,
    sentAt: T0 + n * 1000,
    threadId: `s${source}m${n - (n % 4)}`,
  };
}

function edited(source: number, n: number): RawMessage {
  return { ...original(source, n), text: `edited ${spelled(source, n)} export on Safari`, editedAt: T0 + n * 1000 + 3_600_000 };
}

async function open(kind: 'sqlite' | 'postgres'): Promise<{ url: string; store: OpenedDb; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const url = join(tempDir(), 'scale.db');
    return { url, store: await openDb(url), drop: async () => {} };
  }
  const tdb = await createTestDatabase(inject('pgUrl'));
  return { url: tdb.url, store: await openDb(tdb.url, { poolSize: 2 }), drop: tdb.drop };
}

describe.each(['sqlite', 'postgres'] as const)('three workers on %s', (kind) => {
  it('process one stream of batches with no loss, no duplicate, edits after originals', async () => {
    const { url, store, drop } = await open(kind);
    const prefix = `test-${randomUUID()}`;
    const queue = new BullMqQueue({ url: inject('redisUrl'), prefix, retry: { attempts: 10, baseDelayMs: 100 } });
    const env = { REDIS_URL: inject('redisUrl'), GLEANER_DB: url, GLEANER_QUEUE_PREFIX: prefix, GLEANER_DB_POOL: '3' };
    const started = [workers.start(env), workers.start(env), workers.start(env)];

    const sourceIds: number[] = [];
    for (let s = 0; s < SOURCES; s++) sourceIds.push(await ensureSource(store.db, `chat${s}`, 'slack', Date.now()));
    const add = async (payload: IngestPayload, delayMs?: number) => {
      await queue.add('ingest', 'ingest', payload, { jobId: ingestJobId(payload), delayMs });
    };
    const editedIds = new Set<string>();
    let jobs = 0;
    // Interleaved per source: batch b's originals, then the edits of batch b's first messages.
    for (let b = 0; b < BATCHES_PER_SOURCE; b++) {
      for (let s = 0; s < SOURCES; s++) {
        const sourceId = sourceIds[s]!;
        const ns = Array.from({ length: PER_BATCH }, (_, i) => b * PER_BATCH + i);
        const last = b === BATCHES_PER_SOURCE - 1;
        const edits = ns.slice(0, EDITS_PER_BATCH);
        for (const n of edits) editedIds.add(`s${s}m${n}`);
        const originals: IngestPayload = { sourceId, platform: 'slack', messages: ns.map((n) => original(s, n)), normalizerVersion: 1, cursor: { key: 'cursor', value: String(b) } };
        const editBatch: IngestPayload = { sourceId, platform: 'slack', messages: edits.map((n) => edited(s, n)), normalizerVersion: 1, cursor: { key: 'cursor', value: `${b}e` } };
        if (last) {
          // The worst case, forced: the edit's batch is taken and committed before its original's.
          await add(editBatch);
          await add(originals, 1500);
        } else {
          await add(originals);
          await add(editBatch);
        }
        jobs += 2;
      }
    }

    await until(async () => (await queue.counts('ingest')).completed === jobs, 150_000, `all ${jobs} ingest jobs (worker output:\n${workers.stderr()})`, 200);
    expect(await queue.failed('ingest')).toEqual([]);

    const total = SOURCES * BATCHES_PER_SOURCE * PER_BATCH;
    const rows = await store.db.selectFrom('messages').select(['source_id', 'external_id', 'text', 'edited_at']).execute();
    expect(rows.length).toBe(total);
    expect(new Set(rows.map((r) => `${r.source_id}/${r.external_id}`)).size).toBe(total);
    const wrong = rows.filter((r) => {
      const wantEdited = editedIds.has(r.external_id);
      return wantEdited ? !r.text.startsWith('edited ') || r.edited_at === null : !r.text.startsWith('original ');
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    // Threads whole whichever worker stored which part: every thread has its four messages.
    const sizes = await store.db.selectFrom('conversations').select('message_count').execute();
    expect(sizes.length).toBe(total / 4);
    expect(sizes.filter((s) => s.message_count !== 4)).toEqual([]);
    const seenBy = started.map((c) => c.exitCode === null);
    expect(seenBy).toEqual([true, true, true]); // no worker crashed along the way

    await workers.stopAll();
    await queue.obliterate();
    await queue.close();
    await store.close();
    await drop();
  }, 240_000);
});
