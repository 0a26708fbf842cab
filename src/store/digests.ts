// The digest's editions: drafts, approval, the delivery state machine (a claimed send with a lease),
// the archive; and the coverage records the digest's footer reports (sources, channels, gaps,
// rate-limit delays, failed pulls). Every state change is one conditional UPDATE, so two processes
// can race on the same edition and only one wins.
import type { CoverageRecord } from '../model/digest.js';
import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Database, DigestsTable } from './schema.js';
import type { Period } from '../model/records.js';

type Db = Kysely<Database>;

export type EditionStatus = 'draft' | 'approved' | 'sending' | 'sent' | 'failed' | 'unknown';
export type SendPhase = 'claimed' | 'transmitting';

export interface EditionRow {
  id: number;
  team: string;
  periodStart: number;
  periodEnd: number;
  status: EditionStatus;
  json: string;
  html: string;
  text: string;
  curation: string | null;
  messageId: string | null;
  createdAt: number;
  approvedAt: number | null;
  approvedBy: string | null;
  sentAt: number | null;
  sendPhase: SendPhase | null;
  leaseUntil: number | null;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: number | null;
  recipients: string[] | null;
  smtpResponse: string | null;
  updatedAt: number | null;
}

type Row = Selectable<DigestsTable>;

function toRow(r: Row): EditionRow {
  return {
    id: r.id,
    team: r.team,
    periodStart: Number(r.period_start),
    periodEnd: Number(r.period_end),
    status: r.status as EditionStatus,
    json: r.json,
    html: r.html,
    text: r.text,
    curation: r.curation,
    messageId: r.message_id,
    createdAt: Number(r.created_at),
    approvedAt: r.approved_at == null ? null : Number(r.approved_at),
    approvedBy: r.approved_by,
    sentAt: r.sent_at == null ? null : Number(r.sent_at),
    sendPhase: (r.send_phase as SendPhase | null) ?? null,
    leaseUntil: r.lease_until == null ? null : Number(r.lease_until),
    attempts: Number(r.attempts ?? 0),
    lastError: r.last_error,
    nextAttemptAt: r.next_attempt_at == null ? null : Number(r.next_attempt_at),
    recipients: r.recipients ? (JSON.parse(r.recipients) as string[]) : null,
    smtpResponse: r.smtp_response,
    updatedAt: r.updated_at == null ? null : Number(r.updated_at),
  };
}

export async function getEdition(db: Db, id: number): Promise<EditionRow | null> {
  const r = await db.selectFrom('digests').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toRow(r) : null;
}

export async function findEdition(db: Db, team: string, periodStart: number): Promise<EditionRow | null> {
  const r = await db.selectFrom('digests').selectAll().where('team', '=', team).where('period_start', '=', periodStart).executeTakeFirst();
  return r ? toRow(r) : null;
}

/** Editions, newest week first; without the rendered bodies. */
export async function listEditions(db: Db, opts: { team?: string; status?: EditionStatus; limit?: number } = {}): Promise<Array<Omit<EditionRow, 'json' | 'html' | 'text'>>> {
  let q = db.selectFrom('digests').selectAll();
  if (opts.team) q = q.where('team', '=', opts.team);
  if (opts.status) q = q.where('status', '=', opts.status);
  const rows = await q
    .orderBy('period_start', 'desc')
    .orderBy('team')
    .limit(opts.limit ?? 200)
    .execute();
  return rows.map((r) => {
    const { json: _j, html: _h, text: _t, ...rest } = toRow(r);
    return rest;
  });
}

/**
 * A new draft for (team, week), or the existing edition when one is there already (two schedulers,
 * a retried job): the unique key (team, period_start) decides. `created` says which.
 */
