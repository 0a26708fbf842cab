// BullMQ JobQueue on Redis: one process or many, on one machine or many. Stalled jobs (a worker
// killed mid-batch) are picked up again by BullMQ's stalled-job check; ingest is idempotent, so a
// re-run adds nothing twice.
import { Queue, Worker, UnrecoverableError, type Job } from 'bullmq';
import { GleanerError } from '../errors.js';
import {
  DEFAULT_RETRY,
  type IdleOptions,
  PermanentJobError,
  QUEUE_NAMES,
  safeJobId,
  type AddOptions,
  type FailedJob,
  type JobHandler,
  type JobQueue,
  type ProcessOptions,
  type QueueCounts,
  type QueueName,
  type QueuePayloads,
  type Repeat,
  type RetryPolicy,
} from './port.js';

export interface BullMqOptions {
  url: string;
  /** Key prefix in Redis (tests use their own). */
  prefix?: string;
  retry?: RetryPolicy;
  /** How long a worker holds a job's lock without renewing it; a killed worker's job is retried after it. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export class BullMqQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly workers: Worker[] = [];
  private readonly retry: RetryPolicy;
  private readonly prefix: string;

  constructor(private readonly opts: BullMqOptions) {
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.prefix = opts.prefix ?? 'gleaner';
  }

  private connection(worker: boolean) {
    // Workers must wait for Redis rather than fail commands while it restarts.
    return { url: this.opts.url, maxRetriesPerRequest: worker ? null : 20, enableOfflineQueue: true };
  }

  private queue(name: QueueName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connection(false), prefix: this.prefix });
      q.on('error', () => {
        // Connection errors are retried by ioredis; jobs report their own failures.
      });
      this.queues.set(name, q);
    }
    return q;
  }

  /**
   * Resolves once Redis answers; rejects within `timeoutMs` naming the URL (password redacted) and the
   * last connection error. ioredis retries a refused or silent server for ever: without this a command
   * started against an unreachable REDIS_URL waited with no word.
   */
  async ready(timeoutMs: number): Promise<void> {
    const q = this.queue('ingest');
    let lastError = '';
    const onError = (err: Error) => (lastError = err.message);
    q.on('error', onError);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new QueueUnreachableError(
              `cannot reach Redis at ${redactRedisUrl(this.opts.url)} within ${Math.round(timeoutMs / 1000)} s${lastError ? ` (${lastError})` : ''}; check REDIS_URL (or redis: in gleaner.yaml) and that Redis is running, or unset it to run in-process`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([q.waitUntilReady(), timeout]);
    } catch (err: unknown) {
      await this.disconnect();
      throw err;
    } finally {
      clearTimeout(timer);
      q.off('error', onError);
    }
  }

  /** Drops the connections after `ready` failed (a queue that never connected closes at once). */
  private async disconnect(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
  }

  readonly durableSchedules = true;

  /** The workers take the job (wherever they run); nothing runs here. */
  async handOff<Q extends QueueName, R>(queue: Q, job: { name: string; data: QueuePayloads[Q]; opts: AddOptions } | null): Promise<R | undefined> {
    if (job) await this.add(queue, job.name, job.data, job.opts);
    return undefined;
  }

  async add<Q extends QueueName>(queue: Q, name: string, data: QueuePayloads[Q], opts: AddOptions): Promise<void> {
    await this.queue(queue).add(name, data, {
      jobId: safeJobId(opts.jobId),
      attempts: opts.attempts ?? this.retry.attempts,
      backoff: { type: 'exponential', delay: this.retry.baseDelayMs },
      delay: opts.delayMs,
      removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
      removeOnFail: false,
    });
  }

  process<T>(queue: QueueName, handler: JobHandler<T>, opts?: ProcessOptions): void {
    if (opts?.globalConcurrency !== undefined) {
      // A limit kept in Redis for the queue, whichever process set it: every worker sets the same.
      this.queue(queue)
        .setGlobalConcurrency(opts.globalConcurrency)
        .catch(() => {
          // Redis unreachable for now: the workers still run; the cluster stage copes with concurrency.
        });
    }
    const worker = new Worker(
      queue,
      async (job: Job) => {
        try {
          return await handler({ id: job.id ?? '', name: job.name, data: job.data as T, attemptsMade: job.attemptsMade, queue });
        } catch (err: unknown) {
          if (err instanceof PermanentJobError) throw new UnrecoverableError(err.message);
          throw err;
        }
      },
      {
        connection: this.connection(true),
        prefix: this.prefix,
        concurrency: opts?.concurrency ?? 1,
        lockDuration: this.opts.lockDurationMs ?? 30_000,
        stalledInterval: this.opts.stalledIntervalMs ?? 30_000,
        maxStalledCount: 3,
      },
    );
    worker.on('error', () => {
      // Reported through job failures; connection errors are retried.
    });
    this.workers.push(worker);
  }

