// The digest workflow: the scheduled job builds a draft per team; a curator curates and approves it
// (web UI or `gleaner digest approve`); approval sends. With `digest.autoApprove` the draft is
// approved and sent at once. The web UI and the CLI call these functions; the queue's digest stage
// (src/stages/digest.ts) calls them for the scheduled job and for sends.
import { digestEvent, risingInDigest } from '../webhooks/events.js';
import { CronExpressionParser } from 'cron-parser';
import type { StageContext } from '../stages/context.js';
import type { JobQueue } from '../queue/port.js';
import type { DigestPayload } from '../model/jobs.js';
import { weekContaining, weekLabel, type Period } from '../pipeline/period.js';
import { applyDraft, editionsDue, findEdition, getEdition, listEditions, markApproved, resolveExpiredLeases, resolveUnknown, updateDraft, type EditionRow } from '../store/digests.js';
import { buildEdition, teamsOf, type Team } from './edition.js';
import type { EditionJson } from '../model/digest.js';
import { parseCuration } from './curation.js';
import { renderDigest } from './render.js';
import { archiveUrl, editionMessageId, sendEdition, sendWithRetry, type SendOutcome } from './send.js';
import { postEdition } from './post.js';

/** What the workflow needs: the stage context (store, queue, config, clock, logger). */
export type DigestContext = Pick<StageContext, 'db' | 'config' | 'now' | 'log'> & { queue?: StageContext['queue'] };

export const DIGEST_SCHEDULER_ID = 'digest-weekly';
export const DIGEST_JOB = 'digest';

/** The last ISO week (UTC) that has fully ended at `now`: what a Monday-morning run reports on. */
export function lastCompleteWeek(now: number): Period {
  const current = weekContaining(now);
  return weekContaining(current.start - 1);
}

/** The stored edition re-rendered from its JSON and curation (what it looks like, or looked like when sent). */
export function renderEdition(ctx: Pick<DigestContext, 'config'>, e: Pick<EditionRow, 'id' | 'json' | 'curation'>): { html: string; text: string } {
  const json = JSON.parse(e.json) as EditionJson;
  return renderDigest(json, { curation: e.curation ? parseCuration(e.curation) : null, archiveUrl: archiveUrl(ctx.config, e.id) });
}

/**
 * The draft for a team and week, read -> plan -> apply: the edition is read and planned from the store
 * (buildEdition), then created, or rebuilt when it is still a draft (its curation kept), with its
 * rendering in one transaction (applyDraft). An approved or sent edition is never changed.
 */
export async function prepareEdition(ctx: DigestContext, team: Team, period: Period): Promise<EditionRow> {
  const json = await buildEdition(ctx.db, period, team, { segments: ctx.config.segments, archives: ctx.config.archives });
  await risingInDigest(ctx, period, json.clusters);
  const body = JSON.stringify(json);
  const messageId = editionMessageId(ctx.config, team.name, period.start);
  const { edition, created } = await applyDraft(ctx.db, { team: team.name, period, json: body, now: ctx.now() }, (e) => ({
    ...renderEdition(ctx, { id: e.id, json: body, curation: e.curation }),
    messageId,
  }));
  if (edition.status === 'draft')
    ctx.log.info({ edition: edition.id, team: team.name, week: weekLabel(period), clusters: json.clusters.length }, created ? 'digest draft created' : 'digest draft rebuilt');
  return edition;
}

/** Drafts for every team (or one) for a period. */
export async function prepareEditions(ctx: DigestContext, period: Period, teamName?: string): Promise<EditionRow[]> {
  const teams = teamsOf(ctx.config).filter((t) => teamName === undefined || t.name === teamName);
  if (teamName !== undefined && !teams.length)
    throw new Error(
      `no team named ${teamName} in the config; teams: ${teamsOf(ctx.config)
        .map((t) => t.name)
        .join(', ')}`,
    );
  const out: EditionRow[] = [];
  for (const t of teams) out.push(await prepareEdition(ctx, t, period));
  return out;
}

/** A curator's decisions on a draft: validated, stored and rendered into the draft. */
export async function setEditionCuration(ctx: DigestContext, id: number, curation: unknown): Promise<EditionRow> {
  const c = parseCuration(curation);
  const e = await getEdition(ctx.db, id);
  if (!e) throw new Error(`there is no digest edition ${id}`);
  if (e.status !== 'draft') throw new Error(`digest ${id} is ${e.status}; only a draft can be curated`);
  const curationJson = JSON.stringify(c);
  const rendered = renderEdition(ctx, { id, json: e.json, curation: curationJson });
  if (!(await updateDraft(ctx.db, id, { ...rendered, curation: curationJson, now: ctx.now() }))) throw new Error(`digest ${id} changed while being curated; reload it`);
  return (await getEdition(ctx.db, id))!;
}

