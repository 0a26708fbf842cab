// The one place the queue implementation is chosen.
import { BullMqQueue } from './bullmq.js';
import { InProcessQueue } from './inprocess.js';
import type { JobQueue, RetryPolicy } from './port.js';

export * from './port.js';
export { InProcessQueue } from './inprocess.js';
export { BullMqQueue } from './bullmq.js';

export interface QueueConfig {
  redisUrl?: string | null;
  prefix?: string;
  retry?: RetryPolicy;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export function createJobQueue(cfg: QueueConfig): JobQueue {
  if (cfg.redisUrl) return new BullMqQueue({ url: cfg.redisUrl, prefix: cfg.prefix, retry: cfg.retry, lockDurationMs: cfg.lockDurationMs, stalledIntervalMs: cfg.stalledIntervalMs });
  return new InProcessQueue(cfg.retry);
}
