// Pure org resolution: the order of the rules (people: entry, email domain, Slack team, Discord role),
// the evidence each records, staff by role, and platform hints read defensively.
import { describe, expect, it } from 'vitest';
import { orgHintsOf, parseOrgHints, resolveOrg, segmentOf, type OrgEntry, type OrgFacts } from '../../src/pipeline/people.js';
import { parseConfig } from '../../src/config/index.js';

const ORGS: OrgEntry[] = [
  { name: 'Acme', segment: 'customer', domains: ['acme.io'], slackTeams: ['T0ACME'], discordRoles: ['Acme'] },
  { name: 'Globex', segment: 'partner', domains: ['globex.com'], slackTeams: ['T0GLOBEX'], discordRoles: ['400000000000000009'] },
  { name: 'Lumen team', segment: 'staff', domains: ['lumen.dev'], slackTeams: [], discordRoles: ['Moderator'] },
];

const facts = (over: Partial<OrgFacts> = {}): OrgFacts => ({ emails: [], identities: [], ...over });
const slack = (value: string, team?: string) => ({ kind: 'slack', value, hints: team ? { team } : null });
const discord = (value: string, roles: Array<{ id: string; name?: string | null }>) => ({ kind: 'discord', value, hints: { roles } });

describe('resolveOrg', () => {
  it('nobody matched: community, no staff, and the evidence says no rule', () => {
    const ev = resolveOrg(facts({ emails: ['ana@example.org'], identities: [slack('U1', 'T0OTHER')] }), ORGS);
    expect(ev).toEqual({ rule: null, org: null });
    expect(segmentOf({ isBot: false, isStaff: false, orgSegment: null })).toBe('community');
  });

  it('a Slack Connect author is placed by their team id', () => {
    expect(resolveOrg(facts({ identities: [slack('U0BOB', 'T0ACME')] }), ORGS)).toEqual({ rule: 'slack-team', org: 'Acme', detail: { identity: 'slack:U0BOB', team: 'T0ACME' } });
  });

  it('a Discord member is placed by a role id or a role name (any case)', () => {
    expect(resolveOrg(facts({ identities: [discord('300000000000000001', [{ id: '400000000000000009' }])] }), ORGS)).toMatchObject({
      rule: 'discord-role',
      org: 'Globex',
      detail: { role: '400000000000000009' },
    });
    expect(resolveOrg(facts({ identities: [discord('300000000000000001', [{ id: '5', name: 'acme' }])] }), ORGS)).toMatchObject({
      rule: 'discord-role',
      org: 'Acme',
      detail: { identity: 'discord:300000000000000001', role: 'acme (5)' },
    });
    // A role held on another platform's identity means nothing: hints are read per platform.
    expect(resolveOrg(facts({ identities: [{ kind: 'matrix', value: '@a:x', hints: { roles: [{ id: '5', name: 'Acme' }], team: 'T0ACME' } }] }), ORGS).rule).toBeNull();
  });

  it('order: people: entry, then email domain, then Slack team, then Discord role', () => {
    const all = facts({
      entry: { name: 'Bob', org: 'Globex' },
      emails: ['bob@eu.acme.io'],
      identities: [discord('300000000000000001', [{ id: '400000000000000009' }]), slack('U0BOB', 'T0GLOBEX')],
    });
    expect(resolveOrg(all, ORGS)).toMatchObject({ rule: 'people-config', org: 'Globex', detail: { person: 'Bob' } });
    expect(resolveOrg({ ...all, entry: { name: 'Bob' } }, ORGS)).toMatchObject({ rule: 'email-domain', org: 'Acme', detail: { email: 'bob@eu.acme.io', domain: 'eu.acme.io' } });
    expect(resolveOrg({ ...all, entry: undefined, emails: [] }, ORGS)).toMatchObject({ rule: 'slack-team', org: 'Globex' });
    expect(resolveOrg(facts({ identities: [discord('3', [{ id: '9', name: 'Acme' }]), slack('U0BOB', 'T0GLOBEX')] }), ORGS)).toMatchObject({ rule: 'slack-team', org: 'Globex' });
  });

  it("a Slack workspace's admin or owner is staff (the team that runs the community), unless the people: entry says otherwise", () => {
    const admin = facts({ identities: [{ kind: 'slack', value: 'U0HAMZA', hints: orgHintsOf({ admin: true }) }] });
    expect(resolveOrg(admin, ORGS).staff).toEqual({ rule: 'workspace-admin', detail: { identity: 'slack:U0HAMZA' } });
    expect(resolveOrg({ ...admin, entry: { name: 'Hamza', staff: false } }, ORGS).staff).toBeUndefined();
    expect(resolveOrg(facts({ identities: [{ kind: 'slack', value: 'U0ANA', hints: orgHintsOf({ admin: false, team: 'T0OTHER' }) }] }), ORGS).staff).toBeUndefined();
    expect(parseOrgHints('{"admin":true}')).toEqual({ admin: true });
    expect(parseOrgHints('{"admin":"yes"}')).toBeNull();
  });

  it('a staff role makes the member staff even when their email says customer; the entry can say otherwise', () => {
    const mod = facts({ emails: ['mia@acme.io'], identities: [discord('300000000000000007', [{ id: '8', name: 'Moderator' }])] });
    const ev = resolveOrg(mod, ORGS);
    expect(ev).toMatchObject({ rule: 'email-domain', org: 'Acme', staff: { rule: 'discord-role', org: 'Lumen team', detail: { role: 'Moderator (8)' } } });
    expect(resolveOrg({ ...mod, entry: { name: 'Mia', staff: false } }, ORGS).staff).toBeUndefined();
    expect(resolveOrg(facts({ entry: { name: 'Ola', staff: true } }), ORGS).staff).toEqual({ rule: 'people-config', detail: { person: 'Ola' } });
    expect(resolveOrg(facts({ emails: ['ola@lumen.dev'] }), ORGS)).toMatchObject({ rule: 'email-domain', org: 'Lumen team', staff: { rule: 'org-segment', org: 'Lumen team' } });
  });
});

