import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCsv, parseCsvRecords, CsvError } from '../../src/eval/csv.js';
import { evalDups } from '../../src/eval/dups.js';
import { contentHash } from '../../src/pipeline/hash.js';
import { loadWordNeighbours } from '../../src/models/word-neighbours.js';
import {
  contentKey,
  contentKeyHash,
  CopyDetector,
  createNearDupIndex,
  estimateJaccard,
  fmix32,
  hash64,
  MinHasher,
  NearCopyDetector,
  stripBridgePrefix,
  wordShingleHashes,
  type CopyCandidate,
} from '../../src/pipeline/dedupe/index.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'dedupe');
const MIN = 60_000;

describe('contentKey', () => {
  it('folds case and collapses whitespace and punctuation', () => {
    expect(contentKey('  The Export   button\tis BROKEN!!\n')).toBe('the export button is broken');
    expect(contentKey('The export button is broken')).toBe(contentKey('the EXPORT button... is broken'));
  });

  it('removes bridge prefixes, also stacked ones, unless told not to', () => {
    const plain = contentKey('search is slow since v2.3');
    expect(contentKey('[irc] <alice> search is slow since v2.3')).toBe(plain);
    expect(contentKey('<alice> search is slow since v2.3')).toBe(plain);
    expect(contentKey('[bob] search is slow since v2.3')).toBe(plain);
    expect(contentKey('[irc] <relaybot> [m] <alice> search is slow since v2.3')).toBe(plain);
    expect(contentKey('<alice> search is slow since v2.3', { stripBridgePrefix: false })).not.toBe(plain);
    expect(stripBridgePrefix('<alice>')).toBe('<alice>');
  });

  it('drops mentions, markup and link tracking but keeps the link', () => {
    const a = contentKey('<@U024BE7LH> the *export* fails, see <https://example.com/x?utm_source=slack|the log>');
    const b = contentKey('@alice the export fails, see the log');
    expect(a).toBe(b);
    expect(contentKey('see https://www.example.com/a?id=3&utm_medium=x&fbclid=1')).toBe(contentKey('see http://example.com/a?id=3'));
    expect(contentKey('see https://example.com/a?id=3')).not.toBe(contentKey('see https://example.com/a?id=4'));
  });

  it('hash64 is 16 hex characters, stable, and tells keys apart', () => {
    expect(hash64('the export button is broken')).toMatch(/^[0-9a-f]{16}$/);
    expect(hash64('abc')).toBe(hash64('abc'));
    expect(hash64('abc')).not.toBe(hash64('abd'));
    // Stored keys: the two halves are hash32 and hash32b, as they always were (pinned values).
    expect(hash64('the export button is broken')).toBe('7ea100fccd500ddf');
    expect(hash64('')).toBe('ab3e7c0bebb6c228');
    expect(hash64('ünïcödé 日本語 😀')).toBe('fe6f68885b57ce95');
  });

  it('contentHash keeps the values stored as messages.content_hash (pinned)', () => {
    expect(contentHash('the export button is broken', 'the export button is broken', null, 0, undefined, 'null', null, 'alice')).toBe('cdb8fb56653aba91');
    expect(contentHash()).toBe('811c9dc55ad1e806');
    expect(contentHash('ünïcödé 日本語 😀', 42)).toBe('4835c3fc9ce5e780');
  });

  it('contentKeyHash is hash64 of the key, with its length and spaces, ASCII or not', () => {
    const texts = [
      '  The Export   button\tis BROKEN!!\n',
      '[irc] <alice> search is slow since v2.3',
      '<@U024BE7LH> the *export* fails, see <https://example.com/x?utm_source=slack|the log>',
      'see [the docs](https://www.example.com/a?id=3&fbclid=1#top) :tada: @bob',
      '<b>bold</b> and <div class="x">markup</div>',
      '...!!!',
      '',
      'ünïcödé Ｆｕｌｌ ﬁle 日本語 😀',
      'A1-b2_c3',
    ];
    for (const t of texts) {
      for (const opts of [{}, { stripBridgePrefix: false }]) {
        const k = contentKey(t, opts);
        expect(contentKeyHash(t, opts)).toEqual({ hash: hash64(k), length: k.length, spaces: k ? k.split(' ').length - 1 : 0 });
      }
    }
  });
});