/**
 * Approves a draft (its html/text rendered once more with its curation, as the curator saw them) and
 * dispatches the send: a job on the digest queue with Redis, a background send in-process.
 * Approving an edition that is already approved or further on changes nothing.
 */
export async function approveEdition(ctx: DigestContext, id: number, actor: string, opts: { send?: boolean } = {}): Promise<EditionRow> {
  const e = await getEdition(ctx.db, id);
  if (!e) throw new Error(`there is no digest edition ${id}`);
  if (e.status === 'draft') {
    const rendered = renderEdition(ctx, e);
    await markApproved(ctx.db, id, actor, ctx.now(), rendered);
    ctx.log.info({ edition: id, team: e.team, actor }, 'digest approved');
    await digestEvent(ctx, 'digest.approved', e, { approvedBy: actor });
  }
  if (opts.send !== false) await dispatchSend(ctx, id);
  return (await getEdition(ctx.db, id))!;
}

/**
 * Sends an approved edition without waiting for it: enqueued on the digest queue when Redis is used
 * (retried with the queue's backoff), otherwise sent in the background with retries. The outcome is
 * recorded on the edition (status, attempts, last error) either way.
 */
export async function dispatchSend(ctx: DigestContext, id: number): Promise<void> {
  const e = await getEdition(ctx.db, id);
  if (!e || !['approved', 'failed'].includes(e.status)) return;
  const inBackground = async (): Promise<void> => {
    void sendWithRetry(ctx, id)
      .catch((err: unknown) => ctx.log.error({ edition: id, err: (err as Error).message }, 'digest send failed'))
      .then(() => postEditionLogged(ctx, id));
  };
  if (!ctx.queue) return inBackground();
  await ctx.queue.handOff('digest', sendJob(id, e.attempts), inBackground);
}

function sendJob(id: number, attempts: number): { name: string; data: DigestJobPayload; opts: { jobId: string } } {
  return { name: DIGEST_JOB, data: { type: 'send', id }, opts: { jobId: `digest-send-${id}-${attempts}` } };
}

/**
 * Sends an edition here and returns the outcome, or hands the send to the workers when worker processes
 * take jobs (Redis: a digest job, as dispatchSend; nothing when the edition is not to be sent) and
 * returns null.
 */
export async function sendHereOrHandOff(ctx: DigestContext, id: number): Promise<SendOutcome | null> {
  const here = async () => {
    const o = await sendWithRetry(ctx, id);
    await postEditionLogged(ctx, id);
    return o;
  };
  if (!ctx.queue) return here();
  const e = await getEdition(ctx.db, id);
  const job = e && ['approved', 'failed'].includes(e.status) ? sendJob(id, e.attempts) : null;
  return (await ctx.queue.handOff('digest', job, here)) ?? null;
}

export async function sendDue(ctx: DigestContext): Promise<SendOutcome[]> {
  await resolveExpiredLeases(ctx.db, ctx.now());
  const out: SendOutcome[] = [];
  for (const id of await editionsDue(ctx.db, ctx.now())) out.push(await sendEdition(ctx, id));
  for (const e of await listEditions(ctx.db, { limit: 20 })) if (e.approvedAt !== null) await postEditionLogged(ctx, e.id);
  return out;
}

/** The edition's chat posts (teams[].post), each once; a failure is logged and kept on its post row. */
export async function postEditionLogged(ctx: DigestContext, id: number): Promise<void> {
  try {
    await postEdition(ctx, id);
  } catch (err: unknown) {
    ctx.log.error({ edition: id, err: (err as Error).message }, 'digest chat post failed');
  }
}

export interface WeeklyRun {
  period: Period;
  editions: Array<{ id: number; team: string; status: string; outcome?: SendOutcome }>;
}

/**
 * The scheduled job: drafts for the week that just ended, for every team; with autoApprove they are
 * approved and sent here (`sendNow`), sent here or handed to the workers as the queue has it
 * (`sendHereOrHandOff`), or dispatched. Running it twice changes nothing more.
 */
