// IRC log importers, one per log format (PLATFORMS.md 4.5), streamed line by line. The date comes from
// the line, day markers (`--- Day changed`, `--- Log opened`, `**** BEGIN LOGGING AT`) or the file name;
// the channel from the line, the `--channel` option, the file name or the log's own join lines.
// Joins, parts, quits, nick changes, modes and topics become items that normalize skips (counted per
// kind); lines no format rule reads are quarantined with `file:line`. Log times are taken as UTC.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { NormalizeContext, QuarantineEntry, RawMessage, Skip } from '../../src/model/index.js';
import type { ImportItem, ImportOptions, ImportPage, Importer } from '../types.js';
import { IRC_NORMALIZER_VERSION, normalizeIrcLine, type IrcEventKind, type IrcLine, type IrcLineKind } from './normalize.js';

export const IRC_LOG_FORMATS = ['irc-ubuntu', 'irc-channel-dated', 'irc-irssi', 'irc-weechat', 'irc-znc', 'irc-limnoria', 'irc-hexchat'] as const;
export type IrcLogFormat = (typeof IRC_LOG_FORMATS)[number];

const DEFAULT_PAGE_SIZE = 500;
const EXCERPT_CHARS = 300;
/** A clock going back by more than this between two lines is the next day (12-hour clocks go back by less). */
const ROLLOVER_MINUTES = 12 * 60;

interface Ymd {
  y: number;
  m: number;
  d: number;
}
interface Hms {
  h: number;
  mi: number;
  s: number;
}

/** What one line says. */
type Parsed =
  | { t: 'line'; kind: IrcLineKind; nick: string | null; text: string; hms: Hms | null; date?: Ymd; md?: { m: number; d: number }; channel?: string }
  | { t: 'date'; date: Ymd }
  | { t: 'ignore' }
  | { t: 'bad'; reason: string };

/** How a format dates its lines. */
type DateMode = 'line' | 'markers' | 'monthday' | 'file';

