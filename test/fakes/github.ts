// A small fake of the GitHub API on 127.0.0.1, port 0, for the real @octokit/rest client (baseUrl) and
// its graphql. REST, as GitHub serves it:
// - GET /repos/{o}/{r}/issues?state=all&sort=updated&direction=asc&since=&per_page=&page= (pull requests
//   included, marked by `pull_request`); GET /repos/{o}/{r}/issues/comments (same paging; a PR's comment
//   has an html_url with /pull/); GET /repos/{o}/{r}/issues/{n}; GET .../issues/{n}/reactions?content=+1;
//   `since` keeps what was updated at or after it; ETag on lists, If-None-Match -> 304 when unchanged.
// - POST /graphql: the discussions query (variables owner, name, first, after): discussions newest
//   `updatedAt` first, with comments, replies, category, labels, answer, upvoteCount, reactionGroups,
//   THUMBS_UP reactions with their users; an unknown repository -> data.repository null and a NOT_FOUND error.
//   Comments, replies and reactions are connections cut to the `first` the query asks, with
//   pageInfo { hasNextPage endCursor }; `node(id: $id)` with `after: $after` serves a discussion's further
//   `comments` or `reactions` page, or a comment's further `replies` page.
// - Auth `Authorization: token|bearer <t>`; a bad token: 401 {"message":"Bad credentials"}. Rate-limit
//   headers on every answer; faults on demand: 429 + retry-after, 403 primary (x-ratelimit-remaining 0 +
//   reset), 403 secondary (retry-after, "secondary rate limit"), 500. Every request is recorded.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeControl } from '../contract/connector-contract.js';

export interface FakeIssue {
  number: number;
  node_id: string;
  title: string;
  body: string;
  user: string;
  labels: string[];
  created_at: string;
  updated_at: string;
  isPull: boolean;
  thumbs: Array<{ login: string; at: string }>;
  deleted?: boolean;
  /** Issues written through the API (Gleaner's push): open or closed, and the closing commit. */
  state?: 'open' | 'closed';
  state_reason?: 'completed' | 'not_planned' | 'reopened' | null;
  closed_at?: string | null;
  events?: Array<{ id: number; event: 'closed' | 'reopened'; commit_id: string | null; created_at: string }>;
}
export interface FakeComment {
  id: number;
  node_id: string;
  issue: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
  deleted?: boolean;
}
export interface FakePost {
  id: string;
  body: string;
  author: string | null;
  createdAt: string;
  updatedAt: string;
  lastEditedAt: string | null;
  upvoteCount: number;
  replies: FakePost[];
}
export interface FakeDiscussion extends FakePost {
  number: number;
  title: string;
  category: string;
  labels: string[];
  answer: string | null;
  thumbs: Array<{ login: string; at: string }>;
  comments: FakePost[];
}
interface Repo {
  issues: FakeIssue[];
  comments: FakeComment[];
  discussions: FakeDiscussion[];
}

type Fault = { kind: '429' | 'primary' | 'secondary' | '500'; seconds: number; match: RegExp };

/** A page of a GraphQL connection, cut at `first` after the cursor `after`, as GitHub answers it. */
function connection<T>(all: T[], first: number, after: string | null, map: (x: T) => unknown): Record<string, unknown> {
  const start = after ? Number(Buffer.from(after, 'base64').toString('utf8').replace('cursor:', '')) : 0;
  const nodes = all.slice(start, start + first).map(map);
  const end = start + nodes.length;
  return { totalCount: all.length, pageInfo: { hasNextPage: end < all.length, endCursor: nodes.length ? Buffer.from(`cursor:${end}`).toString('base64') : after }, nodes };
}

