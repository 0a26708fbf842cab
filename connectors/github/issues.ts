// Issues and issue comments of one repository over REST, oldest change first:
//   GET /repos/{o}/{r}/issues?state=all&sort=updated&direction=asc&since=...
//   GET /repos/{o}/{r}/issues/comments?sort=updated&direction=asc&since=...
// `since` is the `updated_at` read up to and ids met at exactly that second are remembered, so a resume
// repeats nothing and loses nothing; an edit moves an issue or comment to the end and it is read again.
// The first page is asked with its ETag (If-None-Match): a 304 costs no rate limit. Pull requests (in
// both lists) are left out. A 👍 on an issue: its reactors (GET .../issues/{n}/reactions?content=+1)
// become me-too items; a 👍 taken back, a deleted me-too.
import type { Gap } from '../../src/model/index.js';
import { RepoAccessError, type GithubClient } from './client.js';
import type { RepoState, SinceStream } from './cursor.js';
import { rememberComment } from './recheck.js';
import { restCommentSchema, restIssueSchema, type GithubItem, type RestComment, type RestIssue } from './normalize.js';

export interface StreamPage {
  items: GithubItem[];
  /** What a stream knows it did not read (e.g. a discussion past its bound). */
  gaps?: Gap[];
}

interface Listed<T> {
  data: T[];
  etag: string | null;
  notModified: boolean;
}

/** One listing page, with If-None-Match on the first page of a stream. */
async function listPage<T>(client: GithubClient, what: string, route: string, params: Record<string, unknown>, etag: string | null): Promise<Listed<T>> {
  try {
    const res = await client.call(what, () => client.octokit.request(route, { ...params, headers: etag ? { 'if-none-match': etag } : {} }));
    const h = res.headers as Record<string, string | undefined>;
    return { data: res.data as T[], etag: h.etag ?? null, notModified: false };
  } catch (err: unknown) {
    if ((err as { status?: number }).status === 304) return { data: [], etag, notModified: true };
    throw err;
  }
}

/**
 * Reads one since-stream to its end, a page at a time: `onItems` gets the new entries of each page and the
 * stream state (updated in place) is what the page's cursor carries.
 */
async function* readSince<T extends { node_id: string; updated_at: string }>(
  client: GithubClient,
  what: string,
  route: string,
  params: Record<string, unknown>,
  st: SinceStream,
  pageSize: number,
  configSince: string | undefined,
): AsyncGenerator<T[]> {
  let page = 1;
  let requestSince = st.since ?? configSince ?? null;
  for (;;) {
    // One second early: whether `since` is inclusive or not, nothing at that second is lost (the ids
    // already read there are skipped below).
    const sinceParam = requestSince && requestSince === st.since ? new Date(Date.parse(requestSince) - 1000).toISOString().replace('.000Z', 'Z') : requestSince;
    const sameRequest = page === 1 && st.etag !== null && st.etagSince === (sinceParam ?? '');
    const res = await listPage<T>(client, what, route, { ...params, per_page: pageSize, page, ...(sinceParam ? { since: sinceParam } : {}) }, sameRequest ? st.etag : null);
    // Unchanged since this very request was last answered, and all of that answer was read then.
    if (res.notModified) return;
    // Remembered only when the whole answer fit on one page: with more pages, news land on a later page
    // and an unchanged first page would hide them.
    if (page === 1) {
      st.etag = res.data.length < pageSize ? res.etag : null;
      st.etagSince = sinceParam ?? '';
    }
    const seen = new Set(st.atSince);
    const fresh: T[] = [];
    for (const x of res.data) {
      if (typeof x?.node_id !== 'string' || typeof x.updated_at !== 'string') {
        fresh.push(x); // normalize refuses it: quarantined with its page
        continue;
      }
      if (st.since !== null && (x.updated_at < st.since || (x.updated_at === st.since && seen.has(x.node_id)))) continue;
      fresh.push(x);
      if (st.since === null || x.updated_at > st.since) {
        st.since = x.updated_at;
        st.atSince = [x.node_id];
        seen.clear();
        seen.add(x.node_id);
      } else if (!seen.has(x.node_id)) {
        st.atSince.push(x.node_id);
        seen.add(x.node_id);
      }
    }
    yield fresh;
    if (res.data.length < pageSize) return;
    // Asked again from the newest instant read (ids there are skipped); the same page again only when
    // a whole page shares one second.
    if (st.since !== requestSince) {
      requestSince = st.since;
      page = 1;
    } else page++;
  }
}

/** Public profile emails by login (lower-cased), looked up once per connector. */
export type EmailLookup = (login: string | undefined) => Promise<string | null>;

export function profileEmails(client: GithubClient, enabled: boolean): EmailLookup {
  const cache = new Map<string, string | null>();
  return async (login) => {
    if (!enabled || !login || login.endsWith('[bot]')) return null;
    const key = login.toLowerCase();
    if (cache.has(key)) return cache.get(key)!;
    let email: string | null = null;
    try {
      const res = await client.call(`user ${login}`, () => client.octokit.request('GET /users/{username}', { username: login }));
      const e = (res.data as { email?: unknown }).email;
      email = typeof e === 'string' && e.includes('@') ? e : null;
    } catch (err: unknown) {
      if (!(err instanceof RepoAccessError)) throw err; // a deleted or hidden account: no email
    }
    cache.set(key, email);
    return email;
  };
}

