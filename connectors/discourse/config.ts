// Discourse source config, validated at start; the schema documents it.
import { z } from 'zod';

export const discourseConfigSchema = z
  .object({
    /** The forum's base URL, e.g. https://forum.example.org (no trailing path). */
    url: z.string().url(),
    /** Admin API key (secret: `${ENV}` or `apiKey_FILE`). Optional for a public forum: read anonymously then. */
    apiKey: z.string().min(1).optional(),
    /** The user the key acts as (`Api-Username`); with a user API key, that user; default `system`. */
    apiUsername: z.string().min(1).optional(),
    /** Category slugs to read (subcategories by their own slug); empty: every category the key can read. */
    categories: z.array(z.string().min(1)).default([]),
    /**
     * Topics with a post in the last N hours are re-read on every pull, so edits, deletions, likes and
     * a newly accepted answer are seen (Discourse has no change feed). 0 turns it off.
     */
    recheckHours: z
      .number()
      .min(0)
      .max(24 * 90)
      .default(72),
    /** Topics watched at most (the most recently active first). */
    maxWatchedTopics: z.number().int().min(0).max(10_000).default(500),
    /** `live()`: seconds between polls of /posts.json. */
    pollIntervalSeconds: z.number().int().min(5).default(120),
    /** Retries of a request that failed with a network error or a 5xx (429s are waited out, not counted). */
    retries: z.number().int().min(0).max(10).default(3),
    /** First retry delay in ms; doubles each time. */
    retryBaseMs: z.number().int().min(0).default(1000),
  })
  .strict()
  .refine((c) => c.apiUsername === undefined || c.apiKey !== undefined, { message: 'apiUsername needs apiKey', path: ['apiUsername'] });

export type DiscourseConfig = z.output<typeof discourseConfigSchema>;
export type DiscourseConfigInput = z.input<typeof discourseConfigSchema>;

export const DISCOURSE_SECRET_KEYS = ['apiKey'] as const;