/** The `first` a query asks of a connection (`name(first: N` or `name(content: X, first: N`); GitHub's default cap 100. */
const firstOf = (query: string, name: string) => Number(new RegExp(`${name}\\((?:[^)]*?, )?first: (\\d+)`).exec(query)?.[1] ?? 100);

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class FakeGithub implements FakeControl {
  readonly repos = new Map<string, Repo>();
  /** Public profile emails (GET /users/{login}); others answer email null. */
  readonly emails = new Map<string, string>();
  readonly requests: Array<{ method: string; path: string; status: number; ifNoneMatch: boolean }> = [];
  token = 'ghp_fakeTokenForGleanerTests0123456789';
  private revoked = false;
  private faults: Fault[] = [];
  private seq = 1;
  private clock = Date.UTC(2026, 9, 1, 9, 0, 0);
  private defaultIssue: number | null = null;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeGithub> {
    let fake: FakeGithub | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => fake!.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    fake = new FakeGithub(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    fake.repo('driftwood/driftwood');
    return fake;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  /** The fake's clock: every change is a second later, unless `sameSecond`. */
  private tick(sameSecond = false): string {
    if (!sameSecond) this.clock += 1000;
    return iso(this.clock);
  }

  setClock(ms: number): void {
    this.clock = ms;
  }

  repo(name: string): Repo {
    let r = this.repos.get(name);
    if (!r) this.repos.set(name, (r = { issues: [], comments: [], discussions: [] }));
    return r;
  }

  addIssue(repo: string, i: { title: string; body?: string; user?: string; labels?: string[]; pull?: boolean }): FakeIssue {
    const r = this.repo(repo);
    const at = this.tick();
    const issue: FakeIssue = {
      number: r.issues.length + 1,
      node_id: `I_${this.seq++}`,
      title: i.title,
      body: i.body ?? '',
      user: i.user ?? 'octocat',
      labels: i.labels ?? [],
      created_at: at,
      updated_at: at,
      isPull: i.pull ?? false,
      thumbs: [],
    };
    r.issues.push(issue);
    return issue;
  }

  comment(repo: string, issue: FakeIssue, c: { body: string; user?: string; sameSecond?: boolean }): FakeComment {
    const at = this.tick(c.sameSecond);
    const comment: FakeComment = { id: this.seq, node_id: `IC_${this.seq++}`, issue: issue.number, body: c.body, user: c.user ?? 'octocat', created_at: at, updated_at: at };
    this.repo(repo).comments.push(comment);
    issue.updated_at = at;
    return comment;
  }

  editComment(c: FakeComment, body: string): void {
    c.body = body;
    c.updated_at = this.tick();
  }

  /** Deleted comments and issues vanish from every listing (a deleted issue answers 410), as on GitHub. */
  deleteComment(c: FakeComment): void {
    c.deleted = true;
  }

  deleteIssue(i: FakeIssue): void {
    i.deleted = true;
  }

  deleteDiscussionComment(d: FakeDiscussion, p: FakePost): void {
    d.comments = d.comments.filter((c) => c !== p);
    d.updatedAt = this.tick();
  }

  editIssue(i: FakeIssue, body: string): void {
    i.body = body;
    i.updated_at = this.tick();
  }

  thumbsUp(i: FakeIssue | FakeDiscussion, login: string): void {
    const at = this.tick();
    i.thumbs.push({ login, at });
    if ('node_id' in i) i.updated_at = at;
    else i.updatedAt = at;
  }

  unThumb(i: FakeIssue | FakeDiscussion, login: string): void {
    i.thumbs = i.thumbs.filter((t) => t.login !== login);
    const at = this.tick();
    if ('node_id' in i) i.updated_at = at;
    else i.updatedAt = at;
  }

  addDiscussion(repo: string, d: { title: string; body: string; author?: string; category?: string; labels?: string[] }): FakeDiscussion {
    const r = this.repo(repo);
    const at = this.tick();
    const disc: FakeDiscussion = {
      id: `D_${this.seq++}`,
      number: r.discussions.length + 1,
      title: d.title,
      body: d.body,
      author: d.author ?? 'octocat',
      createdAt: at,
      updatedAt: at,
      lastEditedAt: null,
      upvoteCount: 0,
      replies: [],
      category: d.category ?? 'Ideas',
      labels: d.labels ?? [],
      answer: null,
      thumbs: [],
      comments: [],
    };
    r.discussions.push(disc);
    return disc;
  }

  discussionComment(d: FakeDiscussion, c: { body: string; author?: string | null; replyTo?: FakePost }): FakePost {
    const at = this.tick();
    const post: FakePost = {
      id: `DC_${this.seq++}`,
      body: c.body,
      author: c.author === undefined ? 'octocat' : c.author,
      createdAt: at,
      updatedAt: at,
      lastEditedAt: null,
      upvoteCount: 0,
      replies: [],
    };
    (c.replyTo ? c.replyTo.replies : d.comments).push(post);
    d.updatedAt = at;
    return post;
  }

  editPost(d: FakeDiscussion, p: FakePost, body: string): void {
    p.body = body;
    p.lastEditedAt = p.updatedAt = d.updatedAt = this.tick();
  }

  markAnswer(d: FakeDiscussion, p: FakePost): void {
    d.answer = p.id;
    d.updatedAt = this.tick();
  }

  upvote(d: FakeDiscussion, n = 1): void {
    d.upvoteCount += n;
    d.updatedAt = this.tick();
  }

  /** Closes an issue as a maintainer would (by a commit's "fixes #n" when `commit` is given). */
  closeIssue(repo: string, number: number, opts: { commit?: string; reason?: 'completed' | 'not_planned' } = {}): void {
    const i = this.repo(repo).issues[number - 1]!;
    const at = this.tick();
    i.state = 'closed';
    i.state_reason = opts.reason ?? 'completed';
    i.closed_at = at;
    i.updated_at = at;
    (i.events ??= []).push({ id: this.seq++, event: 'closed', commit_id: opts.commit ?? null, created_at: at });
  }

  reopenIssue(repo: string, number: number): void {
    const i = this.repo(repo).issues[number - 1]!;
    const at = this.tick();
    i.state = 'open';
    i.state_reason = 'reopened';
    i.closed_at = null;
    i.updated_at = at;
    (i.events ??= []).push({ id: this.seq++, event: 'reopened', commit_id: null, created_at: at });
  }

  // ---- FakeControl: comments on one issue of driftwood/driftwood ----

  addMessages(count: number, opts: { sameTimestamp?: boolean } = {}): string[] {
    const repo = 'driftwood/driftwood';
    if (this.defaultIssue === null) this.defaultIssue = this.addIssue(repo, { title: 'Contract issue', body: 'The contract issue' }).number;
    const issue = this.repo(repo).issues[this.defaultIssue - 1]!;
    const ids: string[] = [];
    if (opts.sameTimestamp) this.tick();
    for (let i = 0; i < count; i++) ids.push(this.comment(repo, issue, { body: `contract message ${this.seq}`, user: `user${i % 3}`, sameSecond: opts.sameTimestamp }).node_id);
    return ids;
  }

  rateLimitNext(retryAfterSeconds: number, kind: Fault['kind'] = '429', match: RegExp = /\/issues|\/graphql/): void {
    this.faults.push({ kind, seconds: retryAfterSeconds, match });
  }

  failNext(times = 1, match: RegExp = /./): void {
    for (let i = 0; i < times; i++) this.faults.push({ kind: '500', seconds: 0, match });
  }

  revokeAuth(): void {
    this.revoked = true;
  }

  // ---- serving ----

  private restIssue(repo: string, i: FakeIssue): Record<string, unknown> {
    const up = i.thumbs.length;
    return {
      id: 1000 + i.number,
      node_id: i.node_id,
      number: i.number,
      title: i.title,
      body: i.body,
      user: { login: i.user, id: 1, type: 'User' },
      labels: i.labels.map((name, k) => ({ id: k + 1, name, color: 'ededed' })),
      state: i.state ?? 'open',
      state_reason: i.state_reason ?? null,
      closed_at: i.closed_at ?? null,
      comments: this.repo(repo).comments.filter((c) => c.issue === i.number).length,
      created_at: i.created_at,
      updated_at: i.updated_at,
      html_url: `https://github.com/${repo}/${i.isPull ? 'pull' : 'issues'}/${i.number}`,
      ...(i.isPull ? { pull_request: { url: `${this.url}/repos/${repo}/pulls/${i.number}` } } : {}),
      reactions: { url: '', total_count: up, '+1': up, '-1': 0, laugh: 0, hooray: 0, confused: 0, heart: 0, rocket: 0, eyes: 0 },
    };
  }

  private restComment(repo: string, c: FakeComment): Record<string, unknown> {
    const issue = this.repo(repo).issues[c.issue - 1]!;
    return {
      id: c.id,
      node_id: c.node_id,
      body: c.body,
      user: { login: c.user, id: 2, type: 'User' },
      created_at: c.created_at,
      updated_at: c.updated_at,
      html_url: `https://github.com/${repo}/${issue.isPull ? 'pull' : 'issues'}/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${this.url}/repos/${repo}/issues/${c.issue}`,
      reactions: { total_count: 0, '+1': 0 },
    };
  }

  private gqlPost(p: FakePost, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      id: p.id,
      url: `https://github.com/discussions/${p.id}`,
      body: p.body,
      createdAt: p.createdAt,
      updatedAt: p.updatedAt,
      lastEditedAt: p.lastEditedAt,
      upvoteCount: p.upvoteCount,
      author: p.author ? { login: p.author, __typename: 'User', email: this.emails.get(p.author.toLowerCase()) ?? '', name: null } : null,
      reactionGroups: [],
      ...extra,
    };
  }

  private thumbsPage(d: FakeDiscussion, first: number, after: string | null): Record<string, unknown> {
    return connection(d.thumbs, first, after, (t) => ({ createdAt: t.at, user: { login: t.login, __typename: 'User' } }));
  }

  private repliesPage(c: FakePost, first: number, after: string | null): Record<string, unknown> {
    return connection(c.replies, first, after, (r) => this.gqlPost(r));
  }

  private commentsPage(d: FakeDiscussion, first: number, after: string | null, firstReplies: number): Record<string, unknown> {
    return connection(d.comments, first, after, (c) => this.gqlPost(c, { isAnswer: d.answer === c.id, replies: this.repliesPage(c, firstReplies, null) }));
  }

  /** `node(id:)`: a discussion's further comments or 👍 reactions, or a comment's further replies; null for an unknown id. */
  private nodePage(query: string, id: string, after: string | null): Record<string, unknown> | null {
    for (const repo of this.repos.values()) {
      for (const d of repo.discussions) {
        if (d.id === id && query.includes('comments(')) return { comments: this.commentsPage(d, firstOf(query, 'comments'), after, firstOf(query, 'replies')) };
        if (d.id === id && query.includes('reactions(')) return { reactions: this.thumbsPage(d, firstOf(query, 'reactions'), after) };
        const c = d.comments.find((x) => x.id === id);
        if (c && query.includes('replies(')) return { replies: this.repliesPage(c, firstOf(query, 'replies'), after) };
      }
    }
    return null;
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', this.url);
    // GitHub Enterprise Server serves the same API under /api/v3 and GraphQL at /api/graphql.
    const path = url.pathname.replace(/^\/api\/v3(?=\/)/, '').replace(/^\/api\/graphql$/, '/graphql');
    const reset = Math.floor(Date.now() / 1000) + 3600;
    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, status, ifNoneMatch: req.headers['if-none-match'] !== undefined });
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '4999',
        'x-ratelimit-reset': String(reset),
        'x-ratelimit-used': '1',
        'x-ratelimit-resource': path === '/graphql' ? 'graphql' : 'core',
        ...headers,
      });
      res.end(status === 304 ? undefined : JSON.stringify(data));
    };
    const auth = req.headers.authorization ?? '';
    if (this.revoked || auth.replace(/^(token|bearer)\s+/i, '') !== this.token) return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    const fi = this.faults.findIndex((f) => f.match.test(path));
    if (fi >= 0) {
      const f = this.faults.splice(fi, 1)[0]!;
      if (f.kind === '500') return send(500, { message: 'Server Error' });
      if (f.kind === '429') return send(429, { message: 'Too Many Requests' }, { 'retry-after': String(f.seconds) });
      if (f.kind === 'secondary')
        return send(
          403,
          {
            message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
            documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          },
          { 'retry-after': String(f.seconds) },
        );
      return send(
        403,
        { message: 'API rate limit exceeded for user ID 1.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' },
        { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil((Date.now() + f.seconds * 1000) / 1000)) },
      );
    }
    if (path === '/graphql' && req.method === 'POST') return this.graphql(body, send);
    const u = /^\/users\/([^/]+)$/.exec(path);
    if (u) return send(200, { login: u[1], id: 7, type: 'User', name: null, email: this.emails.get(u[1]!.toLowerCase()) ?? null });
    const w = /^\/repos\/([^/]+\/[^/]+)\/issues(?:\/(\d+)(\/events)?)?$/.exec(path);
    if (w && (req.method === 'POST' || req.method === 'PATCH' || w[3])) return this.writeIssue(req.method ?? 'GET', w[1]!, w[2] ? Number(w[2]) : null, !!w[3], body, send);
    const m = /^\/repos\/([^/]+\/[^/]+)\/issues(?:\/(comments|\d+)(?:\/(reactions|comments))?)?$/.exec(path);
    if (!m || req.method !== 'GET') return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    const repoName = m[1]!;
    const repo = this.repos.get(repoName);
    if (!repo) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/issues/issues#list-repository-issues' });
    if (m[2] && m[2] !== 'comments') {
      const issue = repo.issues[Number(m[2]) - 1];
      if (!issue) return send(404, { message: 'Not Found' });
      if (issue.deleted) return send(410, { message: 'This issue was deleted', documentation_url: 'https://docs.github.com/rest/issues/issues#get-an-issue' });
      if (m[3] === 'comments')
        return send(
          200,
          repo.comments.filter((c) => c.issue === issue.number && !c.deleted).map((c) => this.restComment(repoName, c)),
        );
      if (m[3])
        return send(
          200,
          issue.thumbs
            .filter(() => (url.searchParams.get('content') ?? '+1') === '+1')
            .map((t, k) => ({ id: k + 1, node_id: `R_${k}`, user: { login: t.login, id: 3, type: 'User' }, content: '+1', created_at: t.at })),
        );
      return send(200, this.restIssue(repoName, issue));
    }
    const since = url.searchParams.get('since');
    const perPage = Number(url.searchParams.get('per_page') ?? 30);
    const page = Number(url.searchParams.get('page') ?? 1);
    const all =
      m[2] === 'comments'
        ? repo.comments.filter((c) => !c.deleted && !repo.issues[c.issue - 1]!.deleted).map((c) => this.restComment(repoName, c))
        : repo.issues.filter((i) => !i.deleted).map((i) => this.restIssue(repoName, i));
    const asc = url.searchParams.get('direction') === 'asc';
    const list = all.filter((x) => !since || String(x.updated_at) >= since).sort((a, b) => (asc ? 1 : -1) * (String(a.updated_at).localeCompare(String(b.updated_at)) || Number(a.id) - Number(b.id)));
    const out = list.slice((page - 1) * perPage, page * perPage);
    const etag = `W/"${createHash('sha1').update(JSON.stringify(out)).digest('hex')}"`;
    if (req.headers['if-none-match'] === etag) return send(304, null, { etag });
    send(200, out, { etag });
  }

  /**
   * POST /repos/{o}/{r}/issues {title, body} -> 201 the issue; PATCH .../issues/{n} {title, body, state}
   * -> 200 the issue; GET .../issues/{n}/events -> the issue's closed/reopened events (commit_id set
   * when a commit closed it). A missing title -> 422 Validation Failed, as GitHub answers.
   */
  private writeIssue(method: string, repoName: string, number: number | null, events: boolean, body: string, send: (status: number, data: unknown, headers?: Record<string, string>) => void): void {
    const repo = this.repos.get(repoName);
    if (!repo) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/issues/issues#create-an-issue' });
    const issue = number === null ? null : repo.issues[number - 1];
    if (number !== null && !issue) return send(404, { message: 'Not Found' });
    if (events && method === 'GET')
      return send(
        200,
        (issue!.events ?? []).map((e) => ({
          id: e.id,
          node_id: `E_${e.id}`,
          event: e.event,
          commit_id: e.commit_id,
          commit_url: e.commit_id ? `${this.url}/repos/${repoName}/commits/${e.commit_id}` : null,
          created_at: e.created_at,
          actor: { login: 'maintainer', id: 9, type: 'User' },
        })),
      );
    let input: { title?: unknown; body?: unknown; state?: unknown };
    try {
      input = JSON.parse(body || '{}') as typeof input;
    } catch {
      return send(400, { message: 'Problems parsing JSON' });
    }
    if (method === 'POST' && number === null) {
      if (typeof input.title !== 'string' || !input.title) return send(422, { message: 'Validation Failed', errors: [{ resource: 'Issue', code: 'missing_field', field: 'title' }] });
      const i = this.addIssue(repoName, { title: input.title, body: typeof input.body === 'string' ? input.body : '', user: 'gleaner-bot' });
      i.state = 'open';
      return send(201, this.restIssue(repoName, i));
    }
    if (method === 'PATCH' && issue) {
      if (typeof input.title === 'string') issue.title = input.title;
      if (typeof input.body === 'string') issue.body = input.body;
      if (input.state === 'closed') this.closeIssue(repoName, issue.number);
      else if (input.state === 'open' && issue.state === 'closed') this.reopenIssue(repoName, issue.number);
      issue.updated_at = this.tick();
      return send(200, this.restIssue(repoName, issue));
    }
    send(404, { message: 'Not Found' });
  }

  private graphql(body: string, send: (status: number, data: unknown, headers?: Record<string, string>) => void): void {
    let q: { query?: string; variables?: { owner?: string; name?: string; first?: number; after?: string | null; id?: string } };
    try {
      q = JSON.parse(body) as typeof q;
    } catch {
      return send(400, { message: 'Problems parsing JSON' });
    }
    const v = q.variables ?? {};
    const query = q.query ?? '';
    if (query.includes('node(id:')) return send(200, { data: { node: this.nodePage(query, v.id ?? '', v.after ?? null) } });
    if (!query.includes('discussions(')) return send(200, { errors: [{ message: 'unsupported query in the fake' }] });
    const name = `${v.owner}/${v.name}`;
    const repo = this.repos.get(name);
    if (!repo)
      return send(200, {
        data: { repository: null },
        errors: [{ type: 'NOT_FOUND', path: ['repository'], locations: [{ line: 2, column: 3 }], message: `Could not resolve to a Repository with the name '${name}'.` }],
      });
    const sorted = [...repo.discussions].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.number - a.number);
    const start = v.after ? Number(Buffer.from(v.after, 'base64').toString('utf8').replace('cursor:', '')) : 0;
    const first = v.first ?? 10;
    const nodes = sorted.slice(start, start + first).map((d) =>
      this.gqlPost(d, {
        number: d.number,
        title: d.title,
        category: { name: d.category },
        labels: { nodes: d.labels.map((l) => ({ name: l })) },
        answer: d.answer ? { id: d.answer } : null,
        reactionGroups: d.thumbs.length ? [{ content: 'THUMBS_UP', reactors: { totalCount: d.thumbs.length } }] : [],
        reactions: this.thumbsPage(d, firstOf(query, 'reactions'), null),
        comments: this.commentsPage(d, firstOf(query, 'comments'), null, firstOf(query, 'replies')),
      }),
    );
    const end = start + nodes.length;
    send(200, {
      data: {
        repository: {
          hasDiscussionsEnabled: true,
          discussions: { pageInfo: { hasNextPage: end < sorted.length, endCursor: nodes.length ? Buffer.from(`cursor:${end}`).toString('base64') : (v.after ?? null) }, nodes },
        },
      },
    });
  }
}
