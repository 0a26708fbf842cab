// Who is the project's, as the store tells detection: a sender at the domain hosting the list, and the
// people who call release votes or cast binding ones, are staff; their own threads raise no item.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestBatch } from '../../src/stages/ingest-batch.js';
import { ensureSource } from '../../src/store/queries.js';
import { loadConversationMessages } from '../../src/store/feedback.js';
import { resolveOrgs } from '../../src/stages/people.js';
import { detectFeedback } from '../../src/pipeline/feedback.js';
import { loadClassifierModel } from '../../src/models/classifier.js';
import type { OpenedDb } from '../../src/store/db.js';
import { freshStore, msg } from '../support/factories.js';

const T0 = Date.UTC(2026, 4, 11, 9, 0, 0);
const LIST = 'dev.foo.example.org';
let store: OpenedDb;
beforeEach(async () => {
  store = await freshStore();
});
afterEach(async () => {
  await store.close();
});

const mail = (externalId: string, from: string, subject: string, text: string, minutes: number, replyTo: string | null = null) =>
  msg({
    externalId,
    globalKey: externalId,
    channel: LIST,
    author: { id: from, email: from, name: from.split('@')[0] },
    subject,
    text,
    cleanText: text,
    sentAt: T0 + minutes * 60_000,
    replyTo,
    references: replyTo ? [replyTo] : [],
  });

describe('project roles from the list itself', () => {
  it('a release manager, a binding voter and a list-domain sender are staff; a user is not', async () => {
    const src = await ensureSource(store.db, 'mail', 'mail', T0);
    await ingestBatch(
      store.db,
      {
        sourceId: src,
        platform: 'mail',
        messages: [
          mail('v1@x', 'rm@gmail.example', '[VOTE] Release Foo 1.2.0', 'Please vote on releasing Foo 1.2.0. The vote is open for 72 hours.', 0),
          mail('v2@x', 'pmc@fastmail.example', 'Re: [VOTE] Release Foo 1.2.0', '+1 (binding)', 10, 'v1@x'),
          mail('v3@x', 'user@mail.example', 'Re: [VOTE] Release Foo 1.2.0', '+1 (non-binding)', 20, 'v1@x'),
          mail('d1@x', 'pmc@fastmail.example', 'Next steps for Foo 2.0', 'I propose we move the resolver into its own module and drop Java 7 support for 2.0, opinions welcome.', 60),
          mail('d2@x', 'dev@example.org', 'Jenkins UX', 'The new pipeline view is much better, I would like to enable it for every job.', 70),
          mail('u1@x', 'user@mail.example', 'Build fails on Windows', 'Since 1.2.0 the build fails on Windows with a path too long error in the resolver.', 80),
        ],
        normalizerVersion: 1,
      },
      T0,
    );
    const convs = await store.db.selectFrom('conversations').select(['id', 'subject']).execute();
    // Without the roles resolved, the maintainers' own posts would be taken for feedback.
    const plain = await loadConversationMessages(
      store.db,
      convs.map((c) => c.id),
    );
    await resolveOrgs(store.db, { people: [], orgs: [] }, 'all', T0);
    const loaded = await loadConversationMessages(
      store.db,
      convs.map((c) => c.id),
    );
    const staffBySubject = new Map<string, boolean[]>();
    for (const c of convs)
      staffBySubject.set(
        c.subject ?? '',
        (loaded.get(c.id) ?? []).map((m) => m.isStaff ?? false),
      );
    expect(staffBySubject.get('[VOTE] Release Foo 1.2.0')).toEqual([true, true, false]);
    expect(staffBySubject.get('Next steps for Foo 2.0')).toEqual([true]);
    expect(staffBySubject.get('Jenkins UX')).toEqual([true]);
    expect(staffBySubject.get('Build fails on Windows')).toEqual([false]);

    const model = loadClassifierModel();
    const verdict = (subject: string) => {
      const c = convs.find((x) => x.subject === subject)!;
      return detectFeedback(model, loaded.get(c.id)!, [], 'r')?.isFeedback;
    };
    expect(verdict('Next steps for Foo 2.0')).toBe(false);
    expect(verdict('Jenkins UX')).toBe(false);
    expect(verdict('Build fails on Windows')).toBe(true);
    const d1 = convs.find((x) => x.subject === 'Next steps for Foo 2.0')!;
    expect(plain.get(d1.id)!.map((m) => m.isStaff)).toEqual([false]);
    expect(detectFeedback(model, plain.get(d1.id)!, [], 'r')?.isFeedback).toBe(true);
  });
});

