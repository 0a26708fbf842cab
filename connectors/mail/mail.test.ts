import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSkip, type QuarantineEntry, type RawMessage } from '../../src/model/index.js';
import type { ImportItem, Importer } from '../types.js';
import { extractNewText, mailImporters, mboxImporter, normalizeMail, pipermailImporter } from './index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fx = (name: string): string => join(FIXTURES, name);
const ctx = { source: 'test' };

interface ReadResult {
  items: ImportItem[];
  quarantine: QuarantineEntry[];
  messages: RawMessage[];
  pages: number;
  progress: Array<[number, number]>;
}

async function readAll(importer: Importer, path: string, opts: { pageSize?: number; maxMessageBytes?: number; channel?: string } = {}): Promise<ReadResult> {
  const out: ReadResult = { items: [], quarantine: [], messages: [], pages: 0, progress: [] };
  for await (const page of importer.read(path, { source: 'test', ...opts })) {
    out.pages += 1;
    out.items.push(...page.items);
    out.quarantine.push(...page.quarantine);
    out.progress.push([page.bytesRead, page.totalBytes]);
  }
  for (const item of out.items) {
    const r = await importer.normalize(item.raw, opts.channel ? { ...ctx, channel: opts.channel } : ctx);
    if (isSkip(r)) throw new Error(`unexpected skip at ${item.location}: ${r.reason}`);
    out.messages.push(r);
  }
  return out;
}

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'gleaner-mail-test-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('mbox variants', () => {
  it('mboxrd drops one > from >+From lines; mboxo leaves >From alone', async () => {
    const rd = await readAll(mboxImporter, fx('mboxrd.mbox'));
    expect(rd.messages.map((m) => m.externalId)).toEqual(['rd-1@example.org', 'rd-2@example.org']);
    expect(rd.messages[0]?.text).toBe('First line.\nFrom the start this was escaped once.\n>From here it was quoted and escaped.\n>>From three deep.\n> quoted normal line\n');
    const o = await readAll(mboxImporter, fx('mboxo.mbox'));
    expect(o.messages[0]?.text).toBe('First line.\n>From the start this was escaped once.\n> quoted normal line\n');
    expect(o.messages[1]?.text).toBe('Plain.\n');
  });

  it('detects mboxrd from >>From lines even without the public-inbox From_ line', async () => {
    const path = join(tmp, 'rd-detect.mbox');
    writeFileSync(path, readFileSync(fx('mboxrd.mbox'), 'utf8').replaceAll('From mboxrd@z Thu Jan  1 00:00:00 1970', 'From x@example.org Thu Jan  1 00:00:00 1970'));
    const rd = await readAll(mboxImporter, path);
    expect(rd.messages[0]?.text).toContain('\nFrom the start this was escaped once.\n>From here');
  });

  it('reads CRLF files like LF files', async () => {
    const path = join(tmp, 'crlf.mbox');
    writeFileSync(path, readFileSync(fx('mboxo.mbox'), 'utf8').replace(/\n/g, '\r\n'));
    const lf = await readAll(mboxImporter, fx('mboxo.mbox'));
    const crlf = await readAll(mboxImporter, path);
    expect(crlf.quarantine).toEqual([]);
    expect(crlf.messages.map((m) => [m.externalId, m.subject, m.text.trim(), m.sentAt])).toEqual(lf.messages.map((m) => [m.externalId, m.subject, m.text.trim(), m.sentAt]));
    expect(crlf.items[1]?.location).toBe(`${path}@${readFileSync(fx('mboxo.mbox'), 'utf8').split('\n').slice(0, 10).join('\r\n').length + 2} (line 11)`);
  });

  it('reads gzip by its magic bytes, whatever the name, with compressed-byte progress', async () => {
    const path = join(tmp, 'httpd-users-no-extension');
    writeFileSync(path, gzipSync(readFileSync(fx('apache/httpd-users-2020-07.mbox'))));
    const size = readFileSync(path).length;
    const r = await readAll(mboxImporter, path, { pageSize: 50 });
    expect(r.items).toHaveLength(108);
    expect(r.pages).toBe(3);
    expect(r.progress.every(([read, total]) => total === size && read <= total)).toBe(true);
    expect(r.progress.at(-1)?.[0]).toBe(size);
  });
});