async function insertDraft(db: Db, d: { team: string; period: Period; json: string; now: number }): Promise<{ edition: EditionRow; created: boolean }> {
  const inserted = await db
    .insertInto('digests')
    .values({
      team: d.team,
      period_start: d.period.start,
      period_end: d.period.end,
      status: 'draft',
      json: d.json,
      html: '',
      text: '',
      curation: null,
      message_id: null,
      created_at: d.now,
      approved_at: null,
      approved_by: null,
      sent_at: null,
      updated_at: d.now,
    })
    .onConflict((oc) => oc.columns(['team', 'period_start']).doNothing())
    .returning('id')
    .executeTakeFirst();
  const edition = inserted ? await getEdition(db, inserted.id) : await findEdition(db, d.team, d.period.start);
  if (!edition) throw new Error(`digest for team ${d.team} at ${new Date(d.period.start).toISOString()} vanished while being created`);
  return { edition, created: inserted !== undefined };
}

/**
 * Applies a team's edition for a week in one transaction: a new draft, or the draft there already
 * rebuilt (its curation kept); an approved or sent edition is left as it is. `rendered` gives the html,
 * text and Message-ID for the row as it is stored (its id and curation). Returns the edition as it
 * stands after, and whether it was created.
 */
export async function applyDraft(
  db: Db,
  d: { team: string; period: Period; json: string; now: number },
  rendered: (e: EditionRow) => { html: string; text: string; messageId: string },
): Promise<{ edition: EditionRow; created: boolean }> {
  return db.transaction().execute(async (trx) => {
    const { edition, created } = await insertDraft(trx, d);
    if (edition.status !== 'draft') return { edition, created };
    await updateDraft(trx, edition.id, { json: d.json, ...rendered(edition), now: d.now });
    return { edition: (await getEdition(trx, edition.id))!, created };
  });
}