describe('a role shown later', () => {
  it('a plain vote makes its caster staff, and the thread they started before is detected again', async () => {
    const { openApp } = await import('../../src/app.js');
    const { runEnrich } = await import('../../src/stages/enrich.js');
    const { tempDir } = await import('../support/factories.js');
    const app = await openApp({ db: `${tempDir()}/roles.db`, redisUrl: null });
    try {
      const src = await ensureSource(app.db, 'mail', 'mail', T0);
      const ingest = (messages: ReturnType<typeof mail>[]) => ingestBatch(app.db, { sourceId: src, platform: 'mail', messages, normalizerVersion: 1 }, T0);
      const convOf = async (externalId: string) => (await app.db.selectFrom('messages').select('conversation_id').where('external_id', '=', externalId).executeTakeFirstOrThrow()).conversation_id!;
      const itemOf = async (conversationId: number) => app.db.selectFrom('feedback_items').select('id').where('conversation_id', '=', conversationId).executeTakeFirst();
      // A committer writing from a personal address proposes work: read alone, it looks like a feature request.
      await ingest([
        mail(
          'p1@x',
          'committer@home.example',
          'Parallel resolver',
          'I would like to add a parallel dependency resolver so that large builds download artifacts faster; it would be great to have it in 2.0.',
          0,
        ),
      ]);
      const proposal = await convOf('p1@x');
      await runEnrich(app.ctx, { conversationIds: [proposal] }, { followUp: false });
      expect(await itemOf(proposal)).toBeDefined();
      // Days later the same address casts a plain vote (no "non-binding"): a committee member.
      await ingest([
        mail('v1@x', 'rm@home2.example', '[VOTE] Release Foo 1.3.0', 'Please vote on releasing Foo 1.3.0.', 3000),
        mail('v2@x', 'committer@home.example', 'Re: [VOTE] Release Foo 1.3.0', '+1', 3010, 'v1@x'),
        mail('v3@x', 'fan@mail.example', 'Re: [VOTE] Release Foo 1.3.0', '+1 (non-binding), works for us', 3020, 'v1@x'),
      ]);
      const vote = await convOf('v1@x');
      await runEnrich(app.ctx, { conversationIds: [vote] }, { followUp: false });
      const people = await app.db.selectFrom('people as p').innerJoin('identities as i', 'i.person_id', 'p.id').select(['i.value', 'p.is_staff', 'p.org_evidence']).execute();
      const staff = new Map(people.map((p) => [p.value, p.is_staff]));
      expect(staff.get('committer@home.example')).toBe(1);
      expect(staff.get('rm@home2.example')).toBe(1);
      expect(staff.get('fan@mail.example')).toBe(0);
      expect(JSON.parse(people.find((p) => p.value === 'committer@home.example')!.org_evidence!).staff.rule).toBe('binding-vote');
      // The earlier thread is owed a new detection, and gets it: no item any more.
      const pending = await app.db.selectFrom('conversations').select('enrich_pending').where('id', '=', proposal).executeTakeFirstOrThrow();
      expect(pending.enrich_pending).toBeGreaterThan(0);
      await runEnrich(app.ctx, { conversationIds: [proposal] }, { followUp: false });
      expect(await itemOf(proposal)).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

// The same process enriching job after job (as a worker or `listen` does): once placed, a person is
// placed again only when their new messages in a job carry a role signal, and then their earlier
// threads are detected again.
describe('a role shown in a later batch, one process', () => {
  const question = (from: string) =>
    mail('q1@x', from, 'Parallel resolver', 'How can I get a parallel dependency resolver so that large builds download artifacts faster? It would be great to have it in 2.0.', 0);
  const cases: Array<{ name: string; rule: string; first: (from: string) => ReturnType<typeof mail>[]; later: (from: string) => ReturnType<typeof mail>[] }> = [
    {
      name: 'they call a [VOTE]',
      rule: 'vote-caller',
      first: (from) => [question(from)],
      later: (from) => [mail('v1@x', from, '[VOTE] Release Foo 1.3.0', 'Please vote on releasing Foo 1.3.0. The vote is open for 72 hours.', 3000)],
    },
    {
      name: 'they cast a binding vote',
      rule: 'binding-vote',
      first: (from) => [question(from)],
      later: (from) => [
        mail('v1@x', 'rm@home2.example', '[VOTE] Release Foo 1.3.0', 'Please vote on releasing Foo 1.3.0.', 3000),
        mail('v2@x', from, 'Re: [VOTE] Release Foo 1.3.0', '+1 (binding)', 3010, 'v1@x'),
      ],
    },
    {
      name: 'a second thread they start speaks for the project',
      rule: 'project-voice',
      first: (from) => [
        mail(
          'q1@x',
          from,
          'Parallel resolver',
          'I would like a parallel dependency resolver so that large builds download artifacts faster. I propose we ship it in 2.0, it would be great to have.',
          0,
        ),
      ],
      later: (from) => [mail('s1@x', from, 'Foo 2.0 progress', 'Here is the current status of 2.0: the new resolver is in, the docs still need work before the release.', 3000)],
    },
  ];
  it.each(cases)('$name: staff after the later batch, and the earlier thread is no item', async ({ rule, first, later }) => {
    const { openApp } = await import('../../src/app.js');
    const { runEnrich } = await import('../../src/stages/enrich.js');
    const { tempDir } = await import('../support/factories.js');
    const app = await openApp({ db: `${tempDir()}/roles-later.db`, redisUrl: null });
    const who = 'lead@home.example';
    try {
      const src = await ensureSource(app.db, 'mail', 'mail', T0);
      const convIds = async () => (await app.db.selectFrom('conversations').select('id').where('enrich_pending', '>', 0).orderBy('id').execute()).map((c) => c.id);
      const round = async (messages: ReturnType<typeof mail>[]) => {
        await ingestBatch(app.db, { sourceId: src, platform: 'mail', messages, normalizerVersion: 1 }, T0);
        await runEnrich(app.ctx, { conversationIds: await convIds() }, { followUp: false });
      };
      const person = async () =>
        app.db.selectFrom('people as p').innerJoin('identities as i', 'i.person_id', 'p.id').select(['p.is_staff', 'p.org_evidence']).where('i.value', '=', who).executeTakeFirstOrThrow();
      await round(first(who));
      const earlier = (await app.db.selectFrom('messages').select('conversation_id').where('external_id', '=', 'q1@x').executeTakeFirstOrThrow()).conversation_id!;
      expect(await app.db.selectFrom('feedback_items').select('id').where('conversation_id', '=', earlier).executeTakeFirst()).toBeDefined();
      expect((await person()).is_staff).toBe(0);
      await round(later(who));
      const p = await person();
      expect(p.is_staff).toBe(1);
      expect(JSON.parse(p.org_evidence!).staff.rule).toBe(rule);
      // The earlier thread is pending again; the next job (as the queue's next enrich) detects it again.
      const pending = await convIds();
      expect(pending).toContain(earlier);
      await runEnrich(app.ctx, { conversationIds: pending }, { followUp: false });
      expect(await app.db.selectFrom('feedback_items').select('id').where('conversation_id', '=', earlier).executeTakeFirst()).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});