describe('CopyDetector', () => {
  const msg = (id: string, text: string, at: number, channel: string, author: string | null = 'alice'): CopyCandidate => ({
    id,
    author,
    text,
    at,
    channel,
  });
  const long = 'The weekly digest email arrives twice on Mondays';

  it('finds a cross-post or bridge relay within the window and points at the original', () => {
    const d = new CopyDetector({ windowMs: 10 * MIN });
    expect(d.check(msg('a', long, 0, 'general'))).toBeNull();
    expect(d.check(msg('b', `[irc] <alice> ${long.toUpperCase()}`, 2 * MIN, 'irc-general', null))).toBe('a');
    expect(d.check(msg('c', long, 9 * MIN, 'support', 'bob'))).toBe('a');
  });

  it('is not a copy outside the window', () => {
    const d = new CopyDetector({ windowMs: 10 * MIN });
    expect(d.check(msg('a', long, 0, 'general'))).toBeNull();
    expect(d.check(msg('b', long, 11 * MIN, 'support'))).toBeNull();
    // b is the new original from now on
    expect(d.check(msg('c', long, 12 * MIN, 'dev'))).toBe('b');
    expect(d.check(msg('z', 'something else entirely that is long', 60 * MIN, 'dev'))).toBeNull();
    expect(d.size()).toBe(1); // the old keys expired
  });

  it('never treats short lines as copies', () => {
    const d = new CopyDetector();
    for (const [i, t] of ['ok', '+1', 'thanks', 'thanks!', 'Thank you!', 'same here'].entries()) {
      expect(d.check(msg(`a${i}`, t, i, 'general'))).toBeNull();
      expect(d.check(msg(`b${i}`, t, i + 1, 'dev'))).toBeNull();
    }
  });

  it('counts a paste twice by the same person, but not two people saying the same in one room', () => {
    const d = new CopyDetector();
    expect(d.check(msg('a', long, 0, 'general', 'alice'))).toBeNull();
    expect(d.check(msg('b', long, MIN, 'general', 'bob'))).toBeNull();
    expect(d.check(msg('c', long, 2 * MIN, 'general', 'bob'))).toBe('b');
  });
});

describe('MinHash and LSH', () => {
  const set = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => fmix32(from + i));

  it('estimates the Jaccard similarity of known sets', () => {
    const h = new MinHasher(128);
    const cases: Array<[number[], number[], number]> = [
      [set(0, 100), set(50, 150), 50 / 150],
      [set(0, 100), set(10, 100), 90 / 100],
      [set(0, 40), set(1000, 1040), 0],
      [set(0, 200), set(0, 200), 1],
    ];
    for (const [a, b, jaccard] of cases) {
      expect(Math.abs(estimateJaccard(h.of(a), h.of(b)) - jaccard)).toBeLessThan(0.1);
    }
  });

  it('finds a planted near copy and not an unrelated text', () => {
    const hasher = new MinHasher(128);
    const detector = new NearCopyDetector({ bands: 32, rows: 4, threshold: 0.5 });
    const buf = new Uint32Array(256);
    const sig = (text: string): Uint32Array => {
      const n = wordShingleHashes(contentKey(text), 2, buf);
      const out = new Uint32Array(128);
      hasher.signature(buf, n, out);
      return out;
    };
    const texts = [
      'when I export the weekly report to csv the file is empty except for the header row on firefox',
      'dark mode would be great for the dashboard, my eyes hurt at night when reviewing clusters',
      'login with saml sso fails with an invalid audience error since the upgrade to version four',
      'the slack connector stops syncing after about an hour and only a restart brings it back',
    ];
    texts.forEach((t, i) => expect(detector.check(`t${i}`, sig(t))).toBeNull());
    const hit = detector.check('copy', sig('when I export the monthly report to csv the file is empty except for the header row in firefox'));
    expect(hit?.id).toBe('t0');
    expect(hit!.similarity).toBeGreaterThan(0.5);
    expect(detector.check('other', sig('please add keyboard shortcuts for approving items in the digest review screen'))).toBeNull();
  });
});

