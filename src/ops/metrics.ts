// Prometheus metrics (prom-client) of what an operator watches: queue depths per queue and state, job
// durations (BullMQ: a histogram of the most recent completed jobs), messages and quarantined items per
// source, failed jobs and failing sources, the last pull per source, and the process's own metrics
// (CPU, memory, event loop lag, GC: prom-client's defaults). The Gleaner figures are read from the
// store and the queue on each request, so any process (web, `gleaner metrics`) can serve them.
import type { Kysely } from 'kysely';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../store/schema.js';
import { sourceFigures } from '../store/ops.js';
import { QUEUE_NAMES, type JobQueue } from '../queue/port.js';

export interface MetricsSources {
  db: Kysely<Database>;
  queue: JobQueue & { recentJobDurations?(queue: (typeof QUEUE_NAMES)[number], count?: number): Promise<number[]> };
}

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Job durations, in seconds: from a tenth of a second (a small ingest batch) to ten minutes (a large digest). */
const JOB_DURATION_BUCKETS_S = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** The process's metrics: one registry for the process (its collectors watch the process, not an app). */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The app's figures, read now, in a registry of their own. */
async function appMetrics(app: MetricsSources): Promise<Registry> {
  const registers = [new Registry()];
  const counts = await Promise.all(QUEUE_NAMES.map(async (q) => [q, await app.queue.counts(q)] as const));
  const jobs = new Gauge({
    name: 'gleaner_queue_jobs',
    help: 'Jobs per queue and state (waiting, active, delayed: the depth; completed, failed: kept history).',
    labelNames: ['queue', 'state'],
    registers,
  });
  for (const [queue, c] of counts) for (const [state, n] of Object.entries(c)) jobs.set({ queue, state }, n);
  const failed = new Gauge({ name: 'gleaner_queue_failed_jobs', help: 'Jobs failed for good (all attempts spent or a bad payload), per queue.', labelNames: ['queue'], registers });
  for (const [queue, c] of counts) failed.set({ queue }, c.failed);

  if (app.queue.recentJobDurations) {
    const durations = new Histogram({
      name: 'gleaner_job_duration_seconds',
      help: 'Processing time of the most recent completed jobs (up to 200 per queue).',
      labelNames: ['queue'],
      buckets: JOB_DURATION_BUCKETS_S,
      registers,
    });
    for (const queue of QUEUE_NAMES) {
      const ms = await app.queue.recentJobDurations(queue, 200);
      durations.zero({ queue });
      for (const d of ms) durations.observe({ queue }, d / 1000);
    }
  }

  const sources = await sourceFigures(app.db);
  const perSource = (name: string, help: string, value: (s: (typeof sources)[number]) => number) => {
    const g = new Gauge({ name, help, labelNames: ['source', 'platform'], registers });
    for (const s of sources) g.set({ source: s.name, platform: s.platform }, value(s));
  };
  perSource('gleaner_source_messages', 'Messages stored per source.', (s) => s.messages);
  perSource('gleaner_source_quarantined', 'Items quarantined (could not be read or normalized) per source.', (s) => s.quarantined);
  perSource('gleaner_source_last_pull_timestamp_seconds', 'When the source was last pulled or imported (0: never).', (s) => (s.lastPullAt ?? 0) / 1000);
  perSource('gleaner_source_last_pull_ok', '1 when the last pull ended without an error, 0 when it failed (see the source page for the error).', (s) =>
    s.lastPullAt !== null && s.lastError === null ? 1 : 0,
  );
  return registers[0]!;
}

/** The exposition text (Prometheus format 0.0.4): the app's figures and the process's metrics. */
export async function renderMetrics(app: MetricsSources): Promise<string> {
  return Registry.merge([await appMetrics(app), processMetrics()]).metrics();
}
