// GitLab (gitlab.com or self-managed through baseUrl) with the real @gitbeaker/rest client: an issue
// per cluster in the project `repo`; what closed it from the merge requests that close it.
import { Gitlab } from '@gitbeaker/rest';
import type { TrackerConfig } from '../config/outbound.js';
import { trackerBaseUrl } from '../config/outbound.js';
import { TrackerError, type IssueContent, type IssueRef, type IssueState, type TrackerClient } from './types.js';
import { statusOf } from './http.js';

interface GitlabIssue {
  iid: number;
  web_url: string;
  state: string;
  references?: { full?: string };
}

export function gitlabTracker(cfg: TrackerConfig): TrackerClient {
  const project = cfg.repo ?? '';
  const api = new Gitlab({ host: trackerBaseUrl(cfg), token: cfg.token });
  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err: unknown) {
      throw new TrackerError(cfg.name, statusOf(err), `${what} in ${project}: ${(err as Error).message}`, { cause: err });
    }
  };
  const ref = (d: GitlabIssue): IssueRef => ({ externalId: String(d.iid), key: d.references?.full ?? `${project}#${d.iid}`, url: d.web_url, state: d.state === 'closed' ? 'closed' : 'open' });
  return {
    create: (c: IssueContent) => wrap('creating the issue', async () => ref((await api.Issues.create(project, c.title, { description: c.markdown })) as unknown as GitlabIssue)),
    update: (id: string, c: IssueContent) =>
      wrap(`updating issue #${id}`, async () => ref((await api.Issues.edit(project, Number(id), { title: c.title, description: c.markdown })) as unknown as GitlabIssue)),
    state: (id: string) =>
      wrap(`reading issue #${id}`, async (): Promise<IssueState> => {
        const issue = (await api.Issues.show(Number(id), { projectId: project })) as unknown as GitlabIssue;
        const r = ref(issue);
        if (r.state !== 'closed') return { ...r, reference: null, referenceUrl: null };
        const mrs = (await api.Issues.allClosedByMergeRequestst(project, Number(id))) as unknown as Array<{ iid: number; web_url: string; references?: { full?: string } }>;
        const mr = mrs[mrs.length - 1];
        if (mr) return { ...r, reference: mr.references?.full ?? `${project}!${mr.iid}`, referenceUrl: mr.web_url };
        return { ...r, reference: `${r.key} closed`, referenceUrl: r.url };
      }),
  };
}
