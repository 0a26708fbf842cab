// How the digest tells a need: the writer's own words (no quotes, signatures, PGP armour, phone
// numbers, footers; hard wraps joined), cleaned subjects, this week's count beside the total, a status
// line from staff's answer, and links for mail quotes through the list's archive.
import { describe, expect, it } from 'vitest';
import { cleanSubject, fitToShow, ownWords, sentenceExcerpt } from '../../src/pipeline/own-words.js';
import { clusterSummary, clusterTitle, itemDoc, type DescribeItem } from '../../src/pipeline/cluster.js';
import { clusterPriority, type PriorityItem, type PriorityMessage } from '../../src/pipeline/priority.js';
import { hyperkittyHash, quoteLink } from '../../src/pipeline/archives.js';
import { answerStatus } from '../../src/pipeline/answer-status.js';
import { clusterEntry } from '../../src/pipeline/digest-plan.js';
import { renderDigestHtml, renderDigestText } from '../../src/digest/render.js';
import { parseConfig } from '../../src/config/index.js';
import { checkedSummary } from '../../src/llm/refine.js';
import type { StoredItem } from '../../src/model/cluster.js';
import type { DigestJson } from '../../src/model/index.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 9); // Monday of 2026-W46
const W46 = { start: T0, end: T0 + 7 * DAY };

const SIGNED_MAIL = [
  '-----BEGIN PGP SIGNED MESSAGE-----',
  'Hash: SHA256',
  '',
  'Hi all,',
  '',
  'after upgrading to 2.4.46 the reverse proxy drops the Host header when',
  'ProxyPreserveHost is on, so every backend answers with its default vhost.',
  'It worked fine on 2.4.43.',
  '',
  'On Tue, 14 Jul 2020 at 10:02, Jane Doe <jane@example.org> wrote:',
  '> Did you check the ProxyPass order?',
  '> It matters.',
  '',
  'Regards,',
  'Max Mustermann',
  'Example GmbH (tel:+49 30 1234567)',
  '- --',
  'Max',
  '-----BEGIN PGP SIGNATURE-----',
  '',
  'iQEzBAEBCAAdFiEEabcdefghijklmnopqrstuvwxyz0123456789ABCDEF',
  '=abcd',
  '-----END PGP SIGNATURE-----',
  '',
  '---------------------------------------------------------------------',
  'To unsubscribe, e-mail: users-unsubscribe@httpd.apache.org',
  'For additional commands, e-mail: users-help@httpd.apache.org',
].join('\n');

