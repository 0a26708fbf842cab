// The person page: an identity's first seen is its first message (not the import), the link evidence
// reads as sentences with dates (not JSON with epoch milliseconds), and the person to merge in is
// found by name; community names stay inert.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildWebApp } from '../../src/web/app.js';
import { evidenceSentences } from '../../src/web/evidence.js';
import { personDetail } from '../../src/store/web/people.js';
import { BASE, PASSWORDS, seededApp, type Seeded } from './seed.js';
import { get, loginAs, post, type Agent } from './agent.js';

const DAY = 86_400_000;
let s: Seeded;
let web: FastifyInstance;
let curator: Agent;
const clock = BASE + 30 * DAY;

beforeAll(async () => {
  s = await seededApp(() => clock);
  web = buildWebApp(s.app, { now: () => clock });
  await web.ready();
  const r = await loginAs(web, 'curator', PASSWORDS.curator);
  expect(r.res.statusCode).toBe(303);
  curator = r.agent;
}, 60_000);

afterAll(async () => {
  await web?.close();
  await s?.app.close();
});

const ymd = (t: number) => new Date(t).toISOString().slice(0, 10);

describe('the person page', () => {
  it("shows an identity's first message as its first seen, not the import date", async () => {
    const ada = (await personDetail(s.app.db, s.people.ada))!;
    const slack = ada.identities.find((i) => i.value === 'U01ADA')!;
    const first = await s.app.db
      .selectFrom('messages')
      .select((eb) => eb.fn.min<number>('sent_at').as('t'))
      .where('identity_id', '=', slack.id)
      .executeTakeFirstOrThrow();
    expect(slack.firstMessageAt).toBe(Number(first.t));
    expect(ymd(Number(first.t))).not.toBe(ymd(slack.createdAt)); // the seed imports before the messages were sent
    const body = (await get(web, curator, `/people/${s.people.ada}`)).body;
    expect(body).toContain(`first seen <time datetime="${new Date(Number(first.t)).toISOString()}">${ymd(Number(first.t))}</time>`);
    expect(body).not.toContain(`first seen ${ymd(slack.createdAt)}`);
    // An identity with no message kept says so.
    expect(body).toContain(`no messages kept; imported ${ymd(slack.createdAt)}`);
  });

  it('shows the link evidence as sentences with dates, not JSON with epoch milliseconds', async () => {
    const body = (await get(web, curator, `/people/${s.people.ada}`)).body;
    expect(body).toContain(`Linked on ${ymd(BASE)} because it has the same email address (ada@acme.com) as another identity of this person (rule same-email).`);
    expect(body).not.toContain('&quot;rule&quot;');
    expect(body).not.toMatch(/\b\d{13}\b/);
    expect(
      evidenceSentences(
        JSON.stringify({
          rule: 'manual-unmerge',
          actor: 'cur',
          at: Date.UTC(2026, 11, 1),
          fromPerson: 4,
          previous: {
            rule: 'manual-merge',
            actor: 'ann',
            at: Date.UTC(2026, 10, 20),
            fromPerson: 7,
            fromName: 'Bo',
            previous: { rule: 'config', entry: 'email:x@y.z', person: 'Bo B', at: Date.UTC(2026, 10, 3) },
          },
        }),
        0,
      ),
    ).toEqual([
      'Split off on 2026-12-01 by cur from person 4 into a person of its own.',
      'Merged in on 2026-11-20 by ann from Bo (person 7).',
      'Linked on 2026-11-03 by the people: entry "Bo B" in the config (it lists email:x@y.z).',
    ]);
    expect(evidenceSentences('not json', 0)).toEqual(['not json']);
    expect(evidenceSentences(JSON.stringify({ rule: 'same-slack-profile-email', email: 'a@b.c' }), Date.UTC(2026, 0, 5))).toEqual([
      'Linked on 2026-01-05 because its Slack profile email (a@b.c) is the email of another identity of this person (rule same-slack-profile-email).',
    ]);
  });

  it('finds the person to merge in by name, merges them, and records the merge as a sentence', async () => {
    const page = (await get(web, curator, `/people/${s.people.ada}`)).body;
    expect(page).toContain('name="merge_q"');
    expect(page).not.toMatch(/name="from" type="number"/);
    const found = (await get(web, curator, `/people/${s.people.ada}?merge_q=bob`)).body;
    expect(found).toContain(`<input type="hidden" name="from" value="${s.people.bob}">`);
    expect(found).toContain(`aria-label="Merge Bob (person ${s.people.bob}) into Ada Lovelace"`);
    expect(found).not.toContain(`name="from" value="${s.people.ada}"`); // never oneself
    expect((await get(web, curator, `/people/${s.people.ada}?merge_q=zzzz-nobody`)).body).toContain('Nobody else matches “zzzz-nobody”.');
    // A hostile name among the results stays text.
    const hostile = (await get(web, curator, `/people/${s.people.ada}?merge_q=Mallory`)).body;
    expect(hostile).toContain(`name="from" value="${s.people.mallory}"`);
    expect(hostile).not.toMatch(/<img src=y/);
    // Viewers see no merge.
    const viewer = (await loginAs(web, 'viewer', PASSWORDS.viewer)).agent;
    expect((await get(web, viewer, `/people/${s.people.ada}?merge_q=bob`)).body).not.toContain('name="from"');
    const r = await post(web, curator, `/people/${s.people.ada}/merge`, { from: String(s.people.bob) });
    expect(r.headers.location).toBe(`/people/${s.people.ada}?done=people_merged`);
    const after = (await get(web, curator, `/people/${s.people.ada}`)).body;
    expect(after).toContain(`Merged in on ${ymd(clock)} by curator from Bob (person ${s.people.bob}).`);
  });
});
