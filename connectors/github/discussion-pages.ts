// The rest of a discussion past the first page its listing carries: comments, each comment's replies and
// the 👍 reactors, paged by cursor (`after: endCursor`) through `node(id:)`, asked only while
// `pageInfo.hasNextPage`. A discussion is read up to `maxPosts` comments and replies together (and as
// many 👍 reactors); what lies past that bound is reported, not read.
import type { GithubClient } from './client.js';

export const POST_FIELDS = `id url body createdAt updatedAt lastEditedAt upvoteCount
  author { login __typename ... on User { email name } }
  reactionGroups { content reactors { totalCount } }`;

const PAGE_INFO = 'pageInfo { hasNextPage endCursor }';
export const THUMBS_FIELDS = `totalCount ${PAGE_INFO} nodes { createdAt user { login __typename } }`;
/** Replies asked in the listing: small, so a page of 100 discussions stays under GitHub's 500,000-node limit per query. */
export const FIRST_REPLIES = 30;
const commentFields = (replies: number) => `${POST_FIELDS}
  isAnswer
  replies(first: ${replies}) { totalCount ${PAGE_INFO} nodes { ${POST_FIELDS} } }`;
export const COMMENTS_FIELDS = `totalCount ${PAGE_INFO} nodes { ${commentFields(FIRST_REPLIES)} }`;

const MORE_COMMENTS = `query($id: ID!, $after: String) { node(id: $id) { ... on Discussion {
  comments(first: 100, after: $after) { totalCount ${PAGE_INFO} nodes { ${commentFields(100)} } } } } }`;
const MORE_REPLIES = `query($id: ID!, $after: String) { node(id: $id) { ... on DiscussionComment {
  replies(first: 100, after: $after) { totalCount ${PAGE_INFO} nodes { ${POST_FIELDS} } } } } }`;
const MORE_THUMBS = `query($id: ID!, $after: String) { node(id: $id) { ... on Discussion {
  reactions(content: THUMBS_UP, first: 100, after: $after) { ${THUMBS_FIELDS} } } } }`;

export interface Conn<T> {
  totalCount?: number;
  pageInfo?: { hasNextPage?: boolean; endCursor?: string | null };
  nodes?: Array<T | null>;
}
export type Thumb = { createdAt?: string; user?: { login?: string; __typename?: string } | null };
export type Post = { id: string } & Record<string, unknown>;
export type Comment = Post & { replies?: Conn<Post> };

type NodeAnswer<K extends string, T> = { node: ({ [k in K]?: Conn<T> } & Record<string, unknown>) | null };

/**
 * All nodes of a connection from its first page on, up to `limit`: `complete` is false when the bound
 * stopped it (or a further page came back empty).
 */
async function rest<K extends string, T>(client: GithubClient, what: string, query: string, id: string, key: K, first: Conn<T> | undefined, limit: number): Promise<{ nodes: T[]; complete: boolean }> {
  const nodes: T[] = [];
  let page = first;
  let truncated = false;
  for (;;) {
    for (const n of page?.nodes ?? []) {
      if (!n) continue;
      if (nodes.length < limit) nodes.push(n);
      else truncated = true;
    }
    const info = page?.pageInfo;
    if (!info?.hasNextPage) return { nodes, complete: !truncated };
    if (truncated || nodes.length >= limit || !info.endCursor) return { nodes, complete: false };
    const after = info.endCursor;
    const res = await client.call(what, () => client.octokit.graphql<NodeAnswer<K, T>>(query, { id, after }));
    page = res.node?.[key];
    if (!page) return { nodes, complete: false };
  }
}

export interface FullDiscussion {
  comments: Comment[];
  thumbs: Thumb[];
  /** Comments and replies read, and whether that is all of them; whether every 👍 reactor was read. */
  posts: number;
  postsComplete: boolean;
  thumbsComplete: boolean;
}

/** The discussion's comments (with all their replies) and 👍 reactors, past the listing's first pages. */
export async function readWholeDiscussion(client: GithubClient, repo: string, node: { id: string; comments?: Conn<Comment>; reactions?: Conn<Thumb> }, maxPosts: number): Promise<FullDiscussion> {
  const what = `${repo} discussion ${node.id}`;
  const comments = await rest(client, `${what} comments`, MORE_COMMENTS, node.id, 'comments', node.comments, maxPosts);
  let posts = comments.nodes.length;
  let postsComplete = comments.complete;
  const out: Comment[] = [];
  for (const c of comments.nodes) {
    const replies = await rest(client, `${what} replies to ${c.id}`, MORE_REPLIES, c.id, 'replies', c.replies, Math.max(0, maxPosts - posts));
    posts += replies.nodes.length;
    postsComplete &&= replies.complete;
    out.push({ ...c, replies: { totalCount: c.replies?.totalCount, nodes: replies.nodes } });
  }
  const thumbs = await rest(client, `${what} 👍`, MORE_THUMBS, node.id, 'reactions', node.reactions, maxPosts);
  return { comments: out, thumbs: thumbs.nodes, posts, postsComplete, thumbsComplete: thumbs.complete };
}