  /** A repeating job from a cron pattern in a time zone (BullMQ job scheduler); upserting the same id keeps one schedule. */
  async schedule<Q extends QueueName>(queue: Q, schedulerId: string, repeat: Repeat, template: { name: string; data: QueuePayloads[Q] }): Promise<void> {
    await this.queue(queue).upsertJobScheduler(
      safeJobId(schedulerId),
      { pattern: repeat.pattern, tz: repeat.tz },
      {
        name: template.name,
        data: template.data,
        opts: { attempts: this.retry.attempts, backoff: { type: 'exponential', delay: this.retry.baseDelayMs }, removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 }, removeOnFail: false },
      },
    );
  }

  async counts(queue: QueueName): Promise<QueueCounts> {
    const c = await this.queue(queue).getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children');
    return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0 };
  }

  /** The BullMQ queues themselves, one per queue name: for the dashboard (/admin/queues). */
  dashboardQueues(): Queue[] {
    return QUEUE_NAMES.map((name) => this.queue(name));
  }

  /** Processing times (ms) of the most recent completed jobs still kept: for /metrics. */
  async recentJobDurations(queue: QueueName, count = 200): Promise<number[]> {
    const jobs = await this.queue(queue).getCompleted(0, count - 1);
    return jobs.flatMap((j) => (j.finishedOn && j.processedOn ? [j.finishedOn - j.processedOn] : []));
  }

  /** How many workers (in any process) consume this queue now. */
  async workerCount(queue: QueueName): Promise<number> {
    return this.queue(queue).getWorkersCount();
  }

  /** The most recent completed jobs still kept: processing time (ms), when it began and ended (epoch ms, 0 unknown) and result. */
  async completedJobs(queue: QueueName, count: number): Promise<Array<{ ms: number; startedAt: number; finishedAt: number; result: unknown }>> {
    const jobs = await this.queue(queue).getCompleted(0, count - 1);
    return jobs.map((j) => ({
      ms: j.finishedOn && j.processedOn ? j.finishedOn - j.processedOn : 0,
      startedAt: j.processedOn ?? 0,
      finishedAt: j.finishedOn ?? 0,
      result: j.returnvalue as unknown,
    }));
  }

  async failed(queue: QueueName): Promise<FailedJob[]> {
    const jobs = await this.queue(queue).getFailed(0, 1000);
    return jobs.map((j) => ({ id: j.id ?? '', name: j.name, reason: j.failedReason, attemptsMade: j.attemptsMade, data: j.data as unknown }));
  }

  async idle(opts?: IdleOptions): Promise<void> {
    const deadline = Date.now() + (opts?.timeoutMs ?? 10 * 60_000);
    let quietPolls = 0;
    for (;;) {
      let busy = 0;
      for (const q of opts?.queues ?? QUEUE_NAMES) {
        const c = await this.counts(q);
        busy += c.waiting + c.active + c.delayed;
      }
      // Two quiet polls in a row: a job finishing may enqueue the next stage's job in between.
      quietPolls = busy === 0 ? quietPolls + 1 : 0;
      if (quietPolls >= 2) return;
      if (Date.now() > deadline) throw new Error(`queues still busy after ${opts?.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, opts?.pollMs ?? 100));
    }
  }

  /** Removes every job of this prefix (tests, and `gleaner queue clean`). */
  async obliterate(): Promise<void> {
    for (const q of QUEUE_NAMES) await this.queue(q).obliterate({ force: true });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

export class QueueUnreachableError extends GleanerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('queue_unreachable', message, options);
    this.name = 'QueueUnreachableError';
  }
}

/** redis://user:secret@host -> redis://user:***@host (also a password without a user name). */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(\w+:\/\/)([^/@]*?):([^/@]*)@/, (_, scheme: string, user: string) => `${scheme}${user}:***@`);
}