describe('the writer’s own words', () => {
  it('strips PGP armour, the quoted reply, the signature, phone numbers and the list footer; joins hard wraps', () => {
    const t = ownWords(SIGNED_MAIL);
    expect(t).not.toMatch(/PGP|Hash:|iQEz|ProxyPass order|wrote:|Mustermann|tel:|unsubscribe|additional commands/);
    expect(t).toContain('after upgrading to 2.4.46 the reverse proxy drops the Host header when ProxyPreserveHost is on, so every backend answers with its default vhost.');
  });

  it('a phone number inside a sentence goes, the sentence stays', () => {
    expect(ownWords('Call our support desk (tel:+1 555 0100) if the upgrade fails.')).toBe('Call our support desk if the upgrade fails.');
  });

  it('a summary from a signed, quoted, wrapped mail holds whole sentences and none of the noise', () => {
    const items: DescribeItem[] = [
      { itemId: 1, subject: 'Re: [users@httpd] ProxyPreserveHost ignored after upgrade', text: SIGNED_MAIL, at: T0, kind: 'bug' },
      {
        itemId: 2,
        subject: null,
        text: 'Since 2.4.46 ProxyPreserveHost is ignored and the backend sees\nthe proxy host name instead of the client one.\n\n-- \nsent from a phone',
        at: T0 + 1,
        kind: 'bug',
      },
    ];
    const summary = clusterSummary(items)!;
    expect(summary).not.toMatch(/PGP|Hash:|tel:|unsubscribe|wrote:|Regards/);
    expect(summary).toContain('the reverse proxy drops the Host header when ProxyPreserveHost is on, so every backend answers with its default vhost.');
    expect(summary).toContain('the backend sees the proxy host name instead of the client one.');
    expect(clusterTitle(items)).toBe('ProxyPreserveHost ignored after upgrade');
  });

  it('a short subject that names the need beats a sentence about the thread', () => {
    const items: DescribeItem[] = [
      { itemId: 1, subject: 'Re: Download links', text: 'This topic deserves a separate mailthread.\nThe download links on the site point to a mirror that is gone.', at: T0, kind: 'bug' },
    ];
    expect(clusterTitle(items)).toBe('Download links');
  });

  it('a clause cut off its sentence stands alone or is no title: no condition, no continuation, no back-reference', () => {
    const one = (subject: string | null, text: string) => clusterTitle([{ itemId: 1, subject, text, at: T0, kind: 'feature' }]);
    // "When I set ServerLimit to 500" is the question's condition, not the question.
    expect(one('[users@httpd] About ServerLimit', 'Hello\nWhen I set ServerLimit to 500, does that include all TCP connection states? I mean are all these counted?')).toBe('About ServerLimit');
    // "..., or specific zip or tar.gz" continues its list item; "1) " is the item's number.
    expect(one(null, "1) Packaging type generic 'archive', or specific zip or tar.gz - maybe a user property to enable zip")).toBe("Packaging type generic 'archive'");
    // "..., that should only be used for X": "that" is what the first half named.
    const items: DescribeItem[] = [
      { itemId: 1, subject: 'Better incremental build in default distro?', text: 'Any plan to integrate an incremental module builder in the maven distribution?', at: T0, kind: 'feature' },
      { itemId: 2, subject: 'Reactor safe/rally points', text: 'It should not be the MavenProject, that should only be used for building *that* project.', at: T0, kind: 'feature' },
    ];
    expect(clusterTitle(items)).not.toMatch(/^That should/);
    // A compiler's warning line is output, not words: the sentence about the build is the title.
    expect(one(null, "Build with vcxproj and tested on Windows VS16.\nmod_websocket.c(1186,57): warning C4244: 'function': conversion from 'apr_int64_t' to 'apr_size_t', possible loss of data")).toBe(
      'Build with vcxproj and tested on Windows VS16',
    );
  });

  it('in a reply to an announcement the need is the reply’s: the announcement’s subject is no title', () => {
    const doc = itemDoc({
      itemId: 1,
      kind: 'bug',
      subject: 'JDK 10 b29 Early Access is available on jdk.java.net',
      reportMessageId: 2,
      messages: [
        { messageId: 1, personId: 4, segment: 'community', text: 'JDK 10 Early Access build 29 is available at jdk.java.net.', at: T0 },
        { messageId: 2, personId: 1, segment: 'community', text: 'Looks like Surefire is the first casualty: it fails with a NullPointerException on JDK 10.', at: T0 + DAY },
      ],
    });
    expect(doc.subject).toBeNull();
    expect(clusterTitle([doc])).toBe('Looks like Surefire is the first casualty');
  });

  it('cleans subjects of reply prefixes, list tags and ticket noise', () => {
    expect(cleanSubject('Re: AW: [users@httpd] mod_proxy drops Host header')).toBe('mod_proxy drops Host header');
    expect(cleanSubject('[jira] [Created] (MNG-6789) Maven ignores mirrorOf')).toBe('Maven ignores mirrorOf');
    expect(cleanSubject('Re[2]: Fwd: Build fails on JDK 11 (was: Re: 3.6.0 release)')).toBe('Build fails on JDK 11');
  });

  it('quotes end at a sentence, never inside one', () => {
    const long = `${'The export fails on large reports. '.repeat(6)}And one last sentence that makes it too long for a quote at all.`;
    const q = sentenceExcerpt(long, 120);
    expect(q.length).toBeLessThanOrEqual(122);
    expect(q).toMatch(/reports\. …$/);
  });

  it('checks a language model’s summary by the same rules', () => {
    expect(fitToShow('ProxyPreserveHost is ignored after the 2.4.46 upgrade')).toBe(true);
    expect(fitToShow('-----BEGIN PGP SIGNED MESSAGE----- Hash: SHA256 proxy fails')).toBe(false);
    expect(fitToShow('Call support (tel:+1 555 0100) about the proxy')).toBe(false);
    const items: DescribeItem[] = [
      { itemId: 1, subject: null, text: 'the proxy thing again, see my earlier mail', at: T0, kind: 'bug', llmSummary: 'Reverse proxy drops the Host header after upgrading to 2.4.46' },
      { itemId: 2, subject: null, text: 'hello, proxy issue', at: T0 + 1, kind: 'bug', llmSummary: '-----BEGIN PGP SIGNED MESSAGE----- Hash: SHA256 Reverse proxy' },
    ];
    const summary = clusterSummary(items)!;
    expect(summary).toContain('Reverse proxy drops the Host header after upgrading to 2.4.46.');
    expect(summary).not.toContain('PGP');
    // What the model answers is checked before it is stored.
    expect(checkedSummary('  Proxy drops\nthe Host header ', 'llm:m')).toEqual({ text: 'Proxy drops the Host header', version: 'llm:m' });
    expect(checkedSummary('-----BEGIN PGP SIGNED MESSAGE----- proxy', 'llm:m')).toBeNull();
    expect(checkedSummary('Unsubscribe: users-unsubscribe@httpd.apache.org', 'llm:m')).toBeNull();
  });
});

