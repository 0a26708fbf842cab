// Discord message -> RawMessage. Pure. Mentions become `@name`, custom emoji `:name:`, markdown plain text;
// system messages (joins, pins, boosts, thread notices) are skipped with a reason.
import { z } from 'zod';
import type { NormalizeContext, RawMessage, Skip } from '../../src/model/index.js';
import { snowflakeToMs } from './cursor.js';

export const DISCORD_NORMALIZER_VERSION = 2;

// ---------------------------------------------------------------------------------------------------------
// Plain text from Discord markdown.

/** Private-use characters that cannot occur in real text: placeholders for protected spans. */
const PH_OPEN = '\uE000';
const PH_CLOSE = '\uE001';

export interface TextNames {
  users?: Record<string, string>;
  roles?: Record<string, string>;
  channels?: Record<string, string>;
}

function isoOf(unixSeconds: string): string {
  const ms = Number(unixSeconds) * 1000;
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('.000Z', 'Z') : unixSeconds;
}

/** The text a Discord token (`<@id>`, `<#id>`, `<:name:id>`, `<t:unix:R>`, `</cmd:id>`, `<https://..>`) reads as. */
function tokenText(token: string, names: TextNames): string | null {
  let m: RegExpExecArray | null;
  if ((m = /^<@!?(\d+)>$/.exec(token))) return `@${names.users?.[m[1]!] ?? 'unknown-user'}`;
  if ((m = /^<@&(\d+)>$/.exec(token))) return `@${names.roles?.[m[1]!] ?? 'unknown-role'}`;
  if ((m = /^<#(\d+)>$/.exec(token))) return `#${names.channels?.[m[1]!] ?? 'unknown-channel'}`;
  if ((m = /^<a?:(\w+):\d+>$/.exec(token))) return `:${m[1]!}:`;
  if ((m = /^<t:(-?\d+)(?::[tTdDfFR])?>$/.exec(token))) return isoOf(m[1]!);
  if ((m = /^<\/([\w\- ]+):\d+>$/.exec(token))) return `/${m[1]!}`;
  if ((m = /^<(https?:\/\/[^\s>]+)>$/.exec(token))) return m[1]!;
  if ((m = /^<id:(\w+)>$/.exec(token))) return m[1]!;
  return null;
}

/** Inline markdown of one line-run of text that holds no code: emphasis, spoilers, links, headings, quotes. */
function stripInline(s: string): string {
  let t = s;
  // Masked links: [text](url) or [text](<url>)
  t = t.replace(/\[([^\]\n]+)\]\(<?(https?:\/\/[^\s)>]+)>?\)/g, (_, text: string, url: string) => (text === url ? url : `${text} (${url})`));
  // Line starts: headings, subtext, block quotes, list bullets kept as `- `.
  t = t.replace(/^(?:>>> ?|> ?)/gm, '');
  t = t.replace(/^#{1,3} +/gm, '');
  t = t.replace(/^-# +/gm, '');
  t = t.replace(/^(\s*)[*] +/gm, '$1- ');
  // Emphasis (longest markers first).
  t = t.replace(/\*\*\*(?=\S)([\s\S]*?\S)\*\*\*/g, '$1');
  t = t.replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '$1');
  t = t.replace(/__(?=\S)([\s\S]*?\S)__/g, '$1');
  t = t.replace(/~~(?=\S)([\s\S]*?\S)~~/g, '$1');
  t = t.replace(/\|\|([\s\S]+?)\|\|/g, '$1');
  t = t.replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, '$1$2');
  t = t.replace(/(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/g, '$1$2');
  return t;
}

/**
 * Discord markdown to plain text. Code keeps its content (fences and backticks go), Discord tokens are named
 * through `names`, backslash escapes are honoured.
 */
export function discordMarkdownToText(content: string, names: TextNames = {}): string {
  const kept: string[] = [];
  const keep = (s: string) => `${PH_OPEN}${kept.push(s) - 1}${PH_CLOSE}`;
  let t = content.replace(/\r\n?/g, '\n');
  // Code blocks and inline code: content verbatim.
  t = t.replace(/```(?:[\w+#.-]*\n)?([\s\S]*?)```/g, (_, code: string) => keep(code.replace(/\n$/, '')));
  t = t.replace(/``([^`]+?)``|`([^`\n]+?)`/g, (_, a: string | undefined, b: string | undefined) => keep(a ?? b ?? ''));
  // Escapes: the character itself, not markup.
  t = t.replace(/\\([\\*_~`|>#\-[\]()<:@])/g, (_, ch: string) => keep(ch));
  // Discord tokens: named, protected from emphasis stripping (names hold underscores).
  t = t.replace(/<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|t:-?\d+(?::[tTdDfFR])?|\/[\w\- ]+:\d+|https?:\/\/[^\s>]+|id:\w+)>/g, (tok) => {
    const text = tokenText(tok, names);
    return text === null ? tok : keep(text);
  });
  t = stripInline(t);
  const restore = new RegExp(`${PH_OPEN}(\\d+)${PH_CLOSE}`, 'g');
  // Placeholders may nest (an escape inside nothing else), so restore until stable.
  for (let i = 0; i < 3 && t.includes(PH_OPEN); i++) t = t.replace(restore, (_, n: string) => kept[Number(n)] ?? '');
  return t.trim();
}

// ---------------------------------------------------------------------------------------------------------
// What the connector hands to normalize: the REST/gateway message with the context a pure function needs.

export interface DiscordChannelRef {
  id: string;
  name: string | null;
  /** Channel type (0 text, 5 announcement, 11 public thread, 15 forum, ...). */
  type: number;
}

/** One message read over REST or the gateway, with where it lives. */
export interface DiscordMessageItem {
  kind: 'discord.message';
  guildId: string;
  /** The channel the message is in: a text channel or a thread (forum posts are threads). */
  channel: DiscordChannelRef;
  /** For a thread: its parent text or forum channel. */
  parent?: DiscordChannelRef | null;
  /** For a forum post: the names of its applied tags. */
  labels?: string[];
  /** Names for `<@&role>` and `<#channel>` tokens (user mentions carry their users). */
  names?: { roles?: Record<string, string>; channels?: Record<string, string> };
  /** How it was read: `history`, `recheck` (an edit seen on re-reading), `gateway`. */
  via: 'history' | 'recheck' | 'gateway';
  message: unknown;
  /**
   * The author's guild role ids, looked up when the message was read over REST (REST messages carry no
   * `member`; gateway MESSAGE_CREATE/UPDATE do). Absent: not looked up or not a member any more.
   */
  authorRoles?: string[] | null;
}

/** A message that disappeared: a gateway MESSAGE_DELETE, or missing when the newest messages were re-read. */
export interface DiscordDeleteItem {
  kind: 'discord.delete';
  guildId: string;
  channel: DiscordChannelRef;
  parent?: DiscordChannelRef | null;
  id: string;
  /** When the deletion was seen (ms). */
  seenAt: number;
  via: 'recheck' | 'gateway';
  /** The author, when still known (a message seen on the gateway earlier in this session). */
  author?: { id: string; name: string | null; isBot: boolean } | null;
}

export type DiscordItem = DiscordMessageItem | DiscordDeleteItem;

const userSchema = z.object({
  id: z.string().min(1),
  username: z.string().optional(),
  global_name: z.string().nullish(),
  bot: z.boolean().optional(),
  system: z.boolean().optional(),
});

const apiMessageSchema = z.object({
  id: z.string().regex(/^\d+$/),
  channel_id: z.string().regex(/^\d+$/),
  type: z.number().int(),
  content: z.string().default(''),
  author: userSchema,
  timestamp: z.string(),
  edited_timestamp: z.string().nullish(),
  mentions: z.array(userSchema).default([]),
  attachments: z.array(z.object({ id: z.string(), filename: z.string(), content_type: z.string().nullish(), size: z.number().nullish(), url: z.string().nullish() })).default([]),
  embeds: z.array(z.object({ title: z.string().nullish(), description: z.string().nullish(), url: z.string().nullish() }).passthrough()).default([]),
  reactions: z.array(z.object({ count: z.number().int(), emoji: z.object({ id: z.string().nullish(), name: z.string().nullish() }) })).optional(),
  message_reference: z.object({ type: z.number().int().optional(), message_id: z.string().optional(), channel_id: z.string().optional() }).optional(),
  message_snapshots: z.array(z.object({ message: z.object({ content: z.string().default('') }).passthrough() })).optional(),
  sticker_items: z.array(z.object({ name: z.string() })).optional(),
  webhook_id: z.string().optional(),
  thread: z.object({ id: z.string() }).passthrough().optional(),
  poll: z.unknown().optional(),
  /** Gateway MESSAGE_CREATE/UPDATE: the author's guild member (`roles`: role ids). Read leniently (authorRolesOf). */
  member: z.unknown().optional(),
});
export type ApiMessage = z.infer<typeof apiMessageSchema>;

/** Message types that are people (or bots) talking; everything else is a system notice. */
const KEPT_TYPES = new Set([0, 19, 20, 23]);

/** Why a system message type is skipped (PLATFORMS.md 2.4). Coarse reasons, so counts group well. */
export function systemMessageReason(type: number): string {
  switch (type) {
    case 7:
      return 'discord: member joined';
    case 6:
      return 'discord: pin notice';
    case 8:
    case 9:
    case 10:
    case 11:
      return 'discord: server boost';
    case 18:
      return 'discord: thread created notice';
    case 21:
      return 'discord: thread starter (copy of the parent message)';
    case 1:
    case 2:
      return 'discord: recipient added/removed';
    case 3:
      return 'discord: call';
    case 4:
    case 5:
      return 'discord: channel renamed/icon changed';
    case 24:
      return 'discord: auto-moderation notice';
    default:
      return `discord: system message (type ${type})`;
  }
}

const THREAD_TYPES = new Set([10, 11, 12]);
const isThread = (c: DiscordChannelRef | null | undefined): boolean => !!c && THREAD_TYPES.has(c.type);

export function permalinkOf(guildId: string, channelId: string, messageId: string): string {
  return `https://discord.com/channels/${guildId || '@me'}/${channelId}/${messageId}`;
}

function displayName(u: { username?: string; global_name?: string | null; id: string }): string {
  return u.global_name || u.username || u.id;
}

/** Where a message is filed: threads under their parent channel, with the thread as `threadId`. */
function placeOf(item: { channel: DiscordChannelRef; parent?: DiscordChannelRef | null }): { channel: string; channelName: string | null; threadId: string | null } {
  if (isThread(item.channel) && item.parent) return { channel: item.parent.id, channelName: item.parent.name, threadId: item.channel.id };
  if (isThread(item.channel)) return { channel: item.channel.id, channelName: item.channel.name, threadId: item.channel.id };
  return { channel: item.channel.id, channelName: item.channel.name, threadId: null };
}

function reactionsOf(m: ApiMessage): Record<string, number> | undefined {
  if (!m.reactions?.length) return undefined;
  const out: Record<string, number> = {};
  for (const r of m.reactions) {
    const key = r.emoji.id ? `:${r.emoji.name ?? r.emoji.id}:` : (r.emoji.name ?? '?');
    out[key] = (out[key] ?? 0) + r.count;
  }
  return out;
}

const SNOWFLAKE = /^\d{1,20}$/;

/**
 * The author's guild roles, ids with names where the connector knows them: from the gateway's `member.roles`,
 * else from the REST lookup on the item. Anything odd (no array, non-snowflakes) is left out, never an error.
 */
function authorRolesOf(member: unknown, item: DiscordMessageItem): Array<{ id: string; name?: string }> | undefined {
  const fromMember = member && typeof member === 'object' ? (member as { roles?: unknown }).roles : undefined;
  const raw: unknown = Array.isArray(fromMember) ? fromMember : item.authorRoles;
  if (!Array.isArray(raw)) return undefined;
  const ids = [...new Set(raw.filter((r): r is string => typeof r === 'string' && SNOWFLAKE.test(r)))];
  return ids.map((id) => {
    const name = item.names?.roles?.[id];
    return typeof name === 'string' && name ? { id, name } : { id };
  });
}

function normalizeMessage(item: DiscordMessageItem, ctx: NormalizeContext): RawMessage | Skip {
  const parsed = apiMessageSchema.safeParse(item.message);
  if (!parsed.success) {
    const m = item.message as { id?: unknown; author?: unknown } | null;
    if (item.via === 'gateway' && m && typeof m === 'object' && typeof m.id === 'string' && !m.author) return { skip: true, reason: 'discord: partial message update (no author)' };
    throw new Error(`discord message ${typeof m?.id === 'string' ? m.id : '?'} in ${item.channel.id} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const m = parsed.data;
  if (!KEPT_TYPES.has(m.type)) return { skip: true, reason: systemMessageReason(m.type) };

  const users: Record<string, string> = {};
  for (const u of m.mentions) users[u.id] = displayName(u);
  const names: TextNames = { users, roles: item.names?.roles, channels: item.names?.channels };
  let text = discordMarkdownToText(m.content, names);
  const forward = m.message_reference?.type === 1;
  if (!text && m.message_snapshots?.length)
    text = m.message_snapshots
      .map((s) => discordMarkdownToText(s.message.content, names))
      .filter(Boolean)
      .join('\n');
  if (!text && m.embeds.length) {
    text = m.embeds
      .map((e) =>
        [e.title, e.description]
          .filter((x): x is string => !!x)
          .map((x) => discordMarkdownToText(x, names))
          .join('\n'),
      )
      .filter(Boolean)
      .join('\n\n');
  }
  if (!text && m.sticker_items?.length) text = m.sticker_items.map((s) => `[sticker: ${s.name}]`).join(' ');
  const attachments = m.attachments.map((a) => ({ name: a.filename, contentType: a.content_type ?? null, size: a.size ?? null, url: a.url ?? null }));
  if (!text && !attachments.length && !m.poll) return { skip: true, reason: 'discord: empty message (without the MESSAGE_CONTENT intent all content is empty)' };

  const place = placeOf(item);
  const sentAt = Date.parse(m.timestamp);
  const editedAt = m.edited_timestamp ? Date.parse(m.edited_timestamp) : null;
  // A message that started a thread is the thread's root (same id as the thread).
  const threadId = place.threadId ?? (m.thread ? m.id : null);
  const replyTo = !forward && m.message_reference?.message_id && (m.type === 19 || m.message_reference.type === 0) ? m.message_reference.message_id : null;
  return {
    externalId: m.id,
    channel: place.channel || ctx.channel || m.channel_id,
    channelName: place.channelName,
    author: { id: m.author.id, name: displayName(m.author), isBot: m.author.bot === true || m.author.system === true, roles: m.webhook_id ? undefined : authorRolesOf(m.member, item) },
    text,
    cleanText: text,
    sentAt: Number.isFinite(sentAt) ? sentAt : snowflakeToMs(m.id),
    editedAt: editedAt !== null && Number.isFinite(editedAt) ? editedAt : null,
    threadId,
    replyTo,
    permalink: permalinkOf(item.guildId, m.channel_id, m.id),
    reactions: reactionsOf(m),
    attachments: attachments.length ? attachments : undefined,
    labels: item.labels?.length ? [...item.labels] : undefined,
  };
}

function normalizeDelete(item: DiscordDeleteItem): RawMessage {
  const place = placeOf(item);
  return {
    externalId: item.id,
    channel: place.channel,
    channelName: place.channelName,
    author: item.author ? { id: item.author.id, name: item.author.name, isBot: item.author.isBot } : { id: 'discord:unknown', name: null },
    text: '',
    cleanText: '',
    sentAt: snowflakeToMs(item.id),
    editedAt: null,
    deleted: true,
    threadId: place.threadId,
    permalink: permalinkOf(item.guildId, item.channel.id, item.id),
  };
}

/** Pure: one item from the Discord connector -> RawMessage or a reason to skip it. Throws on malformed input. */
export function normalizeDiscordItem(raw: unknown, ctx: NormalizeContext): RawMessage | Skip {
  const item = raw as DiscordItem | null;
  if (!item || typeof item !== 'object') throw new Error('discord item is not an object');
  if (item.kind === 'discord.message') return normalizeMessage(item, ctx);
  if (item.kind === 'discord.delete') return normalizeDelete(item);
  throw new Error(`unknown discord item kind ${String((item as { kind?: unknown }).kind)}`);
}