/** Replaces a draft's content (a rebuild, a curation change). Only drafts change; false otherwise. */
export async function updateDraft(db: Db, id: number, d: { json?: string; html: string; text: string; curation?: string | null; messageId?: string; now: number }): Promise<boolean> {
  const set: Updateable<DigestsTable> = { html: d.html, text: d.text, updated_at: d.now };
  if (d.json !== undefined) set.json = d.json;
  if (d.curation !== undefined) set.curation = d.curation;
  if (d.messageId !== undefined) set.message_id = d.messageId;
  const r = await db.updateTable('digests').set(set).where('id', '=', id).where('status', '=', 'draft').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** draft -> approved, recording who and when, with the html/text the curator approved. */
export async function markApproved(db: Db, id: number, actor: string, now: number, rendered: { html: string; text: string }): Promise<boolean> {
  const r = await db
    .updateTable('digests')
    .set({ status: 'approved', approved_at: now, approved_by: actor, html: rendered.html, text: rendered.text, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'draft')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Claims an edition for sending: approved or failed -> sending, with a token and a lease. Atomic: of
 * two senders only one updates the row. When to retry a failed edition is the caller's (backoff).
 */
export async function claimSend(db: Db, id: number, c: { token: string; now: number; leaseMs: number; recipients: string[] }): Promise<boolean> {
  const r = await db
    .updateTable('digests')
    .set((eb) => ({
      status: 'sending',
      send_phase: 'claimed',
      claim_token: c.token,
      lease_until: c.now + c.leaseMs,
      attempts: eb('attempts', '+', 1),
      recipients: JSON.stringify(c.recipients),
      updated_at: c.now,
    }))
    .where('id', '=', id)
    .where('status', 'in', ['approved', 'failed'])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The claimed sender is about to hand the message to the server: from here a stop is ambiguous. */
export async function markTransmitting(db: Db, id: number, token: string, now: number): Promise<boolean> {
  const r = await db
    .updateTable('digests')
    .set({ send_phase: 'transmitting', updated_at: now })
    .where('id', '=', id)
    .where('claim_token', '=', token)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function recordSent(db: Db, id: number, token: string, o: { now: number; messageId: string; response: string; note: string | null }): Promise<boolean> {
  const r = await db
    .updateTable('digests')
    .set({ status: 'sent', sent_at: o.now, message_id: o.messageId, smtp_response: o.response, last_error: o.note, send_phase: null, lease_until: null, next_attempt_at: null, updated_at: o.now })
    .where('id', '=', id)
    .where('claim_token', '=', token)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The server did not take the message (refused, unreachable): safe to retry after `nextAttemptAt`. */
export async function recordFailed(db: Db, id: number, token: string, o: { now: number; error: string; nextAttemptAt: number | null }): Promise<boolean> {
  const r = await db
    .updateTable('digests')
    .set({ status: 'failed', last_error: o.error, next_attempt_at: o.nextAttemptAt, send_phase: null, lease_until: null, updated_at: o.now })
    .where('id', '=', id)
    .where('claim_token', '=', token)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The server may or may not have taken the message: never re-sent without a human decision. */
export async function recordUnknown(db: Db, id: number, token: string, o: { now: number; error: string }): Promise<boolean> {
  const r = await db
    .updateTable('digests')
    .set({ status: 'unknown', last_error: o.error, send_phase: null, lease_until: null, next_attempt_at: null, updated_at: o.now })
    .where('id', '=', id)
    .where('claim_token', '=', token)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Resolves editions whose sender stopped (lease expired): a claim that never reached the server is
 * failed (retried); one that had begun transmitting is unknown (a human decides). Returns what changed.
 */
export async function resolveExpiredLeases(db: Db, now: number, ids?: number[]): Promise<Array<{ id: number; status: 'failed' | 'unknown' }>> {
  const expired = await db
    .selectFrom('digests')
    .select(['id', 'send_phase', 'claim_token', 'lease_until'])
    .where('status', '=', 'sending')
    .where('lease_until', '<', now)
    .$if(ids !== undefined, (q) => q.where('id', 'in', ids!.length ? ids! : [-1]))
    .execute();
  const out: Array<{ id: number; status: 'failed' | 'unknown' }> = [];
  for (const e of expired) {
    const token = e.claim_token ?? '';
    const since = new Date(Number(e.lease_until)).toISOString();
    const ok =
      e.send_phase === 'transmitting'
        ? await recordUnknown(db, e.id, token, {
            now,
            error: `the sender stopped while handing the message to the SMTP server (lease expired ${since}); it may have been delivered. Check a recipient's inbox, then run: gleaner digest resolve --id ${e.id} --as sent|unsent`,
          })
        : await recordFailed(db, e.id, token, { now, error: `the sender stopped before contacting the SMTP server (lease expired ${since}); nothing was sent`, nextAttemptAt: null });
    if (ok) out.push({ id: e.id, status: e.send_phase === 'transmitting' ? 'unknown' : 'failed' });
  }
  return out;
}

/** A human settles an unknown outcome: delivered (sent) or not (back to approved, sent on the next run). */
export async function resolveUnknown(db: Db, id: number, as: 'sent' | 'unsent', actor: string, now: number): Promise<boolean> {
  const note = `${actor} resolved an unknown delivery as ${as} at ${new Date(now).toISOString()}`;
  const r =
    as === 'sent'
      ? await db.updateTable('digests').set({ status: 'sent', sent_at: now, last_error: note, updated_at: now }).where('id', '=', id).where('status', '=', 'unknown').executeTakeFirst()
      : await db.updateTable('digests').set({ status: 'approved', last_error: note, next_attempt_at: null, updated_at: now }).where('id', '=', id).where('status', '=', 'unknown').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Editions ready to send: approved, or failed and past their backoff. */
export async function editionsDue(db: Db, now: number): Promise<number[]> {
  const rows = await db
    .selectFrom('digests')
    .select('id')
    .where((eb) => eb.or([eb('status', '=', 'approved'), eb.and([eb('status', '=', 'failed'), eb('next_attempt_at', 'is not', null), eb('next_attempt_at', '<=', now)])]))
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

// Coverage ----------------------------------------------------------------------------------------

export async function recordSourceEvent(db: Db, e: { sourceId: number; kind: 'rate_limited' | 'pull_failed'; at: number; durationMs?: number | null; detail?: string | null }): Promise<void> {
  await db
    .insertInto('source_events')
    .values({ source_id: e.sourceId, kind: e.kind, at: e.at, duration_ms: e.durationMs ?? null, detail: e.detail ?? null })
    .execute();
}

/** What the store knows about coverage in a period, per source and channel. */
export async function coverageFor(db: Db, period: Period): Promise<CoverageRecord> {
  const sources = await db.selectFrom('sources').select(['id', 'name', 'platform', 'status', 'last_pull_at', 'last_error']).orderBy('name').execute();
  const channels = await db.selectFrom('channels').select(['id', 'source_id', 'name', 'external_id', 'first_at', 'last_at']).execute();
  const msgAgg = await db
    .selectFrom('messages')
    .select((eb) => ['channel_id', eb.fn.countAll<number>().as('n'), eb.fn.count<number>('conversation_id').distinct().as('c'), eb.fn.count<number>('identity_id').distinct().as('p')])
    .where('copy_of', 'is', null)
    .where('deleted', '=', 0)
    .where('sent_at', '>=', period.start)
    .where('sent_at', '<', period.end)
    .groupBy('channel_id')
    .execute();
  const fbAgg = await db
    .selectFrom('feedback_items as f')
    .innerJoin('messages as m', 'm.id', 'f.message_id')
    .select((eb) => ['m.channel_id', eb.fn.countAll<number>().as('n')])
    .where('f.status', '!=', 'not_feedback')
    .where('m.sent_at', '>=', period.start)
    .where('m.sent_at', '<', period.end)
    .groupBy('m.channel_id')
    .execute();
  const gaps = await db
    .selectFrom('gaps')
    .select(['source_id', 'channel', 'from_at', 'to_at', 'reason'])
    .where('from_at', '<', period.end)
    .where((eb) => eb.or([eb('to_at', 'is', null), eb('to_at', '>', period.start)]))
    .orderBy('from_at')
    .execute();
  const events = await db.selectFrom('source_events').select(['source_id', 'kind', 'at', 'duration_ms', 'detail']).where('at', '>=', period.start).where('at', '<', period.end).orderBy('at').execute();
  const msgs = new Map(msgAgg.map((r) => [r.channel_id, r]));
  const fbs = new Map(fbAgg.map((r) => [r.channel_id, Number(r.n)]));
  return {
    sources: sources.map((s) => {
      const ev = events.filter((e) => e.source_id === s.id);
      const rl = ev.filter((e) => e.kind === 'rate_limited');
      return {
        name: s.name,
        platform: s.platform,
        status: s.status,
        lastPullAt: s.last_pull_at == null ? null : Number(s.last_pull_at),
        lastError: s.last_error,
        channels: channels
          .filter((c) => c.source_id === s.id)
          .map((c) => {
            const m = msgs.get(c.id);
            return {
              name: c.name ?? c.external_id,
              firstAt: c.first_at == null ? null : Number(c.first_at),
              lastAt: c.last_at == null ? null : Number(c.last_at),
              messages: Number(m?.n ?? 0),
              conversations: Number(m?.c ?? 0),
              feedbackItems: fbs.get(c.id) ?? 0,
              people: Number(m?.p ?? 0),
            };
          })
          .sort((a, b) => b.messages - a.messages || a.name.localeCompare(b.name)),
        gaps: gaps.filter((g) => g.source_id === s.id).map((g) => ({ channel: g.channel, from: Number(g.from_at), to: g.to_at == null ? null : Number(g.to_at), reason: g.reason })),
        rateLimitedMs: rl.reduce((a, e) => a + Number(e.duration_ms ?? 0), 0),
        rateLimitedPages: rl.length,
        failures: ev.filter((e) => e.kind === 'pull_failed').map((e) => ({ at: Number(e.at), detail: e.detail })),
      };
    }),
  };
}
