import { describe, expect, it } from 'vitest';
import { renderDigestHtml, renderDigestText, safeUrl } from '../../src/digest/render.js';
import type { DigestJson } from '../../src/model/index.js';

const hostile: DigestJson = {
  period: { start: '2024-01-08T00:00:00.000Z', end: '2024-01-15T00:00:00.000Z' },
  clusters: [
    {
      id: 'conversation-1',
      title: '<script>alert(1)</script> login loop',
      kind: 'bug',
      tags: ['area:auth', '<b>x</b>'],
      reporters: 3,
      mentions: 7,
      segments: {},
      channels: ['#help'],
      trend: null,
      firstSeen: '2024-01-08T10:00:00.000Z',
      lastSeen: '2024-01-12T10:00:00.000Z',
      score: 3,
      why: null,
      summary: null,
      quotes: [
        { text: '<img src=x onerror="alert(2)"> it loops', author: 'Eve "<evil>"', channel: '#help', url: 'javascript:alert(3)', at: '2024-01-08T10:00:00.000Z' },
        { text: 'same here', author: 'Bob', channel: '#general', url: 'https://example.slack.com/archives/C1/p1', at: '2024-01-09T10:00:00.000Z' },
      ],
    },
  ],
  stats: {
    messages: 10,
    conversations: 2,
    feedbackItems: 0,
    sources: [
      { name: 'slack', from: '2024-01-08T00:00:00.000Z', to: '2024-01-12T00:00:00.000Z', gaps: [{ channel: '#private', from: '2024-01-08T00:00:00.000Z', to: null, reason: 'missing access' }] },
    ],
  },
};

describe('digest rendering', () => {
  it('escapes community text and drops unsafe links in HTML', () => {
    const html = renderDigestHtml(hostile);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('href="https://example.slack.com/archives/C1/p1"');
    expect(html).toContain('gap in #private');
    expect(html).toMatch(/<table role="presentation"/);
  });
  it('plain text reads on its own', () => {
    const text = renderDigestText(hostile);
    expect(text).toContain('1. <script>alert(1)</script> login loop');
    expect(text).toContain('bug · 3 people this week · 7 messages · #help');
    expect(text).toContain('https://example.slack.com/archives/C1/p1');
    expect(text).not.toContain('javascript:');
    expect(text).toContain('gap in #private');
  });
  it('an empty period says so', () => {
    const html = renderDigestHtml({ ...hostile, clusters: [] });
    expect(html).toContain('Nothing was reported in this period.');
  });
  it('safeUrl keeps http(s) and mailto only', () => {
    expect(safeUrl(' https://x.org/a ')).toBe('https://x.org/a');
    expect(safeUrl('JAVASCRIPT:alert(1)')).toBeNull();
    expect(safeUrl('data:text/html,x')).toBeNull();
    expect(safeUrl(42)).toBeNull();
  });
});
