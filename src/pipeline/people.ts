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
 * are stored), "matrix:@mei:matrix.org", "email:priya@acme.io": the platform, then the stored value.
 */
export function parseIdentityRef(s: string): IdentityRef {
  const i = s.indexOf(':');
  if (i <= 0 || i === s.length - 1) throw new Error(`not an identity: ${JSON.stringify(s)} (expected kind:value, e.g. slack:U01ABC, email:ana@example.org, irc:libera/ana)`);
  const kind = s.slice(0, i).trim().toLowerCase();
  let value = s.slice(i + 1).trim();
  if (kind === 'email' || kind === 'irc') value = value.toLowerCase();
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
  for (const e of emails) {
    const domain = e.toLowerCase().split('@')[1];
    if (!domain) continue;
    const org = orgs.find((o) => o.domains.some((d) => domain === d.toLowerCase() || domain.endsWith(`.${d.toLowerCase()}`)));
    if (org) return org.name;
  }
  return null;
}

/** The segment a person counts in: bots and staff first, then their org's segment, else community. */
export function segmentOf(p: { isBot: boolean; isStaff: boolean; orgSegment: string | null }): string {
  if (p.isBot) return 'bot';
  if (p.isStaff || p.orgSegment === 'staff') return 'staff';
  return p.orgSegment ?? 'community';
}
