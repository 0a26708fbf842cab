// Deletions on GitHub, which has no feed of them: the comments handed out are remembered per issue and
// discussion while it is active (`recheckHours`). An active issue's comments are listed again every pull
// (GET .../issues/{n}/comments: one request per active issue per pull); a discussion's are compared
// whenever the discussion is read again (a deletion that does not touch the discussion's updatedAt is
// seen only then). A comment no longer there, or an issue that is gone (404/410)
// with its comments, is handed out as deleted.
import type { GithubClient } from './client.js';
import { RepoAccessError } from './client.js';
import type { RepoState } from './cursor.js';
import type { GithubItem } from './normalize.js';

/** Remembers a comment handed out under `parentId` (and the parent's latest activity). */
export function rememberComment(st: RepoState, kind: 'issue' | 'discussion', parentId: string, n: number, commentId: string | null, atMs: number): void {
  const r = (st.recent[parentId] ??= { kind, n, at: atMs, comments: [] });
  r.at = Math.max(r.at, Number.isFinite(atMs) ? atMs : 0);
  if (commentId && !r.comments.includes(commentId)) r.comments.push(commentId);
}

/** A discussion read again whole: remembered comments missing from it were deleted. */
export function discussionDeletions(repo: string, st: RepoState, discussionId: string, present: Set<string>, nowMs: number): GithubItem[] {
  const r = st.recent[discussionId];
  if (!r) return [];
  const gone = r.comments.filter((id) => !present.has(id));
  r.comments = r.comments.filter((id) => present.has(id));
  return gone.map((nodeId) => ({ kind: 'deleted', repo, channel: 'discussions', nodeId, at: nowMs }));
}

/** Lists the comments of every active issue again; yields the deletions found, one page per issue. */
export async function* recheckIssues(client: GithubClient, repo: string, st: RepoState, fromMs: number | null, nowMs: number): AsyncGenerator<GithubItem[]> {
  const [owner, name] = repo.split('/') as [string, string];
  for (const [parentId, r] of Object.entries(st.recent)) {
    if (fromMs === null || r.at < fromMs) {
      delete st.recent[parentId];
      continue;
    }
    if (r.kind !== 'issue') continue;
    let present: Set<string>;
    try {
      const list = await client.call(`${repo} issue #${r.n} comments`, () =>
        client.octokit.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo: name, issue_number: r.n, per_page: 100 }),
      );
      present = new Set((list as Array<{ node_id?: string }>).flatMap((c) => (typeof c.node_id === 'string' ? [c.node_id] : [])));
    } catch (err: unknown) {
      if (!(err instanceof RepoAccessError) || (err.status !== 404 && err.status !== 410)) throw err;
      // The issue is gone (deleted, or transferred away): it and its comments.
      const items: GithubItem[] = [parentId, ...r.comments].map((nodeId) => ({ kind: 'deleted', repo, channel: 'issues', nodeId, at: nowMs }));
      delete st.recent[parentId];
      yield items;
      continue;
    }
    const gone = r.comments.filter((id) => !present.has(id));
    if (!gone.length) continue;
    r.comments = r.comments.filter((id) => present.has(id));
    yield gone.map((nodeId) => ({ kind: 'deleted', repo, channel: 'issues', nodeId, at: nowMs }));
  }
}
