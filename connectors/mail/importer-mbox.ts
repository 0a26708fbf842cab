// mbox importer (mboxo and mboxrd, plain or gzip, LF or CRLF), streamed: the file is read in chunks and
// split into messages on strict From_ lines, so a 1 GB archive never sits in memory. The splitter is
// shared with the pipermail importer, which only swaps the separator regex and fixes addresses.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { QuarantineEntry } from '../../src/model/index.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type ImportItem, type ImportOptions, type ImportPage, type Importer } from '../types.js';
import { MAIL_NORMALIZER_VERSION, normalizeMail, type MailRaw } from './normalize.js';
import { clip, decodeSource, excerptOf, inspectMime } from './mime-check.js';

export const DEFAULT_PAGE_SIZE = 200;
const READ_CHUNK_BYTES = 256 * 1024;
/** Bytes of each message kept for the quarantine excerpt. */
const HEAD_BYTES = 2048;

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
/**
 * RFC 4155 From_ line with a C asctime date (PLATFORMS.md 5.1). The sender may contain spaces or junk
 * (`From christian at “example.org”  Thu Jan 15 ...`), so it is matched lazily up to the day name.
 */
export const MBOX_FROM_LINE = new RegExp(`^From (.+?) +${DAY} ${MONTH} [ \\d]\\d \\d\\d:\\d\\d(?::\\d\\d)? .*\\d{4}`);
/** Mailman 2 pipermail `.txt` separator: two spaces, address obfuscated as `user at host` or kept (5.2). */
export const PIPERMAIL_FROM_LINE = new RegExp(`^From (\\S+ at \\S+|\\S+@\\S+)  ${DAY} ${MONTH} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}$`);

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const FROM_SPACE = Buffer.from('From ');
const LF = 0x0a;
const CR = 0x0d;
/** Header names that make a non-matching `From ` line after a blank line look like a broken separator. */
const HEADER_AFTER_FROM =
  /^(?:Return-Path|Received|From|Date|Message-ID|Subject|To|Cc|Delivered-To|X-[A-Za-z0-9-]+|MIME-Version|Content-Type|Reply-To|Sender|List-Id|In-Reply-To|References|Envelope-to|Status):[ \t]/i;
const HEADER_LINE = /^[\x21-\x39\x3b-\x7e]+:/;

export type MailFormat = 'mbox' | 'pipermail';

export interface SplitterOptions {
  format: MailFormat;
  separator: RegExp;
  /** mboxrd: `^>+From ` loses one `>`. */
  mboxrd: boolean;
  maxMessageBytes: number;
  /** Name used in locations (`file@offset (line N)`). */
  file: string;
  /** Archive base name, the channel of last resort. */
  archive: string;
  /** Format-specific repair of one message source (pipermail restores addresses). */
  transform?: (source: string, fromLine: string) => { source: string; fromLine: string };
}

interface Accumulating {
  offset: number;
  line: number;
  fromLine: string;
  chunks: Buffer[];
  size: number;
  head: Buffer[];
  headSize: number;
  oversized: boolean;
  hasNul: boolean;
  /** Set when the From_ line that opened it is broken: the message is quarantined. */
  broken: string | null;
}

interface PendingFrom {
  line: Buffer;
  offset: number;
  lineNo: number;
  text: string;
}

/**
 * Synchronous, chunk-fed mbox splitter. Push chunks, collect finished items and quarantine entries,
 * call `end()` at the end of input.
 */
export class MboxSplitter {
  readonly items: ImportItem[] = [];
  readonly quarantine: QuarantineEntry[] = [];
  private carry: Buffer | null = null;
  private offset = 0;
  private lineNo = 0;
  private prevBlank = true; // the start of the file counts as "after a blank line"
  private current: Accumulating | null = null;
  private pending: PendingFrom | null = null;
  private preamble: Accumulating;
  private messagesSeen = 0;

  constructor(private readonly o: SplitterOptions) {
    this.preamble = this.newAcc(0, 1, '', null);
  }

  push(chunk: Buffer): void {
    let start = 0;
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    for (;;) {
      const nl = buf.indexOf(LF, start);
      if (nl === -1) break;
      this.onLine(buf.subarray(start, nl + 1));
      start = nl + 1;
    }
    if (start < buf.length) {
      // Copy so the (large) chunk can be released; a very long line without LF still grows here, but an
      // oversized message stops storing its lines, so only the carry itself is held.
      this.carry = Buffer.from(buf.subarray(start));
    }
  }