const msg = (messageId: number, personId: number, at: number, text: string, extra: Partial<PriorityMessage> = {}): PriorityMessage => ({
  messageId,
  conversationId: 1,
  personId,
  personName: `P${personId}`,
  org: null,
  segment: 'community',
  at,
  text,
  channel: 'users.httpd.apache.org',
  platform: 'mail',
  permalink: null,
  ...extra,
});

describe('this week first', () => {
  it('counts the week’s reporters and segments apart from everyone to date, and quotes this week first', () => {
    const items: PriorityItem[] = [
      { itemId: 1, reportMessageId: 1, messages: [msg(1, 1, T0 - 14 * DAY, 'The proxy drops the Host header'), msg(2, 2, T0 - 13 * DAY, 'same here, we see it too', { segment: 'customer' })] },
      { itemId: 2, reportMessageId: 3, messages: [msg(3, 3, T0 + DAY, 'ProxyPreserveHost ignored since the upgrade'), msg(4, 2, T0 + 2 * DAY, 'same here, still broken', { segment: 'customer' })] },
    ];
    const p = clusterPriority(items, W46);
    expect(p.reporters.length).toBe(3);
    expect(p.periodReporters.map((r) => r.personId)).toEqual([3, 2]);
    expect(p.periodSegments).toEqual({ community: 1, customer: 1 });
    expect(p.segments).toEqual({ community: 2, customer: 1 });

    const stored: StoredItem[] = items.map((i) => ({
      itemId: i.itemId,
      conversationId: 1,
      reportMessageId: i.reportMessageId,
      kind: 'bug',
      subject: null,
      tags: [],
      messages: i.messages.map((m) => ({ ...m, subject: null })),
    }));
    const e = clusterEntry({ id: 7, title: 'Host header dropped', pinnedTitle: false, summary: null, kind: 'bug', firstSeen: null, lastSeen: null }, stored, W46)!;
    expect(e.entry.reporters).toBe(2);
    expect(e.entry.reportersToDate).toBe(3);
    expect(e.entry.segments).toEqual({ community: 1, customer: 1 });
    expect(e.entry.segmentsToDate).toEqual({ community: 2, customer: 1 });
    expect(e.entry.quotes.map((q) => q.author)).toEqual(['P3', 'P2', 'P1']);
    expect(Date.parse(e.entry.quotes[0]!.at)).toBeGreaterThanOrEqual(W46.start);
    expect(e.unlinkedLists).toEqual(['users.httpd.apache.org']);
  });

  it('an item whose need was raised after the period (a reply to an announcement made in it) is not in the period’s entry', () => {
    const stored = (reportAt: number): StoredItem => ({
      itemId: 1,
      conversationId: 1,
      reportMessageId: 2,
      kind: 'bug',
      subject: '[users@httpd] Announcing mod_websocket v0.1.2',
      tags: [],
      messages: [
        { ...msg(1, 4, T0 + DAY, 'I am happy to announce version 0.1.2 of mod_websocket.'), subject: '[users@httpd] Announcing mod_websocket v0.1.2' },
        { ...msg(2, 1, reportAt, 'With Windows 64 the echo module does not load.'), subject: 'Re: [users@httpd] Announcing mod_websocket v0.1.2' },
      ],
    });
    const record = { id: 7, title: 'Echo module does not load', pinnedTitle: false, summary: null, kind: 'bug' as const, firstSeen: null, lastSeen: null };
    expect(clusterEntry(record, [stored(W46.end + 4 * DAY)], W46)).toBeNull();
    const e = clusterEntry(record, [stored(T0 + 2 * DAY)], W46)!;
    expect(e.entry.quotes.map((q) => q.author)).toEqual(['P1']);
  });

  it('quotes people in their own words first: a bare "+1 👍" comes after them, even when it came first', () => {
    // A reaction turned into a "+1 👍" carries the report's own time (the API gives no time for a reaction).
    const items: PriorityItem[] = [
      {
        itemId: 1,
        reportMessageId: 2,
        messages: [
          msg(1, 1, T0 + DAY, '+1 👍'),
          msg(2, 2, T0 + DAY, 'Exemplars on histogram buckets would link a latency spike to its trace.'),
          msg(3, 3, T0 + 2 * DAY, '+1, exemplars would save us a manual search after every alert.'),
        ],
      },
    ];
    const stored: StoredItem[] = items.map((i) => ({
      itemId: i.itemId,
      conversationId: 1,
      reportMessageId: i.reportMessageId,
      kind: 'feature',
      subject: null,
      tags: [],
      messages: i.messages.map((m) => ({ ...m, subject: null })),
    }));
    const e = clusterEntry({ id: 8, title: 'Exemplars on histograms', pinnedTitle: false, summary: null, kind: 'feature', firstSeen: null, lastSeen: null }, stored, W46)!;
    expect(e.entry.reporters).toBe(3);
    expect(e.entry.quotes.map((q) => q.author)).toEqual(['P2', 'P3', 'P1']);
  });
});

