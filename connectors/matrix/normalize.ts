// Matrix event -> RawMessage. Pure: everything it needs travels in the item (PLATFORMS.md 3.5).
//
// The connector and the Element importer fold relation events before normalizing: an edit, a
// reaction or a redaction is carried by its target's item (`replacement`, `reactions`, the server's
// redacted form), so every message that comes out of here is complete and an update can overwrite
// the stored row whole. The relation events themselves carry `foldedInto` and are skipped with a
// reason. An edit that could not be folded (its original was not readable) still normalizes to an
// update of the original: same externalId, text from `m.new_content`, `editedAt`.
import { convert as htmlToText } from 'html-to-text';
import { z } from 'zod';
import { MATRIX_PUPPET, type Attachment, type NormalizeContext, type RawMessage, type Skip } from '../../src/model/index.js';

/** Bump when the output of `normalizeMatrix` changes, so stored raw items are re-normalized. */
export const MATRIX_NORMALIZER_VERSION = 1;

/** A client event as served by /messages, /sync (plus room_id), /event and Element's export. */
export const matrixEventSchema = z.object({
  type: z.string().min(1),
  event_id: z.string().min(1),
  sender: z.string().min(1),
  origin_server_ts: z.number().int(),
  content: z.record(z.string(), z.unknown()),
  room_id: z.string().optional(),
  state_key: z.string().optional(),
  unsigned: z.record(z.string(), z.unknown()).optional(),
  /** Room versions up to 10 put a redaction's target here. */
  redacts: z.string().optional(),
});
export type MatrixEvent = z.infer<typeof matrixEventSchema>;

/** What the connector puts in `Page.items` and the Element importer in `ImportItem.raw`. */
export interface MatrixItem {
  kind: 'matrix';
  roomId: string;
  roomName?: string | null;
  event: MatrixEvent;
  /** The sender's display name from room state. */
  senderName?: string | null;
  /** The latest edit of this event by its sender, when known (server bundle or folded while reading). */
  replacement?: MatrixEvent | null;
  /** Reaction counts on this event: key -> distinct senders. */
  reactions?: Record<string, number>;
  /** Set on a relation event that was folded into its target (the target's id). */
  foldedInto?: string;
  /** Known to be a thread root (replies point at it) even without the server's `m.thread` bundle. */
  threadRoot?: boolean;
}

export const SKIP = {
  editFolded: 'matrix: edit (folded into the original)',
  reactionFolded: 'matrix: reaction (counted on its target)',
  redactionFolded: 'matrix: redaction (applied to its target)',
  reaction: 'matrix: reaction without a readable target',
  encrypted: 'matrix: encrypted message (not readable without keys)',
  membership: 'matrix: membership change',
  state: 'matrix: room state change',
  other: 'matrix: event type that carries no message',
  emptyEdit: 'matrix: edit without new content',
} as const;

interface Relation {
  relType: string | null;
  eventId: string | null;
  key: string | null;
  inReplyTo: string | null;
  isFallingBack: boolean;
}

const obj = (x: unknown): Record<string, unknown> | null => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null);
const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export function relationOf(content: Record<string, unknown>): Relation {
  const rel = obj(content['m.relates_to']);
  const reply = obj(rel?.['m.in_reply_to']);
  return {
    relType: str(rel?.rel_type),
    eventId: str(rel?.event_id),
    key: str(rel?.key),
    inReplyTo: str(reply?.event_id),
    isFallingBack: rel?.is_falling_back === true,
  };
}

/** The event a redaction removes (content in room v11+, top level before). */
export function redactsOf(ev: MatrixEvent): string | null {
  return str(ev.content.redacts) ?? ev.redacts ?? null;
}

export function isRedacted(ev: MatrixEvent): boolean {
  return obj(ev.unsigned?.redacted_because) !== null;
}

