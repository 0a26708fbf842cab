// Queue name -> stage shell. Each shell validates its payload, loads, runs pure stages, saves, and
// enqueues the next stage with a deterministic job id.
import type { QueueName } from '../queue/port.js';
import type { StageContext } from './context.js';
import { runIngest } from './ingest.js';
import { runEnrich } from './enrich.js';
import { runCluster } from './cluster.js';
import { runDigest } from './digest.js';

export type StageShell = (ctx: StageContext, data: unknown) => Promise<unknown>;

export function registeredStages(): Partial<Record<QueueName, StageShell>> {
  return { ingest: runIngest, enrich: runEnrich, cluster: runCluster, digest: runDigest };
}
