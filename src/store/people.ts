// People and organisations in the store: the reads and writes of applying `people:` and `orgs:` from
// config (src/stages/people.ts plans them), and undoing a wrong link. Every link records its evidence on the identity
// (`identities.link_evidence`, the latest decision outermost, earlier ones under `previous`).
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { chunks, dbKind } from './db.js';
import { runStatement } from './bulk.js';
import {
  parseOrgEvidence,
  parseOrgHints,
  type IdentityFact,
  type OrgEntry,
  type OrgEvidence,
  type OrgHints,
  type PersonEntry,
  type PersonOrgState,
  type RoleMessage,
  type RoleSignal,
  type StoredOrg,
} from '../model/people.js';
import { unmergeIdentity } from './web/people.js';

export interface PeopleConfig {
  people: PersonEntry[];
  orgs: OrgEntry[];
}

/** Runs `work` in one transaction. */
export function peopleTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(work);
}

/**
 * Orgs of the config upserted by name (domains lower-cased; Slack teams and Discord roles are read
 * from config on every resolution, not stored). Throws when a `people:` entry names an org that is
 * neither in the config nor stored.
 */
export async function saveConfigOrgs(trx: Kysely<Database>, cfg: PeopleConfig): Promise<void> {
  const known = new Set<string>();
  for (const o of cfg.orgs) {
    const domains = JSON.stringify(o.domains.map((d) => d.toLowerCase()));
    const existing = await trx.selectFrom('orgs').selectAll().where('name', '=', o.name).executeTakeFirst();
    if (existing) {
      if (existing.segment !== o.segment || existing.domains !== domains) await trx.updateTable('orgs').set({ segment: o.segment, domains }).where('id', '=', existing.id).execute();
    } else await trx.insertInto('orgs').values({ name: o.name, segment: o.segment, domains }).execute();
    known.add(o.name);
  }
  for (const p of cfg.people) {
    if (p.org && !known.has(p.org)) {
      const existing = await trx.selectFrom('orgs').select('id').where('name', '=', p.org).executeTakeFirst();
      if (existing) known.add(p.org);
      else throw new Error(`people: ${p.name} names org ${JSON.stringify(p.org)}, which is not in orgs:`);
    }
  }
}

/** Every identity with its person and link evidence. */
export async function readIdentityFacts(trx: Kysely<Database>): Promise<IdentityFact[]> {
  const rows = await trx.selectFrom('identities').select(['id', 'kind', 'value', 'email', 'person_id', 'link_evidence']).execute();
  return rows.map((r) => ({ id: r.id, kind: r.kind, value: r.value, email: r.email, personId: r.person_id, evidence: r.link_evidence }));
}

/**
 * The identities an email link can move when no `people:` entry is configured: those whose email (lower-
 * cased as planLinks does) identities of another person share. planLinkWrites given these plans the same
 * writes as given every identity (an email within one person links nothing). Workers apply the config
 * again at nearly every job while an import adds authors: reading every identity each time cost more
 * than the job's own reads.
 */
export async function readIdentityFactsSharingEmail(trx: Kysely<Database>): Promise<IdentityFact[]> {
  const rows = await trx.selectFrom('identities').select(['id', 'email', 'person_id']).where('email', 'is not', null).execute();
  const peopleOf = new Map<string, Set<number>>();
  for (const r of rows) {
    const e = r.email?.toLowerCase();
    if (!e) continue;
    const set = peopleOf.get(e) ?? new Set<number>();
    set.add(r.person_id);
    peopleOf.set(e, set);
  }
  const ids = rows.filter((r) => (peopleOf.get(r.email?.toLowerCase() ?? '')?.size ?? 0) > 1).map((r) => r.id);
  const out: IdentityFact[] = [];
  for (const part of chunks(ids)) {
    const facts = await trx.selectFrom('identities').select(['id', 'kind', 'value', 'email', 'person_id', 'link_evidence']).where('id', 'in', part).orderBy('id').execute();
    for (const r of facts) out.push({ id: r.id, kind: r.kind, value: r.value, email: r.email, personId: r.person_id, evidence: r.link_evidence });
  }
  return out;
}

