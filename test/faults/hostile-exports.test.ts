// Hostile export files imported the way `gleaner import` does (in-process, a real SQLite store):
// - one message nested 5,000 levels deep (10 KB) in a Slack export, an Element room file and a
//   DiscordChatExporter file is quarantined with its position; the rest of the file and the files after
//   it are imported (JSON.stringify of it overflowed the stack and aborted the whole import);
// - a zip bomb in a Slack export (a 600 KB zip whose day file unpacks to 600 MB, made here) is
//   quarantined unread and the other day files are imported; the limits per file and for the whole
//   export come from the config.
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { importFiles } from '../../src/runner/import.js';
import { PARSE_AHEAD_MIN_BYTES, parseAheadUsable } from '../../src/threads/parse-ahead.js';
import { tempDir } from '../support/factories.js';
import { writeZip } from '../support/zip.js';

const DEEP = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
const T0 = Math.floor(Date.UTC(2024, 0, 10, 10) / 1000);

async function app(yaml = '{}'): Promise<App> {
  return openApp({ db: join(tempDir(), 'g.db'), redisUrl: null, configObject: parseConfig(yaml) });
}

async function stored(a: App): Promise<{ texts: string[]; quarantine: Array<{ location: string; reason: string }> }> {
  const texts = (await a.db.selectFrom('messages').select('text').execute()).map((r) => r.text).sort();
  const quarantine = await a.db.selectFrom('quarantine').select(['location', 'reason']).orderBy('location').execute();
  return { texts, quarantine };
}

const slackMsg = (n: number, extra = '') => `{"type":"message","user":"U1","text":"slack ${n}","ts":"${T0 + n * 60}.000100"${extra}}`;

function slackExportFolder(root: string): void {
  mkdirSync(join(root, 'help'), { recursive: true });
  writeFileSync(join(root, 'users.json'), JSON.stringify([{ id: 'U1', name: 'priya' }]));
  writeFileSync(join(root, 'channels.json'), JSON.stringify([{ id: 'C1', name: 'help' }]));
  writeFileSync(join(root, 'help', '2024-01-10.json'), `[${slackMsg(1)},${slackMsg(2, `,"blocks":${DEEP}`)},${slackMsg(3)}]`);
  writeFileSync(join(root, 'help', '2024-01-11.json'), `[${slackMsg(4)}]`);
}

describe('a value nested 5,000 levels deep', () => {
  it('is quarantined with its position in a Slack export, an Element file and a DCE file; everything else is imported', async () => {
    const dir = tempDir('gleaner-deep-');
    const slack = join(dir, 'slack');
    slackExportFolder(slack);
    const ev = (n: number, extra = '') =>
      `{"type":"m.room.message","event_id":"$e${n}","sender":"@priya:example.org","origin_server_ts":${(T0 + n * 60) * 1000},"room_id":"!r:example.org","content":{"msgtype":"m.text","body":"element ${n}"${extra}}}`;
    const element = join(dir, 'room.json');
    writeFileSync(element, `{"room_name":"lumen","messages":[${ev(1)},${ev(2, `,"x":${DEEP}`)},${ev(3)}]}`);
    const dm = (n: number, extra = '') => `{"id":"${1000 + n}","type":"Default","timestamp":"2024-01-10T10:0${n}:00Z","content":"discord ${n}","author":{"id":"7","name":"sam","isBot":false}${extra}}`;
    const dce = join(dir, 'dce.json');
    writeFileSync(dce, `{"guild":{"id":"1","name":"g"},"channel":{"id":"2","type":"GuildTextChat","name":"general"},"messages":[${dm(1)},${dm(2, `,"embeds":[{"title":"t","x":${DEEP}}]`)},${dm(3)}]}`);
    expect(statSync(join(slack, 'help', '2024-01-10.json')).size).toBeLessThan(11_000);

    const a = await app();
    try {
      const s = await importFiles(a, [slack, element, dce]);
      expect(s.errors).toEqual([]);
      expect(s).toMatchObject({ files: 3, quarantined: 3 });
      const { texts, quarantine } = await stored(a);
      expect(texts).toEqual(['discord 1', 'discord 3', 'element 1', 'element 3', 'slack 1', 'slack 3', 'slack 4']);
      expect(quarantine.map((q) => q.location.replace(dir, ''))).toEqual(['/dce.json:messages[1]', 'help/2024-01-10.json:1', 'room.json:messages[1]']);
      for (const q of quarantine) expect(q.reason).toMatch(/nested deeper than 100 levels/);
    } finally {
      await a.close();
    }
  });
});

/**
 * A Slack export zip: two ordinary day files around one that unpacks to `bombMiB` MiB of JSON (`[` spaces `]`);
 * `paddingMiB` of random bytes in a file the importer does not read make the zip itself that big.
 */
