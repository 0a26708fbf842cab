// IRC log importers, bridge attribution and the normalizer, on small exact fixtures (PLATFORMS.md 4.4/4.5).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSkip, type QuarantineEntry, type RawMessage } from '../../src/model/index.js';
import type { Importer } from '../types.js';
import {
  channelFromPath,
  dateFromPath,
  detectIrcLogFormat,
  detectRelay,
  ircImporters,
  ircIrssiImporter,
  normalizeIrcLine,
  permalinkFor,
  stripFormatting,
  throttleDelayMs,
  type IrcLine,
} from './index.js';

const FIX = join(import.meta.dirname, 'fixtures');

interface Imported {
  messages: RawMessage[];
  skipped: Record<string, number>;
  quarantine: QuarantineEntry[];
}

async function importFile(format: string, file: string, opts: { channel?: string } = {}): Promise<Imported> {
  const imp = ircImporters.find((i) => i.format === format) as Importer;
  const out: Imported = { messages: [], skipped: {}, quarantine: [] };
  for await (const page of imp.read(file, { source: 'libera', channel: opts.channel })) {
    out.quarantine.push(...page.quarantine);
    for (const item of page.items) {
      const m = await imp.normalize(item.raw, { source: 'libera', channel: opts.channel });
      if (isSkip(m)) out.skipped[m.reason] = (out.skipped[m.reason] ?? 0) + 1;
      else out.messages.push(m);
    }
  }
  return out;
}

const brief = (m: RawMessage) => ({ at: new Date(m.sentAt).toISOString(), channel: m.channel, author: m.author.id, text: m.text });

describe('irssi', () => {
  it('dates lines from Log opened / Day changed, skips events with counts, quarantines garbage with its line', async () => {
    const file = join(FIX, '#test.log');
    const r = await importFile('irc-irssi', file);
    expect(r.messages.map(brief)).toEqual([
      { at: '2026-11-22T07:59:00.000Z', channel: '#test', author: 'libera/alice', text: 'hello world' },
      { at: '2026-11-22T07:59:00.000Z', channel: '#test', author: 'libera/op', text: 'opped speaker' },
      { at: '2026-11-22T07:59:00.000Z', channel: '#test', author: 'libera/alice', text: '* alice waves' },
      { at: '2026-11-22T07:59:00.000Z', channel: '#test', author: 'libera/bot', text: 'a notice' },
      { at: '2026-11-23T00:01:00.000Z', channel: '#test', author: 'libera/bobby', text: 'past midnight' },
    ]);
    expect(r.skipped).toEqual({ join: 1, part: 1, quit: 1, nick: 1, mode: 1, topic: 1 });
    expect(r.quarantine).toEqual([{ location: `${file}:12`, reason: expect.any(String) as string, excerpt: 'this line is garbage' }]);
    // Same-minute lines get distinct, stable ids.
    const again = await importFile('irc-irssi', file);
    expect(again.messages.map((m) => m.externalId)).toEqual(r.messages.map((m) => m.externalId));
    expect(new Set(r.messages.map((m) => m.externalId)).size).toBe(r.messages.length);
  });
});

describe('weechat', () => {
  it('reads tab-separated lines with mode prefixes, actions and notices', async () => {
    const file = join(FIX, 'irc.libera.#test.weechatlog');
    const r = await importFile('irc-weechat', file);
    expect(r.messages.map(brief)).toEqual([
      { at: '2026-11-22T07:59:01.000Z', channel: '#test', author: 'libera/alice', text: 'hello world' },
      { at: '2026-11-22T07:59:05.000Z', channel: '#test', author: 'libera/op', text: 'opped speaker' },
      { at: '2026-11-22T07:59:09.000Z', channel: '#test', author: 'libera/alice', text: '* alice waves' },
      { at: '2026-11-22T08:01:30.000Z', channel: '#test', author: 'libera/bot', text: 'a notice' },
      { at: '2026-11-23T00:00:05.000Z', channel: '#test', author: 'libera/bobby', text: 'next day' },
    ]);
    expect(r.skipped).toEqual({ join: 1, part: 1, quit: 1, nick: 1 });
    expect(r.quarantine.map((q) => q.location)).toEqual([`${file}:10`]);
  });
});