/** Identities moved to their person with the evidence; people these moves left without identities removed; configured names given. */
export async function saveLinks(trx: Kysely<Database>, writes: ReadonlyArray<{ id: number; personId: number; evidence: string }>, names: ReadonlyMap<number, string>): Promise<void> {
  for (const w of writes) await trx.updateTable('identities').set({ person_id: w.personId, link_evidence: w.evidence }).where('id', '=', w.id).execute();
  // People left without identities were folded into another: remove them (none without a move).
  if (writes.length) {
    const emptied = await trx
      .selectFrom('people as p')
      .select('p.id')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('identities as i').select('i.id').whereRef('i.person_id', '=', 'p.id'))))
      .execute();
    if (emptied.length)
      await trx
        .deleteFrom('people')
        .where(
          'id',
          'in',
          emptied.map((e) => e.id),
        )
        .execute();
  }
  // Only the configured people's names are read (every person's were, at every application).
  for (const part of chunks([...names.keys()].sort((a, b) => a - b))) {
    const people = await trx.selectFrom('people').select(['id', 'display_name']).where('id', 'in', part).execute();
    for (const p of people) {
      const name = names.get(p.id);
      if (name !== undefined && name !== p.display_name) await trx.updateTable('people').set({ display_name: name }).where('id', '=', p.id).execute();
    }
  }
}

/** The stored orgs, domains as last applied. */
export async function readOrgs(db: Kysely<Database>): Promise<StoredOrg[]> {
  const rows = await db.selectFrom('orgs').selectAll().execute();
  return rows.map((o) => ({ id: o.id, name: o.name, segment: o.segment, domains: JSON.parse(o.domains) as string[] }));
}

/** A page of people by id after `after` (only those not resolved since they appeared or changed, with `unresolved`), with their identities. */
export async function readPeopleForOrgs(
  db: Kysely<Database>,
  after: number,
  limit: number,
  unresolved: boolean,
): Promise<{ people: PersonOrgState[]; identities: Array<{ personId: number; kind: string; value: string; email: string | null; evidence: string | null; hints: string | null }> }> {
  let q = db.selectFrom('people').select(['id', 'org_id', 'is_staff', 'org_evidence', 'org_resolved_at']).where('id', '>', after).orderBy('id').limit(limit);
  if (unresolved) q = q.where('org_resolved_at', 'is', null);
  const rows = await q.execute();
  if (!rows.length) return { people: [], identities: [] };
  const ids = await db
    .selectFrom('identities')
    .select(['person_id', 'kind', 'value', 'email', 'link_evidence', 'org_hints'])
    .where(
      'person_id',
      'in',
      rows.map((p) => p.id),
    )
    .orderBy('id')
    .execute();
  return {
    people: rows.map((p) => ({ id: p.id, orgId: p.org_id, isStaff: p.is_staff === 1, evidence: p.org_evidence, resolved: p.org_resolved_at !== null })),
    identities: ids.map((i) => ({ personId: i.person_id, kind: i.kind, value: i.value, email: i.email, evidence: i.link_evidence, hints: i.org_hints })),
  };
}

/** Records people's org, staff flag and the evidence, resolved at `now`. */
export async function savePersonOrgs(db: Kysely<Database>, updates: ReadonlyArray<{ id: number; orgId: number | null; isStaff: boolean; evidence: string }>, now: number): Promise<void> {
  if (dbKind(db) === 'postgres') {
    // One statement a page (a round trip each on PostgreSQL; a worker resolves the people every
    // concurrent ingest adds), the rows in id order: two workers resolving the same people lock them
    // in the same order.
    const sorted = [...updates].sort((a, b) => a.id - b.id);
    for (const part of chunks(sorted, 2000)) {
      await runStatement(
        db,
        'update "people" set "org_id" = "v"."org_id", "is_staff" = "v"."is_staff", "org_evidence" = "v"."evidence", "org_resolved_at" = ? from unnest(?::integer[], ?::integer[], ?::integer[], ?::text[]) as "v"("id", "org_id", "is_staff", "evidence") where "people"."id" = "v"."id"',
        [now, part.map((u) => u.id), part.map((u) => u.orgId), part.map((u) => (u.isStaff ? 1 : 0)), part.map((u) => u.evidence)],
      );
    }
    return;
  }
  for (const u of updates)
    await db
      .updateTable('people')
      .set({ org_id: u.orgId, is_staff: u.isStaff ? 1 : 0, org_evidence: u.evidence, org_resolved_at: now })
      .where('id', '=', u.id)
      .execute();
}

