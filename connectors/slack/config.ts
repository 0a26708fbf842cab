// Slack source config, validated at start; the schema documents it.
import { z } from 'zod';

export const slackConfigSchema = z
  .object({
    /** Bot (xoxb-) or user (xoxp-) token. Secret: redacted in logs and the API (see SLACK_SECRET_KEYS). */
    token: z.string().min(1),
    /**
     * App-level token (xapp-, scope connections:write). When set, `live()` uses Socket Mode events
     * (with a catch-up pull from the cursor on every (re)connect) instead of periodic pulls. Secret.
     */
    appToken: z.string().min(1).optional(),
    /** Web API base URL; only for proxies and tests (the client's `slackApiUrl`). */
    apiUrl: z.string().url().optional(),
    /** Conversation types for conversations.list. */
    types: z.string().default('public_channel,private_channel'),
    /** Channel names (without `#`) to read; empty: every channel the app is a member of. */
    includeChannels: z.array(z.string().min(1)).default([]),
    /** Channel names never read. */
    excludeChannels: z.array(z.string().min(1)).default([]),
    /**
     * Apps distributed outside the Slack Marketplace (new installs since 2025-05-29) get 1
     * conversations.history/replies call a minute and at most 15 messages a page (PLATFORMS.md 1.3).
     * `true` sets `pageSize: 15` and `historyRequestsPerMinute: 1` unless those are given.
     */
    nonMarketplace: z.boolean().default(false),
    /** Messages per conversations.history / replies page (Slack: max 999). */
    pageSize: z.number().int().min(1).max(999).optional(),
    /** Budget for all Web API calls of this source, per minute (default: none; 429s are still honoured). */
    requestsPerMinute: z.number().positive().optional(),
    /** Budget for conversations.history + conversations.replies calls, per minute. */
    historyRequestsPerMinute: z.number().positive().optional(),
    /** Oldest message to backfill, ISO date or ms since epoch (default: the channel's whole history). */
    since: z.union([z.string().datetime({ offset: true }), z.string().date(), z.number().int()]).optional(),
    /**
     * Each pull re-reads the last N hours of top-level history to see edits, reactions and deletions
     * (Slack's history has no change feed; deleted messages just vanish). 0 turns it off.
     */
    recheckHours: z
      .number()
      .min(0)
      .max(24 * 30)
      .default(24),
    /**
     * Threads with a reply in the last N days are re-read on every pull, so a reply to a thread whose
     * parent is older than the history window is still found. Costs one replies call per active thread
     * per pull (less when the parent is in the recheck window). 0 turns it off.
     */
    threadWindowDays: z.number().min(0).max(365).default(7),
    /** `live()` without `appToken`: seconds between incremental pulls. */
    pollIntervalSeconds: z.number().int().min(5).default(300),
    /** Retries of the client for network errors and HTTP 5xx (429s are waited out by the connector). */
    retries: z.number().int().min(0).max(10).default(3),
  })
  .strict();

export type SlackConfig = z.output<typeof slackConfigSchema>;
export type SlackConfigInput = z.input<typeof slackConfigSchema>;

/** Config keys holding secrets. */
export const SLACK_SECRET_KEYS = ['token', 'appToken'] as const;

/** Page size and history budget after the `nonMarketplace` preset. */
export function effectiveLimits(cfg: SlackConfig): { pageSize: number; historyRequestsPerMinute: number | undefined } {
  return {
    pageSize: cfg.pageSize ?? (cfg.nonMarketplace ? 15 : 200),
    historyRequestsPerMinute: cfg.historyRequestsPerMinute ?? (cfg.nonMarketplace ? 1 : undefined),
  };
}

export function sinceMs(cfg: SlackConfig): number | undefined {
  if (cfg.since === undefined) return undefined;
  if (typeof cfg.since === 'number') return cfg.since;
  const t = Date.parse(cfg.since);
  return Number.isFinite(t) ? t : undefined;
}
