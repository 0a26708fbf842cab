// Pure parts of clustering: titles, summaries, assignment, reporters, score, trend, the sentence, identity links.
import { describe, expect, it } from 'vitest';
import { ClusterIndex, cleanPhrase, clusterKind, clusterSummary, clusterTitle, itemScorer, type DescribeItem } from '../../src/pipeline/cluster.js';
import { TermStats } from '../../src/pipeline/cluster-terms.js';
import { clusterPriority, trendOf, voicesNeed, whoSentence, whySentence, type PriorityItem, type PriorityMessage } from '../../src/pipeline/priority.js';
import { parseIdentityRef, planLinks, segmentOf } from '../../src/pipeline/people.js';
import { looksLikeCode } from '../../src/pipeline/own-words.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 9); // Monday of 2026-W46
const W46 = { start: T0, end: T0 + 7 * DAY };

const item = (itemId: number, text: string, subject: string | null = null, kind: DescribeItem['kind'] = 'bug'): DescribeItem => ({ itemId, text, subject, at: T0 + itemId, kind });

describe('title and summary', () => {
  it('cleans greetings, list tags and lead-ins', () => {
    expect(cleanPhrase('Hi all, the export button is broken')).toBe('the export button is broken');
    expect(cleanPhrase('[lumen-users] Re: SSO loop after upgrade')).toBe('SSO loop after upgrade');
    expect(cleanPhrase('Feature request: could we export dashboards as PDF?')).toBe('could we export dashboards as PDF?');
    expect(cleanPhrase('jberg: is 2.4 safe to upgrade?')).toBe('is 2.4 safe to upgrade?');
  });

  it('takes the phrase that speaks for most items, 3 to 12 words, not a bag of keywords', () => {
    const items = [
      item(1, 'Hi all, the Python SDK quickstart is out of date: it still says pip install lumen, but the package is lumen-sdk now.'),
      item(2, 'The Python SDK quickstart is out of date: from lumen import Client fails on 2.x, the import is now from lumen_sdk import Client.'),
      item(3, 'Is anyone else seeing this? The quickstart for the Python SDK is out of date.'),
    ];
    const title = clusterTitle(items);
    expect(title).toBe('The Python SDK quickstart is out of date');
    const n = title.split(' ').length;
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThanOrEqual(12);
  });

  it('a request reads as its object', () => {
    expect(
      clusterTitle([
        item(1, 'Could we export dashboards as PDF? Screenshots take ages.', null, 'feature'),
        item(2, 'It would be great to export dashboards as PDF for the weekly review.', null, 'feature'),
      ]),
    ).toMatch(/^Export dashboards as PDF/);
  });

  it('the summary takes two or three sentences from different items', () => {
    const summary = clusterSummary([
      item(1, 'After upgrading to 2.4, signing in through Okta redirects back to the login page forever. Thanks!'),
      item(2, 'Our Okta sign-in is stuck in a loop after the 2.4 upgrade. The callback says state mismatch.'),
      item(3, 'Same here: SSO login loop with Okta on 2.4.1, we land back on the login page.'),
    ])!;
    const sentences = summary.split(/(?<=[.!?])\s+/);
    expect(sentences.length).toBeGreaterThanOrEqual(2);
    expect(sentences.length).toBeLessThanOrEqual(3);
    expect(summary).toContain('Okta');
    expect(summary).not.toContain('Thanks');
  });

  it("the summary is the reporter's sentences, not the program output pasted under them", () => {
    const text = [
      'Hello',
      'Running "tool --version" and "tool --list" shows that the threaded scheduler is not available in my build.',
      '',
      'Tool version: Acme/3.1.4 (Debian)',
      'Tool built: 2026-03-13',
      'Library loaded: ZLIB 1.2.11, LIBXML 2.9.14',
      'Architecture: 64-bit',
      '',
      'Is the scheduler missing, or am I reading the output wrong?',
    ].join('\n');
    const summary = clusterSummary([item(1, text, 'Threaded scheduler missing?')])!;
    expect(summary).toContain('the threaded scheduler is not available in my build');
    expect(summary).not.toMatch(/Library loaded|Tool version|Architecture/);
    // A person's short update keeps its place: only a label with a value of names and numbers is output.
    expect(looksLikeCode('Update: still failing on 3.2')).toBe(false);
    expect(looksLikeCode('Bug: login loop on 4.2 with Okta')).toBe(false);
    expect(looksLikeCode('We are running the nightly Server version: (Debian) on release 12.4')).toBe(false);
    expect(looksLikeCode('Library loaded: ZLIB 1.2.11, LIBXML 2.9.14')).toBe(true);
    // Flags in a config line are code; flags a person writes about in a sentence are not.
    expect(looksLikeCode('SSLProtocol -all +TLSv1.2')).toBe(true);
  });

  it("scores a phrase by the same numbers as cosines against every text under the texts' own stats", () => {
    const items = [
      item(1, 'The export to PDF fails on 3.8.2 with a timeout. It worked on 3.8.1.', 'Export to PDF times out'),
      item(2, 'Exporting a dashboard as PDF times out after 30 seconds; CSV export works fine.', null),
      item(3, 'PDF export of big dashboards never finishes (ExportService logs a timeout).', 'Re: [users] PDF export'),
      item(4, 'Unrelated: the login page is slow on Android. Slow, slow, slow login on every Android phone.', null),
      item(5, 'Timeout, timeout and again a timeout when exporting PDF reports; the export queue grows and the PDF never arrives.', 'PDF report export queue'),
    ];
    // Every sentence and every pair of neighbouring words of the items, and a few phrases of no item.
    const phrases = ['login page slow', 'nothing in common here', 'ExportService timeout on 3.8.2'];
    for (const i of items)
      for (const sentence of i.text.split(/(?<=[.;])\s+/)) {
        phrases.push(sentence);
        const w = sentence.split(' ');
        for (let k = 0; k + 1 < w.length; k++) phrases.push(`${w[k]} ${w[k + 1]}`);
      }
    // The plain computation: each text's vector, a cosine against each, the share of texts with each word.
    const stats = new TermStats();
    const texts = items.map((i) => stats.terms(null, `${i.subject ?? ''}\n${i.text}`));
    for (const tf of texts) stats.add(tf);
    const docs = texts.map((tf) => stats.vector(tf));
    const expected = (t: string) => {
      const tf = stats.terms(null, t);
      const v = stats.vector(tf);
      if (!v.terms.length) return 0;
      let s = 0;
      for (const d of docs) s += stats.cosine(v, d);
      const words = [...tf.keys()].filter((x) => !x.startsWith('#'));
      const share = words.length ? words.reduce((n, x) => n + texts.filter((d) => d.has(x)).length, 0) / words.length / docs.length : 0;
      return 0.5 * share + 0.5 * (s / docs.length);
    };
    const scorer = itemScorer(items);
    for (const t of phrases) expect(scorer.centrality(t)).toBe(expected(t));
    expect(scorer.centrality('export to PDF times out')).toBeGreaterThan(scorer.centrality('login page slow'));
    expect(scorer.similarity(phrases[0]!, phrases[1]!)).toBe(stats.cosine(stats.vector(stats.terms(null, phrases[0]!)), stats.vector(stats.terms(null, phrases[1]!))));
  });

  it('a full stop added to a sentence adds no term (summary sentences are compared on the phrase scored)', () => {
    const stats = new TermStats();
    for (const t of ['The export fails on v3.8.2', 'see foo.bar', 'Crash in ExportService', 'a.b.c', 'ends with a number 42', 'élan vital', '$HOME/bin', 'x'])
      expect([...stats.terms(null, `${t}.`)]).toEqual([...stats.terms(null, t)]);
  });

  it('kind is the majority, ties to the earliest', () => {
    expect(
      clusterKind([
        { kind: 'bug', at: 2 },
        { kind: 'question', at: 1 },
        { kind: 'bug', at: 3 },
      ]),
    ).toBe('bug');
    expect(
      clusterKind([
        { kind: 'bug', at: 2 },
        { kind: 'question', at: 1 },
      ]),
    ).toBe('question');
  });

  it('kind without a majority: the need group the items voice together decides', () => {
    // Four reports of one outage, each a coin toss between kinds: two read as feature, one question, one bug.
    const outage = [
      { kind: 'feature' as const, at: 1, kindGroups: [0.3, 0.32, 0.34, 0.04] },
      { kind: 'question' as const, at: 2, kindGroups: [0.32, 0.07, 0.61, 0.0] },
      { kind: 'feature' as const, at: 3, kindGroups: [0.08, 0.53, 0.28, 0.11] },
      { kind: 'bug' as const, at: 4, kindGroups: [0.65, 0.22, 0.11, 0.02] },
    ];
    expect(clusterKind(outage)).toBe('bug');
    // A majority stands, however the probabilities lean.
    expect(clusterKind([...outage.slice(0, 3), { kind: 'feature' as const, at: 5, kindGroups: [0.3, 0.35, 0.35, 0] }])).toBe('feature');
    // Without probabilities, as before: the earliest of the tied kinds.
    expect(clusterKind(outage.map(({ kind, at }) => ({ kind, at })))).toBe('feature');
    // The winning group holds no item's own kind: the commonest kind of all.
    expect(
      clusterKind([
        { kind: 'feature', at: 1, kindGroups: [0.1, 0.45, 0.45, 0] },
        { kind: 'bug', at: 2, kindGroups: [0.45, 0.1, 0.45, 0] },
      ]),
    ).toBe('feature');
  });
});

