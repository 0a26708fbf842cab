// People before detection: the `people:` / `orgs:` config applied (again whenever identities appeared
// since) and the org and staff flag of everyone not resolved yet, so that detection, counting and the
// digest all see one answer to "is this person staff?". A person whom a new vote shows to be a
// maintainer becomes staff here, and the conversations they wrote in before are detected again.
import type { Kysely } from 'kysely';
import type { Config } from '../config/index.js';
import type { Database } from '../store/schema.js';
import { applyPeopleConfig, markConversationsOfPeople, markVotersUnresolved, newestIdentityId, resolveOrgs } from '../store/people.js';
import type { StageContext } from './context.js';

/** Per store and config: the newest identity id when the people config was last applied. */
const applied = new WeakMap<Kysely<Database>, WeakMap<Config, number>>();

/**
 * Resolves people for a stage. `conversationIds`: the conversations the stage is about to read; their
 * vote-thread authors are read again (and their other conversations marked for detection when their
 * staff flag changes).
 */
export async function resolvePeople(ctx: StageContext, stage: string, conversationIds: readonly number[] = []): Promise<void> {
  const { db } = ctx;
  const cfg = { people: ctx.config.people, orgs: ctx.config.orgs };
  let done = applied.get(db);
  if (!done) applied.set(db, (done = new WeakMap()));
  await markVotersUnresolved(db, conversationIds);
  const changed: number[] = [];
  // The config is applied again whenever identities appeared since: a `people:` entry whose Slack or
  // IRC identity is first seen now, or a second identity with a known email, is linked in this run.
  const newest = await newestIdentityId(db);
  if (done.get(ctx.config) !== newest) {
    const r = await applyPeopleConfig(db, cfg, ctx.now(), (ids) => changed.push(...ids));
    if (r.unmatched.length) ctx.log.debug({ stage, unmatched: r.unmatched }, 'config identities not seen yet');
    done.set(ctx.config, newest);
  }
  // People who appeared (or whose Slack team / Discord roles changed, or who voted) since: their org and staff flag.
  await resolveOrgs(db, cfg, 'unresolved', ctx.now(), undefined, (ids) => changed.push(...ids));
  if (changed.length) {
    const n = await markConversationsOfPeople(db, changed, conversationIds);
    if (n) ctx.log.debug({ stage, people: changed.length, conversations: n }, 'staff flags changed: their conversations are detected again');
  }
}

/** Forgets that the config was applied to this store (tests; after a bulk re-import). */
export function forgetPeople(db: Kysely<Database>): void {
  applied.delete(db);
}
