// Sends an approved edition over SMTP (nodemailer), exactly once per team and week as far as SMTP
// allows:
// - the Message-ID is deterministic per team and week, so every attempt carries the same one;
// - before talking to the server a sender claims the edition in the database (approved|failed ->
//   sending, one conditional UPDATE: of two senders only one wins) with a token and a lease;
// - the phase moves to 'transmitting' only once connected and logged in, just before the envelope
//   and data go out; the outcome (sent, failed, unknown) is recorded under the same token;
// - a sender that stopped (crash, kill) leaves 'sending' past its lease: the next sender resolves it
//   first: 'claimed' (never reached the server) -> failed, retried; 'transmitting' -> unknown, never
//   re-sent without a human (`gleaner digest resolve`), because the server may have taken it.
// The remaining window (README "Exactly once"): a server that accepts the data but whose reply never
// arrives is indistinguishable from one that did not; that case is recorded as unknown, not re-sent.
import { digestEvent } from '../webhooks/events.js';
import { logger } from '../log.js';
import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { redactSecretValues, secretValues, type Config } from '../config/index.js';
import { claimSend, getEdition, markTransmitting, recordFailed, recordSent, recordUnknown, resolveExpiredLeases, type EditionRow } from '../store/digests.js';
import { weekLabel } from '../pipeline/period.js';
import { teamsOf } from './edition.js';
import { GleanerError } from '../errors.js';

/** Longer than a whole SMTP session can take with the timeouts below, so a live sender keeps its lease. */
export const SEND_LEASE_MS = 10 * 60_000;
const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 120_000 };

export interface SendDeps {
  db: Kysely<Database>;
  config: Config;
  now: () => number;
  log?: Logger;
  leaseMs?: number;
  /**
   * Called after the server accepted the message and before the outcome is recorded. Tests stop the
   * sender here to play a crash between send and record.
   */
  onAccepted?: (editionId: number) => Promise<void>;
}

export type SendOutcome =
  | { status: 'sent'; id: number; messageId: string; response: string }
  | { status: 'already-sent'; id: number; messageId: string | null }
  | { status: 'busy'; id: number; leaseUntil: number | null }
  | { status: 'not-approved'; id: number; current: string }
  | { status: 'failed'; id: number; error: string; retryable: boolean }
  | { status: 'unknown'; id: number; error: string };

