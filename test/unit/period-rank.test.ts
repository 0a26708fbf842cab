import { describe, expect, it } from 'vitest';
import { isoWeekOf, parseRange, parseWeek, weekContaining, weekLabel } from '../../src/pipeline/period.js';
import { excerpt, rankConversations, titleFor } from '../../src/pipeline/rank.js';
import { assignConversations, subjectKey } from '../../src/pipeline/thread.js';

describe('periods', () => {
  it('ISO weeks, including year boundaries', () => {
    expect(isoWeekOf(Date.UTC(2021, 0, 1))).toEqual({ year: 2020, week: 53 });
    expect(isoWeekOf(Date.UTC(2024, 11, 30))).toEqual({ year: 2025, week: 1 });
    const p = parseWeek('2017-W46');
    expect(new Date(p.start).toISOString()).toBe('2017-11-13T00:00:00.000Z');
    expect(p.end - p.start).toBe(7 * 86400_000);
    expect(weekLabel(weekContaining(Date.UTC(2020, 6, 15, 13)))).toBe('2020-W29');
    expect(() => parseWeek('2017-46')).toThrow(/ISO week/);
  });
  it('date ranges include the last day', () => {
    const p = parseRange('2024-01-01', '2024-01-31');
    expect(new Date(p.end).toISOString()).toBe('2024-02-01T00:00:00.000Z');
    expect(() => parseRange('2024-02-01', '2024-01-01')).toThrow(/empty period/);
    expect(() => parseRange('yesterday', '2024-01-01')).toThrow(/not a date/);
  });
});

describe('threading', () => {
  it('normalises subjects', () => {
    expect(subjectKey('Re: RE: [dev]  Build   fails')).toEqual({ key: 'build fails', isReply: true });
    expect(subjectKey('[ANN] Maven 3.5.2 released')).toEqual({ key: 'maven 3.5.2 released', isReply: false });
    expect(subjectKey('')).toEqual({ key: null, isReply: false });
  });
  it('prefers the direct parent, then the nearest reference', () => {
    const r = assignConversations(
      [
        {
          key: 'c',
          refs: [
            { key: 'x', kind: 'reference' },
            { key: 'b', kind: 'reference' },
          ],
          channelId: 1,
          subjectKey: null,
          isReplySubject: false,
          sentAt: 3,
        },
      ],
      {
        convOfKey: new Map([
          ['x', 10],
          ['b', 20],
        ]),
        convOfSubject: new Map(),
      },
    );
    expect(r.assign[0]).toEqual({ existing: 20 });
  });
  it('orders by time within a batch so a reply listed first still joins its parent', () => {
    const r = assignConversations(
      [
        { key: 'reply', refs: [{ key: 'root', kind: 'reply' }], channelId: 1, subjectKey: null, isReplySubject: false, sentAt: 2 },
        { key: 'root', refs: [], channelId: 1, subjectKey: null, isReplySubject: false, sentAt: 1 },
      ],
      { convOfKey: new Map(), convOfSubject: new Map() },
    );
    expect(r.fresh).toHaveLength(1);
    expect(r.assign[0]).toEqual(r.assign[1]);
  });
});

describe('first ranking', () => {
  const conv = (id: number, participants: number, messages: number) => ({ id, subject: `Topic ${id}`, channel: 'dev', startedAt: 0, lastAt: id, messages, participants });
  it('orders by distinct participants, then messages, and fills only what it knows', () => {
    const out = rankConversations([conv(1, 2, 9), conv(2, 5, 3), conv(3, 2, 10)], [{ conversationId: 2, text: 'It crashes', author: 'Ada', channel: 'dev', url: null, at: 0 }], 2);
    expect(out.map((c) => c.id)).toEqual(['conversation-2', 'conversation-3']);
    expect(out[0]).toMatchObject({ reporters: 5, mentions: 3, trend: null, why: null, summary: null, segments: {}, kind: null });
    expect(out[0]!.quotes[0]).toMatchObject({ text: 'It crashes', author: 'Ada', url: null });
  });
  it('titles and excerpts', () => {
    expect(titleFor({ subject: 'Re: Fwd: Build fails' }, undefined)).toBe('Build fails');
    expect(titleFor({ subject: null }, 'The CLI crashes on start. Also other things.')).toBe('The CLI crashes on start.');
    expect(excerpt('a '.repeat(400), 50).length).toBeLessThanOrEqual(51);
  });
});
