// In-process JobQueue: jobs run in this process, in order per queue, with the same retry and
// permanent-failure rules as BullMQ. For the embedded default (`gleaner demo`, no Redis).
import {
  DEFAULT_RETRY,
  type IdleOptions,
  PermanentJobError,
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
import { CronExpressionParser } from 'cron-parser';

interface Pending {
  id: string;
  name: string;
  data: unknown;
  attemptsMade: number;
  attempts: number;
  notBefore: number;
}

interface QueueState {
  waiting: Pending[];
  active: number;
  delayed: number;
  completed: Set<string>;
  failed: FailedJob[];
  known: Set<string>;
  handler?: JobHandler;
  concurrency: number;
}

export class InProcessQueue implements JobQueue {
  readonly kind = 'inprocess' as const;
  private readonly queues = new Map<QueueName, QueueState>();
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<(force: boolean) => void>();
  private readonly schedules = new Map<string, NodeJS.Timeout>();

  constructor(private readonly retry: RetryPolicy = DEFAULT_RETRY) {}

  private state(q: QueueName): QueueState {
    let s = this.queues.get(q);
    if (!s) {
      s = { waiting: [], active: 0, delayed: 0, completed: new Set(), failed: [], known: new Set(), concurrency: 1 };
      this.queues.set(q, s);
    }
    return s;
  }

  readonly durableSchedules = false;

  /** Jobs live in this process's memory: no dashboard shows them. */
  dashboardQueues(): null {
    return null;
  }

  async ready(): Promise<void> {}

  /** No worker process takes jobs from this queue: the work is done here, now. */
  async handOff<Q extends QueueName, R>(_queue: Q, _job: { name: string; data: QueuePayloads[Q]; opts: AddOptions } | null, here: () => Promise<R>): Promise<R | undefined> {
    return here();
  }

  async add<Q extends QueueName>(queue: Q, name: string, data: QueuePayloads[Q], opts: AddOptions): Promise<void> {
    if (this.closed) throw new Error(`queue ${queue} is closed`);
    const s = this.state(queue);
    const id = safeJobId(opts.jobId);
    if (s.known.has(id)) return;
    s.known.add(id);
    // Jobs carry plain data, as they would through Redis.
    const copy = JSON.parse(JSON.stringify(data ?? null)) as unknown;
    const job: Pending = { id, name, data: copy, attemptsMade: 0, attempts: opts.attempts ?? this.retry.attempts, notBefore: Date.now() + (opts.delayMs ?? 0) };
    if (opts.delayMs) this.delay(queue, job, opts.delayMs);
    else s.waiting.push(job);
    this.pump(queue);
  }

  /** A timer in this process: the job is added at each time the pattern names (its job id the scheduler's and the time). */
  async schedule<Q extends QueueName>(queue: Q, schedulerId: string, repeat: Repeat, template: { name: string; data: QueuePayloads[Q] }): Promise<void> {
    const next = (after: number) =>
      CronExpressionParser.parse(repeat.pattern, { currentDate: new Date(after), tz: repeat.tz })
        .next()
        .getTime();
    next(Date.now()); // a bad pattern throws here, to the caller
    const arm = () => {
      if (this.closed) return;
      const at = next(Date.now());
      // setTimeout holds at most ~24.8 days; re-arm in steps until the time comes.
      const t = setTimeout(
        () => {
          if (Date.now() < at - 1000) return arm();
          this.add(queue, template.name, template.data, { jobId: `${schedulerId}-${at}` }).catch(() => undefined);
          arm();
        },
        Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1),
      );
      t.unref();
      this.schedules.set(schedulerId, t);
    };
    clearTimeout(this.schedules.get(schedulerId));
    arm();
  }

  process<T>(queue: QueueName, handler: JobHandler<T>, opts?: ProcessOptions): void {
    const s = this.state(queue);
    s.handler = handler as JobHandler;
    s.concurrency = opts?.concurrency ?? 1;
    this.pump(queue);
  }

  private delay(queue: QueueName, job: Pending, ms: number): void {
    const s = this.state(queue);
    s.delayed++;
    const t = setTimeout(() => {
      this.timers.delete(t);
      s.delayed--;
      s.waiting.push(job);
      this.pump(queue);
    }, ms);
    this.timers.add(t);
  }

  private pump(queue: QueueName): void {
    const s = this.state(queue);
    while (!this.closed && s.handler && s.active < s.concurrency && s.waiting.length) {
      const job = s.waiting.shift()!;
      s.active++;
      void this.run(queue, s, job);
    }
    this.notify();
  }

  private async run(queue: QueueName, s: QueueState, job: Pending): Promise<void> {
    try {
      await s.handler!({ id: job.id, name: job.name, data: job.data, attemptsMade: job.attemptsMade, queue });
      s.completed.add(job.id);
    } catch (err: unknown) {
      job.attemptsMade++;
      const reason = err instanceof Error ? err.message : String(err);
      if (err instanceof PermanentJobError || job.attemptsMade >= job.attempts || this.closed) {
        s.failed.push({ id: job.id, name: job.name, reason, attemptsMade: job.attemptsMade, data: job.data });
      } else {
        this.delay(queue, job, this.retry.baseDelayMs * 2 ** (job.attemptsMade - 1));
      }
    } finally {
      s.active--;
      this.pump(queue);
    }
  }

  private notify(): void {
    for (const w of [...this.waiters]) w(false);
  }

  private busy(only?: readonly QueueName[]): boolean {
    for (const [name, s] of this.queues) {
      if (only && !only.includes(name)) continue;
      if (s.active > 0 || s.delayed > 0) return true;
      if (s.waiting.length > 0 && s.handler) return true;
    }
    return false;
  }

  async counts(queue: QueueName): Promise<QueueCounts> {
    const s = this.state(queue);
    return { waiting: s.waiting.length, active: s.active, delayed: s.delayed, completed: s.completed.size, failed: s.failed.length };
  }

  async failed(queue: QueueName): Promise<FailedJob[]> {
    return [...this.state(queue).failed];
  }

  idle(opts?: IdleOptions): Promise<void> {
    const only = opts?.queues;
    if (!this.busy(only)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (force: boolean) => {
        if (!force && this.busy(only)) return;
        this.waiters.delete(done);
        if (timer) clearTimeout(timer);
        resolve();
      };
      const timer = opts?.timeoutMs
        ? setTimeout(() => {
            this.waiters.delete(done);
            reject(new Error(`queues still busy after ${opts.timeoutMs} ms`));
          }, opts.timeoutMs)
        : undefined;
      this.waiters.add(done);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const t of this.schedules.values()) clearTimeout(t);
    this.schedules.clear();
    // Let running handlers finish (no half-written batch).
    const deadline = Date.now() + 30_000;
    while ([...this.queues.values()].some((s) => s.active > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const w of [...this.waiters]) w(true);
  }
}
