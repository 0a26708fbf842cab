// A fake of Linear's GraphQL API on loopback: POST /graphql with the operations Gleaner sends —
// `teams(filter: { key: { eq } })`, `issueCreate(input: IssueCreateInput!)`, `issueUpdate(id, input)`
// and `issue(id:)` — answered with the shapes Linear returns (issue { id identifier url state { name type } }).
// The API key goes in Authorization; a bad key: HTTP 400 with an AUTHENTICATION_ERROR, as Linear answers.
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { FakeTrackerServer, type Send } from './tracker-server.js';

export interface LinearIssue {
  id: string;
  identifier: string;
  teamKey: string;
  title: string;
  description: string;
  state: { name: string; type: 'backlog' | 'unstarted' | 'started' | 'completed' | 'canceled' };
}

export class FakeLinear extends FakeTrackerServer {
  token = 'lin_api_fakeLinearKeyForGleaner0123456789';
  readonly teams = new Map<string, { id: string; issues: LinearIssue[] }>();

  static async start(teams: string[] = ['ENG']): Promise<FakeLinear> {
    const f = new FakeLinear();
    for (const t of teams) f.teams.set(t, { id: randomUUID(), issues: [] });
    await f.listen();
    return f;
  }

  find(idOrIdentifier: string): LinearIssue | undefined {
    for (const t of this.teams.values()) for (const i of t.issues) if (i.id === idOrIdentifier || i.identifier === idOrIdentifier) return i;
    return undefined;
  }

  setState(identifier: string, name: string, type: LinearIssue['state']['type']): void {
    this.find(identifier)!.state = { name, type };
  }

  protected authorized(req: IncomingMessage): boolean {
    return (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '') === this.token;
  }

  protected unauthorized(send: Send): void {
    send(400, {
      errors: [
        {
          message: 'Authentication required, not authenticated',
          extensions: { type: 'authentication error', code: 'AUTHENTICATION_ERROR', userPresentableMessage: 'You need to authenticate to access this operation.' },
        },
      ],
    });
  }

  protected override isWrite(r: { body: string }): boolean {
    return /mutation/.test(r.body);
  }

  private view(i: LinearIssue): Record<string, unknown> {
    return {
      id: i.id,
      identifier: i.identifier,
      url: `https://linear.app/driftwood/issue/${i.identifier}/${i.title
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .slice(0, 40)}`,
      state: i.state,
      completedAt: i.state.type === 'completed' ? new Date().toISOString() : null,
      canceledAt: i.state.type === 'canceled' ? new Date().toISOString() : null,
    };
  }

  protected handle(req: IncomingMessage, url: URL, body: string, send: Send): void {
    if (url.pathname !== '/graphql' || req.method !== 'POST') return send(404, { errors: [{ message: 'Not found' }] });
    const { query, variables } = JSON.parse(body) as { query?: string; variables?: Record<string, unknown> };
    const q = query ?? '';
    const v = variables ?? {};
    const bad = (message: string) => send(400, { errors: [{ message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    if (/\bteams\(filter:/.test(q)) {
      const key = typeof v.key === 'string' ? v.key : '';
      const t = this.teams.get(key);
      return send(200, { data: { teams: { nodes: t ? [{ id: t.id, key, name: key }] : [] } } });
    }
    if (/\bissueCreate\(input: \$input\)/.test(q)) {
      const input = v.input as { teamId?: string; title?: string; description?: string } | undefined;
      if (!input?.teamId || !input.title) return bad('Variable "$input" got invalid value; Field "teamId" and "title" of required type were not provided.');
      const entry = [...this.teams].find(([, t]) => t.id === input.teamId);
      if (!entry) return send(200, { data: null, errors: [{ message: 'Entity not found: Team', extensions: { code: 'INVALID_INPUT' } }] });
      const [key, team] = entry;
      const issue: LinearIssue = {
        id: randomUUID(),
        identifier: `${key}-${team.issues.length + 1}`,
        teamKey: key,
        title: input.title,
        description: input.description ?? '',
        state: { name: 'Todo', type: 'unstarted' },
      };
      team.issues.push(issue);
      return send(200, { data: { issueCreate: { success: true, issue: this.view(issue) } } });
    }
    if (/\bissueUpdate\(id: \$id, input: \$input\)/.test(q)) {
      const issue = this.find(typeof v.id === 'string' ? v.id : '');
      if (!issue) return send(200, { data: null, errors: [{ message: 'Entity not found: Issue', extensions: { code: 'INVALID_INPUT' } }] });
      const input = (v.input ?? {}) as { title?: string; description?: string };
      if (input.title !== undefined) issue.title = input.title;
      if (input.description !== undefined) issue.description = input.description;
      return send(200, { data: { issueUpdate: { success: true, issue: this.view(issue) } } });
    }
    if (/\bissue\(id: \$id\)/.test(q)) {
      const issue = this.find(typeof v.id === 'string' ? v.id : '');
      if (!issue) return send(200, { data: null, errors: [{ message: 'Entity not found: Issue', extensions: { code: 'INVALID_INPUT' } }] });
      return send(200, { data: { issue: this.view(issue) } });
    }
    bad('Cannot query this operation in the fake');
  }
}
