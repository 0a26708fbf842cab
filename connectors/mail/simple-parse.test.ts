// The simple-message fast path must give exactly what the mailparser path gives: on every mail
// fixture and archive message, on hand-written edge cases, and on generated simple messages.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSkip } from '../../src/model/index.js';
import { mailImporters } from './index.js';
import { mailSourceText, normalizeMail, normalizeMailWith, type MailRaw } from './normalize.js';
import { parseAddress, parseSimpleMail } from './simple-parse.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ctx = { source: 'test' };
/** Real list archives outside the repo; read when the folder exists (it does on the team's machines). */
const SHARED_ARCHIVES = '/work/shared/data/raw-channels';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

/** Every file a mail importer claims, once per distinct content. */
function mailFiles(): Array<{ path: string; importer: (typeof mailImporters)[number] }> {
  const seen = new Set<string>();
  const out: Array<{ path: string; importer: (typeof mailImporters)[number] }> = [];
  const dirs = [join(ROOT, 'connectors/mail/fixtures'), join(ROOT, 'examples'), join(ROOT, 'test/fixtures'), SHARED_ARCHIVES];
  for (const path of dirs.flatMap(filesUnder)) {
    const bytes = readFileSync(path);
    const importer = mailImporters.find((i) => i.detect(path, bytes.subarray(0, 64 * 1024)));
    if (!importer) continue;
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (seen.has(hash)) continue;
    seen.add(hash);
    out.push({ path, importer });
  }
  return out;
}

async function bothPaths(raw: unknown): Promise<{ fast: unknown; slow: unknown }> {
  const fast = await normalizeMailWith(raw, ctx, { fastPath: true });
  const slow = await normalizeMailWith(raw, ctx, { fastPath: false });
  return { fast, slow };
}

const takesFastPath = (raw: MailRaw): boolean => parseSimpleMail(mailSourceText(raw), raw.sourceEncoding) !== null;

const mail = (source: string, sourceEncoding: 'utf8' | 'latin1' = 'utf8'): MailRaw => ({
  kind: 'mail',
  format: 'mbox',
  source,
  sourceEncoding,
  fromLine: null,
  archive: 'edge.mbox',
  location: 'edge.mbox@0',
});

describe('fast path equivalence on real archives and fixtures', () => {
  it('gives the same RawMessage as mailparser for every message', async () => {
    const files = mailFiles();
    const names = files.map((f) => f.path);
    expect(names.some((p) => p.endsWith('httpd-users-2020-07.mbox'))).toBe(true);
    if (existsSync(SHARED_ARCHIVES)) expect(names.some((p) => p.endsWith('maven-dev-2017-11.mbox'))).toBe(true);
    let total = 0;
    let fast = 0;
    const perFile: string[] = [];
    for (const { path, importer } of files) {
      let fileTotal = 0;
      let fileFast = 0;
      for await (const page of importer.read(path, { source: 'test' })) {
        for (const item of page.items) {
          const raw = item.raw as MailRaw;
          const r = await bothPaths(raw);
          expect(r.fast, `${item.location}`).toEqual(r.slow);
          fileTotal += 1;
          if (takesFastPath(raw)) fileFast += 1;
        }
      }
      perFile.push(`${path.replace(`${ROOT}/`, '')}: ${fileFast}/${fileTotal} fast`);
      total += fileTotal;
      fast += fileFast;
    }
    process.stdout.write(`mail fast path: ${fast} of ${total} messages\n  ${perFile.join('\n  ')}\n`);
    expect(total).toBeGreaterThan(100);
    // Most list mail is simple: if this drops, the fast path stopped matching ordinary messages.
    expect(fast).toBeGreaterThan(total / 4);
    expect(fast).toBeLessThan(total); // and the archives hold messages it must leave to mailparser
  }, 120_000);
});

const HEAD = 'From: Alice Example <alice@example.org>\nTo: list@example.org\nDate: Mon, 04 Mar 2024 10:15:02 +0100\nMessage-ID: <m1@example.org>\n';

