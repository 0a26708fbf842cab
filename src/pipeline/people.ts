// One person across platforms: which identities belong together, which organisation a person is in,
// and the segment they count in. Pure: identities, config entries and orgs in; a plan of links out.
// Links need clear evidence (the same email or Slack profile email; a `people:` entry in config), each
// link records it, and a human's unmerge is never undone by an automatic rule.

import {
  latestRule,
  parseOrgEvidence,
  parseOrgHints,
  orgHintsOf,
  segmentOf,
  isListHostAddress,
  type IdentityFact,
  type PersonEntry,
  type OrgEntry,
  type OrgHints,
  type OrgEvidence,
  type OrgFacts,
  type OrgRule,
  type StaffRule,
  type PersonOrgState,
  type StoredOrg,
  type MaintainerRule,
  type RoleMessage,
  type RoleSignal,
} from '../model/people.js';
import { ownWords, threadKindOf, voteOf } from './classify/community.js';
export { latestRule, parseOrgHints, orgHintsOf, segmentOf, isListHostAddress };
export type { PersonOrgState, StoredOrg, IdentityFact, PersonEntry, OrgEntry, OrgHints, OrgEvidence, OrgFacts, OrgRule, StaffRule, MaintainerRule, RoleMessage, RoleSignal };

export interface IdentityRef {
  kind: string;
  value: string;
}

/**
 * "slack:U01PRIYA", "discord:300000000000000001", "irc:libera/priya" (source/nick, as IRC author ids
 * are stored), "matrix:@mei:matrix.org", "email:priya@acme.io", "github:octocat" (the login),
 * "discourse:forum.example.org/ana" (the forum's host name and the username): the platform, then the
 * stored value. GitHub logins and Discourse usernames are case-insensitive: stored lower-cased.
 */
export function parseIdentityRef(s: string): IdentityRef {
  const i = s.indexOf(':');
  if (i <= 0 || i === s.length - 1) throw new Error(`not an identity: ${JSON.stringify(s)} (expected kind:value, e.g. slack:U01ABC, email:ana@example.org, irc:libera/ana)`);
  const kind = s.slice(0, i).trim().toLowerCase();
  let value = s.slice(i + 1).trim();
  if (kind === 'email' || kind === 'irc' || kind === 'github' || kind === 'discourse') value = value.toLowerCase();
  return { kind, value };
}

/** A human split this identity off: automatic rules leave it where the human put it. */
export const isHumanPinned = (i: Pick<IdentityFact, 'evidence'>): boolean => {
  const r = latestRule(i.evidence);
  return r === 'manual-unmerge' || r === 'manual-merge';
};

export function matchesRef(i: Pick<IdentityFact, 'kind' | 'value' | 'email'>, ref: IdentityRef): boolean {
  if (ref.kind === 'email') return (i.kind === 'email' && i.value.toLowerCase() === ref.value) || (i.email?.toLowerCase() ?? null) === ref.value;
  if (i.kind !== ref.kind) return false;
  return ref.kind === 'irc' ? i.value.toLowerCase() === ref.value : i.value === ref.value;
}

export interface LinkStep {
  /** Identities that must end up on one person, with the evidence for each. */
  identityIds: number[];
  evidence: Record<number, Record<string, unknown>>;
  /** From config: the person's name, staff flag and org. */
  person?: PersonEntry;
}

/**
 * The links to make: every config entry's identities together (evidence `config`), and identities
 * sharing an email (evidence `same-email` / `same-slack-profile-email`). Identities a human placed
 * are left out.
 */
