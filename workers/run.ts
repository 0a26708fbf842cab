// Process entry point shared by the worker shells: open the app from config/env, consume the given
// queues with the stage shells, and close gracefully on SIGINT/SIGTERM (running jobs finish first).
import { openApp, startWorkers } from '../src/app.js';
import { QUEUE_NAMES, type QueueName } from '../src/queue/port.js';

export async function runWorker(queues: readonly QueueName[], concurrency?: number): Promise<void> {
  const app = await openApp({ config: process.env.GLEANER_CONFIG });
  if (app.queue.kind !== 'bullmq') {
    await app.close();
    throw new Error('workers need Redis: set REDIS_URL or `redis:` in gleaner.yaml');
  }
  startWorkers(app, queues, concurrency ?? app.config.queue.concurrency);
  app.log.info({ queues, pid: process.pid }, 'worker started');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      app.log.info({ signal }, 'worker stopping: finishing running jobs');
      void app.close().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

export function queuesFromArgs(argv: string[]): QueueName[] {
  const arg = argv.find((a) => a.startsWith('--queues='))?.slice('--queues='.length);
  if (!arg) return [...QUEUE_NAMES];
  return arg.split(',').map((q) => {
    if (!(QUEUE_NAMES as readonly string[]).includes(q)) throw new Error(`unknown queue ${q}`);
    return q as QueueName;
  });
}