describe('status line', () => {
  it('carries staff’s answer in the thread, quoted and linked', () => {
    const items = [
      {
        reportMessageId: 1,
        messages: [
          msg(1, 1, T0 + DAY, 'Exports crash on reports over 10k rows.'),
          msg(2, 9, T0 + 2 * DAY, 'Thanks for the report! This is a known issue. A fix is coming in 4.2.1; workaround: export in pages of 5k rows.', {
            segment: 'staff',
            personName: 'Nadia',
            permalink: 'https://chat.example.org/p/2',
          }),
          msg(3, 5, T0 + 3 * DAY, 'Did you try the workaround: restart it?'),
        ],
      },
    ];
    const s = answerStatus(items, W46)!;
    expect(s.label).toBe('fixed');
    expect(s.text).toContain('A fix is coming in 4.2.1');
    expect(s.author).toBe('Nadia');
    expect(s.url).toBe('https://chat.example.org/p/2');
    // Nothing from staff, no fix: no status. A community member's "workaround" is not a status.
    expect(answerStatus([{ reportMessageId: 1, messages: [items[0]!.messages[0]!, items[0]!.messages[2]!] }], W46)).toBeNull();
    // An answer after the period does not count yet.
    expect(answerStatus(items, { start: W46.start, end: T0 + 2 * DAY })).toBeNull();
  });

  it('a staff answer the detector took for the item’s report message still gives the status', () => {
    const s = answerStatus(
      [
        {
          reportMessageId: 2,
          messages: [
            msg(1, 1, T0, 'Same here: SSO login loop on 2.4.1.'),
            msg(2, 9, T0 + 60_000, '2.4.2 gets tagged on Thursday with the fix. Workaround until then: set sameSite to lax and restart.', { segment: 'staff' }),
          ],
        },
      ],
      W46,
    )!;
    expect(s.label).toBe('workaround');
    expect(s.text).toBe('Workaround until then: set sameSite to lax and restart.');
  });

  it('reads the usual staff answers: a fix shipping soon, confirmed, being fixed, looking into it', () => {
    const one = (text: string) =>
      answerStatus([{ reportMessageId: 1, messages: [msg(1, 1, T0, 'Cache restore misses since the image update.'), msg(2, 9, T0 + DAY, text, { segment: 'staff' })] }], W46);
    expect(one('Yes. A fix that ignores the digest ships in 3.8.1 on Thursday.')?.label).toBe('fixed');
    expect(one('Thanks, confirmed. Masking only matches the literal value today; encoded variants are being added.')?.label).toBe('confirmed');
    expect(one('The pricing page is right. We are fixing the docs page, thanks for flagging it!')?.label).toBe('planned');
    expect(one('Hi Priscilla, thanks, we are looking into it.')).toMatchObject({ label: 'investigating', text: 'thanks, we are looking into it.' });
    expect(one('Thanks for the kind words!')).toBeNull();
  });

  it('what was said before the report (the announcement a reply answers) is no answer to it', () => {
    const announcement = msg(1, 4, T0, 'I am happy to announce version 0.1.2. One major bug has been fixed, and a new build system was contributed.');
    const report = msg(2, 1, T0 + DAY, 'With Windows 64 the echo module does not load: could not find initialization function.');
    expect(answerStatus([{ reportMessageId: 2, messages: [announcement, report] }], W46)).toBeNull();
    // The same words after the report answer it.
    expect(answerStatus([{ reportMessageId: 2, messages: [report, { ...announcement, at: T0 + 2 * DAY }] }], W46)?.label).toBe('fixed');
  });

  it('a maintainer on a community list saying it is fixed gives the status', () => {
    const s = answerStatus([{ reportMessageId: 1, messages: [msg(1, 1, T0, 'mod_proxy drops the Host header.'), msg(2, 4, T0 + DAY, 'Thanks, this has been fixed in 2.4.47 (r1880000).')] }], W46)!;
    expect(s.label).toBe('fixed');
    expect(s.text).toBe('Thanks, this has been fixed in 2.4.47 (r1880000).');
  });
});

