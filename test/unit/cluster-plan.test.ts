// The cluster stage's plans, pure: which clusters are described again (and from which items), which
// only move their first/last seen; placements from the grouping index with the need texts to store.
import { describe, expect, it } from 'vitest';
import { DESCRIBE_READ, needDoc, planDescribeWork, planDescriptions, planPlacement } from '../../src/pipeline/cluster-plan.js';
import { itemDoc } from '../../src/pipeline/cluster.js';
import { NeedGrouper } from '../../src/pipeline/grouping.js';
import type { ItemForDoc } from '../../src/model/records.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 9, 1);
const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function item(itemId: number, text: string, at: number, personId = itemId): ItemForDoc {
  return { itemId, kind: 'bug', subject: null, reportMessageId: itemId * 10, tags: [], messages: [{ messageId: itemId * 10, personId, segment: 'community', text, at }] };
}
const doc = (itemId: number, at: number) => itemDoc(item(itemId, `the csv export drops columns ${itemId}`, at));

describe('cluster describe plan', () => {
  it('describes small, grown and changed clusters from their first items; the others only move first/last seen', () => {
    const members = new Map<number, number[]>([
      [1, ids(1, 5)], // small: always described
      [2, ids(101, 112)], // 12 items, described at 11: not grown by a quarter
      [3, ids(201, 212)], // 12 items, described at 9: grown by a quarter
      [4, ids(1001, 1000 + DESCRIBE_READ)], // past the first 200, the new item after them
      [5, ids(2001, 2000 + DESCRIBE_READ)], // past the first 200, the new item among them
    ]);
    const seen = { firstSeen: T0, lastSeen: T0 + 5 * DAY };
    const stored = new Map([...members.keys()].map((c) => [c, seen]));
    const fresh = new Map([
      [1, [doc(5, T0 + 9 * DAY)]],
      [2, [doc(112, T0 - DAY)]],
      [3, [doc(212, T0 + DAY)]],
      [4, [doc(1000 + DESCRIBE_READ, T0 + 7 * DAY)]],
      [5, [doc(2150, T0 + 7 * DAY)]],
    ]);
    const work = planDescribeWork(
      members,
      stored,
      fresh,
      new Map([
        [2, 11],
        [3, 9],
      ]),
    );
    expect([...work.seen.keys()].sort()).toEqual([2, 4]);
    expect(work.seen.get(2)).toEqual({ firstSeen: T0 - DAY, lastSeen: T0 + 5 * DAY });
    expect(work.seen.get(4)).toEqual({ firstSeen: T0, lastSeen: T0 + 7 * DAY });
    expect([...work.full.keys()].sort()).toEqual([1, 3, 5]);
    expect(work.full.get(5)).toEqual(ids(2001, 2200));
    expect(work.sizes).toEqual(
      new Map([
        [1, 5],
        [3, 12],
        [5, DESCRIBE_READ],
      ]),
    );
    // The fresh items' docs are at hand: not read again.
    expect(work.missing).not.toContain(5);
    expect(work.missing).not.toContain(212);
    expect(work.missing).toContain(1);
    expect(work.missing).toHaveLength(4 + 11 + 199);
  });

  it('postpones the clusters to describe in full that the caller picks; their items are not read', () => {
    const members = new Map([
      [7, [1, 2, 3]],
      [8, [4, 5]],
    ]);
    const stored = new Map([
      [7, { firstSeen: T0, lastSeen: T0 }],
      [8, { firstSeen: T0, lastSeen: T0 }],
    ]);
    const work = planDescribeWork(members, stored, undefined, undefined, (c) => c === 8);
    expect(work.postponed).toEqual([8]);
    expect([...work.full.keys()]).toEqual([7]);
    expect([...work.sizes.keys()]).toEqual([7]);
    expect(work.missing).toEqual([1, 2, 3]);
  });

  it('without fresh items every cluster is described, and the title comes from its items', () => {
    const members = new Map([[7, [1, 2, 3]]]);
    const stored = new Map([[7, { firstSeen: null, lastSeen: null }]]);
    const work = planDescribeWork(members, stored);
    expect(work.seen.size).toBe(0);
    expect(work.missing).toEqual([1, 2, 3]);
    const read = [
      item(1, 'The CSV export drops the last column', T0),
      item(2, 'CSV export drops the last column for me too', T0 + DAY),
      item(3, 'Our CSV export drops the last column since 2.4', T0 + 2 * DAY),
    ];
    const out = planDescriptions(work, read, members, stored).get(7)!;
    expect('title' in out && out.title.toLowerCase()).toContain('csv export');
    expect(out).toMatchObject({ kind: 'bug', firstSeen: T0, lastSeen: T0 + 2 * DAY });
  });
});

describe('cluster placement plan', () => {
  it('places new items with the need texts to store; the same need goes to one new cluster', () => {
    const grouper = new NeedGrouper();
    const items = [
      item(1, 'The CSV export drops the last column of every table', T0),
      item(2, 'CSV export drops the last column of the table', T0 + DAY, 2),
      item(3, 'Dark mode makes the sidebar unreadable', T0 + 2 * DAY, 3),
    ];
    const docs = items.map(needDoc);
    grouper.add(docs);
    const placing = planPlacement(grouper, docs);
    expect(placing.plan.needTexts).toEqual(new Map(docs.map((d) => [d.itemId, d.need])));
    const key = new Map(placing.plan.place.map((a) => [a.itemId, a.clusterKey]));
    expect(key.get(1)).toBeLessThan(0);
    expect(key.get(1)).toBe(key.get(2));
    expect(key.get(3)).not.toBe(key.get(1));
    // Nothing was placed before: no cluster loses items, none is merged or emptied.
    expect(placing.losing.size).toBe(0);
    expect(placing.plan.regroup).toMatchObject({ emptied: [], merges: [] });
  });
});
