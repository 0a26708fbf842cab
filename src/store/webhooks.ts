// The webhook outbox: one row per (webhook, event) until it is delivered or given up. An event is
// queued once (the unique (webhook, event_key)); a sender claims a due row with a lease, so two
// senders never post one delivery at once and a sender that died leaves it to the next.
import type { Kysely, Selectable } from 'kysely';
import type { Database, WebhookDeliveriesTable } from './schema.js';

export interface WebhookDelivery {
  id: number;
  webhook: string;
  event: string;
  eventKey: string;
  deliveryId: string;
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: number;
  responseStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

function toDelivery(r: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: r.id,
    webhook: r.webhook,
    event: r.event,
    eventKey: r.event_key,
    deliveryId: r.delivery_id,
    body: r.body,
    status: r.status as WebhookDelivery['status'],
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    responseStatus: r.response_status == null ? null : Number(r.response_status),
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    deliveredAt: r.delivered_at == null ? null : Number(r.delivered_at),
  };
}

export interface NewDelivery {
  webhook: string;
  event: string;
  eventKey: string;
  deliveryId: string;
  body: string;
}

/** Queues deliveries; one already queued for the same webhook and event key is kept as it is. Returns the ids of the new ones. */
export async function queueDeliveries(db: Kysely<Database>, rows: readonly NewDelivery[], now: number): Promise<number[]> {
  const ids: number[] = [];
  for (const r of rows) {
    const res = await db
      .insertInto('webhook_deliveries')
      .values({ webhook: r.webhook, event: r.event, event_key: r.eventKey, delivery_id: r.deliveryId, body: r.body, status: 'pending', attempts: 0, next_attempt_at: now, created_at: now })
      .onConflict((oc) => oc.columns(['webhook', 'event_key']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (res) ids.push(res.id);
  }
  return ids;
}

/** Claims up to `limit` due deliveries (pending, next attempt reached, no live lease) for `leaseMs`. */
export async function claimDueDeliveries(db: Kysely<Database>, now: number, leaseMs: number, limit = 50, ids?: readonly number[], exclude: readonly number[] = []): Promise<WebhookDelivery[]> {
  let q = db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]));
  if (ids) q = q.where('id', 'in', ids.length ? [...ids] : [-1]);
  if (exclude.length) q = q.where('id', 'not in', [...exclude]);
  const due = await q.orderBy('id').limit(limit).execute();
  const out: WebhookDelivery[] = [];
  for (const { id } of due) {
    const r = await db
      .updateTable('webhook_deliveries')
      .set({ lease_until: now + leaseMs })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) continue;
    const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    out.push(toDelivery(row));
  }
  return out;
}

/** The outcome of one attempt: delivered, or tried again at `retryAt`, or (null) given up. */
export async function recordAttempt(
  db: Kysely<Database>,
  id: number,
  outcome: { ok: true; status: number } | { ok: false; status: number | null; error: string; retryAt: number | null },
  now: number,
): Promise<void> {
  const row = await db.selectFrom('webhook_deliveries').select('attempts').where('id', '=', id).executeTakeFirstOrThrow();
  const attempts = Number(row.attempts) + 1;
  if (outcome.ok) {
    await db
      .updateTable('webhook_deliveries')
      .set({ status: 'delivered', attempts, response_status: outcome.status, last_error: null, delivered_at: now, lease_until: null })
      .where('id', '=', id)
      .execute();
    return;
  }
  await db
    .updateTable('webhook_deliveries')
    .set({
      status: outcome.retryAt === null ? 'failed' : 'pending',
      attempts,
      response_status: outcome.status,
      last_error: outcome.error.slice(0, 2000),
      next_attempt_at: outcome.retryAt ?? now,
      lease_until: null,
    })
    .where('id', '=', id)
    .execute();
}

/** Deliveries, newest first. */
export async function listDeliveries(db: Kysely<Database>, opts: { webhook?: string; status?: string; limit?: number } = {}): Promise<WebhookDelivery[]> {
  let q = db.selectFrom('webhook_deliveries').selectAll();
  if (opts.webhook) q = q.where('webhook', '=', opts.webhook);
  if (opts.status) q = q.where('status', '=', opts.status);
  return (
    await q
      .orderBy('id', 'desc')
      .limit(opts.limit ?? 100)
      .execute()
  ).map(toDelivery);
}