/** The server's bundled latest edit (`unsigned["m.relations"]["m.replace"]`, spec v1.7+), when valid. */
export function bundledEdit(ev: MatrixEvent): MatrixEvent | null {
  const rel = obj(obj(ev.unsigned?.['m.relations'])?.['m.replace']);
  if (!rel) return null;
  const parsed = matrixEventSchema.safeParse(rel);
  return parsed.success ? parsed.data : null;
}

/** Whether the event is the root of a native thread (the server bundles an `m.thread` summary on it). */
function isThreadRoot(ev: MatrixEvent): boolean {
  return obj(obj(ev.unsigned?.['m.relations'])?.['m.thread']) !== null;
}

/** The later of two edits: by origin_server_ts, then the lexicographically largest event_id (spec). */
export function laterEdit<T extends { origin_server_ts: number; event_id: string }>(a: T | null | undefined, b: T | null | undefined): T | null {
  if (!a) return b ?? null;
  if (!b) return a;
  if (a.origin_server_ts !== b.origin_server_ts) return a.origin_server_ts > b.origin_server_ts ? a : b;
  return a.event_id >= b.event_id ? a : b;
}

export function permalink(roomId: string, eventId: string): string {
  return `https://matrix.to/#/${roomId}/${eventId}`;
}

/** Strips a pre-v1.13 reply fallback from a plain body: the leading `> ` lines and the blank line after. */
export function stripReplyFallback(body: string): string {
  const lines = body.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('>')) i++;
  if (i === 0) return body;
  if (i < lines.length && lines[i]!.trim() === '') i++;
  return lines.slice(i).join('\n');
}

const MX_REPLY = /^\s*<mx-reply>[\s\S]*?<\/mx-reply>/i;

export function htmlToPlain(html: string): string {
  return htmlToText(html.replace(MX_REPLY, ''), {
    wordwrap: false,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'mx-reply', format: 'skip' },
    ],
  }).trim();
}

/** Plain text of a message content: the HTML body converted when there is one, else `body`; reply fallbacks removed. */
function textOf(content: Record<string, unknown>, isReply: boolean): string {
  const formatted = str(content.formatted_body);
  if (str(content.format) === 'org.matrix.custom.html' && formatted !== null) {
    const text = htmlToPlain(formatted);
    if (text !== '') return text;
  }
  const body = str(content.body) ?? '';
  return (isReply ? stripReplyFallback(body) : body).trim();
}

const MEDIA = new Set(['m.image', 'm.file', 'm.video', 'm.audio']);

function attachmentOf(content: Record<string, unknown>): Attachment | null {
  const info = obj(content.info);
  const file = obj(content.file); // encrypted media
  const name = str(content.filename) ?? str(content.body) ?? 'attachment';
  return { name, contentType: str(info?.mimetype), size: num(info?.size), url: str(content.url) ?? str(file?.url) };
}

function mediaCaption(content: Record<string, unknown>): string {
  // Spec v1.10: with `filename` present and different, `body` is a caption; otherwise it is the file name.
  const filename = str(content.filename);
  const body = str(content.body) ?? '';
  if (filename !== null && filename !== body) return textOf(content, false);
  return '';
}

function skip(reason: string): Skip {
  return { skip: true, reason };
}