describe('znc', () => {
  it('takes the date from the file name and the channel from the folder', async () => {
    const file = join(FIX, 'znc', '#test', '2026-11-22.log');
    const r = await importFile('irc-znc', file);
    expect(r.messages.map(brief)).toEqual([
      { at: '2026-11-22T07:59:01.000Z', channel: '#test', author: 'libera/alice', text: 'hello world' },
      { at: '2026-11-22T07:59:09.000Z', channel: '#test', author: 'libera/alice', text: '* alice waves' },
      { at: '2026-11-22T07:59:30.000Z', channel: '#test', author: 'libera/bot', text: 'a notice' },
      { at: '2026-11-22T08:04:00.000Z', channel: '#test', author: 'libera/bobby', text: 'same second' },
      { at: '2026-11-22T08:04:00.000Z', channel: '#test', author: 'libera/bobby', text: 'same second' },
    ]);
    // The same line twice in one second is two messages (sequence within the second), not one.
    expect(r.messages[3]?.externalId).not.toBe(r.messages[4]?.externalId);
    expect(r.skipped).toEqual({ join: 1, part: 1, quit: 1, nick: 1, mode: 1, kick: 1, topic: 1 });
    expect(r.quarantine.map((q) => q.location)).toEqual([`${file}:13`]);
  });

  it('--channel overrides the file name', async () => {
    const r = await importFile('irc-znc', join(FIX, 'znc', '#test', '2026-11-22.log'), { channel: '#other' });
    expect(new Set(r.messages.map((m) => m.channel))).toEqual(new Set(['#other']));
  });
});

describe('limnoria', () => {
  it('reads ISO timestamps with two spaces, the channel from a rotated file name', async () => {
    const file = join(FIX, '#test.2026-11-22.log');
    const r = await importFile('irc-limnoria', file);
    expect(r.messages.map(brief)).toEqual([
      { at: '2026-11-22T07:59:01.000Z', channel: '#test', author: 'libera/alice', text: 'hello world' },
      { at: '2026-11-22T07:59:09.000Z', channel: '#test', author: 'libera/alice', text: '* alice waves' },
      { at: '2026-11-22T07:59:30.000Z', channel: '#test', author: 'libera/bot', text: 'a notice' },
      { at: '2026-11-23T00:00:01.000Z', channel: '#test', author: 'libera/bobby', text: 'next day' },
    ]);
    expect(r.skipped).toEqual({ join: 1, part: 1, quit: 1, nick: 1, topic: 1 });
    expect(r.quarantine.map((q) => q.location)).toEqual([`${file}:9`]);
  });
});

describe('hexchat', () => {
  it('takes the year from BEGIN LOGGING and rolls it over at New Year', async () => {
    const file = join(FIX, 'hexchat-test.log');
    const r = await importFile('irc-hexchat', file, { channel: '#test' });
    expect(r.messages.map(brief)).toEqual([
      { at: '2026-12-31T23:59:01.000Z', channel: '#test', author: 'libera/alice', text: 'hello world' },
      { at: '2026-12-31T23:59:09.000Z', channel: '#test', author: 'libera/alice', text: '* alice waves' },
      { at: '2027-01-01T00:03:00.000Z', channel: '#test', author: 'libera/bobby', text: 'happy new year' },
    ]);
    expect(r.skipped).toEqual({ join: 1, part: 1, quit: 1, nick: 1, topic: 1 });
    expect(r.quarantine.map((q) => q.location)).toEqual([`${file}:11`]);
  });
});

