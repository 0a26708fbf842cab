// The tag inbox a community manager needs: who wrote each item (author, org, segment, staff marked),
// its subject, the need's words first and the rest folded; staff's and bots' items left out unless asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untaggedItems, pendingInboxCount } from '../../src/store/curation.js';
import { inboxView } from '../../src/web/routes/inbox.js';
import { seededApp, type Seeded } from './seed.js';

let s: Seeded;

const LONG_MAIL = [
  'Hi all,',
  '',
  'the search box ignores accents: searching for "resume" does not find',
  '"résumé", and our French users cannot find half of their documents.',
  '',
  'On Mon, 2 Nov 2026, Dan wrote:',
  '> Is search broken for anyone else?',
  '',
  ...Array.from({ length: 30 }, (_, k) => `Log line ${k}: query=resume hits=0 took=${k}ms and nothing else of note here.`),
  '',
  '-- ',
  'Bob, Example Org (tel:+1 555 0100)',
].join('\n');

beforeAll(async () => {
  s = await seededApp();
  const db = s.app.db;
  const [staffItem, mailItem] = s.items.inbox;
  const cleo = await db.selectFrom('identities').select('id').where('value', '=', 'U03CLEO').executeTakeFirstOrThrow();
  const msgOf = async (item: number) => (await db.selectFrom('feedback_items').select('message_id').where('id', '=', item).executeTakeFirstOrThrow()).message_id;
  await db
    .updateTable('messages')
    .set({ identity_id: cleo.id })
    .where('id', '=', await msgOf(staffItem!))
    .execute();
  await db
    .updateTable('messages')
    .set({ clean_text: LONG_MAIL, subject: 'Re: [dev] Search ignores accents' })
    .where('id', '=', await msgOf(mailItem!))
    .execute();
}, 60_000);
afterAll(async () => {
  await s?.app.close();
});

describe('tag inbox', () => {
  it('leaves staff’s and bots’ items out by default, and lists them, marked, when asked', async () => {
    const [staffItem] = s.items.inbox;
    const people = await untaggedItems(s.app.db, 50, 0);
    expect(people.map((i) => i.id)).not.toContain(staffItem);
    expect(people.every((i) => i.segment !== 'staff' && i.segment !== 'bot')).toBe(true);
    const all = await untaggedItems(s.app.db, 50, 0, { staffAndBots: true });
    const staff = all.find((i) => i.id === staffItem)!;
    expect(staff.segment).toBe('staff');
    expect(inboxView(staff).staff).toBe(true);
    expect(await pendingInboxCount(s.app.db, { staffAndBots: true })).toBe((await pendingInboxCount(s.app.db)) + 1);
  });

  it('shows author, org, segment and subject, and the need’s words first with the rest folded', async () => {
    const [, mailItem] = s.items.inbox;
    const item = (await untaggedItems(s.app.db, 50, 0)).find((i) => i.id === mailItem)!;
    expect(item.author).toBe('Bob');
    expect(item.segment).toBe('community');
    expect(item.subject).toBe('Re: [dev] Search ignores accents');
    const dan = (await untaggedItems(s.app.db, 50, 0)).find((i) => i.author === 'Dan')!;
    expect(dan.org).toBe('OSS Foundation');
    expect(dan.segment).toBe('partner');
    const v = inboxView(item);
    expect(v.lead.startsWith('Hi all, the search box ignores accents: searching for "resume" does not find "résumé", and our French users cannot find half of their documents.')).toBe(true);
    expect(v.lead).not.toMatch(/wrote:|Is search broken|tel:|^-- /);
    expect(v.lead.length).toBeLessThanOrEqual(600);
    expect(v.folded).toBe(true);
  });
});