export async function* pullIssues(client: GithubClient, repo: string, st: RepoState, pageSize: number, configSince: string | undefined, emailOf: EmailLookup): AsyncGenerator<StreamPage> {
  const [owner, name] = repo.split('/') as [string, string];
  const base = { owner, repo: name, sort: 'updated', direction: 'asc' };
  const titles = new Map<number, { nodeId: string; title: string }>();
  for await (const list of readSince<RestIssue>(client, `${repo} issues`, 'GET /repos/{owner}/{repo}/issues', { ...base, state: 'all' }, st.issues, pageSize, configSince)) {
    const items: GithubItem[] = [];
    for (const raw of list) {
      const i = restIssueSchema.safeParse(raw);
      items.push({ kind: 'issue', repo, issue: raw, ...(i.success && i.data.pull_request === undefined ? { authorEmail: await emailOf(i.data.user?.login) } : {}) });
      if (!i.success || i.data.pull_request !== undefined) continue;
      titles.set(i.data.number, { nodeId: i.data.node_id, title: i.data.title });
      rememberComment(st, 'issue', i.data.node_id, i.data.number, null, Date.parse(i.data.updated_at));
      items.push(...(await thumbs(client, repo, st, i.data)));
    }
    yield { items };
  }
  for await (const list of readSince<RestComment>(client, `${repo} issue comments`, 'GET /repos/{owner}/{repo}/issues/comments', base, st.comments, pageSize, configSince)) {
    const items: GithubItem[] = [];
    for (const raw of list) {
      const c = restCommentSchema.safeParse(raw);
      // A pull request's comments are issue comments too (their html_url says /pull/): normalize skips them.
      if (c.success && /\/pull\/\d+(?:#|$)/.test(c.data.html_url ?? '')) {
        items.push({ kind: 'issue-comment', repo, issueNodeId: '', issueNumber: 0, issueTitle: null, comment: raw });
        continue;
      }
      const number = c.success ? Number(/\/issues\/(\d+)$/.exec(c.data.issue_url)?.[1]) : NaN;
      let parent = titles.get(number);
      if (c.success && !parent && Number.isFinite(number)) {
        const res = await client.call(`${repo} issue #${number}`, () => client.octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}', { owner, repo: name, issue_number: number }));
        const i = restIssueSchema.safeParse(res.data);
        if (i.success && i.data.pull_request !== undefined) continue;
        if (i.success) titles.set(number, (parent = { nodeId: i.data.node_id, title: i.data.title }));
      }
      items.push({
        kind: 'issue-comment',
        repo,
        issueNodeId: parent?.nodeId ?? `${repo}#${number}`,
        issueNumber: number,
        issueTitle: parent?.title ?? null,
        comment: raw,
        authorEmail: c.success ? await emailOf(c.data.user?.login) : null,
      });
      if (c.success && parent) rememberComment(st, 'issue', parent.nodeId, number, c.data.node_id, Date.parse(c.data.updated_at));
    }
    yield { items };
  }
}

/** The 👍 reactors of an issue as me-too items, and withdrawals of earlier ones. */
async function thumbs(client: GithubClient, repo: string, st: RepoState, issue: RestIssue): Promise<GithubItem[]> {
  const count = Number(issue.reactions?.['+1'] ?? 0);
  const before = st.thumbs[issue.node_id] ?? [];
  if (count === 0 && before.length === 0) return [];
  const [owner, name] = repo.split('/') as [string, string];
  const now: Array<{ login: string; at: number }> = [];
  if (count > 0) {
    const list = await client.call(`${repo} issue #${issue.number} reactions`, () =>
      client.octokit.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/reactions', { owner, repo: name, issue_number: issue.number, content: '+1', per_page: 100 }),
    );
    for (const r of list as Array<{ user?: { login?: string; type?: string } | null; created_at?: string }>) {
      if (!r.user?.login || r.user.type === 'Bot') continue;
      now.push({ login: r.user.login.toLowerCase(), at: Date.parse(r.created_at ?? issue.created_at) });
    }
  }
  return meTooChanges(repo, 'issues', issue.node_id, st, now, issue.html_url ?? null);
}

/** New 👍 voices and withdrawn ones against what the cursor remembers; the cursor is updated. */
export function meTooChanges(repo: string, channel: 'issues' | 'discussions', parentId: string, st: RepoState, now: Array<{ login: string; at: number }>, url: string | null): GithubItem[] {
  const before = new Set(st.thumbs[parentId] ?? []);
  const after = new Set(now.map((x) => x.login));
  const out: GithubItem[] = [];
  for (const x of now) if (!before.has(x.login)) out.push({ kind: 'metoo', repo, channel, parentId, login: x.login, at: Number.isFinite(x.at) ? x.at : 0, url });
  for (const login of before) if (!after.has(login)) out.push({ kind: 'metoo', repo, channel, parentId, login, at: 0, deleted: true, url });
  if (after.size) st.thumbs[parentId] = [...after].sort();
  else delete st.thumbs[parentId];
  return out;
}