describe('irclogs.ubuntu.com', () => {
  it('rolls the day over at midnight, the file date landing on the last day; === lines are events or actions', async () => {
    const file = join(FIX, '2026-11-23_00.raw.txt');
    const r = await importFile('irc-ubuntu', file);
    expect(r.messages.map(brief)).toEqual([
      { at: '2026-11-22T23:58:00.000Z', channel: '#test', author: 'libera/alice', text: 'late line' },
      { at: '2026-11-22T23:59:00.000Z', channel: '#test', author: 'libera/alice', text: '* alice yawns' },
      { at: '2026-11-22T23:59:00.000Z', channel: '#test', author: 'libera/bur[n]er', text: 'a nick the corpus split' },
      { at: '2026-11-23T00:01:00.000Z', channel: '#test', author: 'libera/alice_', text: 'after midnight' },
      { at: '2026-11-23T00:01:00.000Z', channel: '#test', author: 'libera/bob', text: '* bob stretches' },
    ]);
    expect(r.skipped).toEqual({ join: 1, nick: 1, mode: 1, topic: 1 });
    expect(r.quarantine.map((q) => q.location)).toEqual([`${file}:10`]);
  });

  it('reads a real #ubuntu excerpt (CC-BY-4.0) across midnight', async () => {
    const file = join(FIX, 'ubuntu-cc-by', '2011-11-13_02.raw.txt');
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(detectIrcLogFormat(readFileSync(file))).toBe('irc-ubuntu');
    const r = await importFile('irc-ubuntu', file, { channel: '#ubuntu' });
    expect(r.quarantine).toEqual([]);
    expect(r.skipped).toEqual({ nick: 2 });
    expect(r.messages).toHaveLength(lines.length - 2);
    expect(brief(r.messages[0] as RawMessage)).toEqual({
      at: '2011-11-12T23:54:00.000Z',
      channel: '#ubuntu',
      author: 'libera/garret',
      text: expect.stringMatching(/^Hello, has anyone had success installing the NVIDIA drivers/) as string,
    });
    expect(new Date((r.messages.at(-1) as RawMessage).sentAt).toISOString()).toBe('2011-11-13T00:00:00.000Z');
  });
});

describe('channel-dated (disentanglement new domains)', () => {
  it('takes channel and date from the line', async () => {
    const file = join(FIX, 'lumen.0.ascii.txt');
    const r = await importFile('irc-channel-dated', file);
    expect(r.messages.map(brief)).toEqual([
      { at: '2026-11-22T07:59:01.000Z', channel: '#lumen', author: 'libera/alice', text: 'hello world' },
      { at: '2026-11-22T07:59:09.000Z', channel: '#lumen', author: 'libera/alice', text: '* alice waves' },
      { at: '2026-11-22T07:59:20.000Z', channel: '#lumen', author: 'libera/wikibugs', text: '03(mod) a bot line' },
      { at: '2026-11-22T07:59:30.000Z', channel: '#lumen', author: 'libera/alice_', text: '* alice_ waves again' },
    ]);
    expect(r.skipped).toEqual({ nick: 1 });
    expect(r.quarantine.map((q) => q.location)).toEqual([`${file}:6`]);
  });
});

describe('detect', () => {
  it('recognises each fixture by its content and nothing else', () => {
    const cases: Array<[string, string]> = [
      ['#test.log', 'irc-irssi'],
      ['irc.libera.#test.weechatlog', 'irc-weechat'],
      ['znc/#test/2026-11-22.log', 'irc-znc'],
      ['#test.2026-11-22.log', 'irc-limnoria'],
      ['hexchat-test.log', 'irc-hexchat'],
      ['2026-11-23_00.raw.txt', 'irc-ubuntu'],
      ['lumen.0.ascii.txt', 'irc-channel-dated'],
    ];
    for (const [file, format] of cases) {
      const path = join(FIX, file);
      const head = readFileSync(path);
      expect(
        ircImporters.filter((i) => i.detect(path, head)).map((i) => i.format),
        file,
      ).toEqual([format]);
    }
    const mail = Buffer.from('From alice@example.org Sun Nov 22 07:58:57 2026\nSubject: hi\n\nhello\n');
    expect(ircImporters.filter((i) => i.detect('x.mbox', mail))).toEqual([]);
  });

  it('reads dates and channels from file names', () => {
    expect(dateFromPath('/logs/#chan.2024-01-31.log')).toEqual({ y: 2024, m: 1, d: 31 });
    expect(dateFromPath('/logs/2024/01/31/%23ubuntu.txt')).toEqual({ y: 2024, m: 1, d: 31 });
    expect(dateFromPath('/znc/user_libera_#chan_20240131.log')).toEqual({ y: 2024, m: 1, d: 31 });
    expect(channelFromPath('/logs/2024/01/31/%23ubuntu.txt')).toBe('#ubuntu');
    expect(channelFromPath('/znc/user_libera_#chan_20240131.log')).toBe('#chan');
    expect(channelFromPath('/logs/irc.libera.#test.weechatlog')).toBe('#test');
    expect(channelFromPath('/logs/2024-01-31.log')).toBeNull();
  });

  it('a log without any date says so instead of guessing', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'gleaner-irc-'));
    const file = join(dir, '#x.log');
    writeFileSync(file, '07:59 < alice> hello\n08:00 < bob> hi\n');
    const r = await importFile(ircIrssiImporter.format, file);
    expect(r.messages).toEqual([]);
    expect(r.quarantine[0]?.location).toBe(`${file}:1`);
    expect(r.quarantine[0]?.reason).toMatch(/no date/);
  });
});