// The condition of the partial index messages_vote_subject (migration 0015), word for word but the alias.
const VOTE_SUBJECT = sql<boolean>`(lower(m.subject) like '%[vote]%' or lower(m.subject) like '%[result]%')`;

/**
 * What the maintainer rules (src/pipeline/people.ts) read of these people's messages: their vote-thread
 * mails, and one row per address and list (enough for the list-host rule).
 */
/** Mails per person read for their role (see maintainerEvidence): enough to see a maintainer's habits. */
const ROLE_MAIL_TEXTS = 200;

/** The statement of readVoters (its plan is tested to read the vote-subject index). */
export function votersQuery(db: Kysely<Database>) {
  return db.selectFrom('messages as m').innerJoin('identities as idn', 'idn.id', 'm.identity_id').select('idn.person_id').distinct().where(VOTE_SUBJECT);
}

/**
 * The people who wrote a vote-thread mail, off the vote-subject index: a resolution reads the votes of
 * these only, rather than passing over every message again for each page of people.
 */
export async function readVoters(db: Kysely<Database>): Promise<Set<number>> {
  const rows = await votersQuery(db).execute();
  return new Set(rows.map((r) => r.person_id));
}

/** Per person with an address, the lists they mailed (one row per address and list). Mails have a subject: the messages_subject_author index holds them by author (chat lines have none). */
export function mailListsQuery(db: Kysely<Database>, personIds: readonly number[]) {
  return db
    .selectFrom('messages as m')
    .innerJoin('identities as idn', 'idn.id', 'm.identity_id')
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .select(['idn.person_id', 'idn.value', 'idn.email', 'ch.external_id'])
    .distinct()
    .where('idn.person_id', 'in', [...personIds])
    .where('idn.kind', '=', 'email')
    .where('m.subject', 'is not', null);
}

/** The list threads these people started, oldest first: only the threads they started (proposals and status reports open threads, and a person's replies are many more rows). */
export function startedThreadsQuery(db: Kysely<Database>, personIds: readonly number[]) {
  return db
    .selectFrom('messages as m')
    .innerJoin('identities as idn', 'idn.id', 'm.identity_id')
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .innerJoin('conversations as c', (j) => j.onRef('c.id', '=', 'm.conversation_id').onRef('c.root_message_id', '=', 'm.id'))
    .select(['idn.person_id', 'm.subject', sql<string>`substr(m.clean_text, 1, 3000)`.as('text'), 'ch.external_id'])
    .where('idn.person_id', 'in', [...personIds])
    .where('idn.kind', '=', 'email')
    .where('m.subject', 'is not', null)
    .where('m.copy_of', 'is', null)
    .orderBy('m.sent_at');
}

/**
 * `voters` (readVoters, read before): only their vote mails are looked for. The list and mail reads are
 * only for the people with an email identity (what they select): each of these reads passes over the
 * messages, so a page of chat-only people costs none.
 */
