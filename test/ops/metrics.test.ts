// /metrics text: queue depths, job durations, messages per source, errors, last pull per source.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openApp, startWorkers } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { renderMetrics } from '../../src/ops/metrics.js';
import { ensureSource, markSourcePulled } from '../../src/store/queries.js';
import { ingestJobId, type IngestPayload } from '../../src/stages/ingest.js';
import { tempDir } from '../support/factories.js';

describe('metrics', () => {
  it('renders Prometheus text from the store and the queue', async () => {
    const app = await openApp({ db: join(tempDir(), 'metrics.db'), redisUrl: inject('redisUrl'), queuePrefix: `test-${randomUUID()}`, configObject: parseConfig('') });
    const ok = await ensureSource(app.db, 'chat', 'slack', Date.now());
    const bad = await ensureSource(app.db, 'list', 'mail', Date.now());
    await markSourcePulled(app.db, ok, Date.UTC(2024, 0, 2), null);
    await markSourcePulled(app.db, bad, Date.UTC(2024, 0, 2), 'imap: auth failed');
    const payload: IngestPayload = {
      sourceId: ok,
      platform: 'slack',
      messages: [1, 2, 3].map((i) => ({ externalId: `m${i}`, channel: 'general', author: { id: 'U1' }, text: `hello "quoted" ${i}`, sentAt: Date.UTC(2024, 0, 1, 0, i) })),
      normalizerVersion: 1,
    };
    await app.queue.add('ingest', 'ingest', payload, { jobId: ingestJobId(payload) });
    startWorkers(app, ['ingest']);
    await app.queue.idle({ queues: ['ingest'], timeoutMs: 60_000 });

    const text = await renderMetrics(app);
    expect(text).toContain('# TYPE gleaner_queue_jobs gauge');
    expect(text).toMatch(/^gleaner_queue_jobs\{queue="ingest",state="completed"\} 1$/m);
    expect(text).toMatch(/^gleaner_queue_jobs\{queue="enrich",state="waiting"\} 1$/m); // nobody consumes enrich here
    expect(text).toMatch(/^gleaner_job_duration_seconds_count\{queue="ingest"\} 1$/m);
    expect(text).toMatch(/^gleaner_source_messages\{source="chat",platform="slack"\} 3$/m);
    expect(text).toMatch(/^gleaner_source_last_pull_ok\{source="chat",platform="slack"\} 1$/m);
    expect(text).toMatch(/^gleaner_source_last_pull_ok\{source="list",platform="mail"\} 0$/m);
    expect(text).toMatch(/^gleaner_source_last_pull_timestamp_seconds\{source="chat",platform="slack"\} 1704153600$/m);
    // Job durations are a histogram; the process's own metrics come along (prom-client's defaults).
    expect(text).toContain('# TYPE gleaner_job_duration_seconds histogram');
    expect(text).toMatch(/^gleaner_job_duration_seconds_bucket\{le="\+Inf",queue="ingest"\} 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds [\d.e+-]+$/m);
    // Every sample line is `name{labels} number` (prom-client writes NaN as "Nan"; Prometheus reads either).
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^[a-z_][a-z0-9_]*(\{[^}]*\})? (-?[\d.e+-]+|NaN|Nan)$/);
    await (app.queue as unknown as { obliterate(): Promise<void> }).obliterate();
    await app.close();
  }, 60_000);
});
