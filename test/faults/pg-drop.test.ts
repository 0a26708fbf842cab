// PostgreSQL drops the workers' connections mid-run (pg_terminate_backend, as a failover or an admin
// would): the batches in flight fail and are retried, the pools reconnect, every batch lands once.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BullMqQueue } from '../../src/queue/index.js';
import { openDb } from '../../src/store/db.js';
import { ensureSource } from '../../src/store/queries.js';
import { ingestJobId, type IngestPayload } from '../../src/stages/ingest.js';
import type { RawMessage } from '../../src/model/index.js';
import { createTestDatabase } from '../support/postgres.js';
import { WorkerProcesses, until } from '../support/workers.js';

const BATCHES = 16;
const PER_BATCH = 500;
const workers = new WorkerProcesses();
afterAll(() => workers.stopAll());

describe('PostgreSQL drops connections', () => {
  it('workers retry and reconnect; nothing lost, nothing doubled', async () => {
    const tdb = await createTestDatabase(inject('pgUrl'));
    const dbName = new URL(tdb.url).pathname.slice(1);
    const store = await openDb(tdb.url, { poolSize: 2 });
    const sourceId = await ensureSource(store.db, 'chat', 'slack', Date.now());
    const prefix = `test-${randomUUID()}`;
    const queue = new BullMqQueue({ url: inject('redisUrl'), prefix, retry: { attempts: 10, baseDelayMs: 200 } });
    const env = { REDIS_URL: inject('redisUrl'), GLEANER_DB: tdb.url, GLEANER_QUEUE_PREFIX: prefix, GLEANER_DB_POOL: '3' };
    const started = [workers.start(env), workers.start(env)];
    const count = async () =>
      Number(
        (
          await store.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    const t0 = Date.UTC(2024, 7, 1);
    for (let b = 0; b < BATCHES; b++) {
      const messages: RawMessage[] = Array.from({ length: PER_BATCH }, (_, i) => {
        const n = b * PER_BATCH + i;
        return {
          externalId: `m${n}`,
          channel: `c${n % 3}`,
          author: { id: `U${n % 17}` },
          text: `line ${n.toString(36)} about the ${['export', 'login', 'billing'][n % 3]} page`,
          sentAt: t0 + n * 1000,
          threadId: `m${n - (n % 5)}`,
        };
      });
      const payload: IngestPayload = { sourceId, platform: 'slack', messages, normalizerVersion: 1, cursor: { key: 'cursor', value: String(b) } };
      await queue.add('ingest', 'ingest', payload, { jobId: ingestJobId(payload) });
    }

    // Terminate every other session on the database a few times while batches are being processed.
    const admin = new pg.Client({ connectionString: inject('pgUrl') });
    await admin.connect();
    let terminated = 0;
    await until(async () => (await count()) >= PER_BATCH, 90_000, `a first stored batch (workers:\n${workers.stderr()})`);
    for (let round = 0; round < 3; round++) {
      const r = await admin.query<{ t: boolean }>('SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
      terminated += r.rows.filter((x) => x.t).length;
      const before = await count().catch(() => 0);
      await until(
        async () => (await count().catch(() => 0)) > before || (await queue.counts('ingest')).completed === BATCHES,
        60_000,
        `progress after the terminations (exit codes ${started.map((c) => c.exitCode).join(',')}; ${JSON.stringify(await queue.counts('ingest'))}; workers:\n${workers.stderr()})`,
      );
    }
    await admin.end();
    expect(terminated).toBeGreaterThan(0);

    await until(async () => (await queue.counts('ingest')).completed === BATCHES, 150_000, `all batches (workers:\n${workers.stderr()})`, 200);
    expect(await queue.failed('ingest')).toEqual([]);
    expect(await count()).toBe(BATCHES * PER_BATCH);
    const distinct = await store.db
      .selectFrom('messages')
      .select((eb) => eb.fn.count<number>('external_id').distinct().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(distinct.n)).toBe(BATCHES * PER_BATCH);
    const sizes = await store.db.selectFrom('conversations').select('message_count').execute();
    expect(sizes.filter((s) => s.message_count !== 5)).toEqual([]);
    expect(
      started.map((c) => c.exitCode),
      `worker exit codes (workers:\n${workers.stderr()})`,
    ).toEqual([null, null]);

    await workers.stopAll();
    await queue.obliterate();
    await queue.close();
    await store.close();
    await tdb.drop();
  }, 240_000);
});
