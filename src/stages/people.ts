// People and organisations, read -> plan -> apply: applies `people:` and `orgs:` from config
// (idempotent) and places people in their orgs. The store reads and writes (src/store/people.ts);
// the links and placements are planned by pure functions (src/pipeline/people.ts).
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import {
  markConversationsOfPeople,
  markPeopleUnresolved,
  newestIdentityId,
  peopleTransaction,
  readIdentityFacts,
  readIdentityFactsSharingEmail,
  readOrgs,
  readPeopleForOrgs,
  readRoleSignals,
  readRoleMessages,
  readVoters,
  saveConfigOrgs,
  saveLinks,
  savePersonOrgs,
  type PeopleConfig,
} from '../store/people.js';
import type { StageContext } from './context.js';
import { planLinkWrites, planOrgPlacements, roleSignalPeople } from '../pipeline/people.js';

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
export async function applyPeopleConfig(
  db: Kysely<Database>,
  cfg: PeopleConfig,
  now: number,
  staffChanged?: (personIds: number[]) => void,
  opts: { onlyNewIdentities?: boolean } = {},
): Promise<ApplyPeopleResult> {
  return peopleTransaction(db, async (trx) => {
    await saveConfigOrgs(trx, cfg);
    // Without `people:` entries only identities sharing an email with another person's can be linked.
    const facts = cfg.people.length ? await readIdentityFacts(trx) : await readIdentityFactsSharingEmail(trx);
    const plan = planLinkWrites(facts, cfg.people, now);
    await saveLinks(trx, plan.writes, new Map([...plan.configured].map(([id, p]) => [id, p.name])));
    // Applied again only because identities appeared (`onlyNewIdentities`): everyone is placed again
    // only when one was linked; new people are unresolved and placed by the caller's next pass.
    if (!opts.onlyNewIdentities || plan.writes.length) await resolveOrgs(trx, cfg, 'all', now, undefined, staffChanged);
    return { orgs: cfg.orgs.length, linked: plan.linked, unmatched: plan.unmatched };
  });
}

/**
 * Resolves the org and staff flag of people (everyone, or those not resolved since they appeared or their
 * platform hints changed), a page at a time, and records the rule on `people.org_evidence` (see
 * planOrgPlacements, with what their own messages show of their role). Returns how many people were
 * resolved; `staffChanged` hears of every person whose staff flag changed.
 */
export async function resolveOrgs(db: Kysely<Database>, cfg: PeopleConfig, which: 'all' | 'unresolved', now: number, batchSize = 500, staffChanged?: (personIds: number[]) => void): Promise<number> {
  const orgs = await readOrgs(db);
  let done = 0;
  let after = 0;
  let voters: Set<number> | undefined;
  for (;;) {
    const page = await readPeopleForOrgs(db, after, batchSize, which === 'unresolved');
    if (!page.people.length) return done;
    after = page.people.at(-1)!.id;
    voters ??= await readVoters(db);
    const roles = await readRoleMessages(
      db,
      page.people.map((p) => p.id),
      voters,
    );
    const plan = planOrgPlacements(page.people, page.identities, orgs, cfg, roles);
    await savePersonOrgs(db, plan, now);
    const wasStaff = new Map(page.people.map((p) => [p.id, p.isStaff]));
    const changed = plan.filter((u) => u.isStaff !== wasStaff.get(u.id)).map((u) => u.id);
    if (changed.length) staffChanged?.(changed);
    done += page.people.length;
  }
}

/**
 * People before a stage reads them: the config applied again whenever identities appeared since (a
 * `people:` entry whose identity is first seen now links in this run), and the org and staff flag of
 * everyone not resolved yet, so that detection, counting and the digest see one answer to "is this
 * person staff?". `conversationIds`: the conversations the stage is about to read; their authors whose
 * messages there show a maintainer's sign (a vote, a list-host address, a list
 * thread they started speaking for the project: roleSignalPeople) are
 * read again, and when someone's staff flag changes, the other conversations they wrote in
 * are marked for detection again (a vote seen today shows a maintainer whose older threads were taken
 * for a user's).
 */
export async function resolvePeople(ctx: StageContext, stage: string, conversationIds: readonly number[] = []): Promise<void> {
  const { db } = ctx;
  const cfg = { people: ctx.config.people, orgs: ctx.config.orgs };
  const done = ctx.services.cluster.peopleApplied;
  if (conversationIds.length) await markPeopleUnresolved(db, roleSignalPeople(await readRoleSignals(db, conversationIds)));
  const changed: number[] = [];
  const newest = await newestIdentityId(db);
  const applied = done.get(ctx.config);
  if (applied !== newest) {
    // Once per config in a process everyone is placed; after that, when only identities appeared
    // (with workers: at nearly every job while an import runs), the config's links are applied
    // again and everyone placed again only if one was linked: placing everyone read every person's
    // messages at every job, while an import's new people are placed by the pass below anyway.
    const r = await applyPeopleConfig(db, cfg, ctx.now(), (ids) => changed.push(...ids), { onlyNewIdentities: applied !== undefined });
    if (r.unmatched.length) ctx.log.debug({ stage, unmatched: r.unmatched }, 'config identities not seen yet');
    done.set(ctx.config, newest);
  }
  // People who appeared (or whose Slack team / Discord roles changed, or who voted) since.
  await resolveOrgs(db, cfg, 'unresolved', ctx.now(), undefined, (ids) => changed.push(...ids));
  if (changed.length) {
    const n = await markConversationsOfPeople(db, [...new Set(changed)], conversationIds);
    if (n) ctx.log.debug({ stage, people: changed.length, conversations: n }, 'staff flags changed: their conversations are detected again');
  }
}
