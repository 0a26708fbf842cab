// Queue name -> stage shell. Each shell validates its payload, loads, runs pure stages, saves, and
// enqueues the next stage with a deterministic job id.
import type { QueueName } from '../queue/port.js';
import type { StageContext } from './context.js';
import { runIngest } from './ingest.js';
import { runEnrich } from './enrich.js';
import { runCluster } from './cluster.js';
import { runDigest } from './digest.js';

export type StageShell = (ctx: StageContext, data: unknown) => Promise<unknown>;

/** Items a queued cluster job places at most, its own and those pending behind it (as many as a repair's call). */
const CLUSTER_JOB_ITEMS = 1000;

export function registeredStages(): Partial<Record<QueueName, StageShell>> {
  return { ingest: runIngest, enrich: runEnrich, cluster: (ctx, data) => runCluster(ctx, data, { takePending: CLUSTER_JOB_ITEMS }), digest: runDigest };
}