describe('links for mail quotes', () => {
  const m = { platform: 'mail', channel: 'Apache HTTPD users', channelExternal: 'users.httpd.apache.org', externalId: 'CAHk-=wi1@mail.gmail.com', permalink: null, at: Date.UTC(2020, 6, 14) };

  it('Archived-At wins; else the list’s template; else none', () => {
    expect(quoteLink({ ...m, permalink: 'https://archive.example.org/m/1' }, [{ list: 'users.httpd.apache.org', type: 'ponymail' }])).toBe('https://archive.example.org/m/1');
    expect(quoteLink(m, [{ list: 'users.httpd.apache.org', type: 'ponymail' }])).toBe('https://lists.apache.org/thread.html/%3CCAHk-%3Dwi1%40mail.gmail.com%3E');
    expect(quoteLink(m, [{ list: 'users@httpd.apache.org', type: 'mail-archive' }])).toBe('https://www.mail-archive.com/search?l=mid&q=CAHk-%3Dwi1%40mail.gmail.com');
    expect(quoteLink(m, [{ list: 'users.httpd.apache.org', type: 'pipermail', base: 'https://mail.example.org' }])).toBe('https://mail.example.org/pipermail/users/2020-July/thread.html');
    expect(quoteLink(m, [{ list: 'users.httpd.apache.org', type: 'hyperkitty', base: 'https://lists.example.org/archives' }])).toBe(
      'https://lists.example.org/archives/list/users@httpd.apache.org/message/MEBFWF7KZZ4GFMNHBCKBV55VYNIGW3ZO/',
    );
    expect(quoteLink(m, [{ list: 'users.httpd.apache.org', url: 'https://x.example.org/{listName}/{yyyy}/{mm}?id={messageId}' }])).toBe(
      'https://x.example.org/users/2020/07?id=CAHk-%3Dwi1%40mail.gmail.com',
    );
    expect(quoteLink(m, [{ list: 'dev.maven.apache.org', type: 'ponymail' }])).toBeNull();
    expect(quoteLink({ ...m, platform: 'slack' }, [{ list: 'users.httpd.apache.org', type: 'ponymail' }])).toBeNull();
    expect(hyperkittyHash('<CAHk-=wi1@mail.gmail.com>')).toBe('MEBFWF7KZZ4GFMNHBCKBV55VYNIGW3ZO');
  });

  it('the config takes archives per list, and a clusters entry links its mail quotes through them', () => {
    const cfg = parseConfig('archives:\n  - { list: users.httpd.apache.org, type: ponymail }\n', {});
    expect(cfg.archives).toEqual([{ list: 'users.httpd.apache.org', type: 'ponymail' }]);
    expect(() => parseConfig('archives:\n  - { list: users.httpd.apache.org }\n', {})).toThrow(/type|url/);
    const stored: StoredItem[] = [
      {
        itemId: 1,
        conversationId: 1,
        reportMessageId: 1,
        kind: 'bug',
        subject: null,
        tags: [],
        messages: [{ ...msg(1, 1, T0 + DAY, 'The proxy drops the Host header.'), subject: null, externalId: 'abc@example.org', channelExternal: 'users.httpd.apache.org' }],
      },
    ];
    const e = clusterEntry({ id: 1, title: 't', pinnedTitle: false, summary: null, kind: 'bug', firstSeen: null, lastSeen: null }, stored, W46, { archives: cfg.archives })!;
    expect(e.entry.quotes[0]!.url).toBe('https://lists.apache.org/thread.html/%3Cabc%40example.org%3E');
    expect(e.unlinkedLists).toEqual([]);
  });
});

