// The JobQueue port: BullMQ on Redis when REDIS_URL (or `redis:` in config) is set, in-process otherwise.
// Both honour the same contract (test/contract/queue.contract.ts).

import type { Queue as BullQueue } from 'bullmq';
import type { QueuePayloads } from '../model/jobs.js';
import { GleanerError } from '../errors.js';

export type { QueuePayloads };

export const QUEUE_NAMES = ['ingest', 'enrich', 'cluster', 'digest'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface JobContext<T = unknown> {
  id: string;
  name: string;
  data: T;
  /** Attempts already made before this one (0 on the first run). */
  attemptsMade: number;
  queue: QueueName;
}

/** What a handler returns is kept as the job's result where the queue keeps results (BullMQ). */
export type JobHandler<T = unknown> = (job: JobContext<T>) => Promise<unknown>;

export interface AddOptions {
  /** Deterministic id: adding a job whose id is pending, running or done is a no-op. No ':' (BullMQ). */
  jobId: string;
  attempts?: number;
  delayMs?: number;
}

export interface FailedJob {
  id: string;
  name: string;
  reason: string;
  attemptsMade: number;
  data: unknown;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

export interface IdleOptions {
  timeoutMs?: number;
  pollMs?: number;
  queues?: readonly QueueName[];
}

export interface ProcessOptions {
  /** Jobs of this queue run at once in this process (default 1). */
  concurrency?: number;
  /** Jobs of this queue run at once across every worker process (BullMQ); unset for no limit. */
  globalConcurrency?: number;
}

/** A repeating job: a cron pattern in a time zone. */
export interface Repeat {
  pattern: string;
  tz?: string;
}

export interface JobQueue {
  readonly kind: 'inprocess' | 'bullmq';
  /** Resolves once the queue can take jobs; rejects within `timeoutMs` naming what it could not reach (and lets go of it). */
  ready(timeoutMs: number): Promise<void>;
  add<Q extends QueueName>(queue: Q, name: string, data: QueuePayloads[Q], opts: AddOptions): Promise<void>;
  /**
   * Work for the workers when worker processes take jobs (Redis): `job` is added to `queue` (run with the
   * queue's retries; null: they have nothing to do) and `undefined` returned. In-process no other
   * process takes it: `here` runs now, in this process, and its result is returned.
   */
  handOff<Q extends QueueName, R>(queue: Q, job: { name: string; data: QueuePayloads[Q]; opts: AddOptions } | null, here: () => Promise<R>): Promise<R | undefined>;
  /**
   * Whether a schedule registered with `schedule` outlives this process (Redis: BullMQ's job scheduler,
   * kept for the workers); false: it is a timer in this process, so a long-running command keeps it.
   */
  readonly durableSchedules: boolean;
  /**
   * Adds `template` to `queue` at every time `repeat` names, under one scheduler id (registering it
   * again replaces it: any number of processes leave one schedule). In-process: a timer in this
   * process, for as long as the queue is open; with Redis: BullMQ's job scheduler.
   */
  schedule<Q extends QueueName>(queue: Q, schedulerId: string, repeat: Repeat, template: { name: string; data: QueuePayloads[Q] }): Promise<void>;
  /**
   * The queues a queue dashboard (bull-board, /admin/queues) can show: BullMQ's own queues, one per
   * queue name; null when there is nothing for it to show (in-process: no Redis, jobs live in memory).
   */
  dashboardQueues(): BullQueue[] | null;
  /** Starts consuming `queue` with `handler` in this process. */
  process<T>(queue: QueueName, handler: JobHandler<T>, opts?: ProcessOptions): void;
  counts(queue: QueueName): Promise<QueueCounts>;
  failed(queue: QueueName): Promise<FailedJob[]>;
  /** Resolves when no queue (or none of `queues`) has waiting, delayed or active jobs. */
  idle(opts?: IdleOptions): Promise<void>;
  /** Stops taking jobs, lets running ones finish, closes connections. */
  close(): Promise<void>;
}

/** A job that can never succeed (bad payload): failed for good, its reason kept, no retry. */
export class PermanentJobError extends GleanerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('job_permanent', message, options);
    this.name = 'PermanentJobError';
  }
}

export interface RetryPolicy {
  attempts: number;
  /** Exponential backoff: baseDelayMs * 2^(attempt-1). */
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1000 };

/** BullMQ job ids must not contain ':'; keep ids readable and deterministic. */
export function safeJobId(id: string): string {
  return id.replace(/[:\s]/g, '_').slice(0, 200);
}