export function normalizeMatrix(raw: unknown, _ctx: NormalizeContext): RawMessage | Skip {
  const item = raw as MatrixItem;
  if (!item || item.kind !== 'matrix') throw new Error('not a Matrix item');
  const parsed = matrixEventSchema.safeParse(item.event);
  if (!parsed.success) throw new Error(`malformed Matrix event: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const ev = parsed.data;
  const rel = relationOf(ev.content);

  if (item.foldedInto !== undefined) {
    if (ev.type === 'm.reaction') return skip(SKIP.reactionFolded);
    if (ev.type === 'm.room.redaction') return skip(SKIP.redactionFolded);
    return skip(SKIP.editFolded);
  }
  if (ev.type === 'm.room.encrypted') return skip(SKIP.encrypted);
  if (ev.type === 'm.reaction') return skip(SKIP.reaction);
  if (ev.state_key !== undefined) return skip(ev.type === 'm.room.member' ? SKIP.membership : SKIP.state);

  const base = {
    channel: item.roomId,
    channelName: item.roomName ?? null,
    author: { id: ev.sender, name: item.senderName ?? null },
  };

  if (ev.type === 'm.room.redaction') {
    // Not folded: the target could not be read; mark it deleted by id (an update leaves its other fields).
    const target = redactsOf(ev);
    if (!target) return skip(SKIP.other);
    return { ...base, externalId: target, text: '', cleanText: '', sentAt: ev.origin_server_ts, deleted: true, permalink: permalink(item.roomId, target) };
  }
  if (ev.type !== 'm.room.message' && ev.type !== 'm.sticker') return skip(SKIP.other);

  if (rel.relType === 'm.replace' && rel.eventId) {
    // An edit whose original was not available to fold into: an update of the original.
    const next = obj(ev.content['m.new_content']);
    if (!next) return skip(SKIP.emptyEdit);
    const text = textOf(next, false);
    const msgtype = str(next.msgtype) ?? str(ev.content.msgtype);
    return {
      ...base,
      author: { ...base.author, isBot: msgtype === 'm.notice' || msgtype === 'm.server_notice' },
      externalId: rel.eventId,
      text,
      cleanText: text,
      sentAt: ev.origin_server_ts,
      editedAt: ev.origin_server_ts,
      permalink: permalink(item.roomId, rel.eventId),
    };
  }

  const edit = item.replacement && item.replacement.sender === ev.sender ? item.replacement : null;
  const newContent = edit ? obj(edit.content['m.new_content']) : null;
  // Apply m.new_content over the original, keeping the original's relations (spec: event replacements).
  const content = newContent ? { ...newContent, 'm.relates_to': ev.content['m.relates_to'] } : ev.content;
  const msgtype = str(content.msgtype);
  const isReply = rel.inReplyTo !== null && !rel.isFallingBack;
  const deleted = isRedacted(ev) || (Object.keys(ev.content).length === 0 && ev.type === 'm.room.message');

  let text: string;
  const attachments: Attachment[] = [];
  if (deleted) text = '';
  else if (msgtype && MEDIA.has(msgtype)) {
    const a = attachmentOf(content);
    if (a) attachments.push(a);
    text = mediaCaption(content);
  } else if (ev.type === 'm.sticker') {
    text = str(content.body) ?? '';
  } else if (msgtype === 'm.emote') {
    text = `* ${item.senderName ?? ev.sender} ${textOf(content, isReply)}`;
  } else {
    text = textOf(content, isReply);
  }

  const threadId = rel.relType === 'm.thread' && rel.eventId ? rel.eventId : isThreadRoot(ev) || item.threadRoot ? ev.event_id : null;
  const reactions = item.reactions && Object.keys(item.reactions).length > 0 ? item.reactions : undefined;
  const out: RawMessage = {
    ...base,
    author: { ...base.author, isBot: msgtype === 'm.notice' || msgtype === 'm.server_notice' },
    externalId: ev.event_id,
    text,
    cleanText: text,
    sentAt: ev.origin_server_ts,
    editedAt: edit && newContent ? edit.origin_server_ts : null,
    deleted: deleted || undefined,
    threadId,
    replyTo: isReply ? rel.inReplyTo : null,
    permalink: permalink(item.roomId, ev.event_id),
  };
  if (reactions) out.reactions = reactions;
  if (attachments.length) out.attachments = attachments;
  // A bridge's puppet (`@libera_<nick>:server`): the line was written on the other side and relayed here.
  const puppet = MATRIX_PUPPET.exec(ev.sender);
  if (puppet) out.relay = { bot: ev.sender, network: bridgeNetworkOf(ev.sender) };
  return out;
}

/** The platform a puppet user speaks for: `@_discord_1:x` discord, `@libera_ana:x` irc. */
function bridgeNetworkOf(mxid: string): string {
  const m = /^@_?(discord|slack|telegram|whatsapp|signal|gitter|xmpp)_/i.exec(mxid);
  return m ? m[1]!.toLowerCase() : 'irc';
}
