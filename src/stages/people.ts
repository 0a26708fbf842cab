// People and organisations, read -> plan -> apply: applies `people:` and `orgs:` from config
// (idempotent) and places people in their orgs. The store reads and writes (src/store/people.ts);
// the links and placements are planned by pure functions (src/pipeline/people.ts).
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { peopleTransaction, readIdentityFacts, readOrgs, readPeopleForOrgs, saveConfigOrgs, saveLinks, savePersonOrgs, type PeopleConfig } from '../store/people.js';
import { planLinkWrites, planOrgPlacements } from '../pipeline/people.js';

export interface ApplyPeopleResult {
  orgs: number;
  linked: number;
  /** Config identities that match nothing stored yet (they link when the identity first appears and the stage runs again). */
  unmatched: string[];
}

/**
 * Applies the config: orgs upserted by name; each `people:` entry's identities on one person (named,
 * staff flag, org); identities with the same email on one person; every person's org from their
 * emails' domains when config names none; staff from an org whose segment is `staff`. Running it
 * again changes nothing. Identities a human merged or unmerged stay where the human put them.
 */
export async function applyPeopleConfig(db: Kysely<Database>, cfg: PeopleConfig, now: number): Promise<ApplyPeopleResult> {
  return peopleTransaction(db, async (trx) => {
    await saveConfigOrgs(trx, cfg);
    const plan = planLinkWrites(await readIdentityFacts(trx), cfg.people, now);
    await saveLinks(trx, plan.writes, new Map([...plan.configured].map(([id, p]) => [id, p.name])));
    await resolveOrgs(trx, cfg, 'all', now);
    return { orgs: cfg.orgs.length, linked: plan.linked, unmatched: plan.unmatched };
  });
}

/**
 * Resolves the org and staff flag of people (everyone, or those not resolved since they appeared or their
 * platform hints changed), a page at a time, and records the rule on `people.org_evidence` (see
 * planOrgPlacements). Returns how many people were resolved.
 */
export async function resolveOrgs(db: Kysely<Database>, cfg: PeopleConfig, which: 'all' | 'unresolved', now: number, batchSize = 500): Promise<number> {
  const orgs = await readOrgs(db);
  let done = 0;
  let after = 0;
  for (;;) {
    const page = await readPeopleForOrgs(db, after, batchSize, which === 'unresolved');
    if (!page.people.length) return done;
    after = page.people.at(-1)!.id;
    await savePersonOrgs(db, planOrgPlacements(page.people, page.identities, orgs, cfg), now);
    done += page.people.length;
  }
}