const line = (over: Partial<IrcLine>): IrcLine => ({ v: 1, kind: 'privmsg', network: null, channel: '#lumen', nick: 'alice', text: 'hi', time: Date.UTC(2026, 10, 22, 10), seq: 0, ...over });
const norm = (over: Partial<IrcLine>, opts = {}) => normalizeIrcLine(line(over), { source: 'libera' }, opts) as RawMessage;

describe('bridges', () => {
  it('matterbridge `[protocol] <nick> text` names the real author and protocol', () => {
    const m = norm({ nick: 'bridgebot', text: '[discord] <alice> hello there' }, { bridges: [{ bot: 'bridgebot' }] });
    expect(m.author).toEqual({ id: 'discord:alice', name: 'alice', isBot: false });
    expect(m.text).toBe('hello there');
    expect(m.relay).toEqual({ bot: 'bridgebot', network: 'discord' });
  });

  it('matterbridge with colour codes and a zero-width space in the nick', () => {
    const m = norm({ nick: 'mbridge', text: '\x0306[slack] <a\u200blice> \x0Fcoloured' }, { bridges: [{ bot: '/^mbridge$/' }] });
    expect(m.author.id).toBe('slack:alice');
    expect(m.text).toBe('coloured');
  });

  it('bare `<nick> text` from a configured bot with a protocol', () => {
    const m = norm({ nick: 'lumen-bridge', text: '<sam> the docs are stale' }, { bridges: [{ bot: 'lumen-bridge', protocol: 'matrix' }] });
    expect(m.author.id).toBe('matrix:sam');
    expect(m.text).toBe('the docs are stale');
    expect(m.relay).toEqual({ bot: 'lumen-bridge', network: 'matrix' });
  });

  it('bare `<nick> text` from an unconfigured bot whose nick says bridge, protocol unknown', () => {
    const m = norm({ nick: 'ircbridge', text: '<zed> hello' });
    expect(m.author.id).toBe('libera/ircbridge/zed');
    expect(m.relay).toEqual({ bot: 'ircbridge', network: null });
    expect(m.text).toBe('hello');
  });

  it('`{NICK} ({PROTOCOL}): ` and `<({PROTOCOL}){NICK}> ` forms', () => {
    expect(detectRelay('matterbridge', 'alice (telegram): hi')).toEqual({ kind: 'relay', relay: { nick: 'alice', text: 'hi', protocol: 'telegram', bot: 'matterbridge' } });
    expect(detectRelay('matterbridge', '<(xmpp)alice> hi')).toEqual({ kind: 'relay', relay: { nick: 'alice', text: 'hi', protocol: 'xmpp', bot: 'matterbridge' } });
  });

  it('matrix-appservice-irc puppets nick[m], discord puppets nick[d], M-nick and RELAYMSG nick/proto', () => {
    const m = norm({ nick: 'mei[m]', text: 'SSO loops after 2.4' });
    expect(m.author).toEqual({ id: 'matrix:mei', name: 'mei', isBot: false });
    expect(m.relay).toEqual({ bot: 'mei[m]', network: 'matrix' });
    expect(m.text).toBe('SSO loops after 2.4');
    expect(norm({ nick: 'ana[d]' }).author.id).toBe('discord:ana');
    expect(norm({ nick: 'M-sam' }).author.id).toBe('matrix:sam');
    expect(norm({ nick: 'alice/discord' }).author.id).toBe('discord:alice');
  });

  it('a configured pattern with named groups wins', () => {
    const m = norm({ nick: 'relay', text: 'alice@xmpp says: hi there' }, { bridges: [{ bot: 'relay', pattern: '^(?<nick>\\S+)@(?<protocol>\\w+) says: (?<text>.*)$' }] });
    expect(m.author.id).toBe('xmpp:alice');
    expect(m.text).toBe('hi there');
  });

  it('a bridge bot speaking for itself is a bot line, not a relay', () => {
    const m = norm({ nick: 'lumen-bridge', text: 'Bridge restarted.' }, { bridges: [{ bot: 'lumen-bridge' }] });
    expect(m.author).toEqual({ id: 'libera/lumen-bridge', name: 'lumen-bridge', isBot: true });
    expect(m.relay).toBeNull();
  });

  it('relayed actions keep the `* nick text` form with the real nick', () => {
    expect(norm({ kind: 'action', nick: 'mei[m]', text: 'waves' }).text).toBe('* mei waves');
  });

  it('strips formatting codes', () => {
    expect(stripFormatting('\x02bold\x02 \x0304,01red\x03 \x1Ditalic\x1D\x0F')).toBe('bold red italic');
  });
});

