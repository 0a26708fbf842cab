// Tag suggestions from human-tagged neighbours: pure behaviour, and in the enrich stage (stored as
// `model` tags with version suggest-1 and a confidence, never overriding a human removal).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTagSuggester, type HumanTaggedExample } from '../../src/pipeline/suggest.js';
import { runEnrich } from '../../src/stages/enrich.js';
import { SUGGESTER_REFRESH_MS } from '../../src/stages/tagging.js';
import { addTag, removeTag } from '../../src/store/curation.js';
import { listItems, type ListedItem } from '../../src/store/tagging.js';
import { tagApp, type Post, type TestApp } from './support.js';

const EXPORT_POSTS: Post[] = [
  { subject: 'PDF export cuts off wide tables', body: 'When I export a report with more than 12 columns to PDF the right side of the report is cut off.' },
  { subject: 'CSV export mangles accented names', body: 'Exporting the usage report to CSV turns all accented names into question marks.' },
  { subject: 'Export to PDF times out', body: 'Exporting the yearly usage report to PDF spins for minutes and then times out.' },
  { subject: 'Scheduled report export is empty', body: 'The weekly scheduled report export arrives as an empty PDF attachment.' },
];
const LOGIN_POSTS: Post[] = [
  { subject: 'SSO login fails after certificate rotation', body: 'Since we rotated our IdP certificate every SSO login fails with invalid signature.' },
  { subject: 'Login page loops', body: 'The login page keeps redirecting to itself after I enter my password.' },
];
const NEW_EXPORT: Post = { subject: 'Usage report PDF export is blank', body: 'Exporting the usage report to PDF gives a blank page since this morning.' };

describe('createTagSuggester', () => {
  const ex = (conversationId: number, text: string, tags: string[]): HumanTaggedExample => ({ conversationId, text, tags });
  const examples = [
    ex(1, 'pdf export of the usage report cuts off columns', ['team:reporting', 'kind:bug']),
    ex(2, 'csv export of the usage report breaks unicode', ['team:reporting']),
    ex(3, 'exporting the report to pdf times out', ['team:reporting', 'customer:acme']),
    ex(4, 'sso login fails with invalid signature', ['team:identity']),
    ex(5, 'login page loops back to itself', ['team:identity']),
  ];

  it('suggests tags the nearest human-tagged items share, with a weighted-vote confidence', () => {
    const s = createTagSuggester(examples);
    const out = s.suggest({ text: 'the usage report pdf export shows a blank page' });
    expect(out.map((x) => x.tag)).toEqual(['team:reporting']);
    expect(out[0]!.confidence).toBeGreaterThan(0.5);
    expect(out[0]!.confidence).toBeLessThanOrEqual(1);
    expect(out[0]!.votes).toBeGreaterThanOrEqual(2);
  });

  it('only suggests tags humans used at least N times, never kind or not-feedback, and not from the item itself', () => {
    const s = createTagSuggester(examples, { minTagCount: 3 });
    expect(s.suggest({ text: 'sso login fails with invalid signature' })).toEqual([]); // team:identity seen twice
    const two = createTagSuggester(examples, { minTagCount: 2 });
    expect(two.suggest({ text: 'sso login fails with invalid signature again' }).map((x) => x.tag)).toEqual(['team:identity']);
    expect(two.suggest({ text: 'sso login fails with invalid signature' }, 4).map((x) => x.tag)).toEqual([]); // one vote left
    const kinds = createTagSuggester([ex(1, 'a b c', ['kind:bug']), ex(2, 'a b c', ['kind:bug']), ex(3, 'a b c', ['kind:bug'])]);
    expect(kinds.suggest({ text: 'a b c' })).toEqual([]);
    expect(createTagSuggester([]).suggest({ text: 'anything' })).toEqual([]);
  });
});

describe('suggestions in the enrich stage', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await tagApp();
    await t.importPosts([...EXPORT_POSTS, ...LOGIN_POSTS]);
  }, 120_000);
  afterAll(async () => t?.app.close());

  const find = (list: ListedItem[], subject: string) => list.find((i) => i.subject === subject)!;

  it('appear on similar new items with confidences and never override a human removal', async () => {
    const { app } = t;
    const items = await listItems(app.db);
    for (const p of EXPORT_POSTS.slice(0, 3)) await addTag(app.db, find(items, p.subject).id, 'team:reporting', 'ada', t.clock.now);
    for (const p of LOGIN_POSTS) await addTag(app.db, find(items, p.subject).id, 'team:identity', 'ada', t.clock.now);

    // Human-tagged examples are loaded once per process and refreshed periodically.
    t.clock.now += SUGGESTER_REFRESH_MS + 1;
    await t.importPosts([NEW_EXPORT]);
    let fresh = find(await listItems(app.db), NEW_EXPORT.subject);
    const suggested = fresh.tags.filter((x) => x.version === 'suggest-1');
    expect(suggested.map((x) => x.tag)).toEqual(['team:reporting']); // team:identity is below 3 uses
    expect(suggested[0]).toMatchObject({ provenance: 'model', state: 'active', actor: null });
    expect(suggested[0]!.confidence).toBeGreaterThan(0.5);
    // The untagged export item is suggested too; the human-tagged ones keep only their human tag.
    const fourth = find(await listItems(app.db), EXPORT_POSTS[3]!.subject);
    expect(fourth.tags.some((x) => x.tag === 'team:reporting')).toBe(false); // not re-enriched yet

    await removeTag(app.db, fresh.id, 'team:reporting', 'bob', t.clock.now);
    t.clock.now += SUGGESTER_REFRESH_MS + 1;
    const all = await listItems(app.db);
    await runEnrich(app.ctx, { conversationIds: all.map((i) => i.conversationId) });
    await app.queue.idle({ timeoutMs: 60_000 });
    const after = await listItems(app.db);
    fresh = find(after, NEW_EXPORT.subject);
    expect(fresh.tags.filter((x) => x.tag === 'team:reporting')).toEqual([expect.objectContaining({ provenance: 'human', state: 'removed', actor: 'bob' })]);
    expect(find(after, EXPORT_POSTS[3]!.subject).tags).toContainEqual(expect.objectContaining({ tag: 'team:reporting', provenance: 'model', version: 'suggest-1' }));
    // A human-tagged item is not its own neighbour: no model copy of its human tag.
    for (const p of EXPORT_POSTS.slice(0, 3)) {
      const tags = find(after, p.subject).tags.filter((x) => x.tag === 'team:reporting');
      expect(tags.map((x) => x.provenance)).toEqual(['human']);
    }
  }, 180_000);
});