interface Case {
  name: string;
  raw: MailRaw;
  fast: boolean;
  check?: (m: Record<string, unknown>) => void;
}

const cases: Case[] = [
  {
    name: 'folded Subject',
    raw: mail(`${HEAD}Subject: a long subject\n  that was folded\n\tover three lines\n\nBody.\n`),
    fast: true,
    check: (m) => expect(m.subject).toBe('a long subject that was folded over three lines'),
  },
  {
    name: 'repeated Received headers',
    raw: mail(`Received: from a by b; Mon, 04 Mar 2024 10:15:02 +0100\nReceived: from c\n by d; Mon, 04 Mar 2024 10:15:01 +0100\n${HEAD}Subject: hi\n\nBody.\n`),
    fast: true,
    check: (m) => expect(m.text).toBe('Body.\n'),
  },
  {
    name: 'CRLF line endings',
    raw: mail(`${HEAD}Subject: crlf\r\n folded\r\nReferences: <a@x>\r\n <b@x>\r\nIn-Reply-To: <b@x>\r\n\r\nLine one.\r\nLine two.\r\n`.replace(/(?<!\r)\n/g, '\r\n')),
    fast: true,
    check: (m) => {
      expect(m.subject).toBe('crlf folded');
      expect(m.text).toBe('Line one.\nLine two.\n');
      expect(m.references).toEqual(['a@x', 'b@x']);
      expect(m.replyTo).toBe('b@x');
    },
  },
  {
    name: 'From with a quoted name holding a comma',
    raw: mail(`From: "Example, Alice" <alice@example.org>\nDate: Mon, 04 Mar 2024 10:15:02 +0100\nSubject: q\n\nBody.\n`),
    fast: true,
    check: (m) => expect(m.author).toEqual({ id: 'alice@example.org', name: 'Example, Alice', email: 'alice@example.org', isBot: false }),
  },
  {
    name: 'From as addr (Comment)',
    raw: mail(`From: bob@example.net (Bob Smith)\nDate: Mon, 04 Mar 2024 10:15:02 +0100\nSubject: q\n\nBody.\n`),
    fast: true,
    check: (m) => expect(m.author).toMatchObject({ id: 'bob@example.net', name: 'Bob Smith' }),
  },
  {
    name: 'bare From address, bot sender, List-Id',
    raw: mail(
      `From: jira@apache.org\nDate: Mon, 04 Mar 2024 10:15:02 +0100\nSubject: [jira] x\nList-Id: <dev.maven.apache.org>\nContent-Type: TEXT/PLAIN; CHARSET="US-ASCII"\nContent-Transfer-Encoding: 7BIT\n\nBody.\n`,
    ),
    fast: true,
    check: (m) => {
      expect(m.author).toMatchObject({ id: 'jira@apache.org', name: null, isBot: true });
      expect(m.channel).toBe('dev.maven.apache.org');
    },
  },
  { name: 'encoded-word Subject', raw: mail(`${HEAD}Subject: =?UTF-8?Q?caf=C3=A9?=\n\nBody.\n`), fast: false, check: (m) => expect(m.subject).toBe('café') },
  { name: 'encoded-word name in From', raw: mail(`From: =?ISO-8859-1?Q?J=F6rg?= <j@example.org>\nDate: Mon, 04 Mar 2024 10:15:02 +0100\nSubject: s\n\nBody.\n`), fast: false },
  {
    name: 'base64 body',
    raw: mail(`${HEAD}Subject: b64\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${Buffer.from('Hello base64\n').toString('base64')}\n`),
    fast: false,
    check: (m) => expect(m.text).toBe('Hello base64\n'),
  },
  { name: 'quoted-printable body', raw: mail(`${HEAD}Subject: qp\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9\n`), fast: false },
  {
    name: 'multipart',
    raw: mail(
      `${HEAD}Subject: mp\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nplain part\n--b1\nContent-Type: text/html\n\n<p>html part</p>\n--b1--\n`,
    ),
    fast: false,
    check: (m) => expect(m.text).toBe('plain part'),
  },
  { name: 'latin-1 charset', raw: mail(`${HEAD}Subject: l1\nContent-Type: text/plain; charset=iso-8859-1\n\ncaf\u00e9\n`, 'latin1'), fast: false, check: (m) => expect(m.text).toBe('café\n') },
  { name: 'invalid UTF-8 bytes (latin-1 source)', raw: mail(`${HEAD}Subject: bad\n\ncaf\u00e9 \u00ff\n`, 'latin1'), fast: false },
  {
    name: 'valid UTF-8 bytes in a latin-1 source',
    raw: mail(`${HEAD}Subject: ok\n\n${Buffer.from('café ✓\n', 'utf8').toString('latin1')}`, 'latin1'),
    fast: true,
    check: (m) => expect(m.text).toBe('café ✓\n'),
  },
  { name: 'lone surrogate in a UTF-8 source', raw: mail(`${HEAD}Subject: bad\n\nx \ud800 y\n`), fast: false },
  { name: 'format=flowed', raw: mail(`${HEAD}Subject: f\nContent-Type: text/plain; charset=utf-8; format=flowed\n\nsoft \nbreak\n`), fast: false },
  { name: 'Content-Disposition', raw: mail(`${HEAD}Subject: d\nContent-Disposition: attachment; filename=a.txt\n\nbody\n`), fast: false },
  { name: 'non-ASCII header', raw: mail(`${HEAD}Subject: caf\u00e9\n\nbody\n`), fast: false },
  { name: 'two From addresses', raw: mail(`From: a@example.org, b@example.org\nDate: Mon, 04 Mar 2024 10:15:02 +0100\nSubject: s\n\nbody\n`), fast: false },
  { name: 'empty body', raw: mail(`${HEAD}Subject: empty\n\n`), fast: true, check: (m) => expect(m.text).toBe('') },
  { name: 'headers only', raw: mail(`${HEAD}Subject: headers only`), fast: true, check: (m) => expect(m.subject).toBe('headers only') },
  {
    name: 'empty Subject before a second one',
    raw: mail(`${HEAD}Subject:\nSubject: second\n\nbody\n`),
    fast: true,
    check: (m) => expect(m.subject).toBe('second'),
  },
  {
    name: '1 MB body',
    raw: mail(`${HEAD}Subject: big\nContent-Type: text/plain; charset=utf-8\n\n${'All work and no play makes Jack a dull boy. ✓\r\n'.repeat(22_000)}`),
    fast: true,
    check: (m) => expect((m.text as string).length).toBeGreaterThan(1_000_000),
  },
];