describe('real ASF archives', () => {
  it('httpd-users-2020-07.mbox gives exactly its 108 messages (108 From_ separators), nothing quarantined', async () => {
    const r = await readAll(mboxImporter, fx('apache/httpd-users-2020-07.mbox'), { pageSize: 10 });
    expect(r.items).toHaveLength(108);
    expect(r.pages).toBe(11);
    expect(r.quarantine).toEqual([]);
    expect(new Set(r.messages.map((m) => m.externalId)).size).toBe(108);
    expect(r.items[0]?.location).toMatch(/httpd-users-2020-07\.mbox@0 \(line 1\)$/);
    expect(r.items[1]?.location).toMatch(/@\d+ \(line 132\)$/);

    const byId = new Map(r.messages.map((m) => [m.externalId, m]));
    const first = byId.get('CAPORhP5gkEyrAtqi+uAvJStuCkEqwrO95BFbH0OKaszm=8JuRw@mail.gmail.com');
    expect(first?.replyTo).toBe('202006281750.44007.Antony.Stone@apache.open.source.it');
    expect(first?.references).toEqual([
      'CAPORhP6C5f1vK5rdi4J_mFKL1=w-wd4Hq=3_mGhaH_1RyJtRAw@mail.gmail.com',
      '202006281722.25818.Antony.Stone@apache.open.source.it',
      'CAPORhP66gy-_sjv6O_jtSBG7QwbQT2_BgySDWerPU3xxh9=_mw@mail.gmail.com',
      '202006281750.44007.Antony.Stone@apache.open.source.it',
    ]);
    expect(first?.author).toEqual({ id: 'dave.mehler@gmail.com', name: 'David Mehler', email: 'dave.mehler@gmail.com', isBot: false });
    expect(first?.channel).toBe('users.httpd.apache.org');
    expect(first?.sentAt).toBe(Date.parse('2020-07-01T05:03:41Z'));
    expect(first?.permalink).toBeNull(); // ASF's archived-at header holds a date, not a URL

    const reply = byId.get('71DB10F8-4FA3-4494-B4A2-D8AE5FD8022D@me.com');
    expect(reply?.replyTo).toBe('44E2E15D-A93B-47CB-9DFE-38A0CAFD9ED8@kreme.com');
    // References is folded over two lines in the file
    expect(reply?.references).toEqual(['fddf1e80-fa90-8121-0461-6d0a95ce0225@unclassified.de', '44E2E15D-A93B-47CB-9DFE-38A0CAFD9ED8@kreme.com']);
    const root = byId.get('CAKXhZzwONzGiOPUyYE84tkx8sUgLSnHWOZSQWcOXf-sWGwLiyQ@mail.gmail.com');
    expect(root?.replyTo).toBeNull();
    expect(root?.references).toEqual([]);

    // ASF footers and quotes never reach cleanText
    for (const m of r.messages) {
      expect(m.cleanText ?? '').not.toMatch(/To unsubscribe, e-mail:/);
      expect(m.cleanText ?? '').not.toMatch(/^>/m);
    }
  });

  it('the same 10 messages from four archive systems give the same 10 externalIds', async () => {
    const files = ['listsao_1', 'listsao_2', 'mailarchivesao', 'mboxvm'].map((n) => fx(`apache/maven_duplicates_2017_${n}.mbox`));
    const sets: string[][] = [];
    for (const f of files) {
      const r = await readAll(mboxImporter, f);
      expect(r.quarantine).toEqual([]);
      sets.push(r.messages.map((m) => m.externalId).sort());
      for (const m of r.messages) expect(m.globalKey).toBe(m.externalId);
      // GitBox <git@apache.org> notifications are bots, kept and marked
      expect(r.messages.filter((m) => m.author.isBot).length).toBeGreaterThan(0);
    }
    expect(sets[0]).toHaveLength(10);
    for (const s of sets) expect(s).toEqual(sets[0]);
  });
});

