// A fake of GitLab's issues API v4 on loopback, for the real @gitbeaker/rest client (host):
// POST /api/v4/projects/:id/issues (title, description) -> 201 the issue; PUT .../issues/:iid (title,
// description, state_event close|reopen) -> 200; GET .../issues/:iid; GET .../issues/:iid/closed_by ->
// the merge requests that closed it. The project id is its path, URL-encoded (group%2Fproject), or a
// number. Auth by PRIVATE-TOKEN (or Bearer); a bad token: 401 {"message":"401 Unauthorized"}.
import type { IncomingMessage } from 'node:http';
import { FakeTrackerServer, type Send } from './tracker-server.js';

export interface GitlabIssue {
  id: number;
  iid: number;
  project: string;
  title: string;
  description: string;
  state: 'opened' | 'closed';
  closedBy: Array<{ iid: number }>;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export class FakeGitlab extends FakeTrackerServer {
  token = 'glpat-fakeGitlabTokenForGleaner01';
  readonly projects = new Map<string, { id: number; issues: GitlabIssue[] }>();
  private seq = 1;

  static async start(projects: string[] = ['driftwood/driftwood']): Promise<FakeGitlab> {
    const f = new FakeGitlab();
    projects.forEach((p, i) => f.projects.set(p, { id: 100 + i, issues: [] }));
    await f.listen();
    return f;
  }

  closeIssue(project: string, iid: number, mergeRequestIid?: number): void {
    const i = this.projects.get(project)!.issues[iid - 1]!;
    i.state = 'closed';
    i.closed_at = i.updated_at = new Date().toISOString();
    if (mergeRequestIid) i.closedBy.push({ iid: mergeRequestIid });
  }

  reopenIssue(project: string, iid: number): void {
    const i = this.projects.get(project)!.issues[iid - 1]!;
    i.state = 'opened';
    i.closed_at = null;
    i.updated_at = new Date().toISOString();
  }

  protected authorized(req: IncomingMessage): boolean {
    const t = (req.headers['private-token'] as string | undefined) ?? (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    return t === this.token;
  }

  protected unauthorized(send: Send): void {
    send(401, { message: '401 Unauthorized' });
  }

  private view(p: string, i: GitlabIssue): Record<string, unknown> {
    const project = this.projects.get(p)!;
    return {
      id: i.id,
      iid: i.iid,
      project_id: project.id,
      title: i.title,
      description: i.description,
      state: i.state,
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: i.closed_at,
      labels: [],
      author: { id: 1, username: 'gleaner-bot', name: 'Gleaner', state: 'active' },
      web_url: `https://gitlab.example.com/${p}/-/issues/${i.iid}`,
      references: { short: `#${i.iid}`, relative: `#${i.iid}`, full: `${p}#${i.iid}` },
    };
  }

  protected handle(req: IncomingMessage, url: URL, body: string, send: Send): void {
    const m = /^\/api\/v4\/projects\/([^/]+)\/issues(?:\/(\d+)(\/closed_by)?)?$/.exec(url.pathname);
    if (!m) return send(404, { error: '404 Not Found' });
    const key = decodeURIComponent(m[1]!);
    const name = /^\d+$/.test(key) ? [...this.projects].find(([, v]) => v.id === Number(key))?.[0] : key;
    const project = name ? this.projects.get(name) : undefined;
    if (!project || !name) return send(404, { message: '404 Project Not Found' });
    const input = (body ? JSON.parse(body) : {}) as { title?: string; description?: string; state_event?: string };
    const now = new Date().toISOString();
    if (!m[2]) {
      if (req.method !== 'POST') return send(405, { message: '405 Method Not Allowed' });
      if (!input.title) return send(400, { error: 'title is missing' });
      const issue: GitlabIssue = {
        id: 5000 + this.seq++,
        iid: project.issues.length + 1,
        project: name,
        title: input.title,
        description: input.description ?? '',
        state: 'opened',
        closedBy: [],
        created_at: now,
        updated_at: now,
        closed_at: null,
      };
      project.issues.push(issue);
      return send(201, this.view(name, issue));
    }
    const issue = project.issues[Number(m[2]) - 1];
    if (!issue) return send(404, { message: '404 Not found' });
    if (m[3])
      return send(
        200,
        issue.closedBy.map((mr) => ({
          id: 9000 + mr.iid,
          iid: mr.iid,
          title: `Fix #${issue.iid}`,
          state: 'merged',
          web_url: `https://gitlab.example.com/${name}/-/merge_requests/${mr.iid}`,
          references: { short: `!${mr.iid}`, full: `${name}!${mr.iid}` },
        })),
      );
    if (req.method === 'GET') return send(200, this.view(name, issue));
    if (req.method === 'PUT') {
      if (input.title !== undefined) issue.title = input.title;
      if (input.description !== undefined) issue.description = input.description;
      if (input.state_event === 'close') this.closeIssue(name, issue.iid);
      if (input.state_event === 'reopen') this.reopenIssue(name, issue.iid);
      issue.updated_at = now;
      return send(200, this.view(name, issue));
    }
    send(405, { message: '405 Method Not Allowed' });
  }
}