interface FormatDef {
  format: IrcLogFormat;
  dateMode: DateMode;
  /** Lines that are typical of the format, for detect(). */
  signature: RegExp[];
  parse(line: string): Parsed;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const monthOf = (name: string): number => MONTHS.indexOf(name.slice(0, 1).toUpperCase() + name.slice(1, 3).toLowerCase()) + 1;

const TIME = String.raw`(\d\d):(\d\d)(?::(\d\d))?`;
const hmsOf = (h?: string, mi?: string, s?: string): Hms | null => {
  const hh = Number(h);
  const mm = Number(mi);
  const ss = s === undefined ? 0 : Number(s);
  if (!(hh <= 23 && mm <= 59 && ss <= 60)) return null;
  return { h: hh, mi: mm, s: ss };
};
const MODE_CHARS = /^[@+%&~!]/;

/** Classifies the text of a status line (join, part, quit, nick, mode, topic, kick, anything else). */
export function eventKind(text: string): IrcEventKind {
  if (/\bhas joined\b|^Joins: /i.test(text)) return 'join';
  if (/\bhas (?:left|parted)\b|^Parts: /i.test(text)) return 'part';
  if (/\bhas quit\b|^Quits: /i.test(text)) return 'quit';
  if (/\bis now known as\b/i.test(text)) return 'nick';
  if (/\bwas kicked\b|\bhas kicked\b/i.test(text)) return 'kick';
  if (/^mode\/|\bsets mode\b|^Mode \S+ \[|\bchanged mode\b|\bhas changed mode\b/i.test(text)) return 'mode';
  if (/topic/i.test(text)) return 'topic';
  return 'server-event';
}

const line = (kind: IrcLineKind, nick: string | null, text: string, hms: Hms | null, extra: { date?: Ymd; md?: { m: number; d: number }; channel?: string } = {}): Parsed => ({
  t: 'line',
  kind,
  nick,
  text,
  hms,
  ...extra,
});
const bad = (reason: string): Parsed => ({ t: 'bad', reason });

/** The part after the timestamp shared by ZNC, Limnoria and irclogs.ubuntu.com: `<nick> text`, `* nick text`, `-nick- text`, `*** event`. */
function parseBracketed(rest: string, hms: Hms | null, extra: { date?: Ymd } = {}): Parsed {
  // Nicks never contain `>`; the disentanglement corpus splits some (`<bur[n] er>`), so spaces are removed.
  let m = /^<([@+%&~!])?([^>]+)> ?([\s\S]*)$/.exec(rest);
  if (m) return line('privmsg', (m[2] ?? '').replace(/\s+/g, ''), m[3] ?? '', hms, extra);
  m = /^\*\*\* ([\s\S]*)$/.exec(rest);
  if (m) return line(eventKind(m[1] ?? ''), null, m[1] ?? '', hms, extra);
  m = /^ ?\* (\S+)(?: ([\s\S]*))?$/.exec(rest);
  if (m) return line('action', m[1] ?? '', m[2] ?? '', hms, extra);
  m = /^-([^-\s][^\s]*?)- ?([\s\S]*)$/.exec(rest);
  if (m) return line('notice', (m[1] ?? '').replace(/:[#&!+].*$/, ''), m[2] ?? '', hms, extra);
  return bad('not a message, action, notice or status line');
}

const FORMATS: FormatDef[] = [
  {
    // irclogs.ubuntu.com: `[HH:MM] <nick> text`, `[HH:MM]  * nick text`, `=== nick [mask]  has joined #c`,
    // `=== mode/#c [...] by X`, `=== ..[topic/#c:X] : ...`; old logs write actions as `=== nick text`.
    format: 'irc-ubuntu',
    dateMode: 'file',
    signature: [/^\[\d\d:\d\d\] /, /^=== \S/],
    parse(l) {
      let m = new RegExp(`^\\[${TIME}\\] ([\\s\\S]*)$`).exec(l);
      if (m) {
        const hms = hmsOf(m[1], m[2], m[3]);
        if (!hms) return bad('invalid time');
        return parseBracketed(m[4] ?? '', hms);
      }
      m = /^=== ([\s\S]*)$/.exec(l);
      if (m) {
        const rest = m[1] ?? '';
        if (/^\.\.\[topic\//.test(rest)) return line('topic', null, rest, null);
        const kind = eventKind(rest);
        if (kind !== 'server-event') return line(kind, null, rest, null);
        const a = /^(\S+) ([\s\S]+)$/.exec(rest);
        if (a) return line('action', a[1] ?? '', a[2] ?? '', null);
        return line('server-event', null, rest, null);
      }
      return bad('not an irclogs.ubuntu.com line');
    },
  },
  {
    // The disentanglement corpus' new domains: `rust 2018-05-29 [21:20:37] <nick>\t text`.
    format: 'irc-channel-dated',
    dateMode: 'line',
    signature: [/^[^\s[\]<>]+ \d{4}-\d\d-\d\d \[\d\d:\d\d(?::\d\d)?\] /],
    parse(l) {
      const m = new RegExp(`^([^\\s\\[\\]<>]+) (\\d{4})-(\\d\\d)-(\\d\\d) (?:\\[${TIME}\\] )?([\\s\\S]*)$`).exec(l);
      if (!m) return bad('not a `channel YYYY-MM-DD [HH:MM:SS]` line');
      // Status lines (`=== x is now known as y`) carry no time: they take the previous line's.
      const hms = m[5] === undefined ? null : hmsOf(m[5], m[6], m[7]);
      if (m[5] !== undefined && !hms) return bad('invalid time');
      if (!hms && !/^(?:===|\*\*\*) /.test(m[8] ?? '')) return bad('not a `channel YYYY-MM-DD [HH:MM:SS]` line');
      const date = { y: Number(m[2]), m: Number(m[3]), d: Number(m[4]) };
      const chan = m[1] ?? '';
      const channel = /^[#&!+]/.test(chan) ? chan : `#${chan}`;
      const rest = m[8] ?? '';
      let r = /^<([^>\s]+)>\s+([\s\S]*)$/.exec(rest) ?? /^<([^>\s]+)>()$/.exec(rest);
      if (r) return line('privmsg', (r[1] ?? '').replace(MODE_CHARS, ''), r[2] ?? '', hms, { date, channel });
      r = /^ ?\* (\S+)\s*([\s\S]*)$/.exec(rest);
      if (r && !/^\*\*/.test(rest)) return line('action', r[1] ?? '', r[2] ?? '', hms, { date, channel });
      r = /^(?:===|\*\*\*) ([\s\S]*)$/.exec(rest);
      if (r) return line(eventKind(r[1] ?? ''), null, r[1] ?? '', hms, { date, channel });
      r = /^-([^-\s]\S*?)-\s+([\s\S]*)$/.exec(rest);
      if (r) return line('notice', r[1] ?? '', r[2] ?? '', hms, { date, channel });
      return bad('not a message, action, notice or status line');
    },
  },
  {
    format: 'irc-irssi',
    dateMode: 'markers',
    signature: [/^--- Log opened \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/, /^--- Day changed /, new RegExp(`^${TIME} (?:<[ @+%&~!]?[^>\\s]+> |-!- | \\* )`)],
    parse(l) {
      let m = /^--- Log opened \w{3} (\w{3}) {1,2}(\d{1,2}) \d\d:\d\d:\d\d (\d{4})\s*$/.exec(l) ?? /^--- Day changed \w{3} (\w{3}) {1,2}(\d{1,2}) (\d{4})\s*$/.exec(l);
      if (m) {
        const mo = monthOf(m[1] ?? '');
        return mo ? { t: 'date', date: { y: Number(m[3]), m: mo, d: Number(m[2]) } } : bad('unknown month');
      }
      if (/^--- Log closed /.test(l)) return { t: 'ignore' };
      m = new RegExp(`^${TIME} ([\\s\\S]*)$`).exec(l);
      if (!m) return bad('not an irssi line');
      const hms = hmsOf(m[1], m[2], m[3]);
      if (!hms) return bad('invalid time');
      const rest = m[4] ?? '';
      let r = /^<([ @+%&~!])?([^>\s]+)> ?([\s\S]*)$/.exec(rest);
      if (r) return line('privmsg', r[2] ?? '', r[3] ?? '', hms);
      r = /^-!- ([\s\S]*)$/.exec(rest);
      if (r) return line(eventKind(r[1] ?? ''), null, r[1] ?? '', hms);
      r = /^ \* (\S+)(?: ([\s\S]*))?$/.exec(rest);
      if (r) return line('action', r[1] ?? '', r[2] ?? '', hms);
      r = /^-([^!\s][^\s]*?)- ?([\s\S]*)$/.exec(rest); // `-nick-` or `-nick:#chan-`
      if (r) return line('notice', (r[1] ?? '').replace(/:[#&!+].*$/, ''), r[2] ?? '', hms);
      r = /^!(\S+) ([\s\S]*)$/.exec(rest);
      if (r) return line('server-event', null, r[2] ?? '', hms);
      return bad('not a message, action, notice or status line');
    },
  },
  {
    format: 'irc-weechat',
    dateMode: 'line',
    signature: [/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\t/],
    parse(l) {
      const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\t([^\t]*)(?:\t([\s\S]*))?$/.exec(l);
      if (!m) return bad('not a WeeChat line');
      const hms = hmsOf(m[4], m[5], m[6]);
      if (!hms) return bad('invalid time');
      const date = { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
      const prefix = m[7] ?? '';
      const msg = m[8];
      if (msg === undefined) return /^\*{4}/.test(prefix.trim()) ? { t: 'ignore' } : bad('WeeChat line without a message');
      const p = prefix.trim();
      if (p === '-->') return line('join', null, msg, hms, { date });
      if (p === '<--') {
        const k = eventKind(msg);
        return line(k === 'quit' || k === 'kick' ? k : 'part', null, msg, hms, { date });
      }
      if (p === '--' || p === '=!=' || p === '') {
        const n = /^Notice\(([^)]+)\)(?: -> \S+)?: ([\s\S]*)$/.exec(msg);
        if (n) return line('notice', n[1] ?? '', n[2] ?? '', hms, { date });
        return line(eventKind(msg), null, msg, hms, { date });
      }
      if (p === '*') {
        const a = /^(\S+)(?: ([\s\S]*))?$/.exec(msg);
        return a ? line('action', a[1] ?? '', a[2] ?? '', hms, { date }) : bad('empty action');
      }
      if (/\s/.test(p)) return bad('not a nick prefix');
      const nick = p.length > 1 ? p.replace(MODE_CHARS, '') : p;
      return line('privmsg', nick, msg, hms, { date });
    },
  },
  {
    format: 'irc-znc',
    dateMode: 'file',
    signature: [/^\[\d\d:\d\d:\d\d\] (?:<[^>\s]+> |\* \S|-\S+- |\*\*\* )/],
    parse(l) {
      const m = new RegExp(`^\\[${TIME}\\] ([\\s\\S]*)$`).exec(l);
      if (!m) return bad('not a ZNC log line');
      const hms = hmsOf(m[1], m[2], m[3]);
      if (!hms) return bad('invalid time');
      return parseBracketed(m[4] ?? '', hms);
    },
  },
  {
    format: 'irc-limnoria',
    dateMode: 'line',
    signature: [/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d {2}/],
    parse(l) {
      const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d) {2}([\s\S]*)$/.exec(l);
      if (!m) return bad('not a Limnoria ChannelLogger line');
      const hms = hmsOf(m[4], m[5], m[6]);
      if (!hms) return bad('invalid time');
      return parseBracketed(m[7] ?? '', hms, { date: { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) } });
    },
  },
  {
    format: 'irc-hexchat',
    dateMode: 'monthday',
    signature: [/^\*\*\*\* BEGIN LOGGING AT /, /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (?:<[^>\s]+>\t|\*\t|-->\t|<--\t|---\t)/],
    parse(l) {
      let m = /^\*\*\*\* BEGIN LOGGING AT \w{3} (\w{3}) {1,2}(\d{1,2}) \d\d:\d\d:\d\d (\d{4})\s*$/.exec(l);
      if (m) {
        const mo = monthOf(m[1] ?? '');
        return mo ? { t: 'date', date: { y: Number(m[3]), m: mo, d: Number(m[2]) } } : bad('unknown month');
      }
      if (/^\*\*\*\* ENDING LOGGING AT /.test(l)) return { t: 'ignore' };
      m = /^(\w{3}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d) ([\s\S]*)$/.exec(l);
      if (!m) return bad('not a HexChat line');
      const mo = monthOf(m[1] ?? '');
      const hms = hmsOf(m[3], m[4], m[5]);
      if (!mo || !hms) return bad('invalid date or time');
      const md = { m: mo, d: Number(m[2]) };
      const rest = m[6] ?? '';
      let r = /^<([@+%&~!])?([^>\s]+)>\t([\s\S]*)$/.exec(rest);
      if (r) return line('privmsg', r[2] ?? '', r[3] ?? '', hms, { md });
      r = /^\*\t(\S+)(?: ([\s\S]*))?$/.exec(rest);
      if (r) return line('action', r[1] ?? '', r[2] ?? '', hms, { md });
      r = /^(-->|<--|---|-\*-)\t([\s\S]*)$/.exec(rest);
      if (r) {
        const kind = r[1] === '-->' ? 'join' : r[1] === '<--' ? (eventKind(r[2] ?? '') === 'quit' ? 'quit' : 'part') : eventKind(r[2] ?? '');
        return line(kind, null, r[2] ?? '', hms, { md });
      }
      r = /^-([^-\s]\S*?)-\t([\s\S]*)$/.exec(rest);
      if (r) return line('notice', r[1] ?? '', r[2] ?? '', hms, { md });
      return bad('not a message, action, notice or status line');
    },
  },
];

const FORMAT_BY_NAME = new Map(FORMATS.map((f) => [f.format, f]));
function defOf(format: IrcLogFormat): FormatDef {
  const def = FORMAT_BY_NAME.get(format);
  if (!def) throw new Error(`unknown IRC log format ${format}`);
  return def;
}

/** The first non-empty lines of a file head (already gunzipped). */
function headLines(head: Buffer, n = 20): string[] {
  const text = head.toString('utf8');
  const out: string[] = [];
  for (const l of text.split(/\r?\n/)) {
    if (out.length >= n) break;
    if (l.trim()) out.push(l);
  }
  // The last line of a truncated head may be cut: drop it unless it is all there is.
  return out;
}

/** Fraction of the first lines a format's signature recognises. */
export function formatScore(format: IrcLogFormat, head: Buffer): number {
  const def = FORMAT_BY_NAME.get(format);
  const lines = headLines(head);
  if (!def || lines.length === 0) return 0;
  let hit = 0;
  for (const l of lines) if (def.signature.some((re) => re.test(l))) hit++;
  return hit / lines.length;
}

/** The format whose signature fits the head best (at least half the lines), or null. */
export function detectIrcLogFormat(head: Buffer): IrcLogFormat | null {
  let best: IrcLogFormat | null = null;
  let bestScore = 0.5;
  for (const f of IRC_LOG_FORMATS) {
    const s = formatScore(f, head);
    if (s > bestScore || (s === bestScore && best === null && s > 0.5)) {
      best = f;
      bestScore = s;
    }
  }
  return best;
}

/** A date in the file name: `2024-01-31.log`, `#chan.2024-01-31.log`, `..._20240131.log`, `2024/01/31/%23chan.txt`. */
export function dateFromPath(path: string): Ymd | null {
  const base = basename(path);
  let m = /(?:^|[^\d])(\d{4})-(\d\d)-(\d\d)(?!\d)/.exec(base) ?? /(?:^|[^\d])(\d{4})(\d\d)(\d\d)(?!\d)/.exec(base);
  if (!m) m = /(?:^|\/)(\d{4})\/(\d\d)\/(\d\d)(?:\/|$)/.exec(dirname(path).replaceAll('\\', '/') + '/');
  if (!m) return null;
  const date = { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
  return date.m >= 1 && date.m <= 12 && date.d >= 1 && date.d <= 31 ? date : null;
}

/** A channel in the file name (`#chan.log`, `%23chan.txt`, `irc.libera.#chan.weechatlog`, `#chan/2024-01-31.log`). */
export function channelFromPath(path: string): string | null {
  let base: string;
  try {
    base = decodeURIComponent(basename(path));
  } catch {
    base = basename(path);
  }
  const stem = base.replace(/\.gz$/i, '').replace(/\.(?:log|txt|weechatlog)$/i, '').replace(/\.raw$/i, '');
  const m = /[#&][^\s,/]*$/.exec(stem.replace(/[._-]?\d{4}-?\d\d-?\d\d(?:[._-].*)?$/, ''));
  if (m && m[0].length > 1) return m[0];
  const parent = basename(dirname(path));
  return /^[#&]\S+$/.test(parent) ? parent : null;
}

const toMs = (d: Ymd, t: Hms): number => Date.UTC(d.y, d.m - 1, d.d, t.h, t.mi, t.s);
const addDays = (d: Ymd, n: number): Ymd => {
  const x = new Date(Date.UTC(d.y, d.m - 1, d.d + n));
  return { y: x.getUTCFullYear(), m: x.getUTCMonth() + 1, d: x.getUTCDate() };
};
const minutesOf = (t: Hms): number => t.h * 60 + t.mi;

function openLines(path: string, gz: boolean, onBytes: (n: number) => void): { lines: AsyncIterable<string>; close(): void } {
  const file = createReadStream(path);
  file.on('data', (chunk: string | Buffer) => onBytes(chunk.length));
  const src: Readable = gz ? file.pipe(createGunzip()) : file;
  if (gz) file.on('error', (err) => src.destroy(err));
  const rl = createInterface({ input: src, crlfDelay: Infinity });
  return {
    lines: rl,
    close: () => {
      rl.close();
      file.destroy();
      if (gz) src.destroy();
    },
  };
}

async function isGzip(path: string): Promise<boolean> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, 0);
    return b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Counts clock rollovers (the clock going back by more than 12 h) in a file-dated log, so the file's date lands on its last day. */
async function countRollovers(def: FormatDef, path: string, gz: boolean, signal?: AbortSignal): Promise<{ rollovers: number; channel: string | null }> {
  const src = openLines(path, gz, () => undefined);
  let prev: number | null = null;
  let rollovers = 0;
  let channel: string | null = null;
  try {
    for await (const l of src.lines) {
      if (signal?.aborted) break;
      const p = def.parse(l);
      if (p.t !== 'line') continue;
      if (!channel && (p.kind === 'join' || p.kind === 'part')) channel = /(?:has (?:joined|left|parted) |Joins: .*?|Parts: .*?)([#&][^\s,\][()]+)/.exec(p.text)?.[1] ?? null;
      if (!p.hms) continue;
      const now = minutesOf(p.hms);
      if (prev !== null && prev - now > ROLLOVER_MINUTES) rollovers++;
      prev = now;
    }
  } finally {
    src.close();
  }
  return { rollovers, channel };
}

/** Reads one log file of one format into pages of IrcLine items. */
async function* readLog(def: FormatDef, path: string, opts: ImportOptions, signal?: AbortSignal): AsyncIterable<ImportPage> {
  const totalBytes = (await stat(path)).size;
  const gz = await isGzip(path);
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const fileDate = dateFromPath(path);
  let channel = opts.channel ?? channelFromPath(path);
  let rollovers = 0;
  if (def.dateMode === 'file' || !channel) {
    const pre = await countRollovers(def, path, gz, signal);
    rollovers = pre.rollovers;
    channel ??= pre.channel;
  }
  channel ??= `#${basename(path).replace(/\..*$/, '') || 'unknown'}`;

  let bytesRead = 0;
  const src = openLines(path, gz, (n) => {
    bytesRead += n;
  });
  let items: ImportItem[] = [];
  let quarantine: QuarantineEntry[] = [];
  const flush = (): ImportPage => {
    const page = { items, quarantine, bytesRead: Math.min(bytesRead, totalBytes), totalBytes };
    items = [];
    quarantine = [];
    return page;
  };

  // Date state per mode.
  let date: Ymd | null = def.dateMode === 'file' ? (fileDate ? addDays(fileDate, -rollovers) : null) : def.dateMode === 'markers' ? fileDate : null;
  let year: number | null = fileDate?.y ?? null;
  let lastMonth: number | null = null;
  let prevMinutes: number | null = null;
  let lastHms: Hms | null = null;
  let undated = 0;
  const seqs = new Map<string, { time: number; seq: number }>();
  let lineNo = 0;

  try {
    for await (const text of src.lines) {
      if (signal?.aborted) return;
      lineNo++;
      if (!text.trim()) continue;
      const where = `${path}:${lineNo}`;
      const p = def.parse(text);
      if (p.t === 'ignore') continue;
      if (p.t === 'bad') {
        quarantine.push({ location: where, reason: p.reason, excerpt: text.slice(0, EXCERPT_CHARS) });
        continue;
      }
      if (p.t === 'date') {
        date = p.date;
        year = p.date.y;
        lastMonth = p.date.m;
        prevMinutes = null;
        continue;
      }
      // A line: find its day.
      const hms = p.hms ?? lastHms ?? { h: 0, mi: 0, s: 0 };
      if (p.hms) {
        if (def.dateMode === 'file' && date && prevMinutes !== null && prevMinutes - minutesOf(p.hms) > ROLLOVER_MINUTES) date = addDays(date, 1);
        prevMinutes = minutesOf(p.hms);
        lastHms = p.hms;
      }
      let day: Ymd | null = date;
      if (p.date) day = p.date;
      else if (p.md) {
        if (year !== null) {
          if (lastMonth !== null && p.md.m < lastMonth) year++; // December -> January
          lastMonth = p.md.m;
          day = { y: year, m: p.md.m, d: p.md.d };
        } else day = null;
      }
      if (!day) {
        if (undated++ === 0) {
          quarantine.push({
            location: where,
            reason: 'no date for this line: the log has no date markers and the file name has none (name it YYYY-MM-DD.log or pass --format with a dated log)',
            excerpt: text.slice(0, EXCERPT_CHARS),
          });
        }
        continue;
      }
      const chan = p.channel ?? channel;
      const time = toMs(day, hms);
      const s = seqs.get(chan);
      const seq = s && s.time === time ? s.seq + 1 : 0;
      seqs.set(chan, { time, seq });
      const raw: IrcLine = { v: 1, kind: p.kind, network: null, channel: chan, nick: p.nick, text: p.text, time, seq };
      items.push({ raw, location: where, payload: text });
      if (items.length >= pageSize) yield flush();
    }
  } finally {
    src.close();
  }
  if (undated > 1) quarantine.push({ location: `${path}:${lineNo}`, reason: `${undated} lines without a date were not imported`, excerpt: '' });
  if (items.length || quarantine.length || lineNo === 0) yield flush();
}

function makeImporter(def: FormatDef): Importer {
  return {
    format: def.format,
    platform: 'irc',
    detect: (_path: string, head: Buffer) => detectIrcLogFormat(head) === def.format,
    read: (path, opts, signal) => readLog(def, path, opts, signal),
    normalize: (raw: unknown, ctx: NormalizeContext): RawMessage | Skip => normalizeIrcLine(raw, ctx),
    normalizerVersion: IRC_NORMALIZER_VERSION,
  };
}

export const ircUbuntuImporter = makeImporter(defOf('irc-ubuntu'));
export const ircChannelDatedImporter = makeImporter(defOf('irc-channel-dated'));
export const ircIrssiImporter = makeImporter(defOf('irc-irssi'));
export const ircWeechatImporter = makeImporter(defOf('irc-weechat'));
export const ircZncImporter = makeImporter(defOf('irc-znc'));
export const ircLimnoriaImporter = makeImporter(defOf('irc-limnoria'));
export const ircHexchatImporter = makeImporter(defOf('irc-hexchat'));

/** Parses one line of a format (for tests and tools). */
export function parseIrcLogLine(format: IrcLogFormat, text: string): Parsed {
  return defOf(format).parse(text);
}
