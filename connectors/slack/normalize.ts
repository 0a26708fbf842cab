// One Slack message (from the Web API, an event, or a workspace export) -> RawMessage or Skip.
// Pure: everything it needs (users, channel name, workspace URL) travels in the item, so stored raw
// items can be normalized again later without asking Slack.
import type { Attachment, NormalizeContext, RawMessage, Skip } from '../../src/model/index.js';
import { isTs, tsToMs } from './cursor.js';

/** Bump when the output of `normalizeSlack` changes, so stored raw items are re-normalized. */
export const SLACK_NORMALIZER_VERSION = 3;

/** A user as the item carries it: the fields normalize needs, resolved when the item was read. */
export interface SlackUserRef {
  name: string;
  email?: string | null;
  isBot?: boolean;
  /** The user's workspace (`team_id` of users.info / users.json): another company's for a Slack Connect guest. */
  team?: string | null;
  /** `is_admin`, `is_owner` or `is_primary_owner` on the user: the workspace's own team. */
  admin?: boolean;
}

/** What the connector and the export importer put in `Page.items` / `ImportItem.raw`. */
export interface SlackItem {
  kind: 'slack';
  /** Channel id (C…, G…, D…). */
  channel: string;
  channelName: string | null;
  /** The message object as Slack gave it (or a synthetic `message_deleted` event for a vanished one). */
  message: SlackMessage;
  /** Users this message names (author, mentions), by id. */
  users: Record<string, SlackUserRef>;
  /** `https://<workspace>.slack.com/` (auth.test `url`), or null when unknown (permalinks are then left out). */
  workspaceUrl: string | null;
}

/** The message keys normalize reads (PLATFORMS.md 1.9); everything else is kept in the raw payload. */
export interface SlackMessage {
  type?: string;
  subtype?: string;
  hidden?: boolean;
  user?: string;
  bot_id?: string;
  username?: string;
  bot_profile?: { name?: string };
  user_profile?: { real_name?: string; display_name?: string; name?: string; team?: string };
  /** The author's workspace (shared channels) and the workspace the message was posted in. */
  user_team?: string;
  source_team?: string;
  team?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  edited?: { user?: string; ts?: string };
  reactions?: Array<{ name?: string; count?: number; users?: string[] }>;
  attachments?: Array<{ fallback?: string; pretext?: string; title?: string; text?: string; title_link?: string }>;
  files?: SlackFile[];
  file?: SlackFile;
  comment?: { user?: string; comment?: string };
  reply_count?: number;
  latest_reply?: string;
  /** message_changed */
  message?: SlackMessage;
  previous_message?: SlackMessage;
  /** message_deleted */
  deleted_ts?: string;
  event_ts?: string;
  channel?: string;
}

interface SlackFile {
  name?: string;
  title?: string;
  mimetype?: string;
  size?: number;
  permalink?: string;
  url_private?: string;
}

const skip = (reason: string): Skip => ({ skip: true, reason });

/** System lines: kept out of feedback, counted by reason. */
const SYSTEM_SUBTYPES = new Set([
  'channel_join',
  'channel_leave',
  'group_join',
  'group_leave',
  'channel_topic',
  'channel_purpose',
  'channel_name',
  'group_topic',
  'group_purpose',
  'group_name',
  'channel_archive',
  'channel_unarchive',
  'group_archive',
  'group_unarchive',
  'channel_convert_to_private',
  'channel_convert_to_public',
  'channel_posting_permissions',
  'bot_add',
  'bot_remove',
  'bot_enable',
  'bot_disable',
  'pinned_item',
  'unpinned_item',
  'reminder_add',
  'reminder_delete',
  'sh_room_created',
  'sh_room_shared',
  'huddle_thread',
  'message_replied',
  'ekm_access_denied',
  'joiner_notification',
  'joiner_notification_for_inviter',
  'slackbot_response',
  'app_conversation_join',
]);

function asItem(raw: unknown): SlackItem {
  const r = raw as Partial<SlackItem> | null;
  if (!r || typeof r !== 'object' || r.kind !== 'slack' || typeof r.channel !== 'string' || !r.message || typeof r.message !== 'object') {
    throw new Error('not a Slack item (expected {kind:"slack", channel, message})');
  }
  return { kind: 'slack', channel: r.channel, channelName: r.channelName ?? null, message: r.message, users: r.users ?? {}, workspaceUrl: r.workspaceUrl ?? null };
}

/** `slackExternalId('C1', '1512085950.000216')` -> `C1/1512085950.000216` (ts is unique per channel only). */
export const slackExternalId = (channel: string, ts: string): string => `${channel}/${ts}`;

