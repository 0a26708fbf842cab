// DiscordChatExporter JSON export importer (PLATFORMS.md 2.8). The file is scanned as a stream: the header
// (guild, channel) first, then each object of the `messages` array on its own, so a huge export is never held
// whole and one malformed message is quarantined (`file:messages[i]`) while the rest are read.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import type { NormalizeContext, QuarantineEntry, RawMessage, Skip } from '../../src/model/index.js';
import { MAX_JSON_DEPTH, tooDeep } from '../json-depth.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type ImportItem, type ImportOptions, type ImportPage, type Importer } from '../types.js';
import { discordMarkdownToText, permalinkOf } from './normalize.js';

export const DCE_NORMALIZER_VERSION = 2;
const DEFAULT_PAGE_SIZE = 500;
const EXCERPT_CHARS = 300;

const dceUserSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  nickname: z.string().nullish(),
  isBot: z.boolean().default(false),
  /** The member's roles at export time (`{id, name, color, position}`); read leniently (dceRoles). */
  roles: z.unknown().optional(),
});

export const dceMessageSchema = z.object({
  id: z.string().regex(/^\d+$/, 'a snowflake'),
  type: z.string(),
  timestamp: z.string().refine((s) => Number.isFinite(Date.parse(s)), 'an ISO 8601 date'),
  timestampEdited: z.string().nullish(),
  isPinned: z.boolean().optional(),
  content: z.string(),
  author: dceUserSchema,
  attachments: z.array(z.object({ id: z.string().optional(), url: z.string().nullish(), fileName: z.string(), fileSizeBytes: z.number().nullish() })).default([]),
  embeds: z.array(z.object({ title: z.string().nullish(), description: z.string().nullish() }).passthrough()).default([]),
  stickers: z.array(z.object({ name: z.string() }).passthrough()).default([]),
  reactions: z.array(z.object({ emoji: z.object({ id: z.string().nullish(), name: z.string().nullish() }).passthrough(), count: z.number().int() }).passthrough()).default([]),
  mentions: z.array(dceUserSchema.passthrough()).default([]),
  reference: z.object({ type: z.string().nullish(), messageId: z.string().nullish(), channelId: z.string().nullish(), guildId: z.string().nullish() }).nullish(),
  forwardedMessage: z
    .object({ content: z.string().default('') })
    .passthrough()
    .nullish(),
});
export type DceMessage = z.infer<typeof dceMessageSchema>;

export const dceHeaderSchema = z.object({
  guild: z.object({ id: z.string(), name: z.string() }).passthrough(),
  channel: z
    .object({
      id: z.string().regex(/^\d+$/),
      type: z.string(),
      categoryId: z.string().nullish(),
      category: z.string().nullish(),
      name: z.string(),
      topic: z.string().nullish(),
      /**
       * Not written by DiscordChatExporter: a Gleaner extension for forum posts exported as threads, naming the
       * post's applied forum tags (they become labels). Files without it import the same.
       */
      appliedTags: z.array(z.string()).optional(),
    })
    .passthrough(),
});
export type DceHeader = z.infer<typeof dceHeaderSchema>;

/** What the importer hands to normalize. */
export interface DceItem {
  kind: 'dce.message';
  guild: { id: string; name: string };
  channel: DceHeader['channel'];
  message: DceMessage;
}

const THREAD_KINDS = new Set(['GuildPublicThread', 'GuildPrivateThread', 'GuildNewsThread']);
/** DCE MessageKind names (and numbers for unnamed kinds) that are people or bots talking. */
const KEPT_KINDS = new Set(['Default', 'Reply', '0', '19', '20', '23']);
const DCE_SKIP_REASONS: Record<string, string> = {
  GuildMemberJoin: 'discord: member joined',
  ChannelPinnedMessage: 'discord: pin notice',
  ThreadCreated: 'discord: thread created notice',
  RecipientAdd: 'discord: recipient added/removed',
  RecipientRemove: 'discord: recipient added/removed',
  Call: 'discord: call',
  ChannelNameChange: 'discord: channel renamed/icon changed',
  ChannelIconChange: 'discord: channel renamed/icon changed',
  '21': 'discord: thread starter (copy of the parent message)',
  '7': 'discord: member joined',
  '6': 'discord: pin notice',
  '8': 'discord: server boost',
  '9': 'discord: server boost',
  '10': 'discord: server boost',
  '11': 'discord: server boost',
};

