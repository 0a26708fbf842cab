// One attempt to send one outbound row (a digest's chat post, a loop reply) exactly once: resolve a
// stopped sender's claim, claim the row, mark it transmitting just before the request, record the
// outcome under the claim. See src/store/outbound.ts for the states.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';
import { redactSecretValues, secretValues, type Config } from '../config/index.js';
import { claimOutbound, markOutboundTransmitting, recordOutboundFailed, recordOutboundSent, recordOutboundUnknown, resolveExpiredOutbound, type OutboundTable } from '../store/outbound.js';
import { ChatSendError, repeatable, type Sent } from './chat-clients.js';

/** Longer than one request can take with the clients' timeouts, so a live sender keeps its claim. */
const OUTBOUND_LEASE_MS = 5 * 60_000;

export interface OnceDeps {
  db: Kysely<Database>;
  config: Config;
  now: () => number;
  log?: Logger;
  leaseMs?: number;
  /** Test seams: called after the claim (before any request), and after the platform took the message (before it is recorded). */
  onClaimed?: (table: OutboundTable, id: number) => Promise<void>;
  onTaken?: (table: OutboundTable, id: number) => Promise<void>;
}

export type OnceOutcome =
  | { status: 'sent'; id: number; externalId: string; link: string | null }
  | { status: 'already-sent'; id: number; externalId: string | null }
  | { status: 'busy'; id: number }
  | { status: 'not-ready'; id: number; current: string }
  | { status: 'failed'; id: number; error: string }
  | { status: 'unknown'; id: number; error: string };

interface Current {
  status: string;
  platform: string;
  externalId: string | null;
  lastError: string | null;
}

export async function sendOnce(deps: OnceDeps, table: OutboundTable, id: number, load: () => Promise<Current | null>, send: () => Promise<Sent>, what: string): Promise<OnceOutcome> {
  const { db } = deps;
  await resolveExpiredOutbound(db, table, deps.now(), repeatable, [id]);
  const cur = await load();
  if (!cur) throw new Error(`there is no ${what} ${id}`);
  if (cur.status === 'sent') return { status: 'already-sent', id, externalId: cur.externalId };
  if (cur.status === 'sending') return { status: 'busy', id };
  if (cur.status === 'unknown') return { status: 'unknown', id, error: cur.lastError ?? 'outcome unknown' };
  const token = randomUUID();
  if (!(await claimOutbound(db, table, id, { token, now: deps.now(), leaseMs: deps.leaseMs ?? OUTBOUND_LEASE_MS }))) {
    const again = await load();
    if (again?.status === 'sent') return { status: 'already-sent', id, externalId: again.externalId };
    if (again && again.status !== 'sending') return { status: 'not-ready', id, current: again.status };
    return { status: 'busy', id };
  }
  await deps.onClaimed?.(table, id);
  if (!(await markOutboundTransmitting(db, table, id, token, deps.now()))) return { status: 'busy', id };
  const secrets = secretValues(deps.config);
  let sent: Sent;
  try {
    sent = await send();
  } catch (err: unknown) {
    const error = redactSecretValues(err instanceof Error ? err.message : String(err), secrets);
    const maybe = err instanceof ChatSendError ? err.taken === 'maybe' : false;
    if (maybe && !repeatable(cur.platform)) {
      const msg = `${error}; it may have arrived. Look at the channel, then settle it as sent or unsent`;
      await recordOutboundUnknown(db, table, id, token, { now: deps.now(), error: msg });
      deps.log?.error({ table, id }, `${what}: ${msg}`);
      return { status: 'unknown', id, error: msg };
    }
    await recordOutboundFailed(db, table, id, token, { now: deps.now(), error });
    deps.log?.warn({ table, id }, `${what} not sent: ${error}`);
    return { status: 'failed', id, error };
  }
  await deps.onTaken?.(table, id);
  await recordOutboundSent(db, table, id, token, { now: deps.now(), externalId: sent.id, link: sent.link });
  deps.log?.info({ table, id, externalId: sent.id }, `${what} sent`);
  return { status: 'sent', id, externalId: sent.id, link: sent.link };
}
