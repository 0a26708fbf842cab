// People and organisations: applies `people:` and `orgs:` from config (idempotent), links identities
// that share an email, and undoes a wrong link. Every link records its evidence on the identity
// (`identities.link_evidence`, the latest decision outermost, earlier ones under `previous`).
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { latestRule, parseOrgHints, planLinks, resolveOrg, type OrgEntry, type OrgEvidence, type OrgFacts, type OrgHints, type PersonEntry } from '../pipeline/people.js';
import { unmergeIdentity } from './web/people.js';

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
      // Slack teams and Discord roles are read from config on every resolution, not stored.
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

    // Names, then orgs and staff flags of everyone.
    const people = await trx.selectFrom('people').select(['id', 'display_name']).execute();
    for (const p of people) {
      const name = configured.get(p.id)?.name;
      if (name !== undefined && name !== p.display_name) await trx.updateTable('people').set({ display_name: name }).where('id', '=', p.id).execute();
    }
    await resolveOrgs(trx, cfg, 'all', now);
    return { orgs: cfg.orgs.length, linked, unmatched };
  });
}

/** The highest identity id (0 with none): identities only ever get new, higher ids. */
export async function newestIdentityId(db: Kysely<Database>): Promise<number> {
  const r = await db.selectFrom('identities').select((eb) => eb.fn.max<number>('id').as('m')).executeTakeFirst();
  return Number(r?.m ?? 0);
}

function parseOrgEvidence(text: string | null): OrgEvidence | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as OrgEvidence;
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

/**
 * Resolves the org and staff flag of people (everyone, or those not resolved since they appeared or their
 * platform hints changed) with `resolveOrg`, and records the rule on `people.org_evidence`. An org or
 * staff flag that no rule gave (a human merge carried it over) is kept; one a rule gave and no rule
 * supports any more (a Discord role taken away, a `people:` entry removed) is dropped. Returns how many
 * people were resolved.
 */
export async function resolveOrgs(db: Kysely<Database>, cfg: PeopleConfig, which: 'all' | 'unresolved', now: number, batchSize = 500): Promise<number> {
  const orgRows = await db.selectFrom('orgs').selectAll().execute();
  const orgByName = new Map(orgRows.map((o) => [o.name, o]));
  const orgById = new Map(orgRows.map((o) => [o.id, o]));
  const configured = new Map(cfg.orgs.map((o) => [o.name, o]));
  // Stored orgs (domains as last applied) with this config's Slack teams and Discord roles.
  const orgs: OrgEntry[] = orgRows.map((o) => ({ name: o.name, segment: o.segment, domains: JSON.parse(o.domains) as string[], slackTeams: configured.get(o.name)?.slackTeams, discordRoles: configured.get(o.name)?.discordRoles }));
  const entries = new Map(cfg.people.map((p) => [p.name, p]));
  let done = 0;
  let after = 0;
  for (;;) {
    let q = db.selectFrom('people').select(['id', 'org_id', 'is_staff', 'org_evidence', 'org_resolved_at']).where('id', '>', after).orderBy('id').limit(batchSize);
    if (which === 'unresolved') q = q.where('org_resolved_at', 'is', null);
    const people = await q.execute();
    if (!people.length) return done;
    after = people.at(-1)!.id;
    const ids = await db.selectFrom('identities').select(['person_id', 'kind', 'value', 'email', 'link_evidence', 'org_hints']).where('person_id', 'in', people.map((p) => p.id)).orderBy('id').execute();
    const facts = new Map<number, { entry?: PersonEntry; emails: string[]; identities: Array<OrgFacts['identities'][number]> }>();
    for (const p of people) facts.set(p.id, { emails: [], identities: [] });
    for (const i of ids) {
      const f = facts.get(i.person_id)!;
      const email = i.email ?? (i.kind === 'email' ? i.value : null);
      if (email) f.emails.push(email);
      f.identities.push({ kind: i.kind, value: i.value, hints: parseOrgHints(i.org_hints) });
      // The `people:` entry that linked this identity (its evidence names it).
      if (!f.entry && latestRule(i.link_evidence) === 'config') {
        const name = (JSON.parse(i.link_evidence!) as { person?: unknown }).person;
        if (typeof name === 'string') f.entry = entries.get(name);
      }
    }
    for (const p of people) {
      const f = facts.get(p.id)!;
      const ev = resolveOrg(f, orgs);
      const prev = parseOrgEvidence(p.org_evidence);
      const org = ev.org ? orgByName.get(ev.org) : undefined;
      const current = p.org_id !== null ? orgById.get(p.org_id) : undefined;
      // The stored org came from a rule when the last evidence says that rule placed this very org.
      const ruleGaveOrg = !!prev?.rule && prev.rule !== 'kept' && prev.org === current?.name;
      if (!org && current && !ruleGaveOrg) Object.assign(ev, { rule: 'kept', org: current.name, detail: { why: 'given by hand (a merge); no rule places this person' } });
      const ruleGaveStaff = !!prev?.staff && prev.staff.rule !== 'kept';
      if (!ev.staff && f.entry?.staff !== false && p.is_staff === 1 && !ruleGaveStaff) ev.staff = { rule: 'kept', detail: { why: 'marked staff by hand (a merge); no rule says so' } };
      const orgId = ev.org ? (orgByName.get(ev.org)?.id ?? null) : null;
      const staff = ev.staff ? 1 : 0;
      const evidence = JSON.stringify(ev);
      if (orgId !== p.org_id || staff !== p.is_staff || evidence !== p.org_evidence || p.org_resolved_at === null) {
        await db.updateTable('people').set({ org_id: orgId, is_staff: staff, org_evidence: evidence, org_resolved_at: now }).where('id', '=', p.id).execute();
      }
      done++;
    }
  }
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
  const people = await db.selectFrom('people as p').leftJoin('orgs as o', 'o.id', 'p.org_id').select(['p.id', 'p.display_name', 'p.is_staff', 'p.org_evidence', 'o.name as org', 'o.segment']).orderBy('p.id').execute();
  const ids = await db.selectFrom('identities').select(['id', 'kind', 'value', 'person_id', 'link_evidence', 'org_hints']).orderBy('id').execute();
  const byPerson = new Map<number, PersonIdentities['identities']>();
  for (const i of ids) {
    const list = byPerson.get(i.person_id) ?? [];
    list.push({ id: i.id, kind: i.kind, value: i.value, evidence: i.link_evidence, orgHints: parseOrgHints(i.org_hints) });
    byPerson.set(i.person_id, list);
  }
  return people.map((p) => ({ personId: p.id, name: p.display_name, org: p.org, segment: p.segment, isStaff: p.is_staff === 1, orgEvidence: parseOrgEvidence(p.org_evidence), identities: byPerson.get(p.id) ?? [] }));
}
