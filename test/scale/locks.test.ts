// A deliberately long ingest batch under a short BullMQ lock: the stage yields to the event loop
// between chunks, so the worker keeps renewing its lock and the second worker never takes the job
// as stalled (which would process it twice). The lines are linked on the storing thread (no job taken
// ahead, whose lines a helper thread would link).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BullMqQueue } from '../../src/queue/index.js';
import { openDb } from '../../src/store/db.js';
import { ensureSource } from '../../src/store/queries.js';
import { ingestJobId, type IngestPayload } from '../../src/stages/ingest.js';
import type { RawMessage } from '../../src/model/index.js';
import { tempDir } from '../support/factories.js';
import { WorkerProcesses, until } from '../support/workers.js';

const LOCK_MS = 3000;
const MESSAGES = 96_000;
const WORDS = 'export button login okta redirect loop upgrade helm chart metrics panel alert webhook retention billing slow crash timeout token config'.split(' ');

const workers = new WorkerProcesses();
afterAll(() => workers.stopAll());

describe('long CPU stage under a short lock', () => {
  it('keeps its lock: no stalled job, processed once', async () => {
    const dbPath = join(tempDir(), 'locks.db');
    const prefix = `test-${randomUUID()}`;
    const store = await openDb(dbPath);
    const sourceId = await ensureSource(store.db, 'irc', 'irc', Date.now());
    const queue = new BullMqQueue({ url: inject('redisUrl'), prefix, retry: { attempts: 3, baseDelayMs: 100 } });
    const events = new QueueEvents('ingest', { connection: { url: inject('redisUrl') }, prefix });
    const stalled: string[] = [];
    events.on('stalled', ({ jobId }) => stalled.push(jobId));
    await events.waitUntilReady();

    const env = {
      REDIS_URL: inject('redisUrl'),
      GLEANER_DB: dbPath,
      GLEANER_QUEUE_PREFIX: prefix,
      GLEANER_LOCK_DURATION_MS: String(LOCK_MS),
      GLEANER_STALLED_INTERVAL_MS: '500',
      GLEANER_INGEST_AHEAD: '0',
    };
    workers.start(env);
    workers.start(env);

    // Unthreaded chat lines in a few channels: every line goes through the disentanglement model.
    const t0 = Date.UTC(2024, 5, 1);
    const messages: RawMessage[] = Array.from({ length: MESSAGES }, (_, n) => ({
      externalId: `l${n}`,
      channel: `#c${n % 3}`,
      author: { id: `nick${n % 41}`, name: `nick${n % 41}` },
      text: `${WORDS[n % WORDS.length]} ${WORDS[(n * 7) % WORDS.length]} ${WORDS[(n * 13) % WORDS.length]} line ${n.toString(36)}`,
      sentAt: t0 + n * 2000,
    }));
    const payload: IngestPayload = { sourceId, platform: 'irc', messages, normalizerVersion: 1, cursor: { key: 'cursor', value: 'end' } };
    await queue.add('ingest', 'ingest', payload, { jobId: ingestJobId(payload) });

    await until(
      async () => {
        const c = await queue.counts('ingest');
        return c.completed + c.failed === 1;
      },
      150_000,
      `the long batch (worker output:\n${workers.stderr()})`,
      100,
    );

    const q = new Queue('ingest', { connection: { url: inject('redisUrl') }, prefix });
    const job = await q.getJob(ingestJobId(payload));
    expect(job?.finishedOn).toBeTypeOf('number');
    expect(stalled).toEqual([]);
    // The premise: the batch ran for several lock durations.
    expect(job!.finishedOn! - job!.processedOn!).toBeGreaterThan(1.5 * LOCK_MS);
    expect(job!.attemptsMade).toBe(1);
    expect(job!.stalledCounter).toBe(0);
    expect(await queue.failed('ingest')).toEqual([]);
    const n = await store.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(MESSAGES);

    await q.close();
    await events.close();
    await workers.stopAll();
    await queue.obliterate();
    await queue.close();
    await store.close();
  }, 200_000);
});