/** Pure: one DCE message (with its file's guild and channel) -> RawMessage or a reason to skip it. */
/** An exported author's roles (ids with names); a missing or odd list is absent, an entry without an id is left out. */
function dceRoles(raw: unknown): Array<{ id: string; name?: string }> | undefined {
  if (!Array.isArray(raw)) return undefined;
  const out: Array<{ id: string; name?: string }> = [];
  for (const r of raw as unknown[]) {
    if (!r || typeof r !== 'object') continue;
    const { id, name } = r as { id?: unknown; name?: unknown };
    if (typeof id !== 'string' || !/^\d{1,20}$/.test(id)) continue;
    out.push(typeof name === 'string' && name ? { id, name } : { id });
  }
  return out;
}

export function normalizeDce(raw: unknown, ctx: NormalizeContext): RawMessage | Skip {
  const item = raw as DceItem | null;
  if (!item || item.kind !== 'dce.message') throw new Error('not a DiscordChatExporter message item');
  const m = dceMessageSchema.parse(item.message);
  if (!KEPT_KINDS.has(m.type)) return { skip: true, reason: DCE_SKIP_REASONS[m.type] ?? `discord: system message (${m.type})` };
  const ch = item.channel;
  const inThread = THREAD_KINDS.has(ch.type);
  // DCE already writes mentions as @name and custom emoji as :name:; markdown is left as written.
  let text = discordMarkdownToText(m.content);
  if (!text && m.forwardedMessage?.content) text = discordMarkdownToText(m.forwardedMessage.content);
  if (!text && m.embeds.length) {
    text = m.embeds
      .map((e) =>
        [e.title, e.description]
          .filter((x): x is string => !!x)
          .map((x) => discordMarkdownToText(x))
          .join('\n'),
      )
      .filter(Boolean)
      .join('\n\n');
  }
  if (!text && m.stickers.length) text = m.stickers.map((s) => `[sticker: ${s.name}]`).join(' ');
  const attachments = m.attachments.map((a) => ({ name: a.fileName, size: a.fileSizeBytes ?? null, url: a.url ?? null }));
  if (!text && !attachments.length) return { skip: true, reason: 'discord: empty message' };
  const reactions: Record<string, number> = {};
  for (const r of m.reactions) {
    const key = r.emoji.id ? `:${r.emoji.name ?? r.emoji.id}:` : (r.emoji.name ?? '?');
    reactions[key] = (reactions[key] ?? 0) + r.count;
  }
  const forward = m.reference?.type === 'Forward';
  const edited = m.timestampEdited ? Date.parse(m.timestampEdited) : NaN;
  // DCE names a thread's parent channel `category` (its schema predates threads).
  const channel = inThread ? (ch.categoryId ?? ch.id) : ch.id;
  const channelName = inThread ? (ch.category ?? ch.name) : ch.name;
  return {
    externalId: m.id,
    channel: channel || ctx.channel || ch.id,
    channelName,
    author: { id: m.author.id, name: m.author.nickname || m.author.name, isBot: m.author.isBot, roles: dceRoles(m.author.roles) },
    text,
    cleanText: text,
    sentAt: Date.parse(m.timestamp),
    editedAt: Number.isFinite(edited) ? edited : null,
    threadId: inThread ? ch.id : null,
    replyTo: !forward && m.reference?.messageId ? m.reference.messageId : null,
    permalink: permalinkOf(item.guild.id === '0' ? '' : item.guild.id, ch.id, m.id),
    reactions: Object.keys(reactions).length ? reactions : undefined,
    attachments: attachments.length ? attachments : undefined,
    labels: inThread && ch.appliedTags?.length ? [...ch.appliedTags] : undefined,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Streaming scan of the export.

type Phase = 'header' | 'between' | 'message' | 'tail' | 'done';

class DceScanner {
  phase: Phase = 'header';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private header = '';
  /** The last complete string at depth 1 (a key of the root object). */
  private keyBuf = '';
  private lastKey: string | null = null;
  private msg = '';
  private msgOverLimit = false;
  private msgStart = 0;
  index = 0;
  headerData: DceHeader | null = null;
  readonly out: Array<{ index: number; text: string | null; overLimit: boolean; at: number }> = [];

  constructor(private readonly maxChars: number) {}

  /** Feeds decoded text; `base` = the char offset of `s` in the file (for messages' positions). */
  feed(s: string, base: number): void {
    let i = 0;
    while (i < s.length) {
      switch (this.phase) {
        case 'header': {
          const c = s[i]!;
          this.header += c;
          this.scanHeaderChar(c);
          i++;
          break;
        }
        case 'between': {
          const c = s[i]!;
          if (c === '{') {
            this.phase = 'message';
            this.depth = 3;
            this.msg = '{';
            this.msgOverLimit = false;
            this.msgStart = base + i;
          } else if (c === ']') this.phase = 'tail';
          // whitespace and commas between messages
          i++;
          break;
        }
        case 'message':
          i = this.scanMessage(s, i);
          break;
        case 'tail':
        case 'done':
          return;
      }
    }
  }

  private scanHeaderChar(c: string): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (c === '\\') this.escaped = true;
      else if (c === '"') {
        this.inString = false;
        if (this.depth === 1) this.lastKey = this.keyBuf;
        return;
      }
      if (this.depth === 1) this.keyBuf += c;
      return;
    }
    if (c === '"') {
      this.inString = true;
      this.keyBuf = '';
    } else if (c === '{' || c === '[') {
      this.depth++;
      if (c === '[' && this.depth === 2 && this.lastKey === 'messages') {
        this.headerData = parseHeader(this.header + ']}');
        this.phase = 'between';
      }
    } else if (c === '}' || c === ']') this.depth--;
    else if (c === ',' && this.depth === 1) this.lastKey = null;
  }

  /** Scans message text from `from`; returns where it stopped (the end of `s`, or just after the message). */
  private scanMessage(s: string, from: number): number {
    let i = from;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92 /* \\ */) this.escaped = true;
        else if (c === 34 /* " */) this.inString = false;
        continue;
      }
      if (c === 34) this.inString = true;
      else if (c === 123 /* { */ || c === 91 /* [ */) this.depth++;
      else if (c === 125 /* } */ || c === 93 /* ] */) {
        this.depth--;
        if (this.depth === 2) {
          this.append(s.slice(from, i + 1));
          this.out.push({ index: this.index++, text: this.msgOverLimit ? null : this.msg, overLimit: this.msgOverLimit, at: this.msgStart });
          this.msg = '';
          this.phase = 'between';
          return i + 1;
        }
      }
    }
    this.append(s.slice(from));
    return i;
  }

  private append(part: string): void {
    if (this.msgOverLimit) return;
    if (this.msg.length + part.length > this.maxChars) {
      this.msgOverLimit = true;
      this.msg = '';
    } else this.msg += part;
  }

  /** At end of file: what was left unfinished. */
  unfinished(): { partialMessage: string | null; inHeader: boolean } {
    return { partialMessage: this.phase === 'message' ? this.msg : null, inHeader: this.phase === 'header' };
  }
}

