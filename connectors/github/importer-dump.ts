// Importer for a repository's issues and discussions saved from the API: one file
//   { "github": "owner/name", "issues": [<REST issue, plus "comments_list": [<REST issue comments>] and
//     optionally "thumbs": ["login", ...]>], "discussions": [<GraphQL discussion node as DISCUSSIONS_QUERY asks>] }
// Items are the connector's, so the same normalizer reads them; a malformed entry is quarantined with its place.
import { z } from 'zod';
import type { QuarantineEntry } from '../../src/model/index.js';
import { apiDumpImporter, malformedEntry, type DumpReading } from '../api-dump.js';
import type { Importer } from '../types.js';
import { GITHUB_NORMALIZER_VERSION, gqlPostSchema, normalizeGithub, restIssueSchema, type GithubItem } from './normalize.js';

export const GITHUB_DUMP_FORMAT = 'github-dump';

const dumpSchema = z.object({
  github: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name'),
  issues: z.array(z.unknown()).default([]),
  discussions: z.array(z.unknown()).default([]),
});

type Node = { id?: unknown; title?: unknown; comments?: { nodes?: unknown[] }; reactions?: { nodes?: Array<{ createdAt?: string; user?: { login?: string } | null } | null> } };

export function readGithubDump(json: unknown, file: string): DumpReading {
  const top = dumpSchema.safeParse(json);
  if (!top.success) return { notMine: top.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ') };
  const repo = top.data.github;
  const items: Array<{ raw: GithubItem; location: string }> = [];
  const quarantine: QuarantineEntry[] = [];
  top.data.issues.forEach((raw, ii) => {
    const where = `${file}:issues[${ii}]`;
    const parsed = restIssueSchema.safeParse(raw);
    if (!parsed.success) {
      quarantine.push(malformedEntry(where, 'GitHub issue', parsed.error.issues, raw));
      return;
    }
    const { comments_list: comments, thumbs, ...issue } = raw as { comments_list?: unknown[]; thumbs?: unknown[] };
    items.push({ raw: { kind: 'issue', repo, issue }, location: where });
    (comments ?? []).forEach((c, ci) =>
      items.push({
        raw: { kind: 'issue-comment', repo, issueNodeId: parsed.data.node_id, issueNumber: parsed.data.number, issueTitle: parsed.data.title, comment: c },
        location: `${where}.comments_list[${ci}]`,
      }),
    );
    (thumbs ?? []).forEach((login, ti) =>
      items.push({
        raw: { kind: 'metoo', repo, channel: 'issues', parentId: parsed.data.node_id, login: String(login), at: Date.parse(parsed.data.created_at), url: parsed.data.html_url ?? null },
        location: `${where}.thumbs[${ti}]`,
      }),
    );
  });
  top.data.discussions.forEach((raw, di) => {
    const where = `${file}:discussions[${di}]`;
    const parsed = gqlPostSchema.safeParse(raw);
    if (!parsed.success) {
      quarantine.push(malformedEntry(where, 'GitHub discussion', parsed.error.issues, raw));
      return;
    }
    const { comments, reactions, ...discussion } = raw as Node;
    const id = parsed.data.id;
    const title = parsed.data.title ?? '';
    items.push({ raw: { kind: 'discussion', repo, discussion }, location: where });
    (comments?.nodes ?? []).forEach((c, ci) => {
      const { replies, ...comment } = (c ?? {}) as { replies?: { nodes?: unknown[] } };
      items.push({ raw: { kind: 'discussion-comment', repo, discussionId: id, discussionTitle: title, replyTo: null, comment }, location: `${where}.comments.nodes[${ci}]` });
      const cid = gqlPostSchema.safeParse(comment).data?.id ?? null;
      (replies?.nodes ?? []).forEach((r, ri) =>
        items.push({ raw: { kind: 'discussion-comment', repo, discussionId: id, discussionTitle: title, replyTo: cid, comment: r }, location: `${where}.comments.nodes[${ci}].replies.nodes[${ri}]` }),
      );
    });
    (reactions?.nodes ?? []).forEach((r, ri) => {
      if (r?.user?.login)
        items.push({
          raw: { kind: 'metoo', repo, channel: 'discussions', parentId: id, login: r.user.login, at: Date.parse(r.createdAt ?? parsed.data.createdAt), url: parsed.data.url ?? null },
          location: `${where}.reactions.nodes[${ri}]`,
        });
    });
  });
  return { items, quarantine };
}

export const githubDumpImporter: Importer = apiDumpImporter({
  format: GITHUB_DUMP_FORMAT,
  platform: 'github',
  key: 'github',
  kind: 'GitHub dump',
  read: readGithubDump,
  normalize: normalizeGithub,
  normalizerVersion: GITHUB_NORMALIZER_VERSION,
});
