// A fake of Jira Cloud REST v3 issues on loopback: POST /rest/api/3/issue (fields.project.key,
// issuetype.name, summary, description as an Atlassian Document) -> 201 {id, key, self}; PUT
// /rest/api/3/issue/{key} {fields} -> 204; GET /rest/api/3/issue/{key}?fields=... -> the issue with
// status (and its statusCategory new | indeterminate | done), resolution and fixVersions. A description
// that is not ADF -> 400 as Jira answers. Basic auth (email:API token); else 401 with errorMessages.
import type { IncomingMessage } from 'node:http';
import { FakeTrackerServer, type Send } from './tracker-server.js';

export interface JiraIssue {
  id: string;
  key: string;
  summary: string;
  description: unknown;
  status: { name: string; category: 'new' | 'indeterminate' | 'done' };
  resolution: string | null;
  fixVersions: string[];
}

interface AdfNode {
  type?: unknown;
  version?: unknown;
  content?: unknown;
  text?: unknown;
}

/** Whether `d` is an ADF document as Jira checks it: a doc of version 1 whose nodes all have a type; text nodes have text. */
export function isAdf(d: unknown): boolean {
  const n = d as AdfNode | null;
  if (!n || n.type !== 'doc' || n.version !== 1 || !Array.isArray(n.content)) return false;
  const ok = (x: unknown): boolean => {
    const y = x as AdfNode | null;
    if (!y || typeof y.type !== 'string') return false;
    if (y.type === 'text') return typeof y.text === 'string' && y.text.length > 0;
    return y.content === undefined || (Array.isArray(y.content) && y.content.every(ok));
  };
  return n.content.every(ok);
}

/** The plain text of an ADF document (what a reader sees). */
export function adfText(d: unknown): string {
  const n = d as AdfNode | null;
  if (!n) return '';
  if (n.type === 'text') return String(n.text);
  return Array.isArray(n.content) ? n.content.map(adfText).join(n.type === 'doc' ? '\n' : '') : '';
}

export class FakeJira extends FakeTrackerServer {
  email = 'bot@driftwood.dev';
  token = 'ATATTfakeJiraTokenForGleaner0123';
  readonly projects = new Map<string, JiraIssue[]>();
  private seq = 10000;

  static async start(projects: string[] = ['DRIFT']): Promise<FakeJira> {
    const f = new FakeJira();
    for (const p of projects) f.projects.set(p, []);
    await f.listen();
    return f;
  }

  issue(key: string): JiraIssue | undefined {
    const project = key.split('-')[0]!;
    return this.projects.get(project)?.find((i) => i.key === key);
  }

  /** A workflow transition as a person makes it in Jira. */
  transition(key: string, to: 'Done' | 'To Do' | 'In Progress', opts: { resolution?: string; fixVersion?: string } = {}): void {
    const i = this.issue(key)!;
    i.status = { name: to, category: to === 'Done' ? 'done' : to === 'To Do' ? 'new' : 'indeterminate' };
    i.resolution = to === 'Done' ? (opts.resolution ?? 'Done') : null;
    if (opts.fixVersion) i.fixVersions.push(opts.fixVersion);
  }

  protected authorized(req: IncomingMessage): boolean {
    return req.headers.authorization === `Basic ${Buffer.from(`${this.email}:${this.token}`).toString('base64')}`;
  }

  protected unauthorized(send: Send): void {
    send(401, { errorMessages: ['You do not have permission to access this resource. Log in or check your API token.'], errors: {} });
  }

  private view(i: JiraIssue): Record<string, unknown> {
    return {
      id: i.id,
      key: i.key,
      self: `${this.url}/rest/api/3/issue/${i.id}`,
      fields: {
        summary: i.summary,
        description: i.description,
        status: { name: i.status.name, statusCategory: { key: i.status.category, name: i.status.category === 'done' ? 'Done' : i.status.category === 'new' ? 'To Do' : 'In Progress' } },
        resolution: i.resolution ? { name: i.resolution } : null,
        fixVersions: i.fixVersions.map((name, k) => ({ id: String(k + 1), name, released: true })),
      },
    };
  }

  protected handle(req: IncomingMessage, url: URL, body: string, send: Send): void {
    const m = /^\/rest\/api\/3\/issue(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return send(404, { errorMessages: ['Not found'], errors: {} });
    const input = (body ? JSON.parse(body) : {}) as { fields?: { project?: { key?: string }; issuetype?: { name?: string }; summary?: string; description?: unknown } };
    const f = input.fields ?? {};
    if (f.description !== undefined && !isAdf(f.description))
      return send(400, { errorMessages: [], errors: { description: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)' } });
    if (!m[1]) {
      if (req.method !== 'POST') return send(405, { errorMessages: ['Method not allowed'] });
      const list = this.projects.get(f.project?.key ?? '');
      if (!list) return send(400, { errorMessages: [], errors: { project: 'valid project is required' } });
      if (!f.summary) return send(400, { errorMessages: [], errors: { summary: 'You must specify a summary of the issue.' } });
      const issue: JiraIssue = {
        id: String(this.seq++),
        key: `${f.project!.key}-${list.length + 1}`,
        summary: f.summary,
        description: f.description ?? null,
        status: { name: 'To Do', category: 'new' },
        resolution: null,
        fixVersions: [],
      };
      list.push(issue);
      return send(201, { id: issue.id, key: issue.key, self: `${this.url}/rest/api/3/issue/${issue.id}` });
    }
    const issue = this.issue(decodeURIComponent(m[1]));
    if (!issue) return send(404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} });
    if (req.method === 'GET') return send(200, this.view(issue));
    if (req.method === 'PUT') {
      if (f.summary !== undefined) issue.summary = f.summary;
      if (f.description !== undefined) issue.description = f.description;
      return send(204, undefined);
    }
    send(405, { errorMessages: ['Method not allowed'] });
  }
}
