// The figures of `gleaner eval feedback` on a tiny hand-made labelled set with exact expected numbers,
// the label file's checks, and the join of labels to stored messages (Message-ID, Slack channel/ts, copies).
import { describe, expect, it } from 'vitest';
import {
  archiveKey,
  archivesFor,
  feedbackLines,
  feedbackReport,
  joinLabels,
  parseLabels,
  scoreFeedback,
  type CountedMessage,
  type LabelledMessage,
  type MessageLabel,
} from '../../src/eval/feedback.js';
import type { MessageKeyRow } from '../../src/store/message-keys.js';

const HEADER = 'archive,id,channel,feedback,kind,role,need,excerpt\n';

function label(id: string, feedback: boolean, need: string | null = null): MessageLabel {
  return { archive: 'a.mbox', id, channel: '', feedback, kind: feedback ? 'bug' : 'none', role: feedback ? 'reporter' : 'answerer', need: need && `a.mbox ${need}` };
}
const lm = (l: MessageLabel, messageId: number | null, conversationId: number | null, personId: number | null): LabelledMessage => ({ label: l, messageId, conversationId, personId });
const c = (clusterId: number, messageId: number, conversationId: number, personId: number): CountedMessage => ({ clusterId, messageId, conversationId, personId });

describe('scoreFeedback', () => {
  // need X: m1 and its author's follow-up m2 (conversation 10), m3 (conversation 20), m8 (conversation 60);
  // need Y: m4; need Z: m6, not in the store; m5 and m7 are not feedback.
  const labelled = [
    lm(label('m1', true, 'x'), 1, 10, 100),
    lm(label('m2', true, 'x'), 2, 10, 100),
    lm(label('m3', true, 'x'), 3, 20, 101),
    lm(label('m4', true, 'y'), 4, 30, 102),
    lm(label('m5', false), 5, 40, 103),
    lm(label('m6', true, 'z'), null, null, null),
    lm(label('m7', false), 7, 70, 106),
    lm(label('m8', true, 'x'), 8, 60, 105),
  ];
  // Cluster 1 counts m1, m3, m4; cluster 2 counts m5 and an unlabelled message 9; cluster 3 counts m8.
  const counted = [c(1, 1, 10, 100), c(1, 3, 20, 101), c(1, 4, 30, 102), c(2, 5, 40, 103), c(2, 9, 50, 104), c(3, 8, 60, 105)];

  it('gives the exact figures of the hand-made set', () => {
    const s = scoreFeedback(labelled, counted);
    // Counted and labelled: m1 m3 m4 m5 m8, of which m5 is not feedback.
    expect(s.precision).toBeCloseTo(4 / 5, 12);
    // Feedback: m1 m2 m3 m4 m6 m8; m2 is attributed through its author's voicing in conversation 10; m6 is missed.
    expect(s.recall).toBeCloseTo(5 / 6, 12);
    // Cluster 1: x x x y -> 3/4; cluster 2 has no feedback and is left out; cluster 3: x -> 1.
    expect(s.purity).toBeCloseTo((3 / 4 + 1) / 2, 12);
    // x is in clusters 1 and 3, y in cluster 1 only.
    expect(s.needSplit).toBeCloseTo(1.5, 12);
    expect(s.needsSplitShare).toBeCloseTo(0.5, 12);
    expect(s).toMatchObject({ labelled: 8, labelledFeedback: 6, notInStore: 1, counted: 6, countedLabelled: 5, countedUnlabelled: 1, clusters: 3, needs: 3 });
  });

  it('kind accuracy: of the counted feedback messages, those whose cluster shows the labelled kind', () => {
    // All feedback labels say bug. Cluster 1 shows bug (m1, m3, m4 right), cluster 3 question (m8 wrong); m5 is not feedback.
    const kinds: Record<number, string> = { 1: 'bug', 2: 'feature', 3: 'question' };
    const s = scoreFeedback(
      labelled,
      counted.map((x) => ({ ...x, kind: kinds[x.clusterId]! })),
    );
    expect(s.kindAccuracy).toBeCloseTo(3 / 4, 12);
    // Without the clusters' kinds nothing is judged.
    expect(scoreFeedback(labelled, counted).kindAccuracy).toBe(0);
  });

  it('does not credit another person of the same conversation, nor the same person in another conversation', () => {
    const more = [...labelled, lm(label('m10', true, 'x'), 10, 10, 999), lm(label('m11', true, 'x'), 11, 99, 100)];
    const s = scoreFeedback(more, counted);
    expect(s.recall).toBeCloseTo(5 / 8, 12);
  });

  it('is 0 where there is nothing to divide by, and prints the figures in the documented order', () => {
    const s = scoreFeedback([lm(label('m1', false), 1, 10, 100)], []);
    expect([s.precision, s.recall, s.purity, s.needSplit, s.needsSplitShare]).toEqual([0, 0, 0, 0, 0]);
    expect(
      feedbackLines(s)
        .slice(0, 5)
        .map(([n]) => n),
    ).toEqual(['feedback.precision', 'feedback.recall', 'clusters.purity', 'clusters.need_split', 'clusters.needs_split_share']);
  });
});