  end(): void {
    if (this.carry) {
      const last = this.carry;
      this.carry = null;
      this.onLine(last);
    }
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      this.append(p.line);
    }
    if (this.current) this.finish(this.current);
    this.current = null;
    this.finishPreamble(true);
  }

  /** Offset in the (decompressed) stream of everything consumed so far. */
  get position(): number {
    return this.offset;
  }

  private newAcc(offset: number, line: number, fromLine: string, broken: string | null): Accumulating {
    return { offset, line, fromLine, chunks: [], size: 0, head: [], headSize: 0, oversized: false, hasNul: false, broken };
  }

  private onLine(line: Buffer): void {
    const offset = this.offset;
    this.offset += line.length;
    this.lineNo += 1;
    const lineNo = this.lineNo;
    let end = line.length;
    if (end > 0 && line[end - 1] === LF) end--;
    if (end > 0 && line[end - 1] === CR) end--;
    const blank = end === 0;

    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      const text = line.subarray(0, end).toString('utf8');
      if (HEADER_AFTER_FROM.test(text)) {
        // A From_ line that does not parse, followed by headers: a broken separator. The message it opens
        // is quarantined; the message before it ends here.
        this.startMessage(p.offset, p.lineNo, p.text, p.line, `broken From_ line: "${clip(p.text, 120)}" is not "From <sender> <asctime date>"`);
      } else {
        this.append(p.line);
      }
      // This line follows a non-blank line, so it is not a separator: fall through to the body path.
      this.prevBlank = false;
    }

    if (this.prevBlank && end >= 5 && line.compare(FROM_SPACE, 0, 5, 0, 5) === 0) {
      const text = line.subarray(0, end).toString('utf8');
      if (this.o.separator.test(text)) {
        this.startMessage(offset, lineNo, text, line, null);
        this.prevBlank = false;
        return;
      }
      this.pending = { line, offset, lineNo, text };
      this.prevBlank = false;
      return;
    }

    if (this.o.mboxrd && line[0] === 0x3e /* > */ && /^>+From /.test(line.subarray(0, Math.min(end, 64)).toString('latin1'))) {
      line = line.subarray(1);
    }
    this.append(line);
    this.prevBlank = blank;
  }

  private startMessage(offset: number, lineNo: number, fromLine: string, rawLine: Buffer, broken: string | null): void {
    if (this.current) this.finish(this.current);
    else this.finishPreamble(false);
    this.current = this.newAcc(offset, lineNo, fromLine, broken);
    this.keepHead(this.current, rawLine);
    this.messagesSeen += 1;
  }

  private keepHead(acc: Accumulating, line: Buffer): void {
    if (acc.headSize >= HEAD_BYTES) return;
    const part = Buffer.from(line.subarray(0, HEAD_BYTES - acc.headSize));
    acc.head.push(part);
    acc.headSize += part.length;
  }

  private append(line: Buffer): void {
    const acc = this.current ?? this.preamble;
    acc.size += line.length;
    if (!acc.hasNul && line.includes(0)) acc.hasNul = true;
    this.keepHead(acc, line);
    if (acc.oversized || acc === this.preamble) return;
    if (acc.size > this.o.maxMessageBytes) {
      acc.oversized = true;
      acc.chunks = [];
      return;
    }
    acc.chunks.push(line);
  }

  private location(acc: Accumulating): string {
    return `${this.o.file}@${acc.offset} (line ${acc.line})`;
  }

  private quarantineAcc(acc: Accumulating, reason: string): void {
    this.quarantine.push({ location: this.location(acc), reason, excerpt: excerptOf(Buffer.concat(acc.head)) });
  }

  private finishPreamble(atEnd: boolean): void {
    const pre = this.preamble;
    if (pre.size === -1) return; // already reported
    if (atEnd && this.messagesSeen === 0) {
      const what = this.offset === 0 ? 'the file is empty' : pre.hasNul ? 'no mbox From_ line found and the file contains NUL bytes (binary data?)' : 'no mbox From_ line found';
      this.quarantine.push({ location: `${this.o.file}@0 (line 1)`, reason: `no readable message: ${what}`, excerpt: excerptOf(Buffer.concat(pre.head)) });
      pre.size = -1;
      return;
    }
    const headText = Buffer.concat(pre.head).toString('utf8');
    if (pre.size > 0 && headText.trim() !== '') {
      this.quarantineAcc(pre, `${pre.size} bytes before the first From_ line belong to no message${pre.hasNul ? ' (binary data: NUL bytes)' : ''}`);
    }
    pre.size = -1;
  }

  private finish(acc: Accumulating): void {
    if (acc.broken) return this.quarantineAcc(acc, `${acc.broken}; message skipped`);
    if (acc.oversized) {
      return this.quarantineAcc(acc, `message is ${acc.size} bytes, over the ${this.o.maxMessageBytes}-byte limit (maxMessageBytes)`);
    }
    if (acc.hasNul) return this.quarantineAcc(acc, 'message contains NUL bytes: binary data, not a mail message');
    let body = Buffer.concat(acc.chunks);
    // The blank line before the next From_ belongs to the separator, not to the message.
    if (body.length >= 2 && body[body.length - 1] === LF && body[body.length - 2] === LF) body = body.subarray(0, body.length - 1);
    else if (body.length >= 4 && body.subarray(body.length - 4).toString('latin1') === '\r\n\r\n') body = body.subarray(0, body.length - 2);
    const decoded = decodeSource(body);
    const firstLine = decoded.text.slice(0, 200).split(/\r?\n/, 1)[0] ?? '';
    if (decoded.text.trim() === '') return this.quarantineAcc(acc, 'empty message: nothing after the From_ line');
    if (!HEADER_LINE.test(firstLine)) return this.quarantineAcc(acc, 'no header lines after the From_ line: not a mail message');

    let source = decoded.text;
    let fromLine = acc.fromLine;
    if (this.o.transform) ({ source, fromLine } = this.o.transform(source, fromLine));

    const mime = inspectMime(source);
    if (mime.truncated) return this.quarantineAcc(acc, `truncated MIME: ${mime.truncated}`);
    const location = this.location(acc);
    if (mime.unknownCharsets.length > 0) {
      this.quarantine.push({
        location,
        reason: `unknown charset ${mime.unknownCharsets.map((c) => `"${c}"`).join(', ')}: message imported anyway, its text decoded as UTF-8 and possibly garbled`,
        excerpt: excerptOf(Buffer.concat(acc.head)),
      });
    }
    const raw: MailRaw = {
      kind: 'mail',
      format: this.o.format,
      source,
      sourceEncoding: decoded.encoding,
      fromLine,
      archive: this.o.archive,
      location,
    };
    this.items.push({ raw, location, payload: fromLine ? `${fromLine}\n${source}` : source });
  }
}