function parseHeader(text: string): DceHeader {
  const json = JSON.parse(text) as unknown;
  return dceHeaderSchema.parse(json);
}

function excerptOf(s: string): string {
  return s.length > EXCERPT_CHARS ? `${s.slice(0, EXCERPT_CHARS)}…` : s;
}

function issuesOf(err: unknown): string {
  if (err instanceof z.ZodError) return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return err instanceof Error ? err.message : String(err);
}

export async function* readDceExport(path: string, opts: ImportOptions, signal?: AbortSignal): AsyncGenerator<ImportPage> {
  const totalBytes = (await stat(path)).size;
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const scanner = new DceScanner(opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
  const decoder = new StringDecoder('utf8');
  let items: ImportItem[] = [];
  let quarantine: QuarantineEntry[] = [];
  let bytesRead = 0;
  let chars = 0;
  let headerFailed = false;

  const drain = (): void => {
    const header = scanner.headerData;
    for (const m of scanner.out.splice(0)) {
      const location = `${path}:messages[${m.index}]`;
      if (m.overLimit || m.text === null) {
        quarantine.push({ location, reason: `message is over the ${opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES}-character limit (maxMessageBytes)`, excerpt: '' });
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(m.text);
      } catch (err: unknown) {
        quarantine.push({ location, reason: `not valid JSON: ${issuesOf(err)}`, excerpt: excerptOf(m.text) });
        continue;
      }
      // Checked before anything recurses into it (zod, a later re-normalization, structured clone).
      if (tooDeep(parsed)) {
        quarantine.push({ location, reason: `message nested deeper than ${MAX_JSON_DEPTH} levels`, excerpt: excerptOf(m.text) });
        continue;
      }
      const checked = dceMessageSchema.safeParse(parsed);
      if (!checked.success || !header) {
        quarantine.push({ location, reason: `not a DiscordChatExporter message: ${checked.success ? 'no header' : issuesOf(checked.error)}`, excerpt: excerptOf(m.text) });
        continue;
      }
      const raw: DceItem = { kind: 'dce.message', guild: { id: header.guild.id, name: header.guild.name }, channel: header.channel, message: checked.data };
      items.push({ raw, location, payload: m.text });
    }
  };

  const stream = createReadStream(path, { signal });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytesRead += chunk.length;
      const text = decoder.write(chunk);
      try {
        scanner.feed(text, chars);
      } catch (err: unknown) {
        // Only the header can throw (a message is parsed later, on its own).
        quarantine.push({ location: `${path}:header`, reason: `not a DiscordChatExporter export header: ${issuesOf(err)}`, excerpt: '' });
        headerFailed = true;
        break;
      }
      chars += text.length;
      drain();
      if (items.length >= pageSize) {
        yield { items, quarantine, bytesRead, totalBytes };
        items = [];
        quarantine = [];
      }
    }
  } catch (err: unknown) {
    if (signal?.aborted) return;
    throw err;
  }
  if (!headerFailed) {
    scanner.feed(decoder.end(), chars);
    drain();
    const left = scanner.unfinished();
    if (left.inHeader) quarantine.push({ location: `${path}:header`, reason: 'no `messages` array: not a DiscordChatExporter JSON export, or the file is cut short', excerpt: '' });
    if (left.partialMessage !== null) {
      quarantine.push({ location: `${path}:messages[${scanner.index}]`, reason: 'the file ends inside this message (export cut short)', excerpt: excerptOf(left.partialMessage) });
    }
  }
  yield { items, quarantine, bytesRead: totalBytes, totalBytes };
}

export const dceImporter: Importer = {
  format: 'discord-export',
  platform: 'discord',
  detect(path: string, head: Buffer): boolean {
    if (!/\.json$/i.test(path)) return false;
    const start = head.toString('utf8', 0, Math.min(head.length, 4096)).replace(/^\uFEFF/, '');
    return /^\s*\{\s*"guild"\s*:\s*\{/.test(start);
  },
  read: readDceExport,
  normalize: normalizeDce,
  normalizerVersion: DCE_NORMALIZER_VERSION,
};