export class DigestSendError extends GleanerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('send_failed', message, options);
    this.name = 'DigestSendError';
  }
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'team';
const ascii = (s: string) => s.replace(/[^\x20-\x7e]/g, '').replace(/["\\<>]/g, '');

/** The domain Gleaner's Message-IDs and List-Ids are under: the sender's, else the web address's. */
export function mailDomain(config: Config): string {
  const from = config.smtp?.from ?? '';
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  if (m?.[1]) return m[1].toLowerCase();
  try {
    return new URL(config.web.baseUrl).hostname || 'localhost';
  } catch {
    return 'localhost';
  }
}

/** Deterministic per team and week: every attempt, from any process, carries the same id. */
export function editionMessageId(config: Config, team: string, periodStart: number): string {
  return `<digest.${weekLabel({ start: periodStart, end: periodStart })}.${slug(team)}@${mailDomain(config)}>`;
}

export function editionListId(config: Config, team: string): string {
  return `Gleaner digest for ${ascii(team)} <${slug(team)}.digest.${mailDomain(config)}>`;
}

export function archiveUrl(config: Config, id: number): string {
  return `${config.web.baseUrl.replace(/\/+$/, '')}/digests/${id}`;
}

export function editionSubject(e: Pick<EditionRow, 'team' | 'periodStart' | 'periodEnd'>): string {
  const week = weekLabel({ start: e.periodStart, end: e.periodEnd });
  return e.team === 'default' ? `Community feedback digest · ${week}` : `Community feedback digest · ${e.team} · ${week}`;
}

function recipientsFor(config: Config, team: string): string[] {
  return teamsOf(config).find((t) => t.name === team)?.recipients ?? [];
}

/** The MIME message (multipart/alternative: text, then HTML) for an edition, as bytes. */
export async function composeEdition(config: Config, e: EditionRow, recipients: string[]): Promise<{ raw: Buffer; messageId: string; envelope: { from: string; to: string[] } }> {
  const from = config.smtp?.from ?? `gleaner@${mailDomain(config)}`;
  const messageId = editionMessageId(config, e.team, e.periodStart);
  const mail = new MailComposer({
    from,
    to: recipients,
    subject: editionSubject(e),
    text: e.text,
    html: e.html,
    messageId,
    date: new Date(e.approvedAt ?? e.createdAt),
    headers: {
      'List-Id': editionListId(config, e.team),
      'List-Archive': `<${config.web.baseUrl.replace(/\/+$/, '')}/digests>`,
      'X-Gleaner-Edition': `${e.id}`,
      'Auto-Submitted': 'auto-generated',
    },
  });
  const node = mail.compile();
  const env = node.getEnvelope();
  const raw = await node.build();
  return { raw, messageId, envelope: { from: env.from || from, to: env.to } };
}

interface SmtpError extends Error {
  code?: string;
  command?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
}

export const smtpMessage = (err: unknown): string => {
  const e = err as SmtpError;
  const parts = [e.message ?? String(err)];
  if (e.command) parts.push(`command ${e.command}`);
  if (e.responseCode) parts.push(`reply ${e.responseCode}`);
  return parts.join('; ');
};

export function connect(config: Config): Promise<SMTPConnection> {
  const smtp = config.smtp;
  if (!smtp) throw new DigestSendError('no `smtp:` section in the config: set host, port, secure, user, password (or ${ENV}) and from');
  const conn = new SMTPConnection({ host: smtp.host, port: smtp.port, secure: smtp.secure, requireTLS: smtp.requireTLS, ...SMTP_TIMEOUTS });
  return new Promise((resolve, reject) => {
    // A failed connect or login closes the connection: left open, the socket kept the process alive
    // until the server's timeout (a CLI hung two minutes after printing its result) and a long-running
    // process leaked one per attempt.
    const fail = (err: Error) => {
      conn.close();
      reject(err);
    };
    // Errors also reach the callbacks; the listener keeps a late socket error from crashing the process.
    conn.on('error', fail);
    conn.connect((err) => {
      if (err) return fail(err);
      const user = smtp.user;
      const pass = smtp.password;
      if (!user) return resolve(conn);
      conn.login({ user, pass }, (loginErr) => (loginErr ? fail(loginErr) : resolve(conn)));
    });
  });
}

export function transmit(conn: SMTPConnection, envelope: { from: string; to: string[] }, raw: Buffer) {
  return new Promise<{ response: string; accepted: string[]; rejected: string[] }>((resolve, reject) => {
    conn.send(envelope, raw, (err, info) => (err || !info ? reject(err ?? new Error('no reply from the SMTP server')) : resolve(info)));
  });
}

/**
 * Refused by the server (a 4xx/5xx reply), or stopped by the client before the transaction: the message
 * was not taken. A lost connection or a timeout during the transaction is not known to be either.
 */
export function notTaken(err: unknown): boolean {
  const e = err as SmtpError;
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) return true;
  return e.command === 'API' || ((e.command === 'MAIL FROM' || e.command === 'RCPT TO') && e.code === 'EENVELOPE');
}

/** One attempt to send an edition. Safe to call from any number of processes at once. */
export async function sendEdition(deps: SendDeps, id: number): Promise<SendOutcome> {
  const { db, config } = deps;
  const log = deps.log;
  await resolveExpiredLeases(db, deps.now(), [id]);
  const e = await getEdition(db, id);
  if (!e) throw new DigestSendError(`there is no digest edition ${id}`);
  if (e.status === 'sent') return { status: 'already-sent', id, messageId: e.messageId };
  if (e.status === 'sending') return { status: 'busy', id, leaseUntil: e.leaseUntil };
  if (e.status === 'unknown') return { status: 'unknown', id, error: e.lastError ?? 'delivery outcome unknown' };
  if (e.status === 'draft') return { status: 'not-approved', id, current: e.status };

  const recipients = recipientsFor(config, e.team);
  const token = randomUUID();
  if (!(await claimSend(db, id, { token, now: deps.now(), leaseMs: deps.leaseMs ?? SEND_LEASE_MS, recipients }))) {
    const again = await getEdition(db, id);
    if (again?.status === 'sent') return { status: 'already-sent', id, messageId: again.messageId };
    return { status: 'busy', id, leaseUntil: again?.leaseUntil ?? null };
  }
  // An SMTP reply may echo the credentials (AUTH PLAIN): errors are stored and shown without them.
  const secrets = secretValues(config);
  const fail = async (echoed: string, retryable: boolean): Promise<SendOutcome> => {
    const error = redactSecretValues(echoed, secrets);
    const attempts = e.attempts + 1;
    const nextAttemptAt = retryable ? deps.now() + Math.min(60 * 60_000, config.queue.backoffMs * 2 ** (attempts - 1)) : null;
    await recordFailed(db, id, token, { now: deps.now(), error, nextAttemptAt });
    log?.warn({ edition: id, team: e.team, attempts, retryable }, `digest not sent: ${error}`);
    return { status: 'failed', id, error, retryable };
  };
  if (!recipients.length) return fail(`team ${e.team} has no recipients: add them under teams[].recipients (or digest.recipients without teams)`, false);

  let message: Awaited<ReturnType<typeof composeEdition>>;
  try {
    message = await composeEdition(config, e, recipients);
  } catch (err: unknown) {
    return fail(`could not compose the message: ${(err as Error).message}`, false);
  }
  let conn: SMTPConnection;
  try {
    conn = await connect(config);
  } catch (err: unknown) {
    return fail(
      `SMTP connection to ${config.smtp?.host ?? '?'}:${config.smtp?.port ?? '?'} failed: ${smtpMessage(err)}`,
      !(err instanceof DigestSendError) && (err as SmtpError).permanent !== true && (err as SmtpError).code !== 'EAUTH',
    );
  }
  try {
    if (!(await markTransmitting(db, id, token, deps.now()))) {
      // The lease ran out and someone resolved this claim: do not send on a claim we no longer hold.
      return { status: 'busy', id, leaseUntil: null };
    }
    let info: { response: string; accepted: string[]; rejected: string[] };
    try {
      info = await transmit(conn, message.envelope, message.raw);
    } catch (err: unknown) {
      if (notTaken(err)) return fail(`SMTP server refused the digest: ${smtpMessage(err)}`, (err as SmtpError).permanent !== true);
      const error = `the SMTP session failed while the message was being handed over (${redactSecretValues(smtpMessage(err), secrets)}); the server may have accepted it. Check a recipient's inbox, then run: gleaner digest resolve --id ${id} --as sent|unsent`;
      await recordUnknown(db, id, token, { now: deps.now(), error });
      log?.error({ edition: id, team: e.team }, error);
      return { status: 'unknown', id, error };
    }
    await deps.onAccepted?.(id);
    const note = info.rejected.length ? `the server refused ${info.rejected.length} recipient(s): ${info.rejected.join(', ')}` : null;
    await recordSent(db, id, token, { now: deps.now(), messageId: message.messageId, response: info.response, note });
    log?.info({ edition: id, team: e.team, messageId: message.messageId, accepted: info.accepted.length }, 'digest sent');
    // The event is written after the outcome: a failure to queue it is logged, never a second send.
    await digestEvent({ db, config, now: deps.now, log: log ?? logger('digest') }, 'digest.sent', e, { accepted: info.accepted.length }).catch((err: unknown) =>
      log?.error({ edition: id, err: (err as Error).message }, 'could not queue the digest.sent webhook event'),
    );
    return { status: 'sent', id, messageId: message.messageId, response: info.response };
  } finally {
    conn.quit();
  }
}

/** Sends with retries and exponential backoff for what may succeed later (the CLI and the in-process timer). */
export async function sendWithRetry(deps: SendDeps, id: number, opts: { attempts?: number; baseDelayMs?: number; sleep?: (ms: number) => Promise<void> } = {}): Promise<SendOutcome> {
  const attempts = opts.attempts ?? deps.config.queue.attempts;
  const base = opts.baseDelayMs ?? deps.config.queue.backoffMs;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let outcome = await sendEdition(deps, id);
  for (let i = 1; i < attempts && outcome.status === 'failed' && outcome.retryable; i++) {
    await sleep(base * 2 ** (i - 1));
    outcome = await sendEdition(deps, id);
  }
  return outcome;
}
