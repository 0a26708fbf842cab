// Webhooks out. An event is written to the outbox (src/store/webhooks.ts) once per subscribed webhook;
// a sender posts due deliveries as JSON signed with HMAC-SHA256 of the raw body
// (`X-Gleaner-Signature: sha256=<hex>`, `X-Gleaner-Event`, `X-Gleaner-Delivery`), and tries a failed
// one again after backoffMs * 2^(tries-1) until maxAttempts; then it is marked failed (and listed).
import { createHmac, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';
import type { Config } from '../config/index.js';
import { redactSecretValues } from '../config/index.js';
import type { WebhookConfig, WebhookEvent } from '../config/outbound.js';
import { claimDueDeliveries, queueDeliveries, recordAttempt, type WebhookDelivery } from '../store/webhooks.js';
import { NotFoundError } from '../errors.js';

export interface WebhookContext {
  db: Kysely<Database>;
  config: Config;
  now: () => number;
  log: Logger;
}

/** How long a sender holds a delivery it is posting (past it, another sender may take it). */
const LEASE_MS = 120_000;

export function signature(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

/**
 * Writes `event` to the outbox of every webhook that subscribes to it, once per `key` (the same key
 * again is ignored: an event seen twice, by a retry or two workers, is sent once). Returns how many were new.
 */
export async function emitEvent(ctx: WebhookContext, event: Exclude<WebhookEvent, 'ping'>, key: string, data: Record<string, unknown>): Promise<number> {
  const hooks = ctx.config.webhooks.filter((w) => w.events.includes(event));
  if (!hooks.length) return 0;
  const at = ctx.now();
  const rows = hooks.map((w) => {
    const deliveryId = randomUUID();
    return { webhook: w.name, event, eventKey: `${event}:${key}`, deliveryId, body: JSON.stringify({ event, delivery: deliveryId, createdAt: new Date(at).toISOString(), data }) };
  });
  const n = (await queueDeliveries(ctx.db, rows, at)).length;
  if (n) ctx.log.debug({ event, key, deliveries: n }, 'webhook event queued');
  return n;
}

export interface AttemptResult {
  delivery: WebhookDelivery;
  ok: boolean;
  status: number | null;
  error: string | null;
  /** When it is tried again; null when delivered or given up. */
  retryAt: number | null;
}

async function post(hook: WebhookConfig, d: WebhookDelivery): Promise<{ status: number | null; error: string | null }> {
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Gleaner-Webhook',
        'x-gleaner-event': d.event,
        'x-gleaner-delivery': d.deliveryId,
        'x-gleaner-signature': signature(hook.secret, d.body),
      },
      body: d.body,
      signal: AbortSignal.timeout(hook.timeoutMs),
      redirect: 'manual',
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status < 300 ? { status: res.status, error: null } : { status: res.status, error: `the receiver answered HTTP ${res.status}` };
  } catch (err: unknown) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { status: null, error: `no answer from the receiver: ${e.cause?.code ?? e.cause?.message ?? e.message}` };
  }
}

/** Posts the due deliveries (or just `ids`, when due); each at most once per call (a short backoff waits for the next run). */
export async function deliverDue(ctx: WebhookContext, opts: { ids?: readonly number[]; limit?: number } = {}): Promise<AttemptResult[]> {
  const out: AttemptResult[] = [];
  const secrets = ctx.config.webhooks.map((w) => w.secret);
  const tried: number[] = [];
  for (;;) {
    const batch = await claimDueDeliveries(ctx.db, ctx.now(), LEASE_MS, opts.limit ?? 50, opts.ids, tried);
    if (!batch.length) break;
    for (const d of batch) {
      tried.push(d.id);
      const hook = ctx.config.webhooks.find((w) => w.name === d.webhook);
      let status: number | null = null;
      let error: string | null;
      if (!hook) error = `no webhook named ${d.webhook} in the config any more`;
      else ({ status, error } = await post(hook, d));
      const now = ctx.now();
      const tries = d.attempts + 1;
      const retryAt = error === null || !hook || tries >= hook.maxAttempts ? null : now + hook.backoffMs * 2 ** (tries - 1);
      const safeError = error === null ? null : redactSecretValues(error, secrets);
      await recordAttempt(ctx.db, d.id, safeError === null ? { ok: true, status: status ?? 200 } : { ok: false, status, error: safeError, retryAt }, now);
      if (safeError)
        ctx.log.warn({ webhook: d.webhook, event: d.event, delivery: d.deliveryId, tries, status }, `webhook delivery failed${retryAt ? ', tried again later' : ', given up'}: ${safeError}`);
      out.push({ delivery: { ...d, attempts: tries }, ok: safeError === null, status, error: safeError, retryAt });
    }
    if (opts.ids || batch.length < (opts.limit ?? 50)) break;
  }
  return out;
}

/** `gleaner webhooks test NAME`: a signed `ping`, sent now (and kept in the outbox like any delivery). */
export async function sendPing(ctx: WebhookContext, name: string): Promise<AttemptResult> {
  const hook = ctx.config.webhooks.find((w) => w.name === name);
  if (!hook) throw new NotFoundError({ message: `There is no webhook named ${name}; webhooks: ${ctx.config.webhooks.map((w) => w.name).join(', ') || '(none)'}.` });
  const deliveryId = randomUUID();
  const at = ctx.now();
  const body = JSON.stringify({ event: 'ping', delivery: deliveryId, createdAt: new Date(at).toISOString(), data: { webhook: name, events: hook.events } });
  const ids = await queueDeliveries(ctx.db, [{ webhook: name, event: 'ping', eventKey: `ping:${deliveryId}`, deliveryId, body }], at);
  const [r] = await deliverDue(ctx, { ids });
  if (!r) throw new Error(`the ping ${deliveryId} was taken by another sender`);
  return r;
}