export async function readRoleMessages(db: Kysely<Database>, personIds: readonly number[], voters?: ReadonlySet<number>): Promise<Map<number, RoleMessage[]>> {
  const out = new Map<number, RoleMessage[]>();
  if (!personIds.length) return out;
  const add = (personId: number, m: RoleMessage) => out.set(personId, [...(out.get(personId) ?? []), m]);
  const votePeople = voters ? personIds.filter((id) => voters.has(id)) : [...personIds];
  const votes = !votePeople.length
    ? []
    : await db
        .selectFrom('messages as m')
        .innerJoin('identities as idn', 'idn.id', 'm.identity_id')
        .select(['idn.person_id', 'm.subject', 'm.clean_text'])
        .where('idn.person_id', 'in', votePeople)
        .where(VOTE_SUBJECT)
        .orderBy('m.sent_at')
        .execute();
  for (const v of votes) add(v.person_id, { subject: v.subject, text: v.clean_text, email: null, listId: null });
  const emailPeople: number[] = [];
  for (const part of chunks([...personIds])) {
    const rows = await db.selectFrom('identities').select('person_id').distinct().where('person_id', 'in', part).where('kind', '=', 'email').execute();
    for (const r of rows) emailPeople.push(r.person_id);
  }
  if (!emailPeople.length) return out;
  const mailers = new Set(emailPeople);
  // In the caller's order (the reads below are per chunk of it).
  const withEmail = personIds.filter((id) => mailers.has(id));
  const lists = await mailListsQuery(db, withEmail).execute();
  for (const l of lists) add(l.person_id, { subject: null, text: '', email: l.email ?? l.value, listId: l.external_id });
  // The threads they started on lists (the first ROLE_MAIL_TEXTS each, their start): whether they speak for the project.
  const seen = new Map<number, number>();
  for (const part of chunks(withEmail)) {
    const mails = await startedThreadsQuery(db, part).execute();
    for (const r of mails) {
      const n = seen.get(r.person_id) ?? 0;
      if (n >= ROLE_MAIL_TEXTS) continue;
      seen.set(r.person_id, n + 1);
      add(r.person_id, { subject: r.subject, text: r.text, email: null, listId: r.external_id });
    }
  }
  return out;
}

/**
 * What the authors of these conversations' messages show of a role, for the people not staff yet (see
 * roleSignalPeople): per author and list, whether they wrote in a vote thread, their address, and the
 * start of each list thread there they started. One read of the job's conversations, chunked; only the
 * messages of authors with an address, and vote-thread mails (most chat lines show no sign).
 */
export async function readRoleSignals(db: Kysely<Database>, conversationIds: readonly number[]): Promise<RoleSignal[]> {
  const out: RoleSignal[] = [];
  for (const part of chunks([...conversationIds])) {
    const rows = await db
      .selectFrom('messages as m')
      .innerJoin('identities as idn', 'idn.id', 'm.identity_id')
      .innerJoin('people as p', 'p.id', 'idn.person_id')
      .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
      .leftJoin('channels as ch', 'ch.id', 'm.channel_id')
      .select([
        'idn.person_id',
        'idn.kind',
        'idn.value',
        'idn.email',
        'ch.external_id',
        sql<number>`case when ${VOTE_SUBJECT} then 1 else 0 end`.as('vote'),
        sql<string | null>`case when c.root_message_id = m.id and idn.kind = 'email' then substr(m.clean_text, 1, 3000) end`.as('start'),
      ])
      .distinct()
      .where('m.conversation_id', 'in', part)
      .where('p.is_staff', '=', 0)
      .where('p.org_resolved_at', 'is not', null)
      // Every sign needs an address or a vote thread: an author of chat lines without an email shows none.
      .where((eb) => eb.or([eb('idn.email', 'is not', null), eb('idn.kind', '=', 'email'), VOTE_SUBJECT]))
      .execute();
    for (const r of rows)
      out.push({
        personId: r.person_id,
        email: r.kind === 'email' ? (r.email ?? r.value) : r.email,
        listId: r.external_id,
        vote: Number(r.vote) === 1,
        threadStart: r.start,
      });
  }
  return out;
}

/**
 * These people, if not staff and resolved, marked unresolved: the next resolution reads their role
 * again. By primary key, in chunks (no UPDATE over a subquery: PostgreSQL planned that one before the
 * first ANALYZE of a fresh store as a nested scan of messages per person). Returns how many.
 */