describe('normalize', () => {
  it('skips own lines, server notices and private messages with a reason', () => {
    const n = (o: Partial<IrcLine>) => normalizeIrcLine(line(o), { source: 'libera' });
    expect(n({ self: true })).toEqual({ skip: true, reason: 'own message' });
    expect(n({ kind: 'notice', fromServer: true, nick: 'irc.test.local' })).toEqual({ skip: true, reason: 'server notice' });
    expect(n({ channel: null })).toEqual({ skip: true, reason: 'private message' });
    expect(n({ kind: 'join' })).toEqual({ skip: true, reason: 'join' });
  });

  it('uses msgid as the external id when present, and only then a {msgid} permalink', () => {
    expect(norm({ msgid: 'abc' }).externalId).toBe('abc');
    expect(norm({}).externalId).toMatch(/^irc-[0-9a-f]{32}$/);
    expect(norm({}).permalink).toBeNull();
    expect(permalinkFor('https://logs.example/{channelBare}/{date}#{time}', line({}))).toBe('https://logs.example/lumen/2026-11-22#10%3A00%3A00');
    expect(permalinkFor('https://logs.example/{channel}/{msgid}', line({}))).toBeNull();
    expect(permalinkFor('https://logs.example/{channel}/{msgid}', line({ msgid: 'x1' }))).toBe('https://logs.example/%23lumen/x1');
  });

  it('multi-network sources namespace channels and nicks by network', () => {
    const m = norm({ network: 'oftc' });
    expect(m.channel).toBe('oftc/#lumen');
    expect(m.author.id).toBe('libera/oftc/alice');
  });

  it('reads throttle delays', () => {
    expect(throttleDelayMs('Rate limited, retry after 3 seconds')).toBe(3000);
    expect(throttleDelayMs('Target change too fast. Please wait 2 seconds.')).toBe(2000);
    expect(throttleDelayMs('Messages could not be retrieved')).toBeNull();
  });
});

describe('examples/irc (the Lumen sample)', () => {
  it('is detected, dated within W41-W46, relays Matrix users with their exact text, skips the noise', async () => {
    const file = join(import.meta.dirname, '..', '..', 'examples', 'irc', 'irc.libera.#lumen.weechatlog');
    expect(detectIrcLogFormat(readFileSync(file))).toBe('irc-weechat');
    const r = await importFile('irc-weechat', file);
    expect(r.quarantine).toEqual([]);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    expect(lines).toBeGreaterThanOrEqual(60);
    expect(lines).toBeLessThanOrEqual(120);
    for (const m of r.messages) {
      expect(m.sentAt).toBeGreaterThanOrEqual(Date.UTC(2026, 9, 5));
      expect(m.sentAt).toBeLessThan(Date.UTC(2026, 10, 16));
      expect(m.channel).toBe('#lumen');
    }
    const sso = r.messages.find((m) => m.text.startsWith('After upgrading to 2.4'));
    expect(sso).toMatchObject({
      author: { id: 'matrix:mei', name: 'mei' },
      relay: { bot: 'mei[m]', network: 'matrix' },
      text: 'After upgrading to 2.4, signing in through Okta redirects back to the login page forever.',
      sentAt: Date.UTC(2026, 10, 10, 9, 14, 6),
    });
    const docs = r.messages.find((m) => m.author.id === 'matrix:sam' && m.text.startsWith('The Python SDK quickstart'));
    expect(docs?.sentAt).toBe(Date.UTC(2026, 10, 3, 14, 22, 10));
    expect(r.messages.filter((m) => m.author.id === 'libera/meic').length).toBeGreaterThan(0);
    expect(r.messages.find((m) => m.author.id === 'libera/lumen-bridge')?.author.isBot).toBe(true);
    expect(r.skipped).toMatchObject({ join: expect.any(Number) as number, quit: expect.any(Number) as number, nick: 2, mode: 3, topic: 2, kick: 1 });
  });
});
