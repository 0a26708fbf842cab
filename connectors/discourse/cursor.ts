// Discourse cursor: the newest post id read completely, a window of the post feed in progress, and the
// recently active topics with fingerprints of their posts (edits, likes, deletions). Versioned JSON.
import { z } from 'zod';

const PostId = z.number().int().nonnegative();

export const watchedTopicSchema = z.object({
  /** ms of the newest post seen in the topic: the topic is re-read until it is older than the recheck window. */
  at: z.number().int(),
  /** post_number -> fingerprint of the post as last handed out. */
  posts: z.record(z.string().regex(/^\d+$/), z.string()),
  /** The topic's category id, for the channel of a deletion. */
  category: z.number().int().nullable().optional(),
});
export type WatchedTopic = z.infer<typeof watchedTopicSchema>;

export const discourseCursorSchema = z.object({
  v: z.literal(1),
  /** Newest post id read completely; the next window reads the feed down to it. */
  high: PostId.nullable(),
  /**
   * A window of /posts.json being read newest-first: `top` the newest id met, `before` the oldest id
   * already handed out (the next page asks for posts below it). Resuming continues below `before`.
   */
  pending: z.object({ top: PostId.nullable(), before: PostId.nullable() }).optional(),
  topics: z.record(z.string().regex(/^\d+$/), watchedTopicSchema).default({}),
});
export type DiscourseCursor = z.infer<typeof discourseCursorSchema>;

export const emptyDiscourseCursor = (): DiscourseCursor => ({ v: 1, high: null, topics: {} });

export function parseDiscourseCursor(value: unknown): DiscourseCursor {
  return discourseCursorSchema.parse(value);
}