describe('NearDupIndex', () => {
  const reports: Array<[string, string]> = [
    ['Export to CSV produces an empty file', 'Exporting the weekly report to CSV downloads a file with only the header row.'],
    ['Dark mode for the dashboard', 'Please add a dark theme; the white dashboard is hard on the eyes at night.'],
    ['SAML login fails after upgrade', 'Since 4.0 SAML SSO login fails with "invalid audience" for Okta users.'],
    ['Slack connector stops syncing', 'After about an hour the Slack source stops pulling new messages until restarted.'],
    ['Digest email arrives twice', 'Every Monday the weekly digest email is delivered two times to all recipients.'],
    ['Search is slow on large workspaces', 'Full-text search takes 10+ seconds with more than a million messages.'],
    ['Webhook retries never stop', 'A failing webhook endpoint keeps being retried forever instead of giving up.'],
    ['Cannot invite team members', 'The invite button does nothing; no email is sent and no error is shown.'],
    ['Timezone wrong in digest', 'Times in the digest are UTC even though my profile is set to Europe/Berlin.'],
    ['Matrix bridge duplicates messages', 'Messages relayed from IRC through Matrix appear twice in the cluster view.'],
    ['Discord threads not imported', 'Replies inside Discord threads are missing after importing the export JSON.'],
    ['Tag inbox pagination broken', 'Clicking next page in the tag inbox shows the same twenty items again.'],
    ['Add keyboard shortcuts', 'It would be nice to approve or reject digest items with keyboard shortcuts.'],
    ['Mailing list importer crashes on mbox', 'Importing a large mbox archive crashes with "invalid header line" on line 3021.'],
    ['Redis connection errors in worker', 'Workers log ECONNRESET from Redis every few minutes and jobs stall.'],
    ['PostgreSQL migration fails', 'Running migrations against Postgres 16 fails on the clusters table index.'],
    ['Docs: config example outdated', 'The sample gleaner.yaml in the docs uses keys that no longer exist.'],
    ['Avatar images not loading', 'Reporter avatars show broken images in the cluster page on Safari.'],
    ['Feature request: Teams connector', 'We use Microsoft Teams; a connector for it would help us a lot.'],
    ['Cluster titles are too generic', 'Many clusters are titled "issue" or "problem" which says nothing.'],
    ['IRC reconnect loop', 'The IRC listener reconnects every few seconds when the server sends a throttle notice.'],
    ['Rate limit on Slack history backfill', 'Backfilling a big Slack channel hits 429 and the source is disabled.'],
    ['Export clusters as JSON', 'An API endpoint to fetch clusters as JSON would help our internal tools.'],
    ['Digest preview shows raw HTML', 'In the curation screen the digest preview renders HTML tags as text.'],
    ['Memory grows without bound in enrich worker', 'The enrich worker RSS grows to 4 GB over a day of ingest.'],
    ['Unicode names garbled in digest', 'Names with accents like José appear as JosÃ© in the emailed digest.'],
    ['SMTP TLS handshake fails', 'Sending the digest through our SMTP relay fails with a TLS version error.'],
    ['Person merge across platforms', 'The same person on Slack and Discord is counted as two reporters.'],
    ['Filter clusters by channel', 'I want to see only clusters that include messages from #support.'],
    ['Trend arrow wrong for new clusters', 'A cluster that is new this week shows a downward trend arrow.'],
  ];

  it('ranks a paraphrase of a report first', () => {
    const index = createNearDupIndex();
    reports.forEach(([title, text], i) => index.add(`r${i}`, { title, text }));
    expect(index.size()).toBe(reports.length);
    const probes: Array<[string, string, string]> = [
      ['CSV export gives an empty file', 'When I export the report as CSV I only get the header row, no data.', 'r0'],
      ['Weekly digest delivered twice', 'We get the Monday digest email two times.', 'r4'],
      ['SSO login broken since 4.0', 'SAML login now fails: invalid audience (Okta).', 'r2'],
      ['Duplicate messages via the Matrix bridge', 'IRC messages bridged through Matrix show up twice.', 'r9'],
      ['Slack sync stops after an hour', 'The Slack connector stops pulling messages after about an hour; restart fixes it.', 'r3'],
    ];
    for (const [title, text, expected] of probes) {
      const top = index.query({ title, text }, 5);
      expect(top[0]?.id).toBe(expected);
      expect(top.length).toBeLessThanOrEqual(5);
      for (let i = 1; i < top.length; i++) expect(top[i - 1]!.score).toBeGreaterThanOrEqual(top[i]!.score);
    }
  });

  it('ranks first the report whose need text meets the query in character n-grams, over one that shares words only in a stack trace', () => {
    // The distractor shares "autosave" and "draft" with the query, but only inside a stack trace; the
    // partner shares "draft" in its stack trace too, and its prose ("Auto-save", "saving",
    // "overwrites") meets the query's ("autosave", "writing") in no whole word, only in 3-5-grams.
    const docs: Array<[string, string]> = [
      ['Startup crash', 'The service crashes on start.\n  at com.example.AutosaveDraft.restore(AutosaveDraft.java:42)'],
      ['Auto-save wipes my page', 'Auto saving overwrites the page with an empty one.\n  at com.example.DraftStore.save(DraftStore.java:42)'],
      ['Dark mode for the settings page', 'The settings page is very bright at night.'],
      ['Export to PDF cuts tables', 'Wide tables are cut off at the right edge in the PDF.'],
      ['Login with SSO fails', 'SAML login returns an invalid audience error.'],
    ];
    const query = { title: 'Autosave loses the draft', text: 'With autosave on, the editor loses the draft I was writing.' };
    const top = (opts: Parameters<typeof createNearDupIndex>[0]) => {
      const index = createNearDupIndex(opts);
      docs.forEach(([title, text], i) => index.add(`d${i}`, { title, text }));
      return index.query(query, 2).map((r) => r.id);
    };
    expect(top({ needRankWeight: 0 })).toEqual(['d0', 'd1']);
    expect(top({})).toEqual(['d1', 'd0']);
    expect(top({ wordModel: loadWordNeighbours() })).toEqual(['d1', 'd0']);
  });

  it('excludes the query document when asked', () => {
    const index = createNearDupIndex();
    reports.forEach(([title, text], i) => index.add(`r${i}`, { title, text }));
    const [title, text] = reports[6]!;
    expect(index.query({ title, text }, 3)[0]?.id).toBe('r6');
    expect(index.query({ title, text }, 3, { exclude: 'r6' }).map((r) => r.id)).not.toContain('r6');
  });
});

