// Discussions of one repository over GraphQL, newest change first (orderBy UPDATED_AT DESC, paged by
// cursor), down to the newest `updatedAt` read completely before. A discussion that changed (a new
// comment, an edit, an answer) is handed out again whole, with its comments and their replies; ingest is
// idempotent on the ids, so only what changed changes. Ones met at exactly the high-water instant are
// remembered, so a resume repeats nothing. 👍 reactors (named by the API) become me-too items; upvotes
// are a count only (GraphQL names no upvoters).
import type { GithubClient } from './client.js';
import type { RepoState } from './cursor.js';
import { meTooChanges, type StreamPage } from './issues.js';
import { discussionDeletions, rememberComment } from './recheck.js';
import { gqlPostSchema, type GithubItem } from './normalize.js';

const POST_FIELDS = `id url body createdAt updatedAt lastEditedAt upvoteCount
  author { login __typename ... on User { email name } }
  reactionGroups { content reactors { totalCount } }`;

export const DISCUSSIONS_QUERY = `query($owner: String!, $name: String!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    hasDiscussionsEnabled
    discussions(first: $first, after: $after, orderBy: { field: UPDATED_AT, direction: DESC }) {
      pageInfo { hasNextPage endCursor }
      nodes {
        ${POST_FIELDS}
        number title
        category { name }
        labels(first: 20) { nodes { name } }
        answer { id }
        reactions(content: THUMBS_UP, first: 100) { totalCount nodes { createdAt user { login __typename } } }
        comments(first: 100) {
          totalCount
          nodes {
            ${POST_FIELDS}
            isAnswer
            replies(first: 100) { totalCount nodes { ${POST_FIELDS} } }
          }
        }
      }
    }
  }
}`;

interface Conn<T> {
  totalCount?: number;
  nodes?: Array<T | null>;
}
interface DiscussionNode {
  id: string;
  updatedAt: string;
  title?: string;
  reactions?: Conn<{ createdAt?: string; user?: { login?: string; __typename?: string } | null }>;
  comments?: Conn<{ id: string; replies?: Conn<{ id: string }> } & Record<string, unknown>>;
  [k: string]: unknown;
}
interface DiscussionsAnswer {
  repository: { hasDiscussionsEnabled?: boolean; discussions: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Array<DiscussionNode | null> } } | null;
}

export async function* pullDiscussions(client: GithubClient, repo: string, st: RepoState, pageSize: number, nowMs: number, warn: (msg: string) => void): AsyncGenerator<StreamPage> {
  const [owner, name] = repo.split('/') as [string, string];
  const d = st.discussions;
  const p = (d.pending ??= { top: null, topIds: [], after: null });
  for (;;) {
    const res = await client.call(`${repo} discussions`, () => client.octokit.graphql<DiscussionsAnswer>(DISCUSSIONS_QUERY, { owner, name, first: pageSize, after: p.after }));
    if (!res.repository) throw Object.assign(new Error(`${repo}: no such repository, or the token cannot see it`), { status: 404 });
    const conn = res.repository.discussions;
    const items: GithubItem[] = [];
    let reachedOld = false;
    const atHigh = new Set(d.atHigh);
    for (const node of conn.nodes) {
      if (!node || typeof node.updatedAt !== 'string') continue;
      if (d.high !== null && (node.updatedAt < d.high || (node.updatedAt === d.high && atHigh.has(node.id)))) {
        if (node.updatedAt < d.high) reachedOld = true;
        continue;
      }
      if (p.top === null || node.updatedAt > p.top) {
        p.top = node.updatedAt;
        p.topIds = [node.id];
      } else if (node.updatedAt === p.top) p.topIds.push(node.id);
      const own = discussionItems(repo, node, warn);
      const commentIds = own.flatMap((x) => (x.kind === 'discussion-comment' ? [gqlPostSchema.safeParse(x.comment).data?.id ?? ''] : [])).filter(Boolean);
      // Comments remembered from an earlier read that are no longer there were deleted.
      items.push(...own, ...discussionDeletions(repo, st, node.id, new Set(commentIds), nowMs));
      const number = typeof node.number === 'number' ? node.number : 0;
      for (const id of [null, ...commentIds]) rememberComment(st, 'discussion', node.id, number, id, Date.parse(node.updatedAt));
      const thumbsNow = (node.reactions?.nodes ?? []).flatMap((r) => (r?.user?.login && r.user.__typename !== 'Bot' ? [{ login: r.user.login.toLowerCase(), at: Date.parse(r.createdAt ?? '') }] : []));
      if ((node.reactions?.totalCount ?? 0) > thumbsNow.length && (node.reactions?.nodes?.length ?? 0) >= 100) warn(`${repo} discussion ${node.id}: more than 100 👍, only the first 100 reactors are counted`);
      items.push(...meTooChanges(repo, 'discussions', node.id, st, thumbsNow, typeof node.url === 'string' ? node.url : null));
    }
    const done = reachedOld || !conn.pageInfo.hasNextPage;
    p.after = conn.pageInfo.endCursor;
    if (done) {
      if (p.top !== null && (d.high === null || p.top > d.high)) {
        d.high = p.top;
        d.atHigh = p.topIds;
      } else if (p.top !== null && p.top === d.high) d.atHigh = [...new Set([...d.atHigh, ...p.topIds])];
      delete d.pending;
    }
    yield { items };
    if (done) return;
  }
}

/** A discussion, its comments and their replies as items. */
function discussionItems(repo: string, node: DiscussionNode, warn: (msg: string) => void): GithubItem[] {
  const title = typeof node.title === 'string' ? node.title : '';
  const { comments, reactions: _r, ...discussion } = node;
  const out: GithubItem[] = [{ kind: 'discussion', repo, discussion }];
  if ((comments?.totalCount ?? 0) > (comments?.nodes?.length ?? 0)) warn(`${repo} discussion ${node.id}: ${comments?.totalCount} comments, the first ${comments?.nodes?.length ?? 0} read`);
  for (const c of comments?.nodes ?? []) {
    if (!c) continue;
    const { replies, ...comment } = c;
    out.push({ kind: 'discussion-comment', repo, discussionId: node.id, discussionTitle: title, replyTo: null, comment });
    const commentId = gqlPostSchema.safeParse(comment).data?.id ?? null;
    for (const r of replies?.nodes ?? []) if (r) out.push({ kind: 'discussion-comment', repo, discussionId: node.id, discussionTitle: title, replyTo: commentId, comment: r });
  }
  return out;
}