export async function runWeeklyDigest(ctx: DigestContext, opts: { period?: Period; sendNow?: boolean; sendHereOrHandOff?: boolean } = {}): Promise<WeeklyRun> {
  const period = opts.period ?? lastCompleteWeek(ctx.now());
  const editions: WeeklyRun['editions'] = [];
  for (const e of await prepareEditions(ctx, period)) {
    if (!ctx.config.digest.autoApprove) {
      editions.push({ id: e.id, team: e.team, status: e.status });
      continue;
    }
    const approved = await approveEdition(ctx, e.id, 'autoApprove', { send: !opts.sendNow && !opts.sendHereOrHandOff });
    const outcome = opts.sendNow
      ? await sendWithRetry(ctx, e.id).finally(() => postEditionLogged(ctx, e.id))
      : opts.sendHereOrHandOff
        ? ((await sendHereOrHandOff(ctx, e.id)) ?? undefined)
        : undefined;
    editions.push({ id: e.id, team: e.team, status: (await getEdition(ctx.db, e.id))?.status ?? approved.status, outcome });
  }
  return { period, editions };
}

/** The edition of a team for a week, if there is one. */
export async function editionFor(ctx: DigestContext, team: string, period: Period): Promise<EditionRow | null> {
  return findEdition(ctx.db, team, period.start);
}

export { getEdition, listEditions, resolveUnknown };

// Schedule ----------------------------------------------------------------------------------------

export type DigestJobPayload = DigestPayload;

/** The schedule's time zone: `digest.timezone`, else this machine's. */
export function scheduleTimezone(ctx: Pick<DigestContext, 'config'>): string {
  return ctx.config.digest.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

/** The next time the schedule fires after `after`. Throws a clear error for a bad cron expression. */
export function nextRun(ctx: Pick<DigestContext, 'config'>, after: number): number {
  try {
    return CronExpressionParser.parse(ctx.config.digest.schedule, { currentDate: new Date(after), tz: scheduleTimezone(ctx) })
      .next()
      .getTime();
  } catch (err: unknown) {
    throw new Error(`digest.schedule "${ctx.config.digest.schedule}" (timezone ${scheduleTimezone(ctx)}) is not a valid cron expression: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Registers (or updates) the weekly job from `digest.schedule` in the time zone on the queue's
 * scheduler (BullMQ's job scheduler with Redis; a timer in this process otherwise). One scheduler id,
 * so any number of processes registering it leave one schedule.
 */
export async function registerDigestScheduler(ctx: DigestContext, queue: JobQueue): Promise<{ pattern: string; tz: string }> {
  const pattern = ctx.config.digest.schedule;
  const tz = scheduleTimezone(ctx);
  nextRun(ctx, ctx.now()); // validates the expression with a clear message
  await queue.schedule('digest', DIGEST_SCHEDULER_ID, { pattern, tz }, { name: DIGEST_JOB, data: { type: 'weekly' } });
  return { pattern, tz };
}

export interface DigestTimer {
  /** When the weekly run fires next (ms). */
  readonly nextAt: number;
  stop(): void;
}

/**
 * In-process schedule (no Redis), for `gleaner serve`: fires the weekly run at `digest.schedule` in
 * the time zone, and every `sweepMs` (default a minute) resolves stopped senders and retries due
 * sends. Several processes running it against one store still send each edition once (the claim).
 */
export function startDigestTimer(ctx: DigestContext, opts: { sweepMs?: number; onRun?: (r: WeeklyRun) => void } = {}): DigestTimer {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const sweep = setInterval(() => {
    sendDue(ctx).catch((err: unknown) => ctx.log.error({ err: (err as Error).message }, 'digest sweep failed'));
  }, opts.sweepMs ?? 60_000);
  sweep.unref();
  const state = { nextAt: nextRun(ctx, ctx.now()) };
  const arm = () => {
    if (stopped) return;
    state.nextAt = nextRun(ctx, ctx.now());
    // setTimeout holds at most ~24.8 days; re-arm in steps until the time comes.
    const wait = Math.min(Math.max(0, state.nextAt - ctx.now()), 2 ** 31 - 1);
    timer = setTimeout(() => {
      if (ctx.now() < state.nextAt - 1000) return arm();
      runWeeklyDigest(ctx, { sendNow: true })
        .then((r) => opts.onRun?.(r))
        .catch((err: unknown) => ctx.log.error({ err: (err as Error).message }, 'scheduled digest failed'))
        .finally(() => setTimeout(arm, 1000).unref());
    }, wait);
    timer.unref();
  };
  arm();
  return {
    get nextAt() {
      return state.nextAt;
    },
    stop() {
      stopped = true;
      clearInterval(sweep);
      if (timer) clearTimeout(timer);
    },
  };
}
