// The enrich stage's save plan, pure: human decisions win, a removed tag never comes back, a merged-away
// conversation gets no item, a conversation listed twice is saved over its first result.
import { describe, expect, it } from 'vitest';
import { detectionReads, detectionRuns, planDetections } from '../../src/pipeline/enrich-plan.js';
import type { DetectionToSave, StoredItem } from '../../src/model/enrich.js';
import type { DetectedFeedback } from '../../src/model/records.js';

const d = (messageId: number, over: Partial<DetectedFeedback> = {}): DetectedFeedback => ({
  messageId,
  isFeedback: true,
  kind: 'bug',
  kindConfidence: 0.9,
  feedbackConfidence: 0.9,
  sentiment: 'negative',
  modelVersion: 'm1',
  tags: [
    { tag: 'area:sso', provenance: 'rule', confidence: null, version: 'r1' },
    { tag: 'area:csv', provenance: 'model', confidence: 0.7, version: 'm1' },
  ],
  ...over,
});
const noHuman = { tagged: new Set<number>(), removed: new Map<number, Set<string>>() };

describe('enrich save plan', () => {
  it('inserts new feedback, updates an automatic item, keeps human decisions and drops what is no longer feedback', () => {
    const existing = new Map<number, StoredItem>([
      [2, { id: 20, status: 'auto' }],
      [3, { id: 30, status: 'not_feedback' }],
      [4, { id: 40, status: 'confirmed' }],
      [5, { id: 50, status: 'auto' }],
      [6, { id: 60, status: 'auto' }],
    ]);
    const run: DetectionToSave[] = [
      { conversationId: 1, detected: d(101), summary: { text: 'new', version: 's1' } },
      { conversationId: 2, detected: d(102, { kind: 'feature' }), summary: { text: 'upd', version: 's1' } },
      { conversationId: 3, detected: d(103) },
      { conversationId: 4, detected: d(104, { kind: 'question' }) },
      { conversationId: 5, detected: null },
      { conversationId: 6, detected: d(106, { isFeedback: false }) },
      { conversationId: 7, detected: d(107) },
    ];
    expect(detectionReads(run, existing)).toEqual({ humanTagsOf: [20, 40, 50, 60], aliveOf: [1, 7] });
    // Item 40: a human removed area:csv; item 60: a human tagged it, so it stays although not feedback.
    const human = { tagged: new Set([40, 60]), removed: new Map([[40, new Set(['area:csv'])]]) };
    const plan = planDetections(run, existing, human, new Set([1])); // conversation 7 merged away
    expect([...plan.result]).toEqual([
      [2, 20],
      [3, null],
      [4, 40],
      [5, null],
      [6, 60],
      [7, null],
    ]);
    expect(plan.untag).toEqual([20, 40, 50, 60]);
    expect(plan.drop).toEqual([50]);
    expect(plan.update.map((u) => [u.id, u.detected.kind])).toEqual([[20, 'feature']]);
    expect(plan.insert.map((i) => [i.conversationId, i.summary?.text])).toEqual([[1, 'new']]);
    expect(plan.tags.map((t) => `${t.itemId ?? `c${t.conversationId}`}:${t.tag.tag}`)).toEqual(['c1:area:sso', 'c1:area:csv', '20:area:sso', '20:area:csv', '40:area:sso']);
    expect(plan.summaries).toEqual([{ id: 20, text: 'upd', version: 's1' }]);
  });

  it('cuts a list at a conversation listed again, so the later detection is saved over the first', () => {
    const list: DetectionToSave[] = [1, 2, 1, 3, 3].map((c, i) => ({ conversationId: c, detected: d(i) }));
    expect(detectionRuns(list).map((r) => r.map((e) => e.conversationId))).toEqual([[1, 2], [1, 3], [3]]);
    expect(planDetections(detectionRuns(list)[0]!, new Map(), noHuman, new Set([1, 2])).insert.map((i) => i.conversationId)).toEqual([1, 2]);
  });
});