// ---- streaming reader shared by mbox and pipermail ----

export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === GZIP_MAGIC_0 && buf[1] === GZIP_MAGIC_1;
  } finally {
    await fh.close();
  }
}

/** The archive's base name without `.gz`, `.mbox`, `.txt`: the channel when nothing better is known. */
export function archiveName(path: string): string {
  return basename(path)
    .replace(/\.gz$/i, '')
    .replace(/\.(?:mbox|mbx|txt)$/i, '');
}

interface OpenedStream {
  stream: AsyncIterable<Buffer> & { destroy(): void };
  compressedRead: () => number;
}

function openStream(path: string, gz: boolean): OpenedStream {
  const fileStream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  if (!gz) return { stream: fileStream, compressedRead: () => fileStream.bytesRead };
  const gunzip = createGunzip();
  pipeline(fileStream, gunzip, () => {
    // errors surface on the gunzip stream being iterated
  });
  return { stream: gunzip, compressedRead: () => fileStream.bytesRead };
}

/** Whether any `>>From ` line appears (the mboxrd tell-tale); streams the whole file once. */
async function containsDoubleQuotedFrom(path: string, gz: boolean, signal?: AbortSignal): Promise<boolean> {
  const needle = Buffer.from('\n>>From ');
  const { stream } = openStream(path, gz);
  let tail = Buffer.alloc(0);
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) return false;
      const buf = tail.length ? Buffer.concat([tail, chunk]) : chunk;
      if (buf.indexOf(needle) !== -1) return true;
      tail = Buffer.from(buf.subarray(Math.max(0, buf.length - needle.length + 1)));
    }
  } catch {
    // a corrupt stream is reported by the real read
  } finally {
    stream.destroy();
  }
  return false;
}

