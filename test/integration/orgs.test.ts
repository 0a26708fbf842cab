// Organisations from the platforms: a Slack Connect guest (user_team T0ACME) and a Discord member holding
// the Acme role count under Acme's segment; a member holding the Moderator role is staff and never a
// reporter. Read through the real Slack WebClient and @discordjs/rest from the local fakes, stored,
// enriched and clustered in-process, then the digest JSON is built.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, startWorkers, type App } from '../../src/app.js';
import { parseConfig, type SourceConfig } from '../../src/config/index.js';
import { pullSource } from '../../src/runner/pull.js';
import { QUEUE_NAMES } from '../../src/queue/port.js';
import { buildDigest } from '../../src/digest/build.js';
import { parseRange } from '../../src/pipeline/period.js';
import { listPeopleWithIdentities } from '../../src/store/people.js';
import { resolveOrgs } from '../../src/stages/people.js';
import type { DigestCluster } from '../../src/model/index.js';
import { FakeSlack } from '../fakes/slack.js';
import { FakeDiscord, type FakeUser } from '../fakes/discord.js';
import { tempDir } from '../support/factories.js';

const T0 = Date.parse('2026-10-05T09:00:00Z');
const PERIOD = parseRange('2026-10-05', '2026-10-11');

let slack: FakeSlack;
let discord: FakeDiscord;
let app: App;
let csv: DigestCluster;
let dan: FakeUser;
let sources: SourceConfig[];

const pullAll = async () => {
  for (const s of sources) expect((await pullSource(app, s, new AbortController().signal)).error).toBeNull();
  await app.queue.idle();
};
const person = async (name: string) => (await listPeopleWithIdentities(app.db)).find((p) => p.name === name)!;

beforeAll(async () => {
  let slackNow = T0;
  slack = await FakeSlack.start({ now: () => slackNow });
  discord = await FakeDiscord.start({ startMs: T0 + 3_600_000, stepMs: 60_000 });
  const acmeRole = discord.addRole('Acme');
  const modRole = discord.addRole('Moderator');

  const help = slack.addChannel({ name: 'help' });
  slack.addUser({ id: 'U0BOB', name: 'bob', real_name: 'Bob Acme', team_id: 'T0ACME' }); // Slack Connect guest
  slack.addUser({ id: 'U0CARA', name: 'cara', real_name: 'Cara Lind' });
  const root = slack.post(help.id, { user: 'U0BOB', text: 'The CSV export fails with a timeout on large projects. We cannot export our project data at all.' });
  slackNow += 120_000;
  slack.reply(help.id, root, { user: 'U0CARA', text: 'Same here, the CSV export times out on our large project too.' });

  const support = discord.addChannel('support');
  dan = discord.addUser({ id: '300000000000000021', username: 'dan', global_name: 'Dan Acme' }, [acmeRole]);
  const mia = discord.addUser({ id: '300000000000000022', username: 'mia', global_name: 'Mia Mod' }, [modRole]);
  const eve = discord.addUser({ id: '300000000000000023', username: 'eve', global_name: 'Eve Free' });
  const report = discord.post(support.id, { author: dan, content: 'CSV export fails with a timeout for our large project as well, the export never finishes.' });
  discord.post(support.id, { author: mia, content: '+1 same here, the CSV export is timing out on large projects.', replyTo: report.id });
  discord.post(support.id, { author: eve, content: 'Same here: the CSV export times out on large projects for me too.', replyTo: report.id });

  const config = parseConfig(`
orgs:
  - name: Acme
    segment: customer
    slackTeams: [T0ACME]
    discordRoles: [acme]              # by name, any case
  - name: Lumen team
    segment: staff
    discordRoles: ["${modRole}"]      # by id
`);
  sources = [
    { name: 'slack', platform: 'slack', enabled: true, token: slack.token, apiUrl: slack.url, retries: 0 },
    { name: 'discord', platform: 'discord', enabled: true, token: discord.token, guildId: discord.guild.id, apiUrl: discord.url, retries: 0 },
  ];
  app = await openApp({ configObject: config, db: join(tempDir(), 'orgs.db'), redisUrl: null, now: () => T0 + 2 * 86_400_000 });
  startWorkers(app, QUEUE_NAMES);
  await pullAll();
  const digest = await buildDigest(app.db, PERIOD, { top: 10, segments: config.segments });
  csv = digest.clusters.find((c) => c.quotes.some((q) => /CSV export/.test(q.text)) || /csv export/i.test(c.title))!;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await slack?.stop();
  await discord?.close();
});

describe('orgs from Slack Connect teams and Discord roles, through the pipeline', () => {
  it('the Slack Connect guest and the Acme role holder count as customers; the moderator does not count', () => {
    expect(csv).toBeDefined();
    const reporters = csv.evidence!.reporters.map((r) => r.name).sort();
    expect(reporters).toEqual(['Bob Acme', 'Cara Lind', 'Dan Acme', 'Eve Free']);
    expect(csv.segments).toEqual({ customer: 2, community: 2 });
    expect(csv.reporters).toBe(4);
    expect(csv.evidence!.segments.customer!.orgs).toEqual(['Acme']);
    expect(csv.why).toMatch(/2 of them from customers \(Acme\)/);
  });

  it('each person records the rule that placed them', async () => {
    expect((await person('Bob Acme')).orgEvidence).toEqual({ rule: 'slack-team', org: 'Acme', detail: { identity: 'slack:U0BOB', team: 'T0ACME' } });
    expect((await person('Dan Acme')).orgEvidence).toMatchObject({ rule: 'discord-role', org: 'Acme', detail: { identity: `discord:${dan.id}` } });
    expect((await person('Cara Lind')).orgEvidence).toEqual({ rule: null, org: null });
    const mia = await person('Mia Mod');
    expect(mia.isStaff).toBe(true);
    expect(mia.orgEvidence).toMatchObject({ rule: 'discord-role', org: 'Lumen team', staff: { rule: 'org-segment', org: 'Lumen team' } });
  });

  it('a role taken away: the next message carries the new roles and the person is resolved again', async () => {
    discord.setRoles(dan.id, []);
    discord.post(discord.firstTextChannel().id, { author: dan, content: 'thanks, we will wait for the fix' });
    await pullAll();
    expect((await person('Dan Acme')).identities[0]!.orgHints).toEqual({ roles: [] });
    await resolveOrgs(app.db, { people: app.config.people, orgs: app.config.orgs }, 'unresolved', app.ctx.now());
    const now = await person('Dan Acme');
    expect(now.org).toBeNull();
    expect(now.orgEvidence).toEqual({ rule: null, org: null });
  });
});