export async function markPeopleUnresolved(db: Kysely<Database>, personIds: readonly number[]): Promise<number> {
  let n = 0;
  for (const part of chunks([...new Set(personIds)].sort((a, b) => a - b))) {
    const r = await db.updateTable('people').set({ org_resolved_at: null }).where('is_staff', '=', 0).where('org_resolved_at', 'is not', null).where('id', 'in', part).executeTakeFirst();
    n += Number(r.numUpdatedRows ?? 0);
  }
  return n;
}

/** The conversations these people wrote in, other than `except`, are marked for detection again. */
export async function markConversationsOfPeople(db: Kysely<Database>, personIds: readonly number[], except: readonly number[]): Promise<number> {
  if (!personIds.length) return 0;
  // Looked up first, then updated by primary key (see markPeopleUnresolved: no plan over a subquery).
  const skip = new Set(except);
  const convs = await db
    .selectFrom('messages as m')
    .innerJoin('identities as idn', 'idn.id', 'm.identity_id')
    .select('m.conversation_id')
    .distinct()
    .where('idn.person_id', 'in', [...personIds])
    .where('m.conversation_id', 'is not', null)
    .execute();
  const ids = convs
    .map((c) => c.conversation_id!)
    .filter((id) => !skip.has(id))
    .sort((a, b) => a - b);
  let n = 0;
  for (const part of chunks(ids)) {
    const r = await db
      .updateTable('conversations')
      .set((eb) => ({ enrich_pending: eb('enrich_pending', '+', 1) }))
      .where('id', 'in', part)
      .executeTakeFirst();
    n += Number(r.numUpdatedRows ?? 0);
  }
  return n;
}

/** The highest identity id (0 with none): identities only ever get new, higher ids. */
export async function newestIdentityId(db: Kysely<Database>): Promise<number> {
  const r = await db
    .selectFrom('identities')
    .select((eb) => eb.fn.max<number>('id').as('m'))
    .executeTakeFirst();
  return Number(r?.m ?? 0);
}

/**
 * Undoes a wrong link: the identity moves to a person of its own, keeps every alias and its evidence
 * (the unmerge is recorded on top), and no automatic rule links it back. Returns the new person's id.
 * The same function the web UI uses (src/store/web.ts).
 */
export async function unlinkIdentity(db: Kysely<Database>, identityId: number, actor: string, now: number): Promise<number> {
  return unmergeIdentity(db, identityId, actor, now);
}

export interface PersonIdentities {
  personId: number;
  name: string;
  org: string | null;
  segment: string | null;
  isStaff: boolean;
  /** Which rule placed the person in their org and made them staff (null until the cluster stage resolved them). */
  orgEvidence: OrgEvidence | null;
  identities: Array<{ id: number; kind: string; value: string; evidence: string | null; orgHints: OrgHints | null }>;
}

/** Every person with their identities (aliases) and org. */
export async function listPeopleWithIdentities(db: Kysely<Database>): Promise<PersonIdentities[]> {
  const people = await db
    .selectFrom('people as p')
    .leftJoin('orgs as o', 'o.id', 'p.org_id')
    .select(['p.id', 'p.display_name', 'p.is_staff', 'p.org_evidence', 'o.name as org', 'o.segment'])
    .orderBy('p.id')
    .execute();
  const ids = await db.selectFrom('identities').select(['id', 'kind', 'value', 'person_id', 'link_evidence', 'org_hints']).orderBy('id').execute();
  const byPerson = new Map<number, PersonIdentities['identities']>();
  for (const i of ids) {
    const list = byPerson.get(i.person_id) ?? [];
    list.push({ id: i.id, kind: i.kind, value: i.value, evidence: i.link_evidence, orgHints: parseOrgHints(i.org_hints) });
    byPerson.set(i.person_id, list);
  }
  return people.map((p) => ({
    personId: p.id,
    name: p.display_name,
    org: p.org,
    segment: p.segment,
    isStaff: p.is_staff === 1,
    orgEvidence: parseOrgEvidence(p.org_evidence),
    identities: byPerson.get(p.id) ?? [],
  }));
}