export function planLinks(identities: readonly IdentityFact[], people: readonly PersonEntry[]): { steps: LinkStep[]; unmatched: string[] } {
  const steps: LinkStep[] = [];
  const unmatched: string[] = [];
  const free = identities.filter((i) => !isHumanPinned(i));
  for (const p of people) {
    const ids: number[] = [];
    const evidence: LinkStep['evidence'] = {};
    for (const s of p.identities) {
      const ref = parseIdentityRef(s);
      const hits = free.filter((i) => matchesRef(i, ref));
      if (!hits.length) unmatched.push(`${p.name}: ${s}`);
      for (const h of hits) {
        if (!ids.includes(h.id)) ids.push(h.id);
        evidence[h.id] = { rule: 'config', entry: s, person: p.name };
      }
    }
    steps.push({ identityIds: ids, evidence, person: p });
  }
  const byEmail = new Map<string, IdentityFact[]>();
  for (const i of free) {
    const e = i.email?.toLowerCase();
    if (!e) continue;
    const list = byEmail.get(e) ?? [];
    list.push(i);
    byEmail.set(e, list);
  }
  for (const [email, list] of byEmail) {
    if (new Set(list.map((i) => i.personId)).size < 2) continue;
    const evidence: LinkStep['evidence'] = {};
    for (const i of list) evidence[i.id] = { rule: i.kind === 'slack' ? 'same-slack-profile-email' : 'same-email', email };
    steps.push({ identityIds: list.map((i) => i.id), evidence });
  }
  return { steps, unmatched };
}

/** The org of a person: the config entry's org, else the org whose domains hold one of their emails. */
export function orgForPerson(emails: readonly string[], configOrg: string | undefined, orgs: readonly OrgEntry[]): string | null {
  if (configOrg) return configOrg;
  return domainMatch(emails, orgs)?.org.name ?? null;
}

function domainMatch(emails: readonly string[], orgs: readonly OrgEntry[]): { org: OrgEntry; email: string; domain: string } | null {
  for (const e of emails) {
    const domain = e.toLowerCase().split('@')[1];
    if (!domain) continue;
    const org = orgs.find((o) => o.domains.some((d) => domain === d.toLowerCase() || domain.endsWith(`.${d.toLowerCase()}`)));
    if (org) return { org, email: e.toLowerCase(), domain };
  }
  return null;
}

type Match = { org: OrgEntry; rule: 'slack-team' | 'discord-role'; detail: Record<string, string> };

function platformMatches(identities: OrgFacts['identities'], orgs: readonly OrgEntry[]): Match[] {
  const out: Match[] = [];
  for (const i of identities) {
    const h = i.hints;
    if (!h) continue;
    if (i.kind === 'slack' && h.team) {
      for (const o of orgs) if (o.slackTeams?.includes(h.team)) out.push({ org: o, rule: 'slack-team', detail: { identity: `slack:${i.value}`, team: h.team } });
    }
    if (i.kind === 'discord' && h.roles) {
      for (const o of orgs) {
        const role = h.roles.find((r) => o.discordRoles?.some((want) => want === r.id || (r.name != null && want.toLowerCase() === r.name.toLowerCase())));
        if (role) out.push({ org: o, rule: 'discord-role', detail: { identity: `discord:${i.value}`, role: role.name ? `${role.name} (${role.id})` : role.id } });
      }
    }
  }
  // Slack teams before Discord roles; within each, the order of `orgs:` in config.
  const rank = (m: Match) => (m.rule === 'slack-team' ? 0 : 1) * orgs.length + orgs.indexOf(m.org);
  return out.sort((a, b) => rank(a) - rank(b));
}

/**
 * A person's org and whether they are staff, with the rule that decided each. The org: the `people:`
 * entry's `org:` first, then an email domain (`domains:`), then a Slack workspace (`slackTeams:`), then a
 * Discord role (`discordRoles:`); none is `community`. Staff: the entry's `staff:` when it says so
 * (true or false), else an org with segment `staff` that any of these rules matches, so a member
 * holding a staff role never counts as a reporter even when their email domain is a customer's; else a
 * workspace admin or owner (the team that runs the community's Slack); else what their messages show of a
 * maintainer (maintainerEvidence).
 */