describe('org hints from platforms', () => {
  it('odd values are absent, never an error', () => {
    expect(parseOrgHints(null)).toBeNull();
    expect(parseOrgHints('{not json')).toBeNull();
    expect(parseOrgHints('42')).toBeNull();
    expect(orgHintsOf({ team: '', roles: 'admin' })).toBeNull();
    expect(orgHintsOf({ team: 7, roles: [null, 3, { id: 5 }, { name: 'x' }, { id: '2', name: 9 }, { id: '1', name: 'Acme' }, { id: '1' }] })).toEqual({ roles: [{ id: '1' }, { id: '2' }] });
    expect(orgHintsOf({ team: ' T0ACME ' })).toEqual({ team: 'T0ACME' });
  });

  it('an empty role list is kept: the member holds no roles any more', () => {
    expect(orgHintsOf({ roles: [] })).toEqual({ roles: [] });
    expect(orgHintsOf({ team: undefined, roles: undefined })).toBeNull();
  });
});

describe('orgs: config', () => {
  it('takes slackTeams and discordRoles and names a wrong key', () => {
    const c = parseConfig('orgs:\n  - name: Acme\n    domains: [acme.io]\n    slackTeams: [T0ACME]\n    discordRoles: ["400000000000000009", Acme]\n');
    expect(c.orgs[0]).toEqual({ name: 'Acme', segment: 'customer', domains: ['acme.io'], slackTeams: ['T0ACME'], discordRoles: ['400000000000000009', 'Acme'] });
    expect(() => parseConfig('orgs:\n  - name: Acme\n    slackTeams: [acme]\n')).toThrow(/orgs\.0\.slackTeams\.0/);
    expect(() => parseConfig('orgs:\n  - name: Acme\n    slackteams: [T0ACME]\n')).toThrow(/slackteams/);
  });
});