function slackBombZip(path: string, bombMiB: number, paddingMiB = 0): void {
  const mib = Buffer.alloc(1024 * 1024, 0x20);
  writeZip(path, [
    ...(paddingMiB ? [{ name: 'files/padding.bin', data: randomBytes(paddingMiB * 1024 * 1024) }] : []),
    { name: 'users.json', data: JSON.stringify([{ id: 'U1', name: 'priya' }]) },
    { name: 'channels.json', data: JSON.stringify([{ id: 'C1', name: 'help' }]) },
    { name: 'help/2024-01-09.json', data: `[${slackMsg(1)}]` },
    {
      name: 'help/2024-01-10.json',
      pieces: [
        { bytes: Buffer.from('['), times: 1 },
        { bytes: mib, times: bombMiB },
        { bytes: Buffer.from(']'), times: 1 },
      ],
    },
    { name: 'help/2024-01-11.json', data: `[${slackMsg(2)}]` },
  ]);
}

describe('a zip bomb in a Slack export', () => {
  it('a 600 MB day file in a 600 KB zip is quarantined unread; the other days are imported', async () => {
    const zip = join(tempDir('gleaner-bomb-'), 'export.zip');
    slackBombZip(zip, 600);
    expect(statSync(zip).size).toBeLessThan(1024 * 1024);
    const a = await app();
    try {
      const s = await importFiles(a, [zip]);
      expect(s.errors).toEqual([]);
      const { texts, quarantine } = await stored(a);
      expect(texts).toEqual(['slack 1', 'slack 2']);
      expect(quarantine).toHaveLength(1);
      expect(quarantine[0]!.location).toBe('help/2024-01-10.json');
      expect(quarantine[0]!.reason).toMatch(/unpacks to 629145602 bytes, more than the 134217728-byte limit for one file \(import\.maxEntryBytes\)/);
    } finally {
      await a.close();
    }
  });

  it('a day file that declares a small size but unpacks to more is stopped at the declared size', async () => {
    const zip = join(tempDir('gleaner-bomb-'), 'export.zip');
    const mib = Buffer.alloc(1024 * 1024, 0x20);
    writeZip(zip, [
      { name: 'users.json', data: JSON.stringify([{ id: 'U1', name: 'priya' }]) },
      { name: 'channels.json', data: JSON.stringify([{ id: 'C1', name: 'help' }]) },
      {
        name: 'help/2024-01-10.json',
        pieces: [
          { bytes: Buffer.from('['), times: 1 },
          { bytes: mib, times: 300 },
          { bytes: Buffer.from(']'), times: 1 },
        ],
        declaredSize: 1000,
      },
      { name: 'help/2024-01-11.json', data: `[${slackMsg(2)}]` },
    ]);
    const a = await app();
    try {
      const s = await importFiles(a, [zip]);
      expect(s.errors).toEqual([]);
      const { texts, quarantine } = await stored(a);
      expect(texts).toEqual(['slack 2']);
      expect(quarantine.map((q) => q.location)).toEqual(['help/2024-01-10.json']);
    } finally {
      await a.close();
    }
  });

  it('the limits per file and for the whole export are taken from import: in the config', async () => {
    const zip = join(tempDir('gleaner-bomb-'), 'export.zip');
    slackBombZip(zip, 2);
    // 1 MiB per file: the 2 MiB day is refused, the small ones are read.
    const perFile = await app('import: {maxEntryBytes: 1048576}');
    try {
      expect((await importFiles(perFile, [zip])).errors).toEqual([]);
      const { texts, quarantine } = await stored(perFile);
      expect(texts).toEqual(['slack 1', 'slack 2']);
      expect(quarantine.map((q) => [q.location, q.reason])).toEqual([['help/2024-01-10.json', expect.stringMatching(/more than the 1048576-byte limit for one file \(import\.maxEntryBytes\)/)]]);
    } finally {
      await perFile.close();
    }
    // 1 MiB in all: the lists and the first day fit; the 2 MiB day passes the total, and the day after it is not read.
    const total = await app('import: {maxTotalBytes: 1048576, maxEntryBytes: 4194304}');
    try {
      expect((await importFiles(total, [zip])).errors).toEqual([]);
      const { texts, quarantine } = await stored(total);
      expect(texts).toEqual(['slack 1']);
      expect(quarantine.map((q) => q.location)).toEqual(['help/2024-01-10.json', 'help/2024-01-11.json']);
      for (const q of quarantine) expect(q.reason).toMatch(/more than the 1048576-byte limit \(import\.maxTotalBytes\)/);
    } finally {
      await total.close();
    }
  });

  it('the limits reach the helper thread that parses big exports (over 4 MB) ahead of the store', async () => {
    const zip = join(tempDir('gleaner-bomb-'), 'export.zip');
    slackBombZip(zip, 2, 5);
    expect(statSync(zip).size).toBeGreaterThan(PARSE_AHEAD_MIN_BYTES);
    expect(parseAheadUsable(zip)).toBe(true);
    const a = await app('import: {maxEntryBytes: 1048576}');
    try {
      expect((await importFiles(a, [zip])).errors).toEqual([]);
      const { texts, quarantine } = await stored(a);
      expect(texts).toEqual(['slack 1', 'slack 2']);
      expect(quarantine.map((q) => [q.location, q.reason])).toEqual([['help/2024-01-10.json', expect.stringMatching(/more than the 1048576-byte limit for one file \(import\.maxEntryBytes\)/)]]);
    } finally {
      await a.close();
    }
  });
});
