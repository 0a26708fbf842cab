// `gleaner push CLUSTER --tracker NAME` and the cluster page's button: one issue per cluster and
// tracker. The push claims the (cluster, tracker) row in the store first (src/store/trackers.ts): a
// second push at the same time, in this process or another, waits for the claim and then updates the
// issue the first created; it never creates a second one.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';
import type { Config } from '../config/index.js';
import { redactSecretValues } from '../config/index.js';
import type { TrackerConfig } from '../config/outbound.js';
import { claimLink, storeLinkError, storeLinkIssue } from '../store/trackers.js';
import { errorCode, GleanerError, NotFoundError } from '../errors.js';
import { clusterEntryNow, clusterUrl, issueContent } from './content.js';
import { trackerClient } from './index.js';
import { withRetry } from './http.js';
import { TrackerError, type IssueRef, type TrackerClient } from './types.js';

export interface TrackerContext {
  db: Kysely<Database>;
  config: Config;
  now: () => number;
  log: Logger;
  /** Waits between tries (tests pass a short one). */
  sleep?: (ms: number) => Promise<void>;
  /** A client per tracker name (tests count calls); default the real one for the tracker's type. */
  client?: (cfg: TrackerConfig) => TrackerClient;
}

/** How long a push holds its claim; one that died is taken over after this. */
const CLAIM_MS = 120_000;
/** How long a push waits for another push of the same cluster to finish. */
const WAIT_MS = 120_000;
const POLL_MS = 100;

export function findTracker(config: Config, name: string): TrackerConfig {
  const t = config.trackers.find((x) => x.name === name);
  if (!t) throw new NotFoundError({ message: `There is no tracker named ${name}; trackers: ${config.trackers.map((x) => x.name).join(', ') || '(none: add one under trackers: in gleaner.yaml)'}.` });
  return t;
}

export function trackerSecrets(config: Config): string[] {
  return config.trackers.map((t) => t.token).filter((s) => s.length >= 4);
}

/** A tracker error as the user sees it: coded, the token scrubbed from whatever the server echoed. */
export function safeTrackerError(config: Config, tracker: string, err: unknown): GleanerError {
  const message = redactSecretValues(err instanceof Error ? err.message : String(err), trackerSecrets(config));
  if (err instanceof GleanerError) return new GleanerError(err.code, message, { cause: err });
  return new TrackerError(tracker, null, message, { cause: err });
}

export interface PushResult extends IssueRef {
  created: boolean;
}

export async function pushCluster(ctx: TrackerContext, clusterId: number, trackerName: string): Promise<PushResult> {
  const cfg = findTracker(ctx.config, trackerName);
  const entry = await clusterEntryNow(ctx.db, ctx.config, clusterId, ctx.now(), cfg.quotes);
  const content = issueContent(entry, cfg, clusterUrl(ctx.config, clusterId), ctx.now());
  const client = (ctx.client ?? trackerClient)(cfg);
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const token = randomUUID();
  const waitUntil = ctx.now() + WAIT_MS;
  let link = await claimLink(ctx.db, clusterId, cfg.name, token, ctx.now(), CLAIM_MS);
  while (!link) {
    if (ctx.now() > waitUntil) throw new GleanerError('conflict', `cluster ${clusterId} is being pushed to ${cfg.name} by another run; try again in a minute.`);
    await sleep(POLL_MS);
    link = await claimLink(ctx.db, clusterId, cfg.name, token, ctx.now(), CLAIM_MS);
  }
  const retry = {
    retries: cfg.retries,
    backoffMs: cfg.retryBackoffMs,
    sleep,
    onRetry: (n: number, status: number | null) => ctx.log.warn({ tracker: cfg.name, cluster: clusterId, attempt: n, status }, 'tracker call failed; trying again'),
  };
  try {
    const existing = link.externalId;
    const ref = await withRetry(() => (existing ? client.update(existing, content) : client.create(content)), retry);
    await storeLinkIssue(ctx.db, link.id, token, ref, ctx.now());
    ctx.log.info({ tracker: cfg.name, cluster: clusterId, issue: ref.key, created: !existing }, existing ? 'issue updated' : 'issue created');
    return { ...ref, created: !existing };
  } catch (err: unknown) {
    const safe = safeTrackerError(ctx.config, cfg.name, err);
    await storeLinkError(ctx.db, link.id, errorCode(safe), safe.message, token);
    throw safe;
  }
}
