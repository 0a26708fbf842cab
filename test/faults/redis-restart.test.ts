// Redis is killed and restarted on the same port in the middle of an import: the producer's adds and
// the workers' commands wait for it and reconnect, and every batch lands exactly once. Redis keeps its
// queue on disk (appendonly, fsync always: as docker-compose.yml runs it) or a restart would lose it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BullMqQueue } from '../../src/queue/index.js';
import { openDb } from '../../src/store/db.js';
import { ensureSource } from '../../src/store/queries.js';
import { ingestJobId, type IngestPayload } from '../../src/stages/ingest.js';
import type { RawMessage } from '../../src/model/index.js';
import { tempDir } from '../support/factories.js';
import { findBinary, freePort, waitForPort } from '../support/servers.js';
import { WorkerProcesses, until } from '../support/workers.js';

const BATCHES = 16;
const PER_BATCH = 500;
const workers = new WorkerProcesses();
const redisDir = mkdtempSync(join(tmpdir(), 'gleaner-redis-restart-'));
let redis: ChildProcess | null = null;

function startRedis(port: number): ChildProcess {
  const child = spawn(
    findBinary('redis-server', 'redis-server'),
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  redis = child;
  return child;
}

afterAll(async () => {
  await workers.stopAll();
  if (redis && redis.exitCode === null) redis.kill('SIGKILL');
  rmSync(redisDir, { recursive: true, force: true });
});

describe('Redis restarts during a run', () => {
  it('workers reconnect; every batch lands once', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    startRedis(port);
    await waitForPort(port);
    const dbPath = join(tempDir(), 'redis-restart.db');
    const store = await openDb(dbPath);
    const sourceId = await ensureSource(store.db, 'chat', 'slack', Date.now());
    const prefix = `test-${randomUUID()}`;
    const queue = new BullMqQueue({ url, prefix, retry: { attempts: 10, baseDelayMs: 200 } });
    const env = { REDIS_URL: url, GLEANER_DB: dbPath, GLEANER_QUEUE_PREFIX: prefix };
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

    const t0 = Date.UTC(2024, 6, 1);
    for (let b = 0; b < BATCHES; b++) {
      if (b === BATCHES / 2) {
        // Mid-import, once some batches are stored: kill Redis hard and bring it back on the same port.
        await until(async () => (await count()) >= PER_BATCH, 90_000, `a first stored batch (workers:\n${workers.stderr()})`);
        const old = redis!;
        const exited = new Promise((r) => old.once('exit', r));
        old.kill('SIGKILL');
        await exited;
        startRedis(port);
        await waitForPort(port);
      }
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
    expect(started.map((c) => c.exitCode)).toEqual([null, null]); // reconnected, not crashed

    await workers.stopAll();
    await queue.obliterate();
    await queue.close();
    await store.close();
  }, 240_000);
});