async function readFirstLine(path: string, gz: boolean): Promise<string> {
  const { stream } = openStream(path, gz);
  let acc = Buffer.alloc(0);
  try {
    for await (const chunk of stream) {
      acc = Buffer.concat([acc, chunk]);
      const nl = acc.indexOf(LF);
      if (nl !== -1 || acc.length > 4096)
        return acc
          .subarray(0, nl === -1 ? 4096 : nl)
          .toString('utf8')
          .replace(/\r$/, '');
    }
  } catch {
    // reported by the real read
  } finally {
    stream.destroy();
  }
  return acc.toString('utf8');
}

export interface ReadArchiveOptions {
  format: MailFormat;
  separator: RegExp;
  /** 'auto': mboxrd when the first From_ line is `From mboxrd@z` or any `>>From ` line appears. */
  unquote: 'auto' | 'none';
  transform?: SplitterOptions['transform'];
}

export async function* readMailArchive(path: string, opts: ImportOptions, how: ReadArchiveOptions, signal?: AbortSignal): AsyncIterable<ImportPage> {
  const pageSize = Math.max(1, opts.pageSize ?? DEFAULT_PAGE_SIZE);
  const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const totalBytes = (await stat(path)).size;
  const gz = await isGzipFile(path);
  let mboxrd = false;
  if (how.unquote === 'auto') {
    const first = await readFirstLine(path, gz);
    mboxrd = /^From mboxrd@z /.test(first) || (await containsDoubleQuotedFrom(path, gz, signal));
  }
  const splitter = new MboxSplitter({
    format: how.format,
    separator: how.separator,
    mboxrd,
    maxMessageBytes,
    file: path,
    archive: archiveName(path),
    ...(how.transform ? { transform: how.transform } : {}),
  });
  const { stream, compressedRead } = openStream(path, gz);
  let sentQuarantine = 0;
  let yieldedAny = false;
  const takePage = (count: number): ImportPage => {
    const items = splitter.items.splice(0, count);
    const quarantine = splitter.quarantine.slice(sentQuarantine);
    sentQuarantine = splitter.quarantine.length;
    yieldedAny = true;
    return { items, quarantine, bytesRead: Math.min(compressedRead(), totalBytes), totalBytes };
  };
  try {
    for await (const chunk of stream) {
      if (signal?.aborted) return;
      splitter.push(chunk);
      while (splitter.items.length >= pageSize) yield takePage(pageSize);
    }
  } catch (err: unknown) {
    const message = err instanceof Error ? err.message : String(err);
    splitter.quarantine.push({
      location: `${path}@${splitter.position}`,
      reason: `${gz ? 'gzip stream' : 'file'} unreadable after ${splitter.position} bytes (${message}); the messages before it were read`,
      excerpt: '',
    });
  } finally {
    stream.destroy();
  }
  if (signal?.aborted) return;
  splitter.end();
  while (splitter.items.length >= pageSize) yield takePage(pageSize);
  if (splitter.items.length > 0 || splitter.quarantine.length > sentQuarantine || !yieldedAny) {
    const page = takePage(splitter.items.length);
    yield { ...page, bytesRead: totalBytes };
  }
}

/** First line of a (gunzipped) head, without its line ending. */
export function headFirstLine(head: Buffer): string {
  const nl = head.indexOf(LF);
  return head
    .subarray(0, nl === -1 ? Math.min(head.length, 4096) : nl)
    .toString('utf8')
    .replace(/\r$/, '');
}

export function looksLikePipermail(path: string, head: Buffer): boolean {
  if (/\d{4}-(?:January|February|March|April|May|June|July|August|September|October|November|December)\.txt(?:\.gz)?$/.test(path)) return true;
  const first = headFirstLine(head);
  return PIPERMAIL_FROM_LINE.test(first) && / at /.test(first.split('  ', 1)[0] ?? '');
}

export const mboxImporter: Importer = {
  format: 'mbox',
  platform: 'mail',
  detect(path: string, head: Buffer): boolean {
    // A pipermail `.txt` also starts with a From_ line; the more specific importer takes it.
    return MBOX_FROM_LINE.test(headFirstLine(head)) && !looksLikePipermail(path, head);
  },
  read(path: string, opts: ImportOptions, signal?: AbortSignal): AsyncIterable<ImportPage> {
    return readMailArchive(path, opts, { format: 'mbox', separator: MBOX_FROM_LINE, unquote: 'auto' }, signal);
  },
  normalize: normalizeMail,
  normalizerVersion: MAIL_NORMALIZER_VERSION,
};
