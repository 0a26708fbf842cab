// One person across platforms: which identities belong together, which organisation a person is in,
// and the segment they count in. Pure: identities, config entries and orgs in; a plan of links out.
// Links need clear evidence (the same email or Slack profile email; a `people:` entry in config), each
// link records it, and a human's unmerge is never undone by an automatic rule.

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

export interface IdentityFact {
  id: number;
  kind: string;
  value: string;
  email: string | null;
  personId: number;
  evidence: string | null;
}

export interface PersonEntry {
  name: string;
  identities: string[];
  staff?: boolean;
  org?: string;
}

export interface OrgEntry {
  name: string;
  segment: string;
  domains: string[];
  /** Slack workspace (team) ids whose members belong to the org (Slack Connect guests), e.g. T0ACME. */
  slackTeams?: string[];
  /** Discord guild roles (an id, or a name where the source knows role names) whose holders belong to the org. */
  discordRoles?: string[];
}

/** What a platform says about where an author belongs, stored on the identity (`identities.org_hints`). */
export interface OrgHints {
  /** Slack: the author's workspace id (`user_team`, the profile's `team_id`). */
  team?: string;
  /** Discord: the author's guild roles, ids with names where known. */
  roles?: Array<{ id: string; name?: string | null }>;
}

/** The rule of the latest decision recorded on an identity ("same-email", "config", "manual-unmerge", ...). */
export function latestRule(evidence: string | null): string | null {
  if (!evidence) return null;
  try {
    const e = JSON.parse(evidence) as { rule?: unknown };
    return typeof e.rule === 'string' ? e.rule : null;
  } catch {
    return null;
  }
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

/**
 * Reads `identities.org_hints` (JSON written by ingest). Anything odd is absent: hints come from platform
 * payloads, so a malformed value must never stop the resolution.
 */
export function parseOrgHints(text: string | null | undefined): OrgHints | null {
  if (!text) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  return orgHintsOf(v);
}

/** Canonical hints (team trimmed, roles deduplicated and sorted by id), or null when the platform said nothing. */
export function orgHintsOf(v: unknown): OrgHints | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as { team?: unknown; roles?: unknown };
  const out: OrgHints = {};
  if (typeof o.team === 'string' && o.team.trim()) out.team = o.team.trim();
  if (Array.isArray(o.roles)) {
    const roles = new Map<string, { id: string; name?: string | null }>();
    for (const r of o.roles as unknown[]) {
      if (!r || typeof r !== 'object') continue;
      const { id, name } = r as { id?: unknown; name?: unknown };
      if (typeof id !== 'string' || !id) continue;
      roles.set(id, typeof name === 'string' && name ? { id, name } : { id });
    }
    // An empty list is news too: the member holds no roles (any more).
    out.roles = [...roles.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  return out.team !== undefined || out.roles !== undefined ? out : null;
}

/**
 * Which rule placed a person in their org (recorded in `people.org_evidence`, shown with the person);
 * `kept`: no rule did, and an org a human gave (a merge) stays.
 */
export type OrgRule = 'people-config' | 'email-domain' | 'slack-team' | 'discord-role' | 'kept';
/** Which rule made a person staff (`kept`: a human's decision no rule made). */
export type StaffRule = 'people-config' | 'org-segment' | 'slack-team' | 'discord-role' | 'kept';

export interface OrgEvidence {
  /** The rule that chose the org, or null: no rule matched and the person counts as `community`. */
  rule: OrgRule | null;
  org: string | null;
  /** What matched: the config entry's name, the email and domain, the identity and its team or role. */
  detail?: Record<string, string>;
  /** Why the person is staff, when a rule says so. */
  staff?: { rule: StaffRule; org?: string; detail?: Record<string, string> };
}

export interface OrgFacts {
  /** The `people:` entry that names this person, if any. */
  entry?: Pick<PersonEntry, 'name' | 'org' | 'staff'>;
  /** Every email of the person (email identities, profile emails). */
  emails: readonly string[];
  /** The person's chat identities with what their platform said (`kind` slack / discord). */
  identities: ReadonlyArray<{ kind: string; value: string; hints: OrgHints | null }>;
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
 * holding a staff role never counts as a reporter even when their email domain is a customer's.
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
      if (m) ev.staff = { rule: m.rule, org: m.org.name, detail: m.detail };
    }
  }
  return ev;
}

/** The segment a person counts in: bots and staff first, then their org's segment, else community. */
export function segmentOf(p: { isBot: boolean; isStaff: boolean; orgSegment: string | null }): string {
  if (p.isBot) return 'bot';
  if (p.isStaff || p.orgSegment === 'staff') return 'staff';
  return p.orgSegment ?? 'community';
}

/**
 * Whether a sender's address is at the domain that hosts the mailing list (`dev.maven.example.org`
 * hosts its list at example.org; `users.lists.acme.example` at acme.example): the project's own
 * people, its committers or staff. Two-label domains at least, so a bare TLD never matches.
 */
export function isListHostAddress(email: string | null | undefined, listId: string | null | undefined): boolean {
  if (!email || !listId) return false;
  const domain = email.toLowerCase().split('@')[1]?.trim();
  const host = listId.toLowerCase().replace(/^<|>$/g, '').trim();
  if (!domain || !host.includes('.') || domain.split('.').length < 2) return false;
  return host === domain || host.endsWith(`.${domain}`);
}
