// People: the list, one person with identities and messages, merge and unmerge.
import { sql } from 'kysely';
import { InputError, NotFoundError } from '../../errors.js';
import type { MessageView } from './clusters.js';
import { segmentOf } from './items.js';
import type { Db } from './tables.js';

// People ------------------------------------------------------------------------------------------

export interface PersonRow {
  id: number;
  name: string;
  org: string | null;
  segment: string;
  identities: number;
  messages: number;
}

export async function listPeople(db: Db, q: string | undefined, limit = 100, offset = 0): Promise<{ rows: PersonRow[]; total: number }> {
  let base = db.selectFrom('people as p');
  if (q?.trim()) {
    const like = `%${q
      .trim()
      .toLowerCase()
      .replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    base = base.where((eb) =>
      eb.or([
        eb(sql<string>`lower(p.display_name)`, 'like', sql<string>`${like} escape '\\'`),
        eb.exists(
          eb
            .selectFrom('identities as i')
            .select('i.id')
            .whereRef('i.person_id', '=', 'p.id')
            .where(sql<boolean>`lower(i.value) like ${like} escape '\\'`),
        ),
      ]),
    );
  }
  const total = Number((await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rows = await base
    .leftJoin('orgs as o', 'o.id', 'p.org_id')
    .select((eb) => [
      'p.id',
      'p.display_name',
      'p.is_staff',
      'o.name as org',
      'o.segment',
      eb
        .selectFrom('identities as i')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('i.person_id', '=', 'p.id')
        .as('identities'),
      eb
        .selectFrom('messages as m')
        .innerJoin('identities as i2', 'i2.id', 'm.identity_id')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('i2.person_id', '=', 'p.id')
        .where('m.copy_of', 'is', null)
        .as('messages'),
    ])
    .orderBy('p.display_name')
    .orderBy('p.id')
    .limit(limit)
    .offset(offset)
    .execute();
  return {
    total,
    rows: rows.map((r) => ({
      id: r.id,
      name: r.display_name,
      org: r.org ?? null,
      segment: segmentOf({ isStaff: r.is_staff === 1, segment: r.segment ?? null }),
      identities: Number(r.identities ?? 0),
      messages: Number(r.messages ?? 0),
    })),
  };
}

export interface PersonDetail {
  id: number;
  name: string;
  isStaff: boolean;
  org: { id: number; name: string; segment: string } | null;
  /** `createdAt`: when the identity was stored (the import); `firstMessageAt`: its earliest message, null when none is kept. */
  identities: Array<{
    id: number;
    kind: string;
    value: string;
    displayName: string | null;
    email: string | null;
    isBot: boolean;
    evidence: string | null;
    createdAt: number;
    firstMessageAt: number | null;
  }>;
  messages: Array<MessageView & { channel: string; conversationId: number | null }>;
}

export async function personDetail(db: Db, personId: number, messageLimit = 50): Promise<PersonDetail | null> {
  const p = await db
    .selectFrom('people as p')
    .leftJoin('orgs as o', 'o.id', 'p.org_id')
    .select(['p.id', 'p.display_name', 'p.is_staff', 'o.id as org_id', 'o.name as org', 'o.segment'])
    .where('p.id', '=', personId)
    .executeTakeFirst();
  if (!p) return null;
  const ids = await db.selectFrom('identities').selectAll().where('person_id', '=', personId).orderBy('id').execute();
  const firsts = ids.length
    ? await db
        .selectFrom('messages')
        .select((eb) => ['identity_id', eb.fn.min<number>('sent_at').as('first')])
        .where(
          'identity_id',
          'in',
          ids.map((i) => i.id),
        )
        .groupBy('identity_id')
        .execute()
    : [];
  const firstOf = new Map(firsts.map((r) => [Number(r.identity_id), Number(r.first)]));
  const msgs = await db
    .selectFrom('messages as m')
    .innerJoin('identities as i', 'i.id', 'm.identity_id')
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .select(['m.id', 'm.clean_text', 'm.text', 'm.sent_at', 'm.permalink', 'm.is_bot', 'm.conversation_id', 'ch.name as channel', 'ch.external_id'])
    .where('i.person_id', '=', personId)
    .where('m.copy_of', 'is', null)
    .where('m.deleted', '=', 0)
    .orderBy('m.sent_at', 'desc')
    .limit(messageLimit)
    .execute();
  return {
    id: p.id,
    name: p.display_name,
    isStaff: p.is_staff === 1,
    org: p.org_id != null ? { id: p.org_id, name: p.org!, segment: p.segment! } : null,
    identities: ids.map((i) => ({
      id: i.id,
      kind: i.kind,
      value: i.value,
      displayName: i.display_name,
      email: i.email,
      isBot: i.is_bot === 1,
      evidence: i.link_evidence,
      createdAt: Number(i.created_at),
      firstMessageAt: firstOf.get(i.id) ?? null,
    })),
    messages: msgs.map((m) => ({
      id: m.id,
      author: p.display_name,
      personId,
      text: m.clean_text || m.text,
      at: Number(m.sent_at),
      url: m.permalink,
      isBot: m.is_bot === 1,
      channel: m.channel ?? m.external_id,
      conversationId: m.conversation_id,
    })),
  };
}

function wrapEvidence(previous: string | null, entry: Record<string, unknown>): string {
  let prev: unknown = previous;
  if (previous != null) {
    try {
      prev = JSON.parse(previous);
    } catch {
      prev = previous;
    }
  }
  return JSON.stringify(previous == null ? entry : { ...entry, previous: prev });
}

/**
 * Moves every identity of `fromId` to `intoId` and removes the emptied person. Each identity keeps its
 * own link evidence (wrapped in a record of the manual merge); the org carries over when `into` has none.
 */
export async function mergePeople(db: Db, intoId: number, fromId: number, actor: string, now: number): Promise<void> {
  if (intoId === fromId) throw new InputError('cannot merge a person into themselves');
  await db.transaction().execute(async (trx) => {
    const into = await trx.selectFrom('people').selectAll().where('id', '=', intoId).executeTakeFirst();
    const from = await trx.selectFrom('people').selectAll().where('id', '=', fromId).executeTakeFirst();
    if (!into) throw new NotFoundError(`person ${intoId}`);
    if (!from) throw new NotFoundError(`person ${fromId}`);
    const ids = await trx.selectFrom('identities').select(['id', 'link_evidence']).where('person_id', '=', fromId).execute();
    for (const i of ids) {
      await trx
        .updateTable('identities')
        .set({ person_id: intoId, link_evidence: wrapEvidence(i.link_evidence, { rule: 'manual-merge', actor, at: now, fromPerson: fromId, fromName: from.display_name }) })
        .where('id', '=', i.id)
        .execute();
    }
    if (into.org_id == null && from.org_id != null) await trx.updateTable('people').set({ org_id: from.org_id }).where('id', '=', intoId).execute();
    if (from.is_staff === 1 && into.is_staff !== 1) await trx.updateTable('people').set({ is_staff: 1 }).where('id', '=', intoId).execute();
    await trx.deleteFrom('people').where('id', '=', fromId).execute();
  });
}

/** Moves one identity out to a new person (named after it); returns the new person's id. */
export async function unmergeIdentity(db: Db, identityId: number, actor: string, now: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const i = await trx.selectFrom('identities').selectAll().where('id', '=', identityId).executeTakeFirst();
    if (!i) throw new NotFoundError(`identity ${identityId}`);
    const siblings = await trx
      .selectFrom('identities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('person_id', '=', i.person_id)
      .executeTakeFirstOrThrow();
    if (Number(siblings.n) < 2) throw new InputError(`identity ${identityId} is the only identity of person ${i.person_id}; there is nothing to unmerge`);
    const p = await trx
      .insertInto('people')
      .values({ display_name: i.display_name || i.value, org_id: null, is_staff: 0, created_at: now })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('identities')
      .set({ person_id: p.id, link_evidence: wrapEvidence(i.link_evidence, { rule: 'manual-unmerge', actor, at: now, fromPerson: i.person_id }) })
      .where('id', '=', identityId)
      .execute();
    return p.id;
  });
}