describe('CSV reader', () => {
  it('handles quoted fields with commas, newlines, doubled quotes, CRLF and a BOM', () => {
    const text = '\ufeffa,b,c\r\n1,"x, y","say ""hi""\nthere"\r\n2,,"" \n3,last';
    expect(parseCsv(text)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"\nthere'],
      ['2', '', ' '],
      ['3', 'last'],
    ]);
    expect(parseCsvRecords('a,b\n1,2\n\n3\n')).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '' },
    ]);
  });

  it('reports an unterminated quote with its line', () => {
    expect(() => parseCsv('a,b\n1,"open\nstill open')).toThrow(CsvError);
    expect(() => parseCsv('a,b\n1,"open\nstill open')).toThrow(/line 2/);
  });
});

describe('evalDups', () => {
  it('computes recall@k and MRR over the pairs whose ends exist', async () => {
    // Ranks: 4->5 first, 1->3 second (2 is a verbatim copy of 1), 7->8 shares no term, 5->4 first;
    // 6->6000 is skipped (6000 is not in the corpus).
    const metrics = await evalDups(join(fixtures, 'reports.csv'), join(fixtures, 'pairs.csv'));
    expect(metrics).toEqual([
      ['dups.recall@1', 0.5],
      ['dups.recall@5', 0.75],
      ['dups.recall@10', 0.75],
      ['dups.mrr', 0.625],
    ]);
  });
});