describe('fast path edge cases', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.fast ? 'fast path' : 'falls back'}, same result`, async () => {
      expect(takesFastPath(c.raw)).toBe(c.fast);
      const { fast, slow } = await bothPaths(c.raw);
      expect(fast).toEqual(slow);
      expect(isSkip(fast as never)).toBe(false);
      c.check?.(fast as Record<string, unknown>);
    });
  }

  it('never throws and falls back on odd input', async () => {
    const odd = ['', '\n\nbody', ' folded first line\n\nx', 'no colon here\n\nx', 'From x@y Mon Jan  1 00:00:00 2024\nSubject: s\n\nx', 'Subject: s\rbare CR\n\nx', 'Bad Name: v\n\nx', ':\n\nx'];
    for (const source of odd) {
      expect(parseSimpleMail(source, 'utf8'), JSON.stringify(source)).toBeNull();
      const { fast, slow } = await bothPaths(mail(source));
      expect(fast).toEqual(slow);
    }
    expect(await normalizeMail(42, ctx)).toEqual(await normalizeMailWith(42, ctx, { fastPath: false }));
  });

  it('reads the From forms as addressparser does, and declines the rest', () => {
    expect(parseAddress('Alice Example <alice@example.org>')).toEqual({ address: 'alice@example.org', name: 'Alice Example' });
    expect(parseAddress('"Example, Alice" <alice@example.org>')).toEqual({ address: 'alice@example.org', name: 'Example, Alice' });
    expect(parseAddress('alice@example.org (Alice Example)')).toEqual({ address: 'alice@example.org', name: 'Alice Example' });
    expect(parseAddress('alice@example.org')).toEqual({ address: 'alice@example.org', name: '' });
    expect(parseAddress('<alice@example.org>')).toEqual({ address: 'alice@example.org', name: '' });
    for (const v of ['a@x, b@y', 'Group: a@x;', '"a\\"b" <a@x>', 'a@x <b@y>', 'alice', 'Name <a@xn--bcher-kva.example>', 'N <a@x> (c)', '"" <a@x>', 'a (b) @x']) {
      expect(parseAddress(v), v).toBeNull();
    }
  });
});

describe('fast path equivalence on generated simple messages', () => {
  const word = fc.stringMatching(/^[A-Za-z0-9.'!#&*+/=?^_`{|}~-]{1,12}$/);
  const phrase = fc.array(word, { minLength: 1, maxLength: 4 }).map((ws) => ws.join(' '));
  const addr = fc.tuple(fc.stringMatching(/^[a-z0-9._+-]{1,10}$/), fc.stringMatching(/^[a-z0-9-]{1,8}\.[a-z]{2,4}$/)).map(([l, d]) => `${l}@${d}`);
  const from = fc.oneof(
    addr,
    fc.tuple(phrase, addr).map(([n, a]) => `${n} <${a}>`),
    fc.tuple(phrase, addr).map(([n, a]) => `"${n.replace(/"/g, '')}, x" <${a}>`),
    fc.tuple(addr, phrase).map(([a, n]) => `${a} (${n})`),
    fc.tuple(phrase, addr).map(([n, a]) => `${n}\n\t<${a}>`),
  );
  const bodyLine = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('> quoted', '-- ', 'On Mon, Bob wrote:', '', 'ünïcödé ✓ 😀', '\r', 'a\u0000b'));
  const message = fc.record({
    from,
    subject: fc.array(phrase, { minLength: 0, maxLength: 3 }),
    eol: fc.constantFrom('\n', '\r\n'),
    ct: fc.constantFrom(null, 'text/plain', 'text/plain; charset=utf-8', 'Text/Plain; charset="UTF-8"', 'text/plain; charset=us-ascii; format=fixed', 'text/plain; format=flowed', 'text/html'),
    cte: fc.constantFrom(null, '7bit', '8bit', 'quoted-printable'),
    extra: fc.array(fc.tuple(fc.constantFrom('X-Mailer', 'List-Id', 'Sender', 'Auto-Submitted', 'References', 'In-Reply-To', 'Archived-At', 'Received'), phrase), { maxLength: 4 }),
    body: fc.array(bodyLine, { maxLength: 8 }),
    date: fc.constantFrom('Mon, 04 Mar 2024 10:15:02 +0100', 'not a date', null),
  });

  it('gives the same RawMessage either way', async () => {
    let fastCount = 0;
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const lines = [`From: ${m.from.replace(/\n/g, m.eol)}`];
        if (m.date) lines.push(`Date: ${m.date}`);
        if (m.subject.length) lines.push(`Subject: ${m.subject.join(`${m.eol} `)}`);
        lines.push('Message-ID: <gen@example.org>');
        for (const [k, v] of m.extra) lines.push(`${k}: ${v}`);
        if (m.ct) lines.push(`Content-Type: ${m.ct}`);
        if (m.cte) lines.push(`Content-Transfer-Encoding: ${m.cte}`);
        const raw = mail(`${lines.join(m.eol)}${m.eol}${m.eol}${m.body.join(m.eol)}`);
        if (takesFastPath(raw)) fastCount += 1;
        const { fast, slow } = await bothPaths(raw);
        expect(fast).toEqual(slow);
      }),
      { numRuns: 300, seed: 20240304 },
    );
    expect(fastCount).toBeGreaterThan(50);
  }, 60_000);
});