describe('pipermail', () => {
  it('restores addresses, keeps threading headers, turns scrub notices into attachments', async () => {
    const r = await readAll(pipermailImporter, fx('2024-March.txt'));
    expect(r.quarantine).toEqual([]);
    expect(r.messages.map((m) => m.externalId)).toEqual(['CAF1alice0001@mail.example.org', '5f2e.bob@example.net', 'carol-0002@example.com']);
    const [alice, bob, carol] = r.messages;
    expect(alice?.author).toEqual({ id: 'alice@example.org', name: 'Alice Example', email: 'alice@example.org', isBot: false });
    expect(alice?.channel).toBe('2024-March');
    expect(alice?.text).not.toContain('next part');
    expect(alice?.attachments).toEqual([
      { name: 'attachment.html', contentType: 'text/html', size: null, url: 'http://lists.example.org/pipermail/widgets/attachments/20240304/0a1b2c3d/attachment.html' },
    ]);
    expect(bob?.author.email).toBe('bob.smith@example.net');
    expect(bob?.replyTo).toBe('CAF1alice0001@mail.example.org');
    expect(bob?.references).toEqual(['CAF1alice0001@mail.example.org']);
    expect(bob?.attachments).toEqual([
      { name: 'fix-csv-header.patch', contentType: 'text/x-patch', size: 1234, url: 'http://lists.example.org/pipermail/widgets/attachments/20240304/9f8e7d6c/fix-csv-header.patch' },
    ]);
    expect(bob?.cleanText).toBe('Confirmed here too, with a patch attached.');
    expect(carol?.author.name).toBe('Caröl Dürr');
    // a body line "From a user's ..." after a blank line is not a separator
    expect(carol?.text).toContain("From a user's point of view");
    const payload = r.items[0]?.payload ?? '';
    expect(payload.split('\n').slice(0, 2)).toEqual(['From alice@example.org  Mon Mar  4 09:15:02 2024', 'From: alice@example.org (Alice Example)']);
  });

  it('detects by name or by the two-space `at` From_ line; mbox does not claim pipermail', () => {
    const pm = readFileSync(fx('2024-March.txt'));
    const mbox = readFileSync(fx('mboxo.mbox'));
    expect(pipermailImporter.detect('x/2024-March.txt', Buffer.from('whatever'))).toBe(true);
    expect(pipermailImporter.detect('x/2015-November.txt.gz', Buffer.from(''))).toBe(true);
    expect(pipermailImporter.detect('archive.txt', pm)).toBe(true);
    expect(mboxImporter.detect('archive.txt', pm)).toBe(false);
    expect(mboxImporter.detect('a.mbox', mbox)).toBe(true);
    expect(pipermailImporter.detect('a.mbox', mbox)).toBe(false);
    expect(mboxImporter.detect('a.mbox', Buffer.from('\x00\x01binary'))).toBe(false);
    expect(mailImporters.map((i) => i.format)).toEqual(['mbox', 'pipermail']);
  });

  it('reads a gzipped month', async () => {
    const path = join(tmp, '2024-March.txt.gz');
    writeFileSync(path, gzipSync(readFileSync(fx('2024-March.txt'))));
    const r = await readAll(pipermailImporter, path);
    expect(r.messages).toHaveLength(3);
    expect(r.messages[0]?.channel).toBe('2024-March');
  });
});

