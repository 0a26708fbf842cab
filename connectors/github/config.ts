// GitHub source config (Discussions over GraphQL, Issues over REST), validated at start; the schema documents it.
import { z } from 'zod';

export const githubConfigSchema = z
  .object({
    /** REST base URL: https://api.github.com, or GitHub Enterprise Server's https://HOST/api/v3 (octokit's graphql then posts to https://HOST/api/graphql). */
    baseUrl: z.string().url().default('https://api.github.com'),
    /** Repositories to read, `owner/name`. */
    repos: z.array(z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name')).min(1),
    /** Fine-grained, classic or GitHub App installation token (secret: `${ENV}` or `token_FILE`). */
    token: z.string().min(1),
    /** Read the repositories' Discussions (GraphQL). */
    discussions: z.boolean().default(true),
    /** Read the repositories' Issues and their comments (REST); pull requests are left out. */
    issues: z.boolean().default(true),
    /** Oldest change to backfill, ISO date (default: the whole history). */
    since: z.union([z.string().datetime({ offset: true }), z.string().date()]).optional(),
    /** Items per page (REST per_page, GraphQL first); GitHub allows at most 100. */
    pageSize: z.number().int().min(1).max(100).default(100),
    /**
     * Comments and replies read per discussion (and as many 👍 reactors), past the first page by cursor;
     * past this bound the rest is a recorded gap naming the discussion.
     */
    maxDiscussionComments: z.number().int().min(1).default(5000),
    /**
     * Issues with activity in the last N hours have their comments listed again every pull (one request
     * per active issue), so a deleted comment is seen: GitHub has no deletion feed. 0: off.
     */
    recheckHours: z
      .number()
      .min(0)
      .max(24 * 90)
      .default(72),
    /**
     * Look up the public profile email of issue and comment authors (GET /users/{login}, once per login per
     * run), so a GitHub login links to a person with the same email elsewhere. Discussions' GraphQL answer
     * carries it already.
     */
    profileEmails: z.boolean().default(true),
    /** `live()`: seconds between polls. */
    pollIntervalSeconds: z.number().int().min(10).default(300),
    /** Retries of a request that failed with a network error or a 5xx (rate limits are waited out, not counted). */
    retries: z.number().int().min(0).max(10).default(3),
    /** A rate-limit wait longer than this stops the pull instead (it resumes from the cursor next time). */
    maxRateLimitWaitSeconds: z.number().int().min(1).default(3600),
  })
  .strict();

export type GithubConfig = z.output<typeof githubConfigSchema>;
export type GithubConfigInput = z.input<typeof githubConfigSchema>;

export const GITHUB_SECRET_KEYS = ['token'] as const;
