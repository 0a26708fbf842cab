// People and organisations as the store keeps them: config entries, what platforms say about an
// author (org hints), the evidence recorded for links and org placements, and the two definitions the
// store's reads use (a person's segment; an address at the host of a mailing list).

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
  /** Slack: the author administers or owns the workspace (the community's own team runs it). */
  admin?: boolean;
}

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
  /** What the person's own messages show of their role (maintainerEvidence), when anything. */
  maintainer?: { rule: MaintainerRule; detail: Record<string, string> } | null;
}

/**
 * Which rule placed a person in their org (recorded in `people.org_evidence`, shown with the person);
 * `kept`: no rule did, and an org a human gave (a merge) stays.
 */
export type OrgRule = 'people-config' | 'email-domain' | 'slack-team' | 'discord-role' | 'kept';

/** Which rule made a person staff (`kept`: a human's decision no rule made). */
export type StaffRule = 'people-config' | 'org-segment' | 'slack-team' | 'discord-role' | 'workspace-admin' | MaintainerRule | 'kept';
/** How a list's own structure shows a maintainer (see maintainerEvidence in src/pipeline/people.ts). */
export type MaintainerRule = 'list-host' | 'vote-caller' | 'binding-vote' | 'project-voice';

/** One message of a person as the maintainer rules read it. */
/** One author's sign in a job's conversations (readRoleSignals): a vote-thread mail, their address on a list, a list thread they started. */
export interface RoleSignal {
  personId: number;
  email: string | null;
  listId: string | null;
  vote: boolean;
  /** The start of a list thread they started (its first 3,000 characters), else null. */
  threadStart: string | null;
}

export interface RoleMessage {
  /** The message's own subject (mail), null in chat. */
  subject: string | null;
  text: string;
  /** The sender's address, for mail. */
  email: string | null;
  /** The mailing list's id (`dev.maven.example.org`), for mail. */
  listId: string | null;
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
  const o = v as { team?: unknown; roles?: unknown; admin?: unknown };
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
  if (o.admin === true) out.admin = true;
  return out.team !== undefined || out.roles !== undefined || out.admin ? out : null;
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

/** Reads `people.org_evidence`; anything odd is absent. */
export function parseOrgEvidence(text: string | null): OrgEvidence | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as OrgEvidence;
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

/** A person's stored org placement, as resolveOrgs reads and writes it. */
export interface PersonOrgState {
  id: number;
  orgId: number | null;
  isStaff: boolean;
  evidence: string | null;
  resolved: boolean;
}

export interface StoredOrg {
  id: number;
  name: string;
  segment: string;
  domains: string[];
}