describe('normalize', () => {
  it('decodes charsets and RFC 2047, turns HTML-only mail into text, marks bots, reads List-Id and Archived-At', async () => {
    const r = await readAll(mboxImporter, fx('charset-html.mbox'), { channel: 'fallback-channel' });
    const [latin, html, odd, jira, noId] = r.messages;
    expect(latin?.author).toEqual({ id: 'frank.mueller@example.de', name: 'Frank Müller', email: 'frank.mueller@example.de', isBot: false });
    expect(latin?.subject).toBe('Grüße aus Köln');
    expect(latin?.text).toContain('Schöne Grüße');
    expect(latin?.cleanText).toBe('Schöne Grüße, der Export ist kaputt.');
    expect(latin?.channel).toBe('users.widgets.example.org');
    expect(latin?.channelName).toBe('Widgets users');
    expect(latin?.permalink).toBe('https://lists.example.org/archives/users/latin1-1');

    expect(html?.text).toContain('Merci, j’ai le même problème.');
    expect(html?.text).not.toContain('<');
    expect(html?.cleanText).toBe('Merci, j’ai le même problème.');
    expect(html?.replyTo).toBe('latin1-1@example.de'); // junk after the id ignored
    expect(html?.references).toEqual(['root-0@example.de', 'latin1-1@example.de']);
    expect(html?.channel).toBe('fallback-channel');

    expect(odd?.text).toBe('Still readable text.\n');
    expect(jira?.author.isBot).toBe(true);
    expect(noId?.externalId).toMatch(/^gleaner-[0-9a-f]{32}$/);
    expect(noId?.cleanText).toBe('This message has no Message-ID.');
    const again = await readAll(mboxImporter, fx('charset-html.mbox'));
    expect(again.messages[4]?.externalId).toBe(noId?.externalId);
    expect(again.messages[4]?.channel).toBe('charset-html'); // the archive's base name when nothing else is known
  });

  it('an unknown charset is reported with file and offset and still imported', async () => {
    const r = await readAll(mboxImporter, fx('charset-html.mbox'));
    expect(r.items).toHaveLength(5);
    expect(r.quarantine).toHaveLength(1);
    expect(r.quarantine[0]?.reason).toMatch(/unknown charset "x-klingon-42"/);
    expect(r.quarantine[0]?.location).toMatch(/charset-html\.mbox@1105 \(line 30\)$/);
  });

  it('never throws: garbage gives a Skip with a reason', async () => {
    for (const raw of [null, 42, { kind: 'other' }, '', '\x00\x01\x02', 'just some words\nno headers']) {
      const r = await normalizeMail(raw, ctx);
      expect(isSkip(r)).toBe(true);
      if (isSkip(r)) expect(r.reason.length).toBeGreaterThan(5);
    }
  });

  it('takes the From_ line date when Date is missing or broken, and skips with a reason when neither exists', async () => {
    const withFromLine = await normalizeMail('From x@example.org Tue Mar  5 08:00:00 2024\nFrom: x@example.org\nDate: not a date\nSubject: s\n\nbody\n', ctx);
    expect(isSkip(withFromLine) ? null : withFromLine.sentAt).toBe(Date.UTC(2024, 2, 5, 8, 0, 0));
    const none = await normalizeMail('From: x@example.org\nSubject: s\n\nbody\n', ctx);
    expect(isSkip(none) && none.reason).toMatch(/no usable date/);
  });

  it('cleanText strips quotes, attributions, signatures, footers, Outlook originals and mobile signatures', () => {
    expect(extractNewText('New text.\n\nOn Mon, Jan 1, 2024 at 12:00 PM Alice <a@x.org>\nwrote:\n> old\n> older\n')).toBe('New text.');
    expect(extractNewText('Alice <a@x.org> writes:\n\n> question?\n\nAnswer.\n')).toBe('Answer.');
    expect(extractNewText('Ja.\n\nAm 01.01.2024 um 12:00 schrieb Alice:\n> Frage\n')).toBe('Ja.');
    expect(extractNewText('Oui.\n\nLe lun. 1 janv. 2024 à 12:00, Alice <a@x.org> a écrit :\n> question\n')).toBe('Oui.');
    expect(extractNewText('Top post.\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\n\nold stuff\n')).toBe('Top post.');
    expect(extractNewText('Reply.\n\n________________________________\nFrom: Bob <b@x.org>\nSent: Monday\nTo: list\n\nold\n')).toBe('Reply.');
    expect(extractNewText('Body.\n-- \nAlice\nhttps://alice.example\n')).toBe('Body.');
    expect(extractNewText('Body.\n--\nAlice\n')).toBe('Body.');
    expect(extractNewText('Body.\n\nSent from my iPhone\n')).toBe('Body.');
    expect(extractNewText('Body.\n_______________________________________________\nWidgets mailing list\nWidgets at lists.example.org\nhttp://lists.example.org/mailman/listinfo/widgets\n')).toBe(
      'Body.',
    );
    expect(extractNewText('> q1\nanswer 1\n> q2\nanswer 2\n')).toBe('answer 1\nanswer 2');
    expect(extractNewText('He wrote: nothing special here.\nStill new.')).toBe('He wrote: nothing special here.\nStill new.');
  });
});

