// One edition of the digest: a team's view of a week, read -> plan. The teams come from the config;
// the edition is planned by src/pipeline/edition-plan.ts from what buildDigest and the store's coverage
// give; workflow.ts stores it (src/store/digests.ts) and renders it.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { EditionJson } from '../model/digest.js';
import type { Config, TeamFilter } from '../config/index.js';
import type { Period } from '../pipeline/period.js';
import { planEdition } from '../pipeline/edition-plan.js';
import { buildDigest } from './build.js';
import { coverageFor } from '../store/digests.js';

export const DEFAULT_TEAM = 'default';
/** Candidates read before a team's filter narrows them (config `digest.top` is at most 200). */
const MAX_CANDIDATES = 200;
/** "Quiet now": voiced in these previous weeks, silent in this one. */
const QUIET_WEEKS = 3;
const WEEK_MS = 7 * 24 * 3600 * 1000;

export interface Team {
  name: string;
  recipients: string[];
  filter: TeamFilter;
  top: number;
}

/** The configured teams, or one default edition for everyone when none is configured. */
export function teamsOf(config: Config): Team[] {
  if (!config.teams.length) return [{ name: DEFAULT_TEAM, recipients: config.digest.recipients, filter: {}, top: config.digest.top }];
  return config.teams.map((t) => ({ name: t.name, recipients: t.recipients, filter: t.filter, top: t.top ?? config.digest.top }));
}

export function teamByName(config: Config, name: string | undefined): Team {
  const teams = teamsOf(config);
  if (name === undefined) {
    if (teams.length === 1) return teams[0]!;
    throw new Error(`several teams are configured (${teams.map((t) => t.name).join(', ')}); choose one with --team`);
  }
  const t = teams.find((x) => x.name === name);
  if (!t) throw new Error(`no team named ${name} in the config; teams: ${teams.map((x) => x.name).join(', ')}`);
  return t;
}

/**
 * Builds a team's edition for a period, read -> plan: the period's digest and the previous weeks'
 * (each read and planned by buildDigest) and the store's coverage are read, src/pipeline/edition-plan.ts
 * plans the edition (the team's filter, sections, activity, coverage). Stored by workflow.ts.
 */
export async function buildEdition(db: Kysely<Database>, period: Period, team: Team, opts: { segments?: Config['segments']; archives?: Config['archives'] } = {}): Promise<EditionJson> {
  const all = await buildDigest(db, period, { top: MAX_CANDIDATES, segments: opts.segments, archives: opts.archives });
  // Quiet now: clusters someone voiced in the previous weeks and nobody in this one.
  const before = await buildDigest(db, { start: period.start - QUIET_WEEKS * WEEK_MS, end: period.start }, { top: MAX_CANDIDATES, segments: opts.segments });
  return planEdition(all, before, await coverageFor(db, period), team);
}
