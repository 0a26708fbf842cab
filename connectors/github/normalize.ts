// GitHub items -> RawMessage. Pure. An issue or a discussion is a conversation: its comments thread
// under it (a discussion reply under its comment); labels and the discussion category become labels;
// reactions are kept as counts; the accepted answer of a discussion carries `accepted-answer`. A 👍 on an
// issue or discussion whose reactor the API names becomes a "+1" message by that person replying to it,
// so the reporters stage counts them as a me-too voice like any "+1" reply (a discussion's upvotes are
// only a count in the API: kept as the `upvote` reaction, nobody named).
import { z } from 'zod';
import type { NormalizeContext, RawMessage, Skip } from '../../src/model/index.js';

export const GITHUB_NORMALIZER_VERSION = 1;

const actorSchema = z.object({ login: z.string().min(1), type: z.string().optional(), __typename: z.string().optional(), email: z.string().nullish(), name: z.string().nullish() }).passthrough();

/** REST issue (the fields read here). */
export const restIssueSchema = z
  .object({
    node_id: z.string().min(1),
    number: z.number().int(),
    title: z.string(),
    body: z.string().nullish(),
    user: actorSchema.nullish(),
    labels: z.array(z.union([z.string(), z.object({ name: z.string() }).passthrough()])).default([]),
    state: z.string().optional(),
    created_at: z.string(),
    updated_at: z.string(),
    html_url: z.string().optional(),
    pull_request: z.unknown().optional(),
    reactions: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();
export type RestIssue = z.infer<typeof restIssueSchema>;

export const restCommentSchema = z
  .object({
    node_id: z.string().min(1),
    body: z.string().nullish(),
    user: actorSchema.nullish(),
    created_at: z.string(),
    updated_at: z.string(),
    html_url: z.string().optional(),
    issue_url: z.string(),
    reactions: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();
export type RestComment = z.infer<typeof restCommentSchema>;

/** A discussion, comment or reply as the GraphQL query asks for it. */
export const gqlPostSchema = z
  .object({
    id: z.string().min(1),
    number: z.number().int().optional(),
    title: z.string().optional(),
    body: z.string().nullish(),
    url: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string().optional(),
    lastEditedAt: z.string().nullish(),
    isAnswer: z.boolean().nullish(),
    upvoteCount: z.number().int().nullish(),
    author: actorSchema.nullish(),
    category: z.object({ name: z.string() }).nullish(),
    labels: z.object({ nodes: z.array(z.object({ name: z.string() }).nullable()) }).nullish(),
    reactionGroups: z.array(z.object({ content: z.string(), reactors: z.object({ totalCount: z.number().int() }) })).nullish(),
  })
  .passthrough();
export type GqlPost = z.infer<typeof gqlPostSchema>;

export type GithubItem =
  | { kind: 'issue'; repo: string; issue: unknown; authorEmail?: string | null }
  | { kind: 'issue-comment'; repo: string; issueNodeId: string; issueNumber: number; issueTitle: string | null; comment: unknown; authorEmail?: string | null }
  | { kind: 'discussion'; repo: string; discussion: unknown }
  | { kind: 'discussion-comment'; repo: string; discussionId: string; discussionTitle: string; replyTo: string | null; comment: unknown }
  | { kind: 'deleted'; repo: string; channel: 'issues' | 'discussions'; nodeId: string; at: number }
  | { kind: 'metoo'; repo: string; channel: 'issues' | 'discussions'; parentId: string; login: string; at: number; deleted?: boolean; url?: string | null };

/**
 * The text of a 👍 turned into a voice: "+1", which the reporters stage reads as "me too". Kept under four
 * words: longer texts said alike by two people within minutes are folded as copies (priority.ts foldCopies).
 */
export const ME_TOO_TEXT = '+1 👍';

const REST_REACTIONS: Record<string, string> = { '+1': '+1', '-1': '-1', laugh: 'laugh', hooray: 'hooray', confused: 'confused', heart: 'heart', rocket: 'rocket', eyes: 'eyes' };
const GQL_REACTIONS: Record<string, string> = { THUMBS_UP: '+1', THUMBS_DOWN: '-1', LAUGH: 'laugh', HOORAY: 'hooray', CONFUSED: 'confused', HEART: 'heart', ROCKET: 'rocket', EYES: 'eyes' };

function restReactions(r: Record<string, unknown> | undefined): Record<string, number> | undefined {
  if (!r) return undefined;
  const out: Record<string, number> = {};
  for (const [k, name] of Object.entries(REST_REACTIONS)) if (typeof r[k] === 'number' && r[k] > 0) out[name] = r[k];
  return Object.keys(out).length ? out : undefined;
}

function gqlReactions(p: GqlPost): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const g of p.reactionGroups ?? []) {
    const name = GQL_REACTIONS[g.content];
    if (name && g.reactors.totalCount > 0) out[name] = g.reactors.totalCount;
  }
  if (p.upvoteCount) out.upvote = p.upvoteCount;
  return Object.keys(out).length ? out : undefined;
}

const ms = (iso: string, what: string): number => {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new Error(`${what} is not a date: ${JSON.stringify(iso).slice(0, 40)}`);
  return t;
};

const ghostOr = (a: z.infer<typeof actorSchema> | null | undefined) => {
  // A deleted account shows as null (GraphQL) or the `ghost` user (REST).
  const login = (a?.login ?? 'ghost').toLowerCase();
  const type = a?.type ?? a?.__typename;
  return { id: login, name: a?.name || a?.login || 'ghost', email: a?.email || undefined, isBot: type === 'Bot' || login.endsWith('[bot]') ? true : undefined };
};

/** The author with the profile email the connector looked up, when it found one. */
const withEmail = <A extends { email?: string }>(a: A, email: string | null | undefined): A => (typeof email === 'string' && email.includes('@') ? { ...a, email } : a);

/** Markdown as written is close to plain text; drop HTML comments (issue templates) and collapse blank runs. */
export const markdownToText = (md: string | null | undefined): string =>
  (md ?? '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\r\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();

function issues(p: { success: boolean; error?: z.ZodError }): string {
  return p.error ? p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : '';
}

export function normalizeGithub(raw: unknown, _ctx: NormalizeContext): RawMessage | Skip {
  const item = raw as GithubItem;
  if (!item || typeof item !== 'object' || typeof item.repo !== 'string') throw new Error('not a GitHub item (kind and repo)');
  const channel = (k: 'issues' | 'discussions') => ({ channel: `${item.repo}/${k}`, channelName: `${item.repo} ${k}` });
  switch (item.kind) {
    case 'issue': {
      const p = restIssueSchema.safeParse(item.issue);
      if (!p.success) throw new Error(`malformed GitHub issue: ${issues(p)}`);
      const i = p.data;
      if (i.pull_request !== undefined) return { skip: true, reason: 'github pull request (not read)' };
      const text = [i.title, markdownToText(i.body)].filter(Boolean).join('\n\n');
      const labels = i.labels.map((l) => (typeof l === 'string' ? l : l.name)).filter(Boolean);
      return {
        externalId: i.node_id,
        ...channel('issues'),
        author: withEmail(ghostOr(i.user), item.authorEmail),
        text,
        cleanText: text,
        sentAt: ms(i.created_at, `issue #${i.number} created_at`),
        editedAt: null,
        subject: i.title,
        permalink: i.html_url ?? null,
        reactions: restReactions(i.reactions),
        labels: labels.length ? labels : undefined,
      };
    }
    case 'issue-comment': {
      const p = restCommentSchema.safeParse(item.comment);
      if (!p.success) throw new Error(`malformed GitHub issue comment: ${issues(p)}`);
      const c = p.data;
      // A pull request's comments are issue comments too: their html_url says /pull/.
      if (/\/pull\/\d+(?:#|$)/.test(c.html_url ?? '')) return { skip: true, reason: 'github pull request comment (not read)' };
      const text = markdownToText(c.body);
      if (!text) return { skip: true, reason: 'github comment without text' };
      const created = ms(c.created_at, 'comment created_at');
      const updated = ms(c.updated_at, 'comment updated_at');
      return {
        externalId: c.node_id,
        ...channel('issues'),
        author: withEmail(ghostOr(c.user), item.authorEmail),
        text,
        cleanText: text,
        sentAt: created,
        editedAt: updated > created ? updated : null,
        threadId: item.issueNodeId,
        replyTo: item.issueNodeId,
        subject: item.issueTitle,
        permalink: c.html_url ?? null,
        reactions: restReactions(c.reactions),
      };
    }
    case 'discussion': {
      const p = gqlPostSchema.safeParse(item.discussion);
      if (!p.success) throw new Error(`malformed GitHub discussion: ${issues(p)}`);
      const d = p.data;
      const text = [d.title, markdownToText(d.body)].filter(Boolean).join('\n\n');
      const labels = [...(d.category ? [d.category.name] : []), ...(d.labels?.nodes ?? []).flatMap((l) => (l ? [l.name] : []))];
      return {
        externalId: d.id,
        ...channel('discussions'),
        author: ghostOr(d.author),
        text,
        cleanText: text,
        sentAt: ms(d.createdAt, `discussion ${d.id} createdAt`),
        editedAt: d.lastEditedAt ? ms(d.lastEditedAt, 'lastEditedAt') : null,
        subject: d.title ?? null,
        permalink: d.url ?? null,
        reactions: gqlReactions(d),
        labels: labels.length ? [...new Set(labels)] : undefined,
      };
    }
    case 'discussion-comment': {
      const p = gqlPostSchema.safeParse(item.comment);
      if (!p.success) throw new Error(`malformed GitHub discussion comment: ${issues(p)}`);
      const c = p.data;
      const text = markdownToText(c.body);
      if (!text) return { skip: true, reason: 'github comment without text' };
      return {
        externalId: c.id,
        ...channel('discussions'),
        author: ghostOr(c.author),
        text,
        cleanText: text,
        sentAt: ms(c.createdAt, `comment ${c.id} createdAt`),
        editedAt: c.lastEditedAt ? ms(c.lastEditedAt, 'lastEditedAt') : null,
        threadId: item.discussionId,
        replyTo: item.replyTo ?? item.discussionId,
        subject: item.discussionTitle,
        permalink: c.url ?? null,
        reactions: gqlReactions(c),
        labels: c.isAnswer ? ['accepted-answer'] : undefined,
      };
    }
    case 'deleted': {
      if (typeof item.nodeId !== 'string' || !item.nodeId) throw new Error('malformed GitHub deletion item');
      return { externalId: item.nodeId, ...channel(item.channel), author: { id: 'ghost' }, text: '', sentAt: item.at, deleted: true };
    }
    case 'metoo': {
      if (typeof item.login !== 'string' || !item.login || typeof item.parentId !== 'string') throw new Error('malformed GitHub reaction item');
      const login = item.login.toLowerCase();
      return {
        externalId: `${item.parentId}/+1/${login}`,
        ...channel(item.channel),
        author: { id: login, name: item.login },
        text: ME_TOO_TEXT,
        cleanText: ME_TOO_TEXT,
        sentAt: item.at,
        threadId: item.parentId,
        replyTo: item.parentId,
        permalink: typeof item.url === 'string' ? item.url : null,
        deleted: item.deleted || undefined,
      };
    }
    default:
      throw new Error(`unknown GitHub item kind ${JSON.stringify((item as { kind?: unknown }).kind)}`);
  }
}
