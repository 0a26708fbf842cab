// One contract, two implementations: the in-process JobQueue and BullMQ on a real Redis.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { BullMqQueue, InProcessQueue, PermanentJobError, QUEUE_NAMES, type JobQueue } from '../../src/queue/index.js';

const retry = { attempts: 3, baseDelayMs: 20 };

const implementations: Array<[string, () => JobQueue]> = [
  ['in-process', () => new InProcessQueue(retry)],
  ['bullmq', () => new BullMqQueue({ url: inject('redisUrl'), prefix: `test-${randomUUID()}`, retry, lockDurationMs: 5000, stalledIntervalMs: 1000 })],
];

describe.each(implementations)('JobQueue contract: %s', (_name, make) => {
  let queue: JobQueue | undefined;
  afterEach(async () => {
    if (queue instanceof BullMqQueue) await queue.obliterate().catch(() => undefined);
    await queue?.close();
    queue = undefined;
  });

  it('runs each job once with its data', async () => {
    queue = make();
    const seen: unknown[] = [];
    queue.process('ingest', async (job) => {
      seen.push(job.data);
    });
    await queue.add('ingest', 'batch', { n: 1 } as never, { jobId: 'a' });
    await queue.add('ingest', 'batch', { n: 2 } as never, { jobId: 'b' });
    await queue.idle({ timeoutMs: 10_000 });
    expect(seen).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }]));
    expect(seen).toHaveLength(2);
  });

  it('handOff: with worker processes the job is queued and nothing runs here; in-process the work runs here', async () => {
    queue = make();
    const queued: unknown[] = [];
    let ranHere = 0;
    const here = async () => {
      ranHere++;
      return 'sent here';
    };
    const r = await queue.handOff('digest', { name: 'digest', data: { type: 'send', id: 7 }, opts: { jobId: 'send-7' } }, here);
    const none = await queue.handOff('digest', null, here);
    queue.process('digest', async (job) => {
      queued.push(job.data);
    });
    await queue.idle({ timeoutMs: 10_000 });
    if (queue.durableSchedules) {
      expect([r, none, ranHere]).toEqual([undefined, undefined, 0]);
      expect(queued).toEqual([{ type: 'send', id: 7 }]);
    } else {
      expect([r, none, ranHere]).toEqual(['sent here', 'sent here', 2]);
      expect(queued).toEqual([]);
    }
    expect(queue.durableSchedules).toBe(_name === 'bullmq');
  });

  it('dashboardQueues: the queues a dashboard can show, one per queue name with Redis; none in-process', async () => {
    queue = make();
    const shown = queue.dashboardQueues();
    if (_name === 'bullmq') {
      expect(shown?.map((q) => q.name)).toEqual([...QUEUE_NAMES]);
      await queue.add('enrich', 'batch', { n: 1 } as never, { jobId: 'dash' });
      expect(await shown![1]!.getJobCounts('waiting')).toEqual({ waiting: 1 });
    } else {
      expect(shown).toBeNull();
    }
  });

  it('a job id added twice runs once (deterministic ids)', async () => {
    queue = make();
    let runs = 0;
    queue.process('enrich', async () => {
      runs++;
    });
    await queue.add('enrich', 'x', {} as never, { jobId: 'same:id' });
    await queue.add('enrich', 'x', {} as never, { jobId: 'same:id' });
    await queue.idle({ timeoutMs: 10_000 });
    await queue.add('enrich', 'x', {} as never, { jobId: 'same:id' });
    await queue.idle({ timeoutMs: 10_000 });
    expect(runs).toBe(1);
  });

  it('retries a failing job with backoff until it succeeds', async () => {
    queue = make();
    const attempts: number[] = [];
    const times: number[] = [];
    queue.process('cluster', async (job) => {
      attempts.push(job.attemptsMade);
      times.push(Date.now());
      if (job.attemptsMade < 2) throw new Error('transient');
    });
    await queue.add('cluster', 'c', {} as never, { jobId: 'retry-me' });
    await queue.idle({ timeoutMs: 10_000 });
    expect(attempts).toEqual([0, 1, 2]);
    // exponential: the second wait is at least the base delay doubled
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(35);
    expect(await queue.failed('cluster')).toHaveLength(0);
  });

  it('gives up after the last attempt and keeps the reason', async () => {
    queue = make();
    queue.process('digest', async () => {
      throw new Error('smtp refused');
    });
    await queue.add('digest', 'd', { week: 'x' } as never, { jobId: 'always-fails' });
    await queue.idle({ timeoutMs: 10_000 });
    const failed = await queue.failed('digest');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toContain('smtp refused');
    expect(failed[0]!.attemptsMade).toBe(3);
  });

  it('a bad payload fails for good on the first attempt, reason kept', async () => {
    queue = make();
    let runs = 0;
    queue.process('ingest', async () => {
      runs++;
      throw new PermanentJobError('ingest: bad payload: messages: expected array');
    });
    await queue.add('ingest', 'bad', { messages: 'nope' } as never, { jobId: 'bad-payload' });
    await queue.idle({ timeoutMs: 10_000 });
    expect(runs).toBe(1);
    const failed = await queue.failed('ingest');
    expect(failed.map((f) => f.reason)).toEqual(['ingest: bad payload: messages: expected array']);
    expect(failed[0]!.data).toEqual({ messages: 'nope' });
  });

  it('close waits for the running job to finish', async () => {
    queue = make();
    let finished = false;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    queue.process('ingest', async () => {
      started();
      await new Promise((r) => setTimeout(r, 300));
      finished = true;
    });
    await queue.add('ingest', 'slow', {} as never, { jobId: 'slow' });
    await running;
    await queue.close();
    expect(finished).toBe(true);
    queue = undefined;
  });

  it('counts what waits before a worker starts', async () => {
    queue = make();
    await queue.add('enrich', 'e', {} as never, { jobId: 'w1' });
    await queue.add('enrich', 'e', {} as never, { jobId: 'w2' });
    const c = await queue.counts('enrich');
    expect(c.waiting).toBe(2);
    expect(c.active).toBe(0);
  });

  it('a schedule adds its job at the times the pattern names, once per scheduler id', async () => {
    queue = make();
    const seen: unknown[] = [];
    queue.process('digest', async (job) => {
      seen.push(job.data);
    });
    // Every second; registered twice under one id: still one schedule (at most one job per second).
    await queue.schedule('digest', 'contract-every-second', { pattern: '* * * * * *', tz: 'UTC' }, { name: 'weekly', data: { type: 'weekly' } });
    await queue.schedule('digest', 'contract-every-second', { pattern: '* * * * * *', tz: 'UTC' }, { name: 'weekly', data: { type: 'weekly' } });
    const started = Date.now();
    while (seen.length < 2 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
    const elapsed = (Date.now() - started) / 1000;
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThanOrEqual(Math.ceil(elapsed) + 1);
    expect(seen[0]).toEqual({ type: 'weekly' });
    await expect(queue.schedule('digest', 'contract-bad', { pattern: 'not cron' }, { name: 'weekly', data: { type: 'weekly' } })).rejects.toThrow();
  });
});

describe('BullMQ global concurrency', () => {
  it('runs one job of a queue at a time across two worker connections when asked to, two otherwise', async () => {
    const maxActive = async (globalConcurrency: number | undefined): Promise<number> => {
      const prefix = `test-${randomUUID()}`;
      const producer = new BullMqQueue({ url: inject('redisUrl'), prefix, retry });
      const workers = [0, 1].map(() => new BullMqQueue({ url: inject('redisUrl'), prefix, retry }));
      let active = 0;
      let max = 0;
      for (const w of workers) {
        w.process(
          'cluster',
          async () => {
            max = Math.max(max, ++active);
            await new Promise((r) => setTimeout(r, 150));
            active--;
          },
          { concurrency: 1, globalConcurrency },
        );
      }
      // Let both workers register the limit before jobs arrive.
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 6; i++) await producer.add('cluster', 'c', { i } as never, { jobId: `c${i}` });
      await producer.idle({ timeoutMs: 20_000 });
      for (const w of workers) await w.close();
      await producer.obliterate();
      await producer.close();
      return max;
    };
    expect(await maxActive(1)).toBe(1);
    expect(await maxActive(undefined)).toBe(2);
  }, 60_000);
});
