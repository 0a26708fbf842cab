// Who is the project's, as the store tells detection: a sender at the domain hosting the list, and the
// people who call release votes or cast binding ones, are staff; their own threads raise no item.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestBatch } from '../../src/stages/ingest-batch.js';
import { ensureSource } from '../../src/store/queries.js';
import { loadConversationMessages, loadMaintainers } from '../../src/store/feedback.js';
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
  msg({ externalId, globalKey: externalId, channel: LIST, author: { id: from, email: from, name: from.split('@')[0] }, subject, text, cleanText: text, sentAt: T0 + minutes * 60_000, replyTo, references: replyTo ? [replyTo] : [] });

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
    const maintainers = await loadMaintainers(store.db);
    const convs = await store.db.selectFrom('conversations').select(['id', 'subject']).execute();
    const loaded = await loadConversationMessages(store.db, convs.map((c) => c.id), maintainers);
    const staffBySubject = new Map<string, boolean[]>();
    for (const c of convs) staffBySubject.set(c.subject ?? '', (loaded.get(c.id) ?? []).map((m) => m.isStaff ?? false));
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
    // Without the roles, the maintainers' own posts would have been taken for feedback.
    const plain = await loadConversationMessages(store.db, convs.map((c) => c.id));
    const d1 = convs.find((x) => x.subject === 'Next steps for Foo 2.0')!;
    expect(plain.get(d1.id)!.map((m) => m.isStaff)).toEqual([false]);
    expect(detectFeedback(model, plain.get(d1.id)!, [], 'r')?.isFeedback).toBe(true);
  });
});
