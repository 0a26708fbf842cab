// Linear's GraphQL API through fetch (@linear/sdk weighs 12 MB of generated models for the three
// operations used here): the team by its key, then issueCreate, issueUpdate and issue(id:). A
// completed or canceled workflow state is closed.
import type { TrackerConfig } from '../config/outbound.js';
import { trackerBaseUrl } from '../config/outbound.js';
import { requestJson } from './http.js';
import { TrackerError, type IssueContent, type IssueRef, type IssueState, type TrackerClient } from './types.js';

const ISSUE_FIELDS = 'id identifier url state { name type } completedAt canceledAt';
const TEAMS = `query Teams($key: String!) { teams(filter: { key: { eq: $key } }) { nodes { id key name } } }`;
const CREATE = `mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { ${ISSUE_FIELDS} } } }`;
const UPDATE = `mutation IssueUpdate($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, input: $input) { success issue { ${ISSUE_FIELDS} } } }`;
const ISSUE = `query Issue($id: String!) { issue(id: $id) { ${ISSUE_FIELDS} } }`;

interface LinearIssue {
  id: string;
  identifier: string;
  url: string;
  state: { name: string; type: string } | null;
}

export function linearTracker(cfg: TrackerConfig): TrackerClient {
  const endpoint = `${trackerBaseUrl(cfg)}/graphql`;
  // Personal API keys go as they are; OAuth tokens as Bearer.
  const headers = { authorization: cfg.token.startsWith('lin_oauth') ? `Bearer ${cfg.token}` : cfg.token };
  let teamId: string | null = null;
  const gql = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    let r: { data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    try {
      r = await requestJson<typeof r>(cfg.name, endpoint, { method: 'POST', headers, body: { query, variables } });
    } catch (err: unknown) {
      // Linear answers a bad or revoked key with HTTP 400 and an AUTHENTICATION_ERROR: a refused token.
      if (err instanceof TrackerError && err.status === 400 && /authenticat/i.test(err.message)) throw new TrackerError(cfg.name, 401, 'the API key was not accepted', { cause: err });
      throw err;
    }
    if (r.errors?.length) {
      const auth = r.errors.some((e) => e.extensions?.code === 'AUTHENTICATION_ERROR');
      throw new TrackerError(cfg.name, auth ? 401 : 400, r.errors.map((e) => e.message).join('; '));
    }
    if (!r.data) throw new TrackerError(cfg.name, 200, 'the answer has no data');
    return r.data;
  };
  const ref = (i: LinearIssue): IssueRef => ({ externalId: i.id, key: i.identifier, url: i.url, state: i.state && ['completed', 'canceled'].includes(i.state.type) ? 'closed' : 'open' });
  return {
    async create(c: IssueContent): Promise<IssueRef> {
      if (!teamId) {
        const t = await gql<{ teams: { nodes: Array<{ id: string }> } }>(TEAMS, { key: cfg.team });
        teamId = t.teams.nodes[0]?.id ?? null;
        if (!teamId) throw new TrackerError(cfg.name, 404, `there is no team with the key ${cfg.team ?? ''}`);
      }
      const r = await gql<{ issueCreate: { success: boolean; issue: LinearIssue | null } }>(CREATE, { input: { teamId, title: c.title, description: c.markdown } });
      if (!r.issueCreate.success || !r.issueCreate.issue) throw new TrackerError(cfg.name, 200, 'issueCreate did not succeed');
      return ref(r.issueCreate.issue);
    },
    async update(id: string, c: IssueContent): Promise<IssueRef> {
      const r = await gql<{ issueUpdate: { success: boolean; issue: LinearIssue | null } }>(UPDATE, { id, input: { title: c.title, description: c.markdown } });
      if (!r.issueUpdate.success || !r.issueUpdate.issue) throw new TrackerError(cfg.name, 200, `issueUpdate of ${id} did not succeed`);
      return ref(r.issueUpdate.issue);
    },
    async state(id: string): Promise<IssueState> {
      const r = await gql<{ issue: LinearIssue | null }>(ISSUE, { id });
      if (!r.issue) throw new TrackerError(cfg.name, 404, `there is no issue ${id}`);
      const x = ref(r.issue);
      return { ...x, reference: x.state === 'closed' ? `${x.key} ${r.issue.state?.name ?? 'Done'}` : null, referenceUrl: x.state === 'closed' ? x.url : null };
    },
  };
}
