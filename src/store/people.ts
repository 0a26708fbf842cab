// People and organisations: applies `people:` and `orgs:` from config (idempotent), links identities
// that share an email, and undoes a wrong link. Every link records its evidence on the identity
// (`identities.link_evidence`, the latest decision outermost, earlier ones under `previous`).
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { orgForPerson, planLinks, type OrgEntry, type PersonEntry } from '../pipeline/people.js';
import { unmergeIdentity } from './web.js';

export interface PeopleConfig {
  people: PersonEntry[];
  orgs: OrgEntry[];
}

export interface ApplyPeopleResult {
  orgs: number;
  linked: number;
  /** Config identities that match nothing stored yet (they link when the identity first appears and the stage runs again). */
  unmatched: string[];
}

function wrapEvidence(previous: string | null, entry: Record<string, unknown>): string {
  if (previous == null) return JSON.stringify(entry);
  let prev: unknown = previous;
  try {
    prev = JSON.parse(previous);
  } catch {
    // keep the raw text
  }
  return JSON.stringify({ ...entry, previous: prev });
}

function sameDecision(previous: string | null, entry: Record<string, unknown>): boolean {
  if (!previous) return false;
  try {
    const p = JSON.parse(previous) as Record<string, unknown>;
    return Object.entries(entry).every(([k, v]) => p[k] === v);
  } catch {
    return false;
  }
}

/**
 * Applies the config: orgs upserted by name; each `people:` entry's identities on one person (named,
 * staff flag, org); identities with the same email on one person; every person's org from their
 * emails' domains when config names none; staff from an org whose segment is `staff`. Running it
 * again changes nothing. Identities a human merged or unmerged stay where the human put them.
 */
export async function applyPeopleConfig(db: Kysely<Database>, cfg: PeopleConfig, now: number): Promise<ApplyPeopleResult> {
  return db.transaction().execute(async (trx) => {
    const orgIds = new Map<string, number>();
    for (const o of cfg.orgs) {
      const domains = JSON.stringify(o.domains.map((d) => d.toLowerCase()));
      const existing = await trx.selectFrom('orgs').selectAll().where('name', '=', o.name).executeTakeFirst();
      if (existing) {
        if (existing.segment !== o.segment || existing.domains !== domains) await trx.updateTable('orgs').set({ segment: o.segment, domains }).where('id', '=', existing.id).execute();
        orgIds.set(o.name, existing.id);
      } else {
        const row = await trx.insertInto('orgs').values({ name: o.name, segment: o.segment, domains }).returning(['id']).executeTakeFirstOrThrow();
        orgIds.set(o.name, row.id);
      }
    }
    for (const p of cfg.people) {
      if (p.org && !orgIds.has(p.org)) {
        const existing = await trx.selectFrom('orgs').select('id').where('name', '=', p.org).executeTakeFirst();
        if (existing) orgIds.set(p.org, existing.id);
        else throw new Error(`people: ${p.name} names org ${JSON.stringify(p.org)}, which is not in orgs:`);
      }
    }

    const rows = await trx.selectFrom('identities').select(['id', 'kind', 'value', 'email', 'person_id', 'link_evidence']).execute();
    const identities = rows.map((r) => ({ id: r.id, kind: r.kind, value: r.value, email: r.email, personId: r.person_id, evidence: r.link_evidence }));
    const byId = new Map(identities.map((i) => [i.id, i]));
    const { steps, unmatched } = planLinks(identities, cfg.people);
    let linked = 0;
    const configured = new Map<number, PersonEntry>();
    for (const step of steps) {
      const members = step.identityIds.map((id) => byId.get(id)!).filter(Boolean);
      if (!members.length) continue;
      // The person that already holds most of them keeps its id (stable links for the web UI).
      const counts = new Map<number, number>();
      for (const m of members) counts.set(m.personId, (counts.get(m.personId) ?? 0) + 1);
      const target = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
      for (const m of members) {
        const entry = step.evidence[m.id]!;
        if (m.personId === target && (sameDecision(m.evidence, entry) || (step.person === undefined && m.evidence))) continue;
        if (m.personId !== target) linked++;
        const evidence = wrapEvidence(m.evidence, { ...entry, at: now });
        await trx.updateTable('identities').set({ person_id: target, link_evidence: evidence }).where('id', '=', m.id).execute();
        m.personId = target;
        m.evidence = evidence;
      }
      if (step.person) configured.set(target, step.person);
    }
    // People left without identities were folded into another: remove them.
    const emptied = await trx
      .selectFrom('people as p')
      .select('p.id')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('identities as i').select('i.id').whereRef('i.person_id', '=', 'p.id'))))
      .execute();
    if (emptied.length) await trx.deleteFrom('people').where('id', 'in', emptied.map((e) => e.id)).execute();

    // Names, staff flags and orgs.
    const orgs = await trx.selectFrom('orgs').selectAll().execute();
    const orgEntries: OrgEntry[] = orgs.map((o) => ({ name: o.name, segment: o.segment, domains: JSON.parse(o.domains) as string[] }));
    const orgByName = new Map(orgs.map((o) => [o.name, o]));
    const people = await trx.selectFrom('people').selectAll().execute();
    const emails = new Map<number, string[]>();
    for (const i of identities) {
      const e = i.email ?? (i.kind === 'email' ? i.value : null);
      if (!e) continue;
      const list = emails.get(i.personId) ?? [];
      list.push(e);
      emails.set(i.personId, list);
    }
    for (const p of people) {
      const entry = configured.get(p.id);
      const orgName = orgForPerson(emails.get(p.id) ?? [], entry?.org, orgEntries);
      const org = orgName ? orgByName.get(orgName) : undefined;
      const orgId = org?.id ?? p.org_id;
      const staff = entry?.staff === true || org?.segment === 'staff' || (entry?.staff === undefined && p.is_staff === 1) ? 1 : 0;
      const name = entry?.name ?? p.display_name;
      if (orgId !== p.org_id || staff !== p.is_staff || name !== p.display_name) {
        await trx.updateTable('people').set({ org_id: orgId, is_staff: staff, display_name: name }).where('id', '=', p.id).execute();
      }
    }
    return { orgs: cfg.orgs.length, linked, unmatched };
  });
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
  identities: Array<{ id: number; kind: string; value: string; evidence: string | null }>;
}

/** Every person with their identities (aliases) and org. */
export async function listPeopleWithIdentities(db: Kysely<Database>): Promise<PersonIdentities[]> {
  const people = await db.selectFrom('people as p').leftJoin('orgs as o', 'o.id', 'p.org_id').select(['p.id', 'p.display_name', 'p.is_staff', 'o.name as org', 'o.segment']).orderBy('p.id').execute();
  const ids = await db.selectFrom('identities').select(['id', 'kind', 'value', 'person_id', 'link_evidence']).orderBy('id').execute();
  const byPerson = new Map<number, PersonIdentities['identities']>();
  for (const i of ids) {
    const list = byPerson.get(i.person_id) ?? [];
    list.push({ id: i.id, kind: i.kind, value: i.value, evidence: i.link_evidence });
    byPerson.set(i.person_id, list);
  }
  return people.map((p) => ({ personId: p.id, name: p.display_name, org: p.org, segment: p.segment, isStaff: p.is_staff === 1, identities: byPerson.get(p.id) ?? [] }));
}