describe('assignment', () => {
  it('joins the same need, keeps unrelated ones apart, never moves placed items', () => {
    const index = new ClusterIndex();
    const docs = [
      { itemId: 1, text: 'After upgrading to 2.4, signing in through Okta redirects back to the login page forever.', at: T0, kind: 'bug' as const },
      { itemId: 2, text: 'How do I set data retention? The disk keeps growing.', at: T0 + 1, kind: 'question' as const },
      { itemId: 3, text: 'Okta sign-in stuck in a redirect loop to the login page since the 2.4 upgrade.', at: T0 + 2, kind: 'bug' as const },
      { itemId: 4, text: 'Where do I configure data retention for traces?', at: T0 + 3, kind: 'question' as const },
    ];
    const a = index.assign(docs);
    const c = new Map(a.map((x) => [x.itemId, x.clusterKey]));
    expect(c.get(3)).toBe(c.get(1));
    expect(c.get(4)).toBe(c.get(2));
    expect(c.get(1)).not.toBe(c.get(2));
    index.relabel(c.get(1)!, 10);
    index.relabel(c.get(2)!, 20);
    expect(index.assign(docs)).toEqual([]); // already placed
    const b = index.assign([{ itemId: 5, text: 'okta login loop again after 2.4.1', at: T0 + 4, kind: 'bug' }]);
    expect(b[0]).toMatchObject({ clusterKey: 10, created: false });
  });
});

