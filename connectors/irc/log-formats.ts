// The IRC log formats (PLATFORMS.md 4.5): each format's line rules and signature, detection by the
// file's first lines, and the date and channel a file name gives.
import { basename, dirname } from 'node:path';
import type { IrcEventKind, IrcLineKind } from './normalize.js';

export const IRC_LOG_FORMATS = ['irc-ubuntu', 'irc-channel-dated', 'irc-irssi', 'irc-weechat', 'irc-znc', 'irc-limnoria', 'irc-hexchat'] as const;
export type IrcLogFormat = (typeof IRC_LOG_FORMATS)[number];

/** A clock going back by more than this between two lines is the next day (12-hour clocks go back by less). */
export const ROLLOVER_MINUTES = 12 * 60;

export interface Ymd {
  y: number;
  m: number;
  d: number;
}
export interface Hms {
  h: number;
  mi: number;
  s: number;
}

/** What one line says. */
export type Parsed =
  | { t: 'line'; kind: IrcLineKind; nick: string | null; text: string; hms: Hms | null; date?: Ymd; md?: { m: number; d: number }; channel?: string }
  | { t: 'date'; date: Ymd }
  | { t: 'ignore' }
  | { t: 'bad'; reason: string };

/** How a format dates its lines. */
export type DateMode = 'line' | 'markers' | 'monthday' | 'file';

export interface FormatDef {
  format: IrcLogFormat;
  dateMode: DateMode;
  /** Lines that are typical of the format, for detect(). */
  signature: RegExp[];
  parse(line: string): Parsed;
}

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export const monthOf = (name: string): number => MONTHS.indexOf(name.slice(0, 1).toUpperCase() + name.slice(1, 3).toLowerCase()) + 1;

export const TIME = String.raw`(\d\d):(\d\d)(?::(\d\d))?`;
export const hmsOf = (h?: string, mi?: string, s?: string): Hms | null => {
  const hh = Number(h);
  const mm = Number(mi);
  const ss = s === undefined ? 0 : Number(s);
  if (!(hh <= 23 && mm <= 59 && ss <= 60)) return null;
  return { h: hh, mi: mm, s: ss };
};
export const MODE_CHARS = /^[@+%&~!]/;

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

export const line = (kind: IrcLineKind, nick: string | null, text: string, hms: Hms | null, extra: { date?: Ymd; md?: { m: number; d: number }; channel?: string } = {}): Parsed => ({
  t: 'line',
  kind,
  nick,
  text,
  hms,
  ...extra,
});
export const bad = (reason: string): Parsed => ({ t: 'bad', reason });

/** The part after the timestamp shared by ZNC, Limnoria and irclogs.ubuntu.com: `<nick> text`, `* nick text`, `-nick- text`, `*** event`. */
export function parseBracketed(rest: string, hms: Hms | null, extra: { date?: Ymd } = {}): Parsed {
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

export const FORMATS: FormatDef[] = [
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

export const FORMAT_BY_NAME = new Map(FORMATS.map((f) => [f.format, f]));
export function defOf(format: IrcLogFormat): FormatDef {
  const def = FORMAT_BY_NAME.get(format);
  if (!def) throw new Error(`unknown IRC log format ${format}`);
  return def;
}

/** The first non-empty lines of a file head (already gunzipped). */
export function headLines(head: Buffer, n = 20): string[] {
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
  const stem = base
    .replace(/\.gz$/i, '')
    .replace(/\.(?:log|txt|weechatlog)$/i, '')
    .replace(/\.raw$/i, '');
  const m = /[#&][^\s,/]*$/.exec(stem.replace(/[._-]?\d{4}-?\d\d-?\d\d(?:[._-].*)?$/, ''));
  if (m && m[0].length > 1) return m[0];
  const parent = basename(dirname(path));
  return /^[#&]\S+$/.test(parent) ? parent : null;
}
