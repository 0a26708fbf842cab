// The claim rows of what Gleaner sends out besides the email digest: a digest's chat posts
// (digest_posts) and the loop's replies (loop_replies). The same state machine as an edition's email
// (src/store/digests.ts): a sender claims a row with a token and a lease (one conditional UPDATE, so of
// two senders only one proceeds), marks it transmitting just before the request goes out, and records
// the outcome under the same token. A sender that stopped leaves its claim: once the lease has run out
// a claim that never transmitted is failed (retried), one that was transmitting is unknown (a human
// decides) unless the platform makes a repeat harmless (a Matrix transaction id), then it is failed.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Kysely<Database>;
export type OutboundTable = 'digest_posts' | 'loop_replies';

/** Where the time of a successful send is kept, per table. */
const DONE_AT = { digest_posts: 'posted_at', loop_replies: 'sent_at' } as const;
/** The statuses a sender may claim from, per table. */
const CLAIMABLE = { digest_posts: ['pending', 'failed'], loop_replies: ['approved', 'failed'] } as const;

// Both tables share the claim columns; Kysely is told the first one's name for the types.
const t = (table: OutboundTable) => table as 'digest_posts';

export async function claimOutbound(db: Db, table: OutboundTable, id: number, c: { token: string; now: number; leaseMs: number }): Promise<boolean> {
  const r = await db
    .updateTable(t(table))
    .set((eb) => ({ status: 'sending', phase: 'claimed', claim_token: c.token, lease_until: c.now + c.leaseMs, attempts: eb('attempts', '+', 1), updated_at: c.now }))
    .where('id', '=', id)
    .where('status', 'in', [...CLAIMABLE[table]])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function markOutboundTransmitting(db: Db, table: OutboundTable, id: number, token: string, now: number): Promise<boolean> {
  const r = await db.updateTable(t(table)).set({ phase: 'transmitting', updated_at: now }).where('id', '=', id).where('claim_token', '=', token).where('status', '=', 'sending').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function recordOutboundSent(db: Db, table: OutboundTable, id: number, token: string, o: { now: number; externalId: string; link?: string | null }): Promise<boolean> {
  const set: Record<string, unknown> = { status: 'sent', external_id: o.externalId, last_error: null, phase: null, lease_until: null, updated_at: o.now, [DONE_AT[table]]: o.now };
  if (table === 'loop_replies') set.link = o.link ?? null;
  const r = await db.updateTable(t(table)).set(set).where('id', '=', id).where('claim_token', '=', token).where('status', '=', 'sending').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function recordOutboundFailed(db: Db, table: OutboundTable, id: number, token: string, o: { now: number; error: string }): Promise<boolean> {
  const r = await db
    .updateTable(t(table))
    .set({ status: 'failed', last_error: o.error, phase: null, lease_until: null, updated_at: o.now })
    .where('id', '=', id)
    .where('claim_token', '=', token)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function recordOutboundUnknown(db: Db, table: OutboundTable, id: number, token: string, o: { now: number; error: string }): Promise<boolean> {
  const r = await db
    .updateTable(t(table))
    .set({ status: 'unknown', last_error: o.error, phase: null, lease_until: null, updated_at: o.now })
    .where('id', '=', id)
    .where('claim_token', '=', token)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Settles the claims whose sender stopped (lease run out). `repeatable(platform)` says whether a
 * platform makes sending the same request again harmless; such a transmitting claim is failed (retried).
 */
export async function resolveExpiredOutbound(
  db: Db,
  table: OutboundTable,
  now: number,
  repeatable: (platform: string) => boolean,
  ids?: number[],
): Promise<Array<{ id: number; status: 'failed' | 'unknown' }>> {
  const expired = await db
    .selectFrom(t(table))
    .select(['id', 'phase', 'claim_token', 'lease_until', 'platform'])
    .where('status', '=', 'sending')
    .where('lease_until', '<', now)
    .$if(ids !== undefined, (q) => q.where('id', 'in', ids!.length ? ids! : [-1]))
    .execute();
  const out: Array<{ id: number; status: 'failed' | 'unknown' }> = [];
  for (const e of expired) {
    const since = new Date(Number(e.lease_until)).toISOString();
    const unknown = e.phase === 'transmitting' && !repeatable(e.platform);
    const token = e.claim_token ?? '';
    const ok = unknown
      ? await recordOutboundUnknown(db, table, e.id, token, {
          now,
          error: `the sender stopped while the request to ${e.platform} was under way (lease expired ${since}); it may have arrived. Look at the channel, then settle it: sent or unsent`,
        })
      : await recordOutboundFailed(db, table, e.id, token, {
          now,
          error: `the sender stopped ${e.phase === 'transmitting' ? 'during the request (repeating it is harmless on this platform)' : 'before the request'} (lease expired ${since})`,
        });
    if (ok) out.push({ id: e.id, status: unknown ? 'unknown' : 'failed' });
  }
  return out;
}

/** A human settles an unknown outcome: it arrived (sent) or not (failed, sent again on the next run). */
export async function settleOutbound(db: Db, table: OutboundTable, id: number, as: 'sent' | 'unsent', actor: string, now: number): Promise<boolean> {
  const note = `${actor} settled an unknown outcome as ${as} at ${new Date(now).toISOString()}`;
  const set: Record<string, unknown> = as === 'sent' ? { status: 'sent', last_error: note, updated_at: now, [DONE_AT[table]]: now } : { status: 'failed', last_error: note, updated_at: now };
  const r = await db.updateTable(t(table)).set(set).where('id', '=', id).where('status', '=', 'unknown').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

// Digest posts ------------------------------------------------------------------------------------

export interface DigestPostRow {
  id: number;
  digestId: number;
  source: string;
  channel: string;
  platform: string;
  status: string;
  attempts: number;
  lastError: string | null;
  externalId: string | null;
  postedAt: number | null;
}

/** The post row of an edition and destination, created pending on first use (the unique key decides). */
export async function ensureDigestPost(db: Db, p: { digestId: number; source: string; channel: string; platform: string; now: number }): Promise<DigestPostRow> {
  await db
    .insertInto('digest_posts')
    .values({
      digest_id: p.digestId,
      source: p.source,
      channel: p.channel,
      platform: p.platform,
      status: 'pending',
      phase: null,
      claim_token: null,
      lease_until: null,
      last_error: null,
      external_id: null,
      posted_at: null,
      created_at: p.now,
      updated_at: p.now,
    })
    .onConflict((oc) => oc.columns(['digest_id', 'source', 'channel']).doNothing())
    .execute();
  const r = await db.selectFrom('digest_posts').selectAll().where('digest_id', '=', p.digestId).where('source', '=', p.source).where('channel', '=', p.channel).executeTakeFirstOrThrow();
  return postRow(r);
}

export async function getDigestPost(db: Db, id: number): Promise<DigestPostRow | null> {
  const r = await db.selectFrom('digest_posts').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? postRow(r) : null;
}

export async function listDigestPosts(db: Db, digestId?: number): Promise<DigestPostRow[]> {
  const rows = await db
    .selectFrom('digest_posts')
    .selectAll()
    .$if(digestId !== undefined, (q) => q.where('digest_id', '=', digestId!))
    .orderBy('id')
    .execute();
  return rows.map(postRow);
}

function postRow(r: {
  id: number;
  digest_id: number;
  source: string;
  channel: string;
  platform: string;
  status: string;
  attempts: number | null;
  last_error: string | null;
  external_id: string | null;
  posted_at: number | null;
}): DigestPostRow {
  return {
    id: r.id,
    digestId: r.digest_id,
    source: r.source,
    channel: r.channel,
    platform: r.platform,
    status: r.status,
    attempts: Number(r.attempts ?? 0),
    lastError: r.last_error,
    externalId: r.external_id,
    postedAt: r.posted_at == null ? null : Number(r.posted_at),
  };
}