const msg = (over: Partial<PriorityMessage> & { messageId: number; personId: number; at: number }): PriorityMessage => ({
  conversationId: 1,
  personName: `p${over.personId}`,
  org: null,
  segment: 'community',
  text: 'x',
  channel: 'help',
  platform: 'slack',
  permalink: `https://x/${over.messageId}`,
  ...over,
});

describe('reporters and score', () => {
  it('voices: same here, +1, any update; not answers or follow-up questions', () => {
    for (const t of ['Same here: SSO loop', '+1, we do the same', 'me too', 'we see this too', 'any update on this?', 'We are seeing this as well']) expect(voicesNeed(t)).toBe(true);
    for (const t of ['Did it start right after the upgrade?', 'Try clearing cookies', 'thanks, that works', 'Same for the first trace step, it calls start_span']) expect(voicesNeed(t)).toBe(false);
  });

  it('one person on Slack and IRC counts once; a bridged copy counts once; staff never counts', () => {
    const text = 'Could we export dashboards as PDF? Screenshots take ages.';
    const items: PriorityItem[] = [
      {
        itemId: 1,
        reportMessageId: 1,
        messages: [
          msg({ messageId: 1, personId: 7, at: T0 + DAY, text, org: 'Acme', segment: 'customer' }),
          msg({ messageId: 2, personId: 99, at: T0 + DAY + 60_000, text: 'Same here, on the roadmap?', segment: 'staff' }),
        ],
      },
      {
        itemId: 2,
        reportMessageId: 3,
        messages: [msg({ messageId: 3, personId: 7, at: T0 + 2 * DAY, text: 'PDF export of dashboards please', platform: 'irc', channel: '#lumen', org: 'Acme', segment: 'customer' })],
      },
      {
        itemId: 3,
        reportMessageId: 4,
        messages: [
          msg({ messageId: 4, personId: 8, at: T0 + 3 * DAY, text: 'Dashboards as PDF would help our weekly review a lot', platform: 'matrix', channel: 'Lumen' }),
          msg({ messageId: 5, personId: 9, at: T0 + 3 * DAY + 1000, text: 'Dashboards as PDF would help our weekly review a lot', platform: 'irc', channel: '#lumen' }),
        ],
      },
    ];
    const p = clusterPriority(items, W46, { weights: { customer: 3 } });
    expect(p.reporters.map((r) => r.personId)).toEqual([7, 8]);
    expect(p.segments).toEqual({ customer: 1, community: 1 });
    expect(p.mentions).toBe(3);
    expect(p.channels).toEqual(['slack #help', 'irc #lumen', 'matrix #Lumen']);
    // The period's distinct reporters weighted by segment: 3 + 1 (the staff me-too and the bridged copy count nothing).
    expect(p.score).toBe(4);
    expect(p.explanation).toBe('1 customer x 3 + 1 community x 1 = 4 this period; to date 2 reporters (weight 4) in 3 channels, 2 new this period, last voiced 4 days before the period end');
    expect(p.why).toBe('2 people in 3 channels, 1 of them from customers (Acme); first seen 6 days ago, new');
    expect(p.evidence.messages.map((m) => m.messageId)).toEqual([1, 3, 4]);
  });

  it('trend: new, rising, steady, falling, resurfaced', () => {
    const v = (personId: number, at: number) => ({ itemId: 1, role: 'raised' as const, message: msg({ messageId: personId * 1000 + at, personId, at }) });
    const w = (k: number) => T0 - k * 7 * DAY + DAY;
    expect(trendOf([v(1, w(0))], W46).trend).toBe('new');
    expect(trendOf([v(1, w(2)), v(2, w(0)), v(3, w(0))], W46).trend).toBe('rising');
    expect(trendOf([v(1, w(1)), v(2, w(2)), v(3, w(3)), v(4, w(0))], W46).trend).toBe('steady');
    expect(trendOf([v(1, w(1)), v(2, w(1)), v(3, w(2)), v(4, w(2))], W46).trend).toBe('falling');
    expect(trendOf([v(1, w(6)), v(2, w(0))], W46).trend).toBe('resurfaced');
  });

  it('the sentence', () => {
    const seg = { customer: { personIds: [1, 2, 3, 4], orgs: ['Acme', 'Globex'] }, community: { personIds: [5], orgs: [] } };
    const reporters = [1, 2, 3, 4, 5].map((id) => ({ segment: id === 5 ? 'community' : 'customer' }));
    expect(whySentence({ reporters, channels: 3, segEvidence: seg, firstSeen: T0 - 9 * DAY, asOf: T0, trend: 'rising' })).toBe(
      '5 people in 3 channels, 4 of them from customers (Acme, Globex); first seen 9 days ago, rising',
    );
  });

  it('who they are, for under a header that gives the rest', () => {
    const seg = { customer: { personIds: [1, 2, 3], orgs: ['Acme', 'Globex'] }, partner: { personIds: [4], orgs: ['OSS Foundation'] }, community: { personIds: [5], orgs: [] } };
    expect(whoSentence(5, seg)).toBe('3 of the 5 from customers (Acme, Globex); 1 of the 5 from a partner (OSS Foundation).');
    expect(whoSentence(1, { customer: { personIds: [1], orgs: ['Initech'] } })).toBe('From a customer (Initech).');
    expect(whoSentence(2, { customer: { personIds: [1, 2], orgs: ['Acme'] } })).toBe('Both from customers (Acme).');
    expect(whoSentence(3, { customer: { personIds: [1, 2, 3], orgs: [] } })).toBe('All 3 from customers.');
    expect(whoSentence(4, { community: { personIds: [1, 2, 3, 4], orgs: [] } })).toBeNull();
  });
});

