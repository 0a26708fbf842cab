// Prometheus text exposition (format 0.0.4) of what an operator watches: queue depths per queue and
// state, job durations (BullMQ: the most recent completed jobs), messages and quarantined items per
// source, failed jobs and failing sources, the last pull per source. Rendered on request from the
// store and the queue; nothing is kept in this process, so any process (web, `gleaner metrics`) can serve it.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { sourceFigures } from '../store/ops.js';
import { QUEUE_NAMES, type JobQueue } from '../queue/port.js';

export interface MetricsSources {
  db: Kysely<Database>;
  queue: JobQueue & { recentJobDurations?(queue: (typeof QUEUE_NAMES)[number], count?: number): Promise<number[]> };
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

class Exposition {
  private readonly lines: string[] = [];
  family(name: string, type: 'gauge' | 'counter' | 'summary', help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, labels: Record<string, string>, value: number): void {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
    this.lines.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}`);
  }
  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function renderMetrics(app: MetricsSources): Promise<string> {
  const out = new Exposition();
  const counts = await Promise.all(QUEUE_NAMES.map(async (q) => [q, await app.queue.counts(q)] as const));
  out.family('gleaner_queue_jobs', 'gauge', 'Jobs per queue and state (waiting, active, delayed: the depth; completed, failed: kept history).');
  for (const [q, c] of counts) for (const [state, n] of Object.entries(c)) out.sample('gleaner_queue_jobs', { queue: q, state }, n);
  out.family('gleaner_queue_failed_jobs', 'gauge', 'Jobs failed for good (all attempts spent or a bad payload), per queue.');
  for (const [q, c] of counts) out.sample('gleaner_queue_failed_jobs', { queue: q }, c.failed);

  if (app.queue.recentJobDurations) {
    out.family('gleaner_job_duration_seconds', 'summary', 'Processing time of the most recent completed jobs (up to 200 per queue).');
    for (const q of QUEUE_NAMES) {
      const ms = (await app.queue.recentJobDurations(q, 200)).sort((a, b) => a - b);
      for (const qq of [0.5, 0.9, 0.99]) out.sample('gleaner_job_duration_seconds', { queue: q, quantile: String(qq) }, quantile(ms, qq) / 1000);
      out.sample('gleaner_job_duration_seconds_sum', { queue: q }, ms.reduce((a, b) => a + b, 0) / 1000);
      out.sample('gleaner_job_duration_seconds_count', { queue: q }, ms.length);
    }
  }

  const sources = await sourceFigures(app.db);
  out.family('gleaner_source_messages', 'gauge', 'Messages stored per source.');
  for (const s of sources) out.sample('gleaner_source_messages', { source: s.name, platform: s.platform }, s.messages);
  out.family('gleaner_source_quarantined', 'gauge', 'Items quarantined (could not be read or normalized) per source.');
  for (const s of sources) out.sample('gleaner_source_quarantined', { source: s.name, platform: s.platform }, s.quarantined);
  out.family('gleaner_source_last_pull_timestamp_seconds', 'gauge', 'When the source was last pulled or imported (0: never).');
  for (const s of sources) out.sample('gleaner_source_last_pull_timestamp_seconds', { source: s.name, platform: s.platform }, (s.lastPullAt ?? 0) / 1000);
  out.family('gleaner_source_last_pull_ok', 'gauge', '1 when the last pull ended without an error, 0 when it failed (see the source page for the error).');
  for (const s of sources) out.sample('gleaner_source_last_pull_ok', { source: s.name, platform: s.platform }, s.lastPullAt !== null && s.lastError === null ? 1 : 0);
  return out.text();
}
