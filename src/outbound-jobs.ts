// The scheduled outbound jobs: the tracker sync (outbound.syncSchedule, hourly by default) and the
// webhook sender (outbound.deliverSchedule, every minute). With Redis they are BullMQ job schedulers
// on the digest queue, registered by the workers (one scheduler id each, so any number of workers
// leave one schedule); without, `gleaner serve` runs them on timers in its process.
import { CronExpressionParser } from 'cron-parser';
import type { JobQueue } from './queue/port.js';
import type { StageContext } from './stages/context.js';
import { syncTrackers } from './trackers/sync.js';
import { deliverDue } from './webhooks/deliver.js';
import { ConfigError } from './errors.js';

type OutboundJob = 'tracker-sync' | 'webhooks-deliver';

export async function runOutboundJob(ctx: StageContext, job: OutboundJob): Promise<unknown> {
  if (job === 'tracker-sync') {
    const r = await syncTrackers(ctx);
    if (r.changes.length) await deliverDue(ctx);
    return { checked: r.checked, changes: r.changes.length, errors: r.errors.length };
  }
  const r = await deliverDue(ctx);
  return { attempted: r.length, delivered: r.filter((x) => x.ok).length };
}

function timezone(ctx: StageContext): string {
  return ctx.config.digest.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

function nextAt(pattern: string, key: string, tz: string, after: number): number {
  try {
    return CronExpressionParser.parse(pattern, { currentDate: new Date(after), tz })
      .next()
      .getTime();
  } catch (err: unknown) {
    throw new ConfigError(`outbound.${key} "${pattern}" is not a valid cron expression: ${(err as Error).message}`, { cause: err });
  }
}

const jobs = (ctx: StageContext) => [
  { job: 'tracker-sync' as const, key: 'syncSchedule', pattern: ctx.config.outbound.syncSchedule, wanted: ctx.config.trackers.length > 0 },
  { job: 'webhooks-deliver' as const, key: 'deliverSchedule', pattern: ctx.config.outbound.deliverSchedule, wanted: ctx.config.webhooks.length > 0 },
];

/** With Redis: the BullMQ job schedulers for the configured trackers and webhooks. */
export async function registerOutboundSchedulers(ctx: StageContext, queue: JobQueue): Promise<void> {
  const tz = timezone(ctx);
  for (const j of jobs(ctx)) {
    if (!j.wanted) continue;
    nextAt(j.pattern, j.key, tz, ctx.now());
    await queue.schedule('digest', j.job, { pattern: j.pattern, tz }, { name: j.job, data: { type: j.job } });
  }
}

/** Without Redis (`gleaner serve`): the same jobs on timers in this process. */
export function startOutboundTimers(ctx: StageContext): { stop(): void } {
  const tz = timezone(ctx);
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  for (const j of jobs(ctx)) {
    if (!j.wanted) continue;
    const arm = () => {
      if (stopped) return;
      const at = nextAt(j.pattern, j.key, tz, ctx.now());
      const t = setTimeout(
        () => {
          timers.delete(t);
          runOutboundJob(ctx, j.job)
            .catch((err: unknown) => ctx.log.error({ job: j.job, err: (err as Error).message }, 'scheduled outbound job failed'))
            .finally(arm);
        },
        Math.min(Math.max(0, at - ctx.now()), 2 ** 31 - 1),
      );
      t.unref();
      timers.add(t);
    };
    arm();
  }
  return {
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
    },
  };
}
