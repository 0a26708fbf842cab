// GitHub (and GitHub Enterprise through baseUrl) with the real @octokit/rest client: an issue per
// cluster; its state from the issue, and what closed it from the issue's `closed` event (a commit).
import { Octokit } from '@octokit/rest';
import type { TrackerConfig } from '../config/outbound.js';
import { trackerBaseUrl } from '../config/outbound.js';
import { TrackerError, type IssueContent, type IssueRef, type IssueState, type TrackerClient } from './types.js';
import { statusOf } from './http.js';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export function githubTracker(cfg: TrackerConfig): TrackerClient {
  const [owner, repo] = (cfg.repo ?? '').split('/') as [string, string];
  const octokit = new Octokit({ auth: cfg.token, baseUrl: trackerBaseUrl(cfg), log: silent, request: { retries: 0 } });
  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err: unknown) {
      throw new TrackerError(cfg.name, statusOf(err), `${what} in ${owner}/${repo}: ${(err as Error).message}`, { cause: err });
    }
  };
  const ref = (d: { number: number; html_url: string; state: string }): IssueRef => ({
    externalId: String(d.number),
    key: `${owner}/${repo}#${d.number}`,
    url: d.html_url,
    state: d.state === 'closed' ? 'closed' : 'open',
  });
  return {
    create: (c: IssueContent) => wrap('creating the issue', async () => ref((await octokit.rest.issues.create({ owner, repo, title: c.title, body: c.markdown })).data)),
    update: (id: string, c: IssueContent) =>
      wrap(`updating issue #${id}`, async () => ref((await octokit.rest.issues.update({ owner, repo, issue_number: Number(id), title: c.title, body: c.markdown })).data)),
    state: (id: string) =>
      wrap(`reading issue #${id}`, async (): Promise<IssueState> => {
        const issue = (await octokit.rest.issues.get({ owner, repo, issue_number: Number(id) })).data;
        const r = ref(issue);
        if (r.state !== 'closed') return { ...r, reference: null, referenceUrl: null };
        const events = (await octokit.rest.issues.listEvents({ owner, repo, issue_number: Number(id), per_page: 100 })).data;
        const closed = [...events].reverse().find((e) => e.event === 'closed');
        const sha = closed?.commit_id ?? null;
        if (sha) return { ...r, reference: `${owner}/${repo}@${sha.slice(0, 7)}`, referenceUrl: r.url.replace(/\/issues\/\d+$/, `/commit/${sha}`) };
        return { ...r, reference: `${r.key} closed${issue.state_reason ? ` as ${issue.state_reason.replace(/_/g, ' ')}` : ''}`, referenceUrl: r.url };
      }),
  };
}