describe('bad input is quarantined with file and offset; the rest imports', () => {
  it('a broken From_ line and a truncated MIME message', async () => {
    const r = await readAll(mboxImporter, fx('broken.mbox'));
    expect(r.messages.map((m) => m.externalId)).toEqual(['good-1@example.com', 'good-2@example.com', 'good-3@example.com']);
    expect(r.messages[2]?.attachments).toEqual([{ name: 'data.csv', contentType: 'text/csv', size: 7 }]);
    expect(r.quarantine).toHaveLength(2);
    const [broken, truncated] = r.quarantine;
    expect(broken?.location).toBe(`${fx('broken.mbox')}@183 (line 9)`);
    expect(broken?.reason).toMatch(/broken From_ line/);
    expect(broken?.excerpt).toContain('broken-1@example.com');
    expect(truncated?.location).toBe(`${fx('broken.mbox')}@674 (line 26)`);
    expect(truncated?.reason).toMatch(/truncated MIME/);
  });

  it('a 20 MB message over maxMessageBytes', async () => {
    const path = join(tmp, 'big.mbox');
    const good = readFileSync(fx('mboxo.mbox'), 'utf8');
    const bigHead = 'From big@example.org Thu Jan 11 10:00:00 2024\nFrom: Big <big@example.org>\nDate: Thu, 11 Jan 2024 10:00:00 +0000\nSubject: huge\nMessage-ID: <big@example.org>\n\n';
    const line = `${'x'.repeat(999)}\n`;
    writeFileSync(path, good + bigHead + line.repeat(20 * 1024) + '\n' + good.replaceAll('<o-', '<again-'));
    const r = await readAll(mboxImporter, path);
    expect(r.messages.map((m) => m.externalId)).toEqual(['o-1@example.org', 'o-2@example.org', 'again-1@example.org', 'again-2@example.org']);
    expect(r.quarantine).toHaveLength(1);
    expect(r.quarantine[0]?.location).toBe(`${path}@${Buffer.byteLength(good)} (line ${good.split('\n').length})`);
    expect(r.quarantine[0]?.reason).toMatch(/over the 10485760-byte limit/);
    expect(r.quarantine[0]?.excerpt.length).toBeLessThanOrEqual(500);
  });

  it('a binary file, an empty file, and a file with no From_ line give no items and one entry saying so', async () => {
    const bin = join(tmp, 'binary.mbox');
    const bytes = Buffer.alloc(200_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    writeFileSync(bin, bytes);
    const empty = join(tmp, 'empty.mbox');
    writeFileSync(empty, '');
    const eml = join(tmp, 'single.eml');
    writeFileSync(eml, 'From: a@example.org\nSubject: not an mbox\n\nhello\n');
    for (const [path, why] of [
      [bin, /NUL bytes/],
      [empty, /empty/],
      [eml, /no mbox From_ line/],
    ] as const) {
      const r = await readAll(mboxImporter, path);
      expect(r.items).toEqual([]);
      expect(r.quarantine).toHaveLength(1);
      expect(r.quarantine[0]?.location).toBe(`${path}@0 (line 1)`);
      expect(r.quarantine[0]?.reason).toMatch(/^no readable message/);
      expect(r.quarantine[0]?.reason).toMatch(why);
      // eslint-disable-next-line no-control-regex
      expect(r.quarantine[0]?.excerpt).not.toMatch(/[\x00-\x08]/);
    }
  });

  it('binary junk in the middle of an archive is quarantined, the messages around it import', async () => {
    const path = join(tmp, 'mixed.mbox');
    const good = readFileSync(fx('mboxo.mbox'));
    const junk = Buffer.concat([Buffer.from('From junk@example.org Thu Jan 11 10:00:00 2024\nFrom: j@example.org\n\n'), Buffer.from([0, 1, 2, 0, 255, 10, 10])]);
    writeFileSync(path, Buffer.concat([good, junk, Buffer.from(good.toString('utf8').replaceAll('<o-', '<b-'))]));
    const r = await readAll(mboxImporter, path);
    expect(r.messages).toHaveLength(4);
    expect(r.quarantine).toHaveLength(1);
    expect(r.quarantine[0]?.reason).toMatch(/NUL bytes/);
    expect(r.quarantine[0]?.location).toBe(`${path}@${good.length} (line ${good.toString('utf8').split('\n').length})`);
  });

  it('a truncated gzip file keeps the messages read before the damage', async () => {
    const path = join(tmp, 'cut.mbox.gz');
    const gz = gzipSync(readFileSync(fx('apache/httpd-users-2020-07.mbox')));
    writeFileSync(path, gz.subarray(0, Math.floor(gz.length / 2)));
    const r = await readAll(mboxImporter, path);
    expect(r.items.length).toBeGreaterThan(10);
    expect(r.items.length).toBeLessThan(108);
    expect(r.quarantine.some((q) => /gzip stream unreadable/.test(q.reason))).toBe(true);
  });
});

describe('fixtures', () => {
  it('are self-contained (copied with their licence note)', () => {
    expect(readFileSync(fx('README.md'), 'utf8')).toMatch(/Apache-2\.0/);
    copyFileSync(fx('mboxo.mbox'), join(tmp, 'copy.mbox'));
  });
});
