// A worker killed with SIGKILL in the middle of a batch, then restarted, loses nothing and duplicates
// nothing: real Redis, real worker processes, BullMQ's stalled-job recovery, idempotent ingest.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BullMqQueue } from '../../src/queue/index.js';
import { openDb } from '../../src/store/db.js';
import { ensureSource } from '../../src/store/queries.js';
import { ingestJobId, type IngestPayload } from '../../src/stages/ingest.js';
import type { RawMessage } from '../../src/model/index.js';
import { tempDir } from '../support/factories.js';

const BATCHES = 12;
const PER_BATCH = 4000;
const children: ChildProcess[] = [];

function startWorker(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/ingest.ts'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, ...env, GLEANER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  return child;
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('worker killed mid-batch', () => {
  it('loses nothing and duplicates nothing after a restart', async () => {
    const dbPath = join(tempDir(), 'kill.db');
    const prefix = `test-${randomUUID()}`;
    const setup = await openDb(dbPath);
    const sourceId = await ensureSource(setup.db, 'chat', 'slack', Date.now());
    const queue = new BullMqQueue({ url: inject('redisUrl'), prefix, retry: { attempts: 5, baseDelayMs: 50 } });
    const t0 = Date.UTC(2024, 2, 1);
    for (let b = 0; b < BATCHES; b++) {
      const messages: RawMessage[] = [];
      for (let i = 0; i < PER_BATCH; i++) {
        const n = b * PER_BATCH + i;
        messages.push({
          externalId: `m${n}`,
          channel: `c${n % 7}`,
          author: { id: `U${n % 311}` },
          text: `message number ${n} about the dashboard export`,
          sentAt: t0 + n * 1000,
          threadId: `m${n - (n % 5)}`,
        }); // a thread root names itself, as Slack does
      }
      const payload: IngestPayload = { sourceId, platform: 'slack', messages, normalizerVersion: 1, cursor: { key: 'cursor', value: String(b) } };
      await queue.add('ingest', 'ingest', payload, { jobId: ingestJobId(payload) });
    }
    const env = { REDIS_URL: inject('redisUrl'), GLEANER_DB: dbPath, GLEANER_QUEUE_PREFIX: prefix, GLEANER_LOCK_DURATION_MS: '1500', GLEANER_STALLED_INTERVAL_MS: '500' };
    const count = async () =>
      Number(
        (
          await setup.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    const first = startWorker(env);
    // Kill it while a batch is being processed, after at least one batch has been committed. The worker
    // may hold the next job already (taken ahead for linking), so one or two jobs are active.
    await until(async () => (await count()) >= PER_BATCH && (await queue.counts('ingest')).active >= 1, 120_000, 'the first batch');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const afterKill = await count();
    expect(afterKill % PER_BATCH).toBe(0); // a batch is all or nothing
    expect(afterKill).toBeLessThan(BATCHES * PER_BATCH);

    startWorker(env);
    await until(
      async () => {
        const c = await queue.counts('ingest');
        return c.completed === BATCHES;
      },
      240_000,
      'all batches after the restart',
    );

    expect(await count()).toBe(BATCHES * PER_BATCH);
    const distinct = await setup.db
      .selectFrom('messages')
      .select((eb) => eb.fn.count<number>('external_id').distinct().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(distinct.n)).toBe(BATCHES * PER_BATCH);
    expect(await queue.failed('ingest')).toEqual([]);
    // Threads survived the kill: every thread root has its four replies.
    const sizes = await setup.db.selectFrom('conversations').select('message_count').execute();
    expect(sizes.every((s) => s.message_count === 5)).toBe(true);
    await queue.obliterate();
    await queue.close();
    await setup.close();
  }, 400_000);
});
