// Human decisions survive automatic re-runs of the enrich stage, and `gleaner train` learns from them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEnrich } from '../../src/stages/enrich.js';
import { addTag, confirmItem, markNotFeedback, removeTag } from '../../src/store/curation.js';
import { listItems, loadHumanKindDecisions, type ListedItem } from '../../src/store/tagging.js';
import { retrainFromDecisions } from '../../src/models/retrain.js';
import { loadClassifierModel } from '../../src/models/classifier.js';
import { classify } from '../../src/pipeline/classify/index.js';
import { POSTS, tagApp, type TestApp } from './support.js';

const bySubject = (list: ListedItem[], s: string): ListedItem => list.find((i) => i.subject === s)!;

describe('human decisions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await tagApp();
    await t.importPosts(POSTS);
  }, 120_000);
  afterAll(async () => t?.app.close());

  it('win over every automatic re-run', async () => {
    const { app } = t;
    const before = await listItems(app.db);
    const login = bySubject(before, 'Login loop with Okta SSO');
    const pdf = bySubject(before, 'Feature request: export to PDF');
    const docs = bySubject(before, 'Docs: broken link');
    const purple = bySubject(before, 'the frobnicator glows purple');
    expect(login.tags).toContainEqual(expect.objectContaining({ tag: 'area:auth', provenance: 'rule' }));
    expect(pdf.tags).toContainEqual(expect.objectContaining({ tag: 'area:export', provenance: 'rule' }));

    t.clock.now += 60_000;
    await removeTag(app.db, login.id, 'area:auth', 'ada', t.clock.now);
    await addTag(app.db, login.id, 'customer:acme', 'ada', t.clock.now);
    await markNotFeedback(app.db, docs.id, 'bob', t.clock.now);
    await addTag(app.db, purple.id, 'kind:praise', 'cleo', t.clock.now);
    await removeTag(app.db, purple.id, `kind:${purple.kind}`, 'cleo', t.clock.now);
    await confirmItem(app.db, pdf.id, 'dan', t.clock.now);

    t.clock.now += 3_600_000;
    await runEnrich(app.ctx, { conversationIds: before.map((i) => i.conversationId) });
    await app.queue.idle({ timeoutMs: 60_000 });
    const after = await listItems(app.db);
    const active = (i: ListedItem) =>
      i.tags
        .filter((x) => x.state === 'active')
        .map((x) => `${x.tag}/${x.provenance}`)
        .sort();

    const login2 = bySubject(after, 'Login loop with Okta SSO');
    expect(active(login2)).not.toContain('area:auth/rule');
    expect(login2.tags).toContainEqual(expect.objectContaining({ tag: 'area:auth', provenance: 'human', state: 'removed', actor: 'ada', confidence: null }));
    expect(active(login2)).toContain('customer:acme/human');
    const docs2 = bySubject(after, 'Docs: broken link');
    expect(docs2.status).toBe('not_feedback');
    expect(docs2.tags).toContainEqual(expect.objectContaining({ tag: 'not-feedback', provenance: 'human', actor: 'bob' }));
    const purple2 = bySubject(after, 'the frobnicator glows purple');
    expect(purple2.kind).toBe('praise');
    expect(active(purple2)).toContain('kind:praise/human');
    expect(active(purple2)).not.toContain(`kind:${purple.kind}/model`);
    const pdf2 = bySubject(after, 'Feature request: export to PDF');
    expect(pdf2.status).toBe('confirmed');
    expect(active(pdf2)).toEqual(expect.arrayContaining(['area:export/human', 'kind:feature/human']));
    // Decisions keep who and when.
    const removal = login2.tags.find((x) => x.tag === 'area:auth' && x.provenance === 'human')!;
    expect(removal.actor).toBe('ada');
  }, 120_000);

  it('train: a model retrained from them changes a prediction a human corrected', async () => {
    const decisions = await loadHumanKindDecisions(t.app.db);
    expect(decisions.map((d) => `${d.label}/${d.source}`).sort()).toEqual(['feature/kind-tag', 'none/not-feedback', 'praise/kind-tag']);
    const purple = decisions.find((d) => d.label === 'praise')!;
    const input = { ...(purple.title ? { title: purple.title } : {}), text: purple.text };
    const shipped = loadClassifierModel();
    expect(classify(shipped, input).kind).not.toBe('praise');
    const r = await retrainFromDecisions(t.app.db, { nlbsePath: '/nonexistent/issues_train.csv' });
    expect(r.notes[0]).toContain('not here');
    expect(r.counts).toMatchObject({ nlbse: 0, human: 3, humanByLabel: { praise: 1, none: 1, feature: 1 } });
    expect(r.model.version).toMatch(/^classifier-local-0n-\d+o-3h-[0-9a-f]{8}$/);
    expect(classify(r.model, input).kind).toBe('praise');
    const docs = decisions.find((d) => d.label === 'none')!;
    expect(classify(r.model, { ...(docs.title ? { title: docs.title } : {}), text: docs.text }).isFeedback).toBe(false);
  }, 120_000);
});
