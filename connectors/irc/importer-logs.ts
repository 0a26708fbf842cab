// IRC log importers, one per log format (PLATFORMS.md 4.5), streamed line by line. The date comes from
// the line, day markers (`--- Day changed`, `--- Log opened`, `**** BEGIN LOGGING AT`) or the file name;
// the channel from the line, the `--channel` option, the file name or the log's own join lines.
// Joins, parts, quits, nick changes, modes and topics become items that normalize skips (counted per
// kind); lines no format rule reads are quarantined with `file:line`. Log times are taken as UTC.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { NormalizeContext, QuarantineEntry, RawMessage, Skip } from '../../src/model/index.js';
import type { ImportItem, ImportOptions, ImportPage, Importer } from '../types.js';
import { IRC_NORMALIZER_VERSION, normalizeIrcLine, type IrcLine } from './normalize.js';
import { channelFromPath, dateFromPath, defOf, detectIrcLogFormat, ROLLOVER_MINUTES, type FormatDef, type Hms, type IrcLogFormat, type Parsed, type Ymd } from './log-formats.js';

export { IRC_LOG_FORMATS, channelFromPath, dateFromPath, detectIrcLogFormat, eventKind, type IrcLogFormat } from './log-formats.js';

const DEFAULT_PAGE_SIZE = 500;
const EXCERPT_CHARS = 300;

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