describe('identity links', () => {
  it('config entries and shared emails link, a human unmerge is left alone', () => {
    expect(parseIdentityRef('matrix:@mei:matrix.org')).toEqual({ kind: 'matrix', value: '@mei:matrix.org' });
    expect(parseIdentityRef('irc:Libera/Priya')).toEqual({ kind: 'irc', value: 'libera/priya' });
    const ids = [
      { id: 1, kind: 'slack', value: 'U1', email: 'priya@acme.io', personId: 1, evidence: null },
      { id: 2, kind: 'irc', value: 'libera/priya', email: null, personId: 2, evidence: null },
      { id: 3, kind: 'email', value: 'priya@acme.io', email: 'priya@acme.io', personId: 3, evidence: null },
      { id: 4, kind: 'irc', value: 'libera/priyaz', email: null, personId: 4, evidence: JSON.stringify({ rule: 'manual-unmerge' }) },
    ];
    const { steps, unmatched } = planLinks(ids, [{ name: 'Priya', identities: ['slack:U1', 'irc:libera/priya', 'irc:libera/priyaz', 'discord:1'] }]);
    expect(steps[0]!.identityIds).toEqual([1, 2]);
    expect(steps[0]!.evidence[2]).toMatchObject({ rule: 'config', entry: 'irc:libera/priya' });
    expect(unmatched).toEqual(['Priya: irc:libera/priyaz', 'Priya: discord:1']);
    expect(steps[1]).toMatchObject({ identityIds: [1, 3] });
    expect(steps[1]!.evidence[1]).toMatchObject({ rule: 'same-slack-profile-email' });
    expect(segmentOf({ isBot: false, isStaff: false, orgSegment: null })).toBe('community');
    expect(segmentOf({ isBot: false, isStaff: false, orgSegment: 'staff' })).toBe('staff');
    expect(segmentOf({ isBot: true, isStaff: false, orgSegment: 'customer' })).toBe('bot');
  });
});