export function resolveOrg(facts: OrgFacts, orgs: readonly OrgEntry[]): OrgEvidence {
  const byName = new Map(orgs.map((o) => [o.name, o]));
  const platform = platformMatches(facts.identities, orgs);
  const domain = domainMatch(facts.emails, orgs);
  let ev: OrgEvidence;
  const configOrg = facts.entry?.org;
  if (configOrg) ev = { rule: 'people-config', org: configOrg, detail: { person: facts.entry!.name } };
  else if (domain) ev = { rule: 'email-domain', org: domain.org.name, detail: { email: domain.email, domain: domain.domain } };
  else if (platform[0]) ev = { rule: platform[0].rule, org: platform[0].org.name, detail: platform[0].detail };
  else ev = { rule: null, org: null };

  const staff = facts.entry?.staff;
  if (staff === true) ev.staff = { rule: 'people-config', detail: { person: facts.entry!.name } };
  else if (staff === undefined) {
    if (ev.org && byName.get(ev.org)?.segment === 'staff') ev.staff = { rule: 'org-segment', org: ev.org };
    else {
      const m = platform.find((x) => x.org.segment === 'staff');
      const admin = facts.identities.find((i) => i.hints?.admin === true);
      if (m) ev.staff = { rule: m.rule, org: m.org.name, detail: m.detail };
      else if (admin) ev.staff = { rule: 'workspace-admin', detail: { identity: `${admin.kind}:${admin.value}` } };
      else if (facts.maintainer) ev.staff = { rule: facts.maintainer.rule, detail: facts.maintainer.detail };
    }
  }
  return ev;
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

export interface LinkPlan {
  /** Identities moved to a person (or given new evidence), in order. */
  writes: Array<{ id: number; personId: number; evidence: string }>;
  /** How many identities changed person. */
  linked: number;
  /** Person id -> the `people:` entry that names them. */
  configured: Map<number, PersonEntry>;
  /** Config identities that match nothing stored yet. */
  unmatched: string[];
}

/**
 * The writes that put linked identities on one person: for each step of planLinks, the person that
 * already holds most of its identities keeps its id (stable links for the web UI); each identity
 * moved records its evidence on top of what it had. A decision already recorded is not written again.
 */
export function planLinkWrites(stored: readonly IdentityFact[], people: readonly PersonEntry[], now: number): LinkPlan {
  const identities = stored.map((i) => ({ ...i }));
  const byId = new Map(identities.map((i) => [i.id, i]));
  const { steps, unmatched } = planLinks(identities, people);
  const writes: LinkPlan['writes'] = [];
  let linked = 0;
  const configured = new Map<number, PersonEntry>();
  for (const step of steps) {
    const members = step.identityIds.map((id) => byId.get(id)!).filter(Boolean);
    if (!members.length) continue;
    const counts = new Map<number, number>();
    for (const m of members) counts.set(m.personId, (counts.get(m.personId) ?? 0) + 1);
    const target = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
    for (const m of members) {
      const entry = step.evidence[m.id]!;
      if (m.personId === target && (sameDecision(m.evidence, entry) || (step.person === undefined && m.evidence))) continue;
      if (m.personId !== target) linked++;
      const evidence = wrapEvidence(m.evidence, { ...entry, at: now });
      writes.push({ id: m.id, personId: target, evidence });
      m.personId = target;
      m.evidence = evidence;
    }
    if (step.person) configured.set(target, step.person);
  }
  return { writes, linked, configured, unmatched };
}

/**
 * The org and staff flag of each person, with the rule recorded (see resolveOrg). An org or staff flag
 * that no rule gave (a human merge carried it over) is kept; one a rule gave and no rule supports any
 * more (a Discord role taken away, a `people:` entry removed) is dropped. Returns the people whose
 * placement (or evidence) changed, or who were not resolved yet.
 */
export function planOrgPlacements(
  people: readonly PersonOrgState[],
  identities: ReadonlyArray<{ personId: number; kind: string; value: string; email: string | null; evidence: string | null; hints: string | null }>,
  storedOrgs: readonly StoredOrg[],
  config: { people: readonly PersonEntry[]; orgs: readonly OrgEntry[] },
  roles: ReadonlyMap<number, readonly RoleMessage[]> = new Map(),
): Array<{ id: number; orgId: number | null; isStaff: boolean; evidence: string }> {
  const orgByName = new Map(storedOrgs.map((o) => [o.name, o]));
  const orgById = new Map(storedOrgs.map((o) => [o.id, o]));
  const configured = new Map(config.orgs.map((o) => [o.name, o]));
  // Stored orgs (domains as last applied) with this config's Slack teams and Discord roles.
  const orgs: OrgEntry[] = storedOrgs.map((o) => ({
    name: o.name,
    segment: o.segment,
    domains: o.domains,
    slackTeams: configured.get(o.name)?.slackTeams,
    discordRoles: configured.get(o.name)?.discordRoles,
  }));
  const entries = new Map(config.people.map((p) => [p.name, p]));
  const facts = new Map<number, { entry?: PersonEntry; emails: string[]; identities: Array<OrgFacts['identities'][number]>; maintainer?: OrgFacts['maintainer'] }>();
  for (const p of people) facts.set(p.id, { emails: [], identities: [], maintainer: maintainerEvidence(roles.get(p.id) ?? []) });
  for (const i of identities) {
    const f = facts.get(i.personId)!;
    const email = i.email ?? (i.kind === 'email' ? i.value : null);
    if (email) f.emails.push(email);
    f.identities.push({ kind: i.kind, value: i.value, hints: parseOrgHints(i.hints) });
    // The `people:` entry that linked this identity (its evidence names it).
    if (!f.entry && latestRule(i.evidence) === 'config') {
      const name = (JSON.parse(i.evidence!) as { person?: unknown }).person;
      if (typeof name === 'string') f.entry = entries.get(name);
    }
  }
  const out: Array<{ id: number; orgId: number | null; isStaff: boolean; evidence: string }> = [];
  for (const p of people) {
    const f = facts.get(p.id)!;
    const ev = resolveOrg(f, orgs);
    const prev = parseOrgEvidence(p.evidence);
    const org = ev.org ? orgByName.get(ev.org) : undefined;
    const current = p.orgId !== null ? orgById.get(p.orgId) : undefined;
    // The stored org came from a rule when the last evidence says that rule placed this very org.
    const ruleGaveOrg = !!prev?.rule && prev.rule !== 'kept' && prev.org === current?.name;
    if (!org && current && !ruleGaveOrg) Object.assign(ev, { rule: 'kept', org: current.name, detail: { why: 'given by hand (a merge); no rule places this person' } });
    const ruleGaveStaff = !!prev?.staff && prev.staff.rule !== 'kept';
    if (!ev.staff && f.entry?.staff !== false && p.isStaff && !ruleGaveStaff) ev.staff = { rule: 'kept', detail: { why: 'marked staff by hand (a merge); no rule says so' } };
    const orgId = ev.org ? (orgByName.get(ev.org)?.id ?? null) : null;
    const isStaff = Boolean(ev.staff);
    const evidence = JSON.stringify(ev);
    if (orgId !== p.orgId || isStaff !== p.isStaff || evidence !== p.evidence || !p.resolved) out.push({ id: p.id, orgId, isStaff, evidence });
  }
  return out;
}

const REPLY_PREFIX = /^\s*(?:(?:re|aw|fwd?|wg|sv|tr|rif|r)\s*:\s*)+/i;
const NON_BINDING = /\bnon[- ]?binding\b/i;
// A vote anywhere on the first line of a reply ("Awesome! +1", "Looks good, +1"), not only leading it.
const VOTE_ON_FIRST_LINE = /(?:^|[\s,.!:;(])[+-]\s?[01](?![\d.])/;
const castsVote = (text: string): boolean =>
  voteOf(text) !== null ||
  VOTE_ON_FIRST_LINE.test(
    ownWords(text)
      .split('\n')
      .find((l) => l.trim()) ?? '',
  );

/**
 * Whether a person's messages show them to be one of the project's maintainers, by the structure a
 * project list gives rather than by words: they write from the domain that hosts the list; they called
 * a vote (a `[VOTE]` thread of theirs, or its `[RESULT]`); or they cast a binding vote (`+1 (binding)`,
 * or a plain vote not marked non-binding: on a project's list only the committee's votes bind, and the
 * others say so). The first rule that matches, with the subject that shows it. Pure.
 */
export function maintainerEvidence(messages: readonly RoleMessage[]): { rule: MaintainerRule; detail: Record<string, string> } | null {
  let caller: RoleMessage | undefined;
  let voter: RoleMessage | undefined;
  for (const m of messages) {
    if (m.email && m.listId && isListHostAddress(m.email, m.listId)) return { rule: 'list-host', detail: { email: m.email, list: m.listId } };
    if (threadKindOf(m.subject) !== 'vote') continue;
    const own = ownWords(m.text);
    if (!caller && !REPLY_PREFIX.test(m.subject ?? '')) caller = m;
    else if (!voter && castsVote(m.text) && !NON_BINDING.test(own)) voter = m;
  }
  if (caller) return { rule: 'vote-caller', detail: { subject: caller.subject ?? '' } };
  if (voter) return { rule: 'binding-vote', detail: { subject: voter.subject ?? '' } };
  // Speaking for the project's course on its list, in more than one thread.
  const threads = new Set<string>();
  let first: RoleMessage | undefined;
  for (const m of messages) {
    if (!m.listId || !speaksForProject(m.text)) continue;
    threads.add(
      (m.subject ?? '')
        .replace(/^(?:\s*(?:re|aw|fwd?|wg|sv)\s*:\s*)+/i, '')
        .trim()
        .toLowerCase(),
    );
    first ??= m;
  }
  if (first && threads.size >= 2) return { rule: 'project-voice', detail: { subject: first.subject ?? '' } };
  return null;
}

/**
 * Words of someone who decides the project's course, not of someone who uses it: deliberating what the
 * project does next ("should we just bring X in-tree", "our next steps", "we have a semi-consensus", "I
 * propose we"), reporting the state of the project's own work ("here's the current status"), or saying
 * they did a maintainer's act ("I've merged", "I've staged the release").
 */
const PROJECT_VOICE = new RegExp(
  [
    String.raw`\b(?:should|shall) we (?:just )?(?:release|cut|move|switch|bring|merge|drop|deprecate|remove|rename|require|adopt|migrate|split|start|stop|bump|revert|vote|call|make|change|keep|consolidate|deliver|ship)\b`,
    String.raw`\bour next steps?\b`,
    String.raw`\b(?:semi-)?consensus\b`,
    String.raw`\bI (?:propose|suggest) (?:that )?we\b`,
    String.raw`\b(?:here'?s|here is) the (?:current )?status\b|\bstatus update\b`,
    String.raw`\bI(?:'ve| have) (?:just )?(?:merged|committed|released|staged|deployed|cut|tagged) (?:the|a|it|this|that|to|into)\b`,
    String.raw`\b(?:we|I) (?:will|'ll) (?:release|cut|stage|ship) (?:the|a|it|this|version)\b`,
  ].join('|'),
  'i',
);

/** Whether a mail's own words speak for the project's course (see PROJECT_VOICE). Pure. */
export function speaksForProject(text: string): boolean {
  return PROJECT_VOICE.test(ownWords(text).slice(0, 3000));
}

/**
 * The people whose new messages could change maintainerEvidence's answer, so they are placed again: a
 * vote-thread mail (calling or casting a vote), an address at the host of the list, or a list thread they
 * started that speaks for the project (a second one shows a maintainer). A plain question they start
 * changes nothing, so it costs no new placement. Pure.
 */
export function roleSignalPeople(signals: readonly RoleSignal[]): number[] {
  const out = new Set<number>();
  for (const s of signals) if (s.vote || isListHostAddress(s.email, s.listId) || (s.listId && s.threadStart !== null && speaksForProject(s.threadStart))) out.add(s.personId);
  return [...out];
}
