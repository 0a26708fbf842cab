// Discussions of one repository over GraphQL, newest change first (orderBy UPDATED_AT DESC, paged by
// cursor), down to the newest `updatedAt` read completely before. A discussion that changed (a new
// comment, an edit, an answer) is handed out again whole, with its comments and their replies; ingest is
// idempotent on the ids, so only what changed changes. Ones met at exactly the high-water instant are
// remembered, so a resume repeats nothing. 👍 reactors (named by the API) become me-too items; upvotes
// are a count only (GraphQL names no upvoters). Comments, replies and 👍 reactors past the first page are
// paged by cursor (discussion-pages.ts) up to `maxDiscussionComments` a discussion; past it a gap.
import type { Gap } from '../../src/model/index.js';
import type { GithubClient } from './client.js';
import type { RepoState } from './cursor.js';
import { COMMENTS_FIELDS, POST_FIELDS, readWholeDiscussion, THUMBS_FIELDS, type Comment, type Conn, type Thumb } from './discussion-pages.js';
import { meTooChanges, type StreamPage } from './issues.js';
import { discussionDeletions, rememberComment } from './recheck.js';
import { gqlPostSchema, type GithubItem } from './normalize.js';

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
        reactions(content: THUMBS_UP, first: 100) { ${THUMBS_FIELDS} }
        comments(first: 100) { ${COMMENTS_FIELDS} }
      }
    }
  }
}`;

interface DiscussionNode {
  id: string;
  updatedAt: string;
  title?: string;
  reactions?: Conn<Thumb>;
  comments?: Conn<Comment>;
  [k: string]: unknown;
}
interface DiscussionsAnswer {
  repository: { hasDiscussionsEnabled?: boolean; discussions: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Array<DiscussionNode | null> } } | null;
}

export async function* pullDiscussions(client: GithubClient, repo: string, st: RepoState, pageSize: number, maxPosts: number, nowMs: number, warn: (msg: string) => void): AsyncGenerator<StreamPage> {
  const [owner, name] = repo.split('/') as [string, string];
  const d = st.discussions;
  const p = (d.pending ??= { top: null, topIds: [], after: null });
  for (;;) {
    const res = await client.call(`${repo} discussions`, () => client.octokit.graphql<DiscussionsAnswer>(DISCUSSIONS_QUERY, { owner, name, first: pageSize, after: p.after }));
    if (!res.repository) throw Object.assign(new Error(`${repo}: no such repository, or the token cannot see it`), { status: 404 });
    const conn = res.repository.discussions;
    const items: GithubItem[] = [];
    const gaps: Gap[] = [];
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
      const whole = await readWholeDiscussion(client, repo, node, maxPosts);
      const number = typeof node.number === 'number' ? node.number : 0;
      if (!whole.postsComplete || !whole.thumbsComplete) {
        const reason = `${repo} discussion #${number} (${node.id}): ${whole.postsComplete ? '' : `${whole.posts} comments and replies read (it has ${node.comments?.totalCount ?? '?'} comments, with their replies), the rest not`}${whole.postsComplete || whole.thumbsComplete ? '' : '; '}${whole.thumbsComplete ? '' : `${whole.thumbs.length} of ${node.reactions?.totalCount ?? '?'} 👍 reactors counted`} (maxDiscussionComments ${maxPosts})`;
        warn(reason);
        gaps.push({ channel: `${repo}/discussions`, from: Date.parse(String(node.createdAt)) || 0, to: Date.parse(node.updatedAt) || null, reason });
      }
      const own = discussionItems(repo, node, whole.comments);
      const commentIds = own.flatMap((x) => (x.kind === 'discussion-comment' ? [gqlPostSchema.safeParse(x.comment).data?.id ?? ''] : [])).filter(Boolean);
      // Comments remembered from an earlier read that are no longer there were deleted (known only when all were read).
      items.push(...own, ...(whole.postsComplete ? discussionDeletions(repo, st, node.id, new Set(commentIds), nowMs) : []));
      for (const id of [null, ...commentIds]) rememberComment(st, 'discussion', node.id, number, id, Date.parse(node.updatedAt));
      const thumbsNow = whole.thumbs.flatMap((r) => (r?.user?.login && r.user.__typename !== 'Bot' ? [{ login: r.user.login.toLowerCase(), at: Date.parse(r.createdAt ?? '') }] : []));
      // Reactors past the bound were not read: the ones counted before stay counted.
      if (!whole.thumbsComplete) for (const login of st.thumbs[node.id] ?? []) if (!thumbsNow.some((t) => t.login === login)) thumbsNow.push({ login, at: NaN });
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
    yield { items, gaps };
    if (done) return;
  }
}

/** A discussion, its comments and their replies as items. */
function discussionItems(repo: string, node: DiscussionNode, comments: Comment[]): GithubItem[] {
  const title = typeof node.title === 'string' ? node.title : '';
  const { comments: _c, reactions: _r, ...discussion } = node;
  const out: GithubItem[] = [{ kind: 'discussion', repo, discussion }];
  for (const c of comments) {
    const { replies, ...comment } = c;
    out.push({ kind: 'discussion-comment', repo, discussionId: node.id, discussionTitle: title, replyTo: null, comment });
    const commentId = gqlPostSchema.safeParse(comment).data?.id ?? null;
    for (const r of replies?.nodes ?? []) if (r) out.push({ kind: 'discussion-comment', repo, discussionId: node.id, discussionTitle: title, replyTo: commentId, comment: r });
  }
  return out;
}