describe('rendered', () => {
  const d: DigestJson = {
    period: { start: '2026-11-09T00:00:00.000Z', end: '2026-11-16T00:00:00.000Z' },
    clusters: [
      {
        id: 'cluster-1',
        title: 'Host header dropped <b>behind</b> the proxy',
        kind: 'bug',
        tags: [],
        reporters: 2,
        reportersToDate: 5,
        mentions: 6,
        segments: { community: 2 },
        segmentsToDate: { community: 5 },
        channels: ['mail users.httpd.apache.org'],
        trend: 'rising',
        firstSeen: '2026-10-20T00:00:00.000Z',
        lastSeen: '2026-11-12T00:00:00.000Z',
        score: 4,
        why: 'why',
        summary: null,
        status: { label: 'fixed', text: 'Fixed in <i>2.4.47</i>.', author: 'Ruth', channel: 'mail users.httpd.apache.org', url: 'javascript:alert(1)', at: '2026-11-12T00:00:00.000Z' },
        quotes: [],
      },
    ],
    stats: { messages: 1, conversations: 1, feedbackItems: 1, sources: [], listsWithoutArchive: ['dev.maven.apache.org'] },
  };

  it('says the week’s people and the total, the status escaped, and which lists have no archive link', () => {
    const html = renderDigestHtml(d);
    expect(html).toContain('2 people this week</strong>, 5 in total');
    expect(html).toContain('Status: fixed.');
    expect(html).toContain('Fixed in &lt;i&gt;2.4.47&lt;/i&gt;.');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('Quotes from dev.maven.apache.org have no web link');
    const text = renderDigestText(d);
    expect(text).toContain('2 people this week, 5 in total');
    expect(text).toContain('Status: fixed. "Fixed in <i>2.4.47</i>."');
    expect(text).toContain('Quotes from dev.maven.apache.org have no web link');
  });
  it('says under the header only who the people are: the header already gives how many, where, since when and the trend', () => {
    const evidence = (segments: Record<string, { personIds: number[]; orgs: string[] }>) =>
      ({ reporters: [], channels: [], segments, messages: [], reactions: {}, score: {}, trend: {} }) as unknown as NonNullable<DigestJson['clusters'][number]['evidence']>;
    const why = '5 people in 1 channel, 2 of them from customers (Acme, Globex); first seen 27 days ago, rising';
    const withSegments: DigestJson = {
      ...d,
      clusters: [{ ...d.clusters[0]!, why, evidence: evidence({ community: { personIds: [3, 4, 5], orgs: [] }, customer: { personIds: [1, 2], orgs: ['Acme', 'Globex'] } }) }],
    };
    for (const out of [renderDigestText(withSegments), renderDigestHtml(withSegments)]) {
      expect(out).toContain('2 of the 5 from customers (Acme, Globex).');
      expect(out).not.toContain('5 people in 1 channel');
    }
    // Everyone from the community: nothing to add under the header.
    const community: DigestJson = { ...d, clusters: [{ ...d.clusters[0]!, why, evidence: evidence({ community: { personIds: [1, 2, 3, 4, 5], orgs: [] } }) }] };
    const text = renderDigestText(community);
    expect(text).not.toContain('5 people in 1 channel');
    expect(text).toMatch(/first seen 2026-10-20, last 2026-11-12 · rising\n {3}Status: fixed/);
    // A digest written before the evidence was kept still shows its sentence.
    const old: DigestJson = { ...d, clusters: [{ ...d.clusters[0]!, why }] };
    expect(renderDigestText(old)).toContain(why);
  });
});
