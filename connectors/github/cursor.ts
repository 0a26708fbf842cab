// GitHub cursor, per repository. Issues and issue comments: the `updated_at` read up to (REST `since`,
// ascending), with the ids met at exactly that instant (GitHub's timestamps are whole seconds: many share
// one), and the ETag of the first page, for a conditional request. Discussions: the newest `updatedAt`
// read completely and a window in progress (newest-first by cursor). Who gave a 👍 to an issue or
// discussion, so a withdrawn one is withdrawn here too. Versioned JSON.
import { z } from 'zod';

const Iso = z.string().datetime({ offset: true });

export const sinceStreamSchema = z.object({
  since: Iso.nullable(),
  /** Ids met with `updated_at === since` (handed out already). */
  atSince: z.array(z.string()).default([]),
  etag: z.string().nullable().default(null),
  /** The `since` asked for when `etag` was given: the ETag is sent again only for the same request. */
  etagSince: z.string().nullable().default(null),
});
export type SinceStream = z.infer<typeof sinceStreamSchema>;

export const repoStateSchema = z.object({
  issues: sinceStreamSchema.default({ since: null, atSince: [], etag: null, etagSince: null }),
  comments: sinceStreamSchema.default({ since: null, atSince: [], etag: null, etagSince: null }),
  discussions: z
    .object({
      high: Iso.nullable(),
      /** Discussions met with `updatedAt === high`. */
      atHigh: z.array(z.string()).default([]),
      pending: z.object({ top: Iso.nullable(), topIds: z.array(z.string()).default([]), after: z.string().nullable() }).optional(),
    })
    .default({ high: null, atHigh: [] }),
  /**
   * Issues and discussions active in the last `recheckHours`: their number, the ms of the latest activity
   * seen and the comments handed out, so one deleted since is handed out as deleted.
   */
  recent: z.record(z.string(), z.object({ kind: z.enum(['issue', 'discussion']), n: z.number().int(), at: z.number(), comments: z.array(z.string()) })).default({}),
  /** Item node id -> logins whose 👍 were handed out as me-too voices. */
  thumbs: z.record(z.string(), z.array(z.string())).default({}),
});
export type RepoState = z.infer<typeof repoStateSchema>;

export const githubCursorSchema = z.object({
  v: z.literal(1),
  repos: z.record(z.string(), repoStateSchema),
});
export type GithubCursor = z.infer<typeof githubCursorSchema>;

export const emptyGithubCursor = (): GithubCursor => ({ v: 1, repos: {} });
export const emptyRepoState = (): RepoState => repoStateSchema.parse({});

export function parseGithubCursor(value: unknown): GithubCursor {
  return githubCursorSchema.parse(value);
}