describe('parseLabels', () => {
  it('reads labels and scopes need ids by archive', () => {
    const ls = parseLabels(`${HEADER}a.mbox,<x@y>,,yes,bug,reporter,crash,"it crashes, always"\nexport.zip,1458.0001,general,no,none,bot,,\n`, 'l.csv');
    expect(ls).toEqual([
      { archive: 'a.mbox', id: 'x@y', channel: '', feedback: true, kind: 'bug', role: 'reporter', need: 'a.mbox crash' },
      { archive: 'export.zip', id: '1458.0001', channel: 'general', feedback: false, kind: 'none', role: 'bot', need: null },
    ]);
  });

  it('rejects what the guideline does not allow, naming the record', () => {
    expect(() => parseLabels(`${HEADER}a.mbox,x,,maybe,bug,reporter,n,\n`, 'l.csv')).toThrow(/l\.csv record 1: feedback must be yes or no/);
    expect(() => parseLabels(`${HEADER}a.mbox,x,,yes,none,reporter,n,\n`, 'l.csv')).toThrow(/kind is none exactly when feedback is no/);
    expect(() => parseLabels(`${HEADER}a.mbox,x,,no,bug,reporter,,\n`, 'l.csv')).toThrow(/kind is none exactly when feedback is no/);
    expect(() => parseLabels(`${HEADER}a.mbox,x,,yes,bug,reporter,,\n`, 'l.csv')).toThrow(/needs a need id/);
    expect(() => parseLabels(`${HEADER}a.mbox,x,,yes,bug,lurker,n,\n`, 'l.csv')).toThrow(/role must be one of/);
    expect(() => parseLabels('archive,id,feedback\na.mbox,x,yes\n', 'l.csv')).toThrow(/no `channel` column/);
  });
});

describe('joinLabels', () => {
  const rows: MessageKeyRow[] = [
    { messageId: 1, externalId: 'a@example.org', channelName: 'dev@list', channelExternalId: 'dev@list', conversationId: 10, personId: 100, copyOf: null },
    { messageId: 2, externalId: 'b@example.org', channelName: 'dev@list', channelExternalId: 'dev@list', conversationId: 11, personId: 100, copyOf: 1 },
    { messageId: 3, externalId: 'C024BE91L/1458.0001', channelName: 'general', channelExternalId: 'C024BE91L', conversationId: 12, personId: 101, copyOf: null },
  ];
  it('finds mail by Message-ID, Slack by channel name and ts, and a copy as its original', () => {
    const ls: MessageLabel[] = [
      { ...label('a@example.org', true, 'n') },
      { ...label('b@example.org', true, 'n') },
      { ...label('1458.0001', false), archive: 'export.zip', channel: 'general' },
      { ...label('1458.0001', false), archive: 'export.zip', channel: 'C024BE91L' },
      { ...label('missing@example.org', false) },
    ];
    expect(joinLabels(ls, rows).map((j) => [j.messageId, j.conversationId, j.personId])).toEqual([
      [1, 10, 100],
      [1, 10, 100],
      [3, 12, 101],
      [3, 12, 101],
      [null, null, null],
    ]);
  });
});

describe('feedbackReport', () => {
  it('adds the four figures per archive when the labels cover several', () => {
    const other = (id: string, feedback: boolean, need: string | null = null): MessageLabel => ({ ...label(id, feedback, need), archive: 'chat-export.zip', need: need && `chat-export.zip ${need}` });
    const labelled = [lm(label('a1', true, 'x'), 1, 10, 100), lm(label('a2', true, 'y'), 2, 20, 101), lm(other('b1', false), 3, 30, 102), lm(other('b2', true, 'z'), 4, 40, 103)];
    // Cluster 1 counts a1 and b1 (a mixed cluster); cluster 2 counts b2; a2 is missed.
    const lines = new Map(feedbackReport(labelled, [c(1, 1, 10, 100), c(1, 3, 30, 102), c(2, 4, 40, 103)]));
    expect(lines.get('feedback.precision')).toBeCloseTo(2 / 3, 12);
    expect(lines.get('feedback.recall')).toBeCloseTo(2 / 3, 12);
    expect(lines.get('archive.a.feedback.precision')).toBe(1);
    expect(lines.get('archive.a.feedback.recall')).toBe(0.5);
    expect(lines.get('archive.chat_export.feedback.precision')).toBe(0.5);
    expect(lines.get('archive.chat_export.feedback.recall')).toBe(1);
    expect(lines.get('archive.chat_export.clusters.purity')).toBe(1);
    expect(lines.get('archive.chat_export.clusters.need_split')).toBe(1);
    expect(archiveKey('maven-dev-2017-11.mbox')).toBe('maven_dev_2017_11');
  });

  it('prints no per-archive lines for one archive', () => {
    expect(feedbackReport([lm(label('a1', true, 'x'), 1, 10, 100)], [c(1, 1, 10, 100)]).some(([n]) => n.startsWith('archive.'))).toBe(false);
  });
});

describe('archivesFor', () => {
  it('finds each labelled archive once by its file name, and names the one it cannot find', () => {
    const ls = [label('a1', false), { ...label('a2', false), archive: 'mbox/a.mbox' }, { ...label('b1', false), archive: 'b.zip' }];
    expect(archivesFor(ls, ['/data/x/a.mbox', '/data/y/b.zip', '/data/y/c.zip'])).toEqual(['/data/x/a.mbox', '/data/y/b.zip']);
    expect(() => archivesFor(ls, ['/data/x/a.mbox'])).toThrow(/archive b\.zip/);
  });
});