export function normalizeSlack(raw: unknown, _ctx: NormalizeContext): RawMessage | Skip {
  const item = asItem(raw);
  const m = item.message;
  const subtype = m.subtype;

  if (subtype === 'message_changed') {
    if (!m.message || !isTs(m.message.ts)) throw new Error('message_changed without message.ts');
    const inner: SlackMessage = { ...m.message, edited: m.message.edited ?? { ts: m.event_ts ?? m.ts } };
    return normalizeSlack({ ...item, message: inner }, _ctx);
  }
  if (subtype === 'message_deleted') {
    const ts = m.deleted_ts ?? m.previous_message?.ts;
    if (!isTs(ts)) throw new Error('message_deleted without deleted_ts');
    // The text goes with the message: a deletion leaves no content behind.
    return buildMessage(item, { ...(m.previous_message ?? {}), ts, thread_ts: m.previous_message?.thread_ts ?? m.thread_ts }, true);
  }
  if (subtype === 'tombstone') {
    if (!isTs(m.ts)) throw new Error('tombstone without ts');
    return buildMessage(item, m, true);
  }
  if (subtype && SYSTEM_SUBTYPES.has(subtype)) return skip(`slack system line: ${subtype}`);
  if (m.hidden && subtype) return skip(`slack hidden event: ${subtype}`);
  if (m.type !== undefined && m.type !== 'message') return skip(`slack non-message event: ${String(m.type)}`);
  if (!isTs(m.ts)) throw new Error('message without a valid ts');
  return buildMessage(item, m, false);
}

function buildMessage(item: SlackItem, m: SlackMessage, deleted: boolean): RawMessage {
  const ts = m.ts as string;
  const channel = item.channel;
  // An app posting with a bot token names its bot user in `user` and carries `bot_id`: a bot either way,
  // also when users.info could not be read to say so.
  const isBot = m.subtype === 'bot_message' || !!m.bot_id;
  const authorId = (m.subtype === 'file_comment' ? m.comment?.user : undefined) ?? m.user ?? m.bot_id ?? 'USLACKBOT';
  const ref = item.users[authorId];
  const name = isBot ? (m.username ?? m.bot_profile?.name ?? ref?.name ?? authorId) : (ref?.name ?? profileName(m) ?? authorId);
  const threadTs = isTs(m.thread_ts) ? m.thread_ts : null;
  const isReply = threadTs !== null && threadTs !== ts;
  const text = deleted ? '' : messageText(m, item);
  const attachments = deleted ? [] : fileAttachments(m);
  const reactions = deleted ? null : reactionCounts(m);
  const out: RawMessage = {
    externalId: slackExternalId(channel, ts),
    channel,
    channelName: item.channelName,
    author: { id: authorId, name, email: isBot ? null : (ref?.email ?? null), isBot: isBot || ref?.isBot === true },
    text,
    cleanText: text,
    sentAt: tsToMs(ts),
    editedAt: m.edited?.ts && isTs(m.edited.ts) ? tsToMs(m.edited.ts) : null,
    threadId: threadTs ? slackExternalId(channel, threadTs) : null,
    replyTo: isReply ? slackExternalId(channel, threadTs) : null,
    permalink: permalink(item.workspaceUrl, channel, ts, isReply ? threadTs : null),
  };
  const team = isBot ? null : authorTeam(m, ref);
  if (team) out.author.team = team;
  if (!isBot && ref?.admin === true) out.author.admin = true;
  if (deleted) out.deleted = true;
  if (reactions) out.reactions = reactions;
  if (attachments.length) out.attachments = attachments;
  return out;
}

const TEAM_ID = /^[TE][A-Z0-9]{2,}$/;

/**
 * The author's workspace: `user_team` on messages in shared (Slack Connect) channels, else the user's
 * profile (`team_id`), the export's `user_profile.team`, or the message's `team`. Anything that is not a
 * team id is left out.
 */
function authorTeam(m: SlackMessage, ref: SlackUserRef | undefined): string | null {
  for (const t of [m.user_team, ref?.team, m.user_profile?.team, m.team]) if (typeof t === 'string' && TEAM_ID.test(t)) return t;
  return null;
}

function profileName(m: SlackMessage): string | null {
  const p = m.user_profile;
  return p?.display_name || p?.real_name || p?.name || null;
}

