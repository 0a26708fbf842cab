// Discourse post -> RawMessage. Pure. A topic is a conversation: every post's threadId is the topic's
// first post, `reply_to_post_number` gives the reply edge, the category and tags become labels, likes
// become the `like` reaction, and the accepted answer (discourse-solved) carries the `accepted-answer` label.
import { convert as htmlToText } from 'html-to-text';
import { z } from 'zod';
import type { NormalizeContext, RawMessage, Skip } from '../../src/model/index.js';

export const DISCOURSE_NORMALIZER_VERSION = 1;

/** The post fields read here, as /posts.json and /t/{id}.json serve them. */
export const discoursePostSchema = z
  .object({
    id: z.number().int(),
    topic_id: z.number().int(),
    post_number: z.number().int().positive(),
    username: z.string().min(1),
    name: z.string().nullish(),
    created_at: z.string(),
    updated_at: z.string().nullish(),
    cooked: z.string().nullish(),
    raw: z.string().nullish(),
    post_type: z.number().int().nullish(),
    reply_to_post_number: z.number().int().nullish(),
    version: z.number().int().nullish(),
    deleted_at: z.string().nullish(),
    user_deleted: z.boolean().nullish(),
    hidden: z.boolean().nullish(),
    staff: z.boolean().nullish(),
    like_count: z.number().int().nullish(),
    actions_summary: z.array(z.object({ id: z.number().int(), count: z.number().int().nullish() }).passthrough()).nullish(),
    accepted_answer: z.boolean().nullish(),
    topic_slug: z.string().nullish(),
    topic_title: z.string().nullish(),
    category_id: z.number().int().nullish(),
  })
  .passthrough();
export type DiscoursePost = z.infer<typeof discoursePostSchema>;

/** What the connector and the importer hand out: a post with its topic and category, or a deletion. */
export type DiscourseItem =
  | {
      kind: 'post';
      forum: string;
      post: unknown;
      topic: { id: number; title: string; slug: string; tags: string[]; acceptedPostNumber: number | null };
      category: { id: number; name: string; slug: string } | null;
    }
  | { kind: 'deleted'; forum: string; topicId: number; postNumber: number; at: number; category: { id: number; name: string; slug: string } | null };

/** Post action type 2 is a like (PostActionType.types[:like]). */
const LIKE = 2;
/** post_type 3 is a small action ("closed this topic"), 2 a moderator action notice. */
const SMALL_ACTION = 3;

export const discourseExternalId = (topicId: number, postNumber: number): string => `${topicId}/${postNumber}`;

export function cookedToText(html: string): string {
  return htmlToText(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'aside.quote', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ],
  }).trim();
}

export function likeCount(p: Pick<DiscoursePost, 'like_count' | 'actions_summary'>): number {
  return p.actions_summary?.find((a) => a.id === LIKE)?.count ?? p.like_count ?? 0;
}

const ms = (iso: string, what: string): number => {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new Error(`${what} is not a date: ${JSON.stringify(iso).slice(0, 40)}`);
  return t;
};

/** The forum's own name for authors' identity ids (`discourse:<forum>/<username>`): its host name (forum.example.org). */
export const forumKey = (url: string): string => {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return url.toLowerCase();
  }
};

export function normalizeDiscourse(raw: unknown, _ctx: NormalizeContext): RawMessage | Skip {
  const item = raw as DiscourseItem;
  if (!item || typeof item !== 'object' || (item.kind !== 'post' && item.kind !== 'deleted')) throw new Error('not a Discourse item (kind post or deleted)');
  const channelOf = (c: DiscourseItem['category']) => (c ? { channel: c.slug, channelName: c.name } : { channel: 'uncategorized', channelName: 'Uncategorized' });
  if (item.kind === 'deleted') {
    return { externalId: discourseExternalId(item.topicId, item.postNumber), ...channelOf(item.category), author: { id: 'unknown' }, text: '', sentAt: item.at, deleted: true };
  }
  const parsed = discoursePostSchema.safeParse(item.post);
  if (!parsed.success) throw new Error(`malformed Discourse post: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const p = parsed.data;
  if (p.post_type === SMALL_ACTION) return { skip: true, reason: 'discourse small action (topic closed, pinned, moved)' };
  const deleted = Boolean(p.deleted_at) || p.user_deleted === true;
  const text = p.cooked != null ? cookedToText(p.cooked) : (p.raw ?? '');
  if (!deleted && !text.trim()) return { skip: true, reason: 'discourse post without text' };
  const base = item.forum.replace(/\/+$/, '');
  const likes = likeCount(p);
  const labels = [...(item.category ? [item.category.name] : []), ...item.topic.tags];
  if (item.topic.acceptedPostNumber === p.post_number || p.accepted_answer === true) labels.push('accepted-answer');
  const sentAt = ms(p.created_at, `post ${p.id} created_at`);
  const updated = p.updated_at ? ms(p.updated_at, `post ${p.id} updated_at`) : null;
  return {
    externalId: discourseExternalId(p.topic_id, p.post_number),
    ...channelOf(item.category),
    author: { id: `${forumKey(base)}/${p.username.toLowerCase()}`, name: p.name || p.username, isBot: p.username === 'system' || p.username === 'discobot' ? true : undefined },
    text,
    cleanText: text,
    sentAt,
    // Discourse bumps updated_at for likes and bookmarks too; a revision (version > 1) is an edit.
    editedAt: (p.version ?? 1) > 1 && updated !== null ? updated : null,
    deleted: deleted || undefined,
    threadId: p.post_number === 1 ? null : discourseExternalId(p.topic_id, 1),
    replyTo: p.reply_to_post_number ? discourseExternalId(p.topic_id, p.reply_to_post_number) : null,
    subject: item.topic.title || null,
    permalink: `${base}/t/${encodeURIComponent(item.topic.slug || 'topic')}/${p.topic_id}/${p.post_number}`,
    reactions: likes > 0 ? { like: likes } : undefined,
    labels: labels.length ? [...new Set(labels)] : undefined,
  };
}
