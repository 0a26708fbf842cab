// Jira Cloud REST v3 through fetch (jira.js weighs 55 MB with axios, and its current major needs
// Node 22): POST /rest/api/3/issue with the description in ADF, PUT /rest/api/3/issue/{key},
// GET /rest/api/3/issue/{key}?fields=status,resolution,fixVersions. Basic auth: the account's email and API token.
import type { TrackerConfig } from '../config/outbound.js';
import { trackerBaseUrl } from '../config/outbound.js';
import { requestJson } from './http.js';
import type { ContentBlock, IssueContent, IssueRef, IssueState, Run, TrackerClient } from './types.js';

interface AdfNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: AdfNode[];
  text?: string;
  version?: number;
  marks?: Array<{ type: string; attrs?: Record<string, unknown> }>;
}

const runs = (rs: Run[]): AdfNode[] =>
  rs
    .filter((r) => r.text)
    .map((r) => {
      const marks = [...(r.href ? [{ type: 'link', attrs: { href: r.href } }] : []), ...(r.strong ? [{ type: 'strong' }] : [])];
      return { type: 'text', text: r.text, ...(marks.length ? { marks } : {}) };
    });

/** Atlassian Document Format of the content blocks. */
export function toAdf(blocks: readonly ContentBlock[]): AdfNode {
  const content: AdfNode[] = blocks.map((b): AdfNode => {
    switch (b.type) {
      case 'heading':
        return { type: 'heading', attrs: { level: 3 }, content: [{ type: 'text', text: b.text }] };
      case 'paragraph':
        return { type: 'paragraph', content: runs(b.runs) };
      case 'quote':
        return { type: 'blockquote', content: [{ type: 'paragraph', content: runs(b.runs) }] };
      case 'list':
        return { type: 'bulletList', content: b.items.map((item) => ({ type: 'listItem', content: [{ type: 'paragraph', content: runs(item) }] })) };
    }
  });
  return { type: 'doc', version: 1, content };
}

interface JiraIssue {
  id: string;
  key: string;
  fields?: { status?: { name?: string; statusCategory?: { key?: string } }; resolution?: { name?: string } | null; fixVersions?: Array<{ name?: string }> };
}

export function jiraTracker(cfg: TrackerConfig): TrackerClient {
  const base = trackerBaseUrl(cfg);
  const headers = { authorization: `Basic ${Buffer.from(`${cfg.user ?? ''}:${cfg.token}`).toString('base64')}` };
  const browse = (key: string) => `${base}/browse/${key}`;
  const call = <T>(method: string, path: string, body?: unknown) => requestJson<T>(cfg.name, `${base}${path}`, { method, headers, body });
  return {
    async create(c: IssueContent): Promise<IssueRef> {
      const r = await call<{ id: string; key: string }>('POST', '/rest/api/3/issue', {
        fields: { project: { key: cfg.project }, issuetype: { name: cfg.issueType }, summary: c.title.slice(0, 255), description: toAdf(c.blocks) },
      });
      return { externalId: r.key, key: r.key, url: browse(r.key), state: 'open' };
    },
    async update(key: string, c: IssueContent): Promise<IssueRef> {
      await call('PUT', `/rest/api/3/issue/${encodeURIComponent(key)}`, { fields: { summary: c.title.slice(0, 255), description: toAdf(c.blocks) } });
      const s = await this.state(key);
      return { externalId: s.externalId, key: s.key, url: s.url, state: s.state };
    },
    async state(key: string): Promise<IssueState> {
      const i = await call<JiraIssue>('GET', `/rest/api/3/issue/${encodeURIComponent(key)}?fields=status,resolution,fixVersions`);
      const done = i.fields?.status?.statusCategory?.key === 'done';
      const ref = { externalId: i.key, key: i.key, url: browse(i.key), state: done ? ('closed' as const) : ('open' as const) };
      if (!done) return { ...ref, reference: null, referenceUrl: null };
      const fix = (i.fields?.fixVersions ?? [])
        .map((v) => v.name)
        .filter(Boolean)
        .join(', ');
      const how = i.fields?.resolution?.name ?? i.fields?.status?.name ?? 'Done';
      return { ...ref, reference: `${i.key} ${how}${fix ? ` in ${fix}` : ''}`, referenceUrl: ref.url };
    },
  };
}