/** `https://acme.slack.com/archives/C1/p1512085950000216` (+ `?thread_ts=…&cid=…` for a reply), as chat.getPermalink gives. */
export function permalink(workspaceUrl: string | null, channel: string, ts: string, threadTs: string | null): string | null {
  if (!workspaceUrl) return null;
  const base = workspaceUrl.endsWith('/') ? workspaceUrl : `${workspaceUrl}/`;
  const url = `${base}archives/${channel}/p${ts.replace('.', '')}`;
  return threadTs ? `${url}?thread_ts=${threadTs}&cid=${channel}` : url;
}

function messageText(m: SlackMessage, item: SlackItem): string {
  const parts: string[] = [];
  if (m.subtype === 'file_comment' && m.comment?.comment) parts.push(m.comment.comment);
  else if (m.text) parts.push(m.text);
  // Bot messages often carry everything in legacy attachments (text empty); user messages' unfurls are not the message.
  if (!m.text || m.subtype === 'bot_message') {
    for (const a of m.attachments ?? []) {
      const lines = [a.pretext, a.title, a.text ?? a.fallback].filter((x): x is string => typeof x === 'string' && x.trim() !== '');
      if (lines.length) parts.push(lines.join('\n'));
    }
  }
  return mrkdwnToText(parts.join('\n'), item);
}

function reactionCounts(m: SlackMessage): Record<string, number> | null {
  if (!Array.isArray(m.reactions) || m.reactions.length === 0) return null;
  const out: Record<string, number> = {};
  for (const r of m.reactions) {
    if (typeof r?.name !== 'string') continue;
    const n = typeof r.count === 'number' ? r.count : Array.isArray(r.users) ? r.users.length : 1;
    out[r.name] = (out[r.name] ?? 0) + n;
  }
  return Object.keys(out).length ? out : null;
}

/** File objects -> attachments; `url_private` loses its query (exports put a `t=xoxe-…` token there). */
function fileAttachments(m: SlackMessage): Attachment[] {
  const files = [...(Array.isArray(m.files) ? m.files : []), ...(m.file && m.subtype !== 'file_comment' ? [m.file] : [])];
  return files.map((f) => ({
    name: f.name ?? f.title ?? 'file',
    contentType: f.mimetype ?? null,
    size: typeof f.size === 'number' ? f.size : null,
    url: f.permalink ?? (f.url_private ? f.url_private.split('?')[0] : null) ?? null,
  }));
}

// ---- mrkdwn -> plain text ----

function decodeEntities(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * Slack mrkdwn to plain text: `<@U1>` -> `@Name`, `<#C1|general>` -> `#general`, `<url|label>` ->
 * `label (url)`, `<!here>` -> `@here`, entities decoded, `*bold*` `_italic_` `~strike~` and code
 * fences unwrapped. Emoji stay as `:name:`.
 */
export function mrkdwnToText(src: string, ctx: Pick<SlackItem, 'users'> = { users: {} }): string {
  let s = src.replace(/\r\n/g, '\n');
  s = s.replace(/<([^<>\n]*)>/g, (_all, inner: string) => {
    const bar = inner.indexOf('|');
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : null;
    if (target.startsWith('@')) {
      const id = target.slice(1);
      return `@${ctx.users[id]?.name ?? label ?? id}`;
    }
    if (target.startsWith('#')) return `#${label ?? target.slice(1)}`;
    if (target.startsWith('!')) {
      const cmd = target.slice(1);
      if (cmd.startsWith('subteam^')) return label ?? `@${cmd.slice(8)}`;
      if (cmd.startsWith('date^')) return label ?? '';
      return label ?? `@${cmd}`;
    }
    const url = decodeEntities(target);
    if (url.startsWith('mailto:')) return label ? decodeEntities(label) : url.slice(7);
    if (!label) return url;
    const l = decodeEntities(label);
    return l === url || `http://${l}` === url || `https://${l}` === url ? url : `${l} (${url})`;
  });
  s = decodeEntities(s);
  // Code fences and inline code: keep the content.
  s = s.replace(/```\n?([\s\S]*?)\n?```/g, '$1');
  s = s.replace(/`([^`\n]+)`/g, '$1');
  // Emphasis only around words, so snake_case, 2*3*4 and paths stay as they are.
  s = s.replace(/(^|[\s(["'])\*([^*\n]*[^*\s])\*(?=$|[\s)\]"'.,!?:;])/gm, '$1$2');
  s = s.replace(/(^|[\s(["'])_([^_\n]*[^_\s])_(?=$|[\s)\]"'.,!?:;])/gm, '$1$2');
  s = s.replace(/(^|[\s(["'])~([^~\n]*[^~\s])~(?=$|[\s)\]"'.,!?:;])/gm, '$1$2');
  return s.trim();
}
