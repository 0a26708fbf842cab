// Config of what Gleaner sends out: issue trackers (a cluster pushed as an issue, its state synced back)
// and webhooks (signed JSON events). Tokens and secrets come from `${ENV}` or `token_FILE` /
// `secret_FILE` and are redacted like every other secret (SECRET_KEYS holds `token` and `secret`).
import { z } from 'zod';

const NAME = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'names use letters, digits, _ . -');

export const TRACKER_TYPES = ['github', 'gitlab', 'jira', 'linear'] as const;
export type TrackerType = (typeof TRACKER_TYPES)[number];

const DEFAULT_BASE_URL: Record<TrackerType, string> = {
  github: 'https://api.github.com',
  gitlab: 'https://gitlab.com',
  jira: 'https://jira.invalid', // never used: a jira tracker must name its site
  linear: 'https://api.linear.app',
};

export const TrackerConfigSchema = z
  .object({
    name: NAME,
    type: z.enum(TRACKER_TYPES),
    /** The API's base: GitHub Enterprise (`https://ghe.example.com/api/v3`), a self-managed GitLab, a Jira site, tests. */
    baseUrl: z.string().url().optional(),
    /** GitHub `owner/repo`; GitLab the project path (`group/project`) or id. */
    repo: z.string().min(1).optional(),
    /** Jira: the project key (`DRIFT`). */
    project: z.string().min(1).optional(),
    /** Linear: the team key (`ENG`). */
    team: z.string().min(1).optional(),
    /** Secret: `${ENV_VAR}` or `token_FILE`. GitHub/GitLab/Linear: the API token; Jira: the API token of `user`. */
    token: z.string().min(1),
    /** Jira Cloud: the account email the API token belongs to (basic auth). */
    user: z.string().optional(),
    /** Jira: the issue type of new issues. */
    issueType: z.string().min(1).default('Task'),
    /** Name the customer organisations of the reporters, and the quoted people, in the issue (default: segments and channels only). */
    includeOrgs: z.boolean().default(false),
    /** Quotes in the issue body. */
    quotes: z.number().int().min(0).max(20).default(5),
    /** Tries per call on a 5xx or a network failure, with exponential backoff from retryBackoffMs. */
    retries: z.number().int().min(0).max(10).default(3),
    retryBackoffMs: z.number().int().min(1).default(500),
  })
  .strict()
  .superRefine((t, ctx) => {
    if ((t.type === 'github' || t.type === 'gitlab') && !t.repo)
      ctx.addIssue({ code: 'custom', path: ['repo'], message: `a ${t.type} tracker needs repo (${t.type === 'github' ? 'owner/name' : 'group/project'})` });
    if (t.type === 'github' && t.repo && !/^[^/\s]+\/[^/\s]+$/.test(t.repo)) ctx.addIssue({ code: 'custom', path: ['repo'], message: 'a GitHub repo is owner/name' });
    if (t.type === 'jira' && !t.project) ctx.addIssue({ code: 'custom', path: ['project'], message: 'a jira tracker needs project (the project key, e.g. DRIFT)' });
    if (t.type === 'jira' && !t.baseUrl) ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'a jira tracker needs baseUrl (your site, e.g. https://driftwood.atlassian.net)' });
    if (t.type === 'jira' && !t.user) ctx.addIssue({ code: 'custom', path: ['user'], message: "a jira tracker needs user (the email of the API token's account)" });
    if (t.type === 'linear' && !t.team) ctx.addIssue({ code: 'custom', path: ['team'], message: 'a linear tracker needs team (the team key, e.g. ENG)' });
  });
export type TrackerConfig = z.infer<typeof TrackerConfigSchema>;

export function trackerBaseUrl(t: TrackerConfig): string {
  return (t.baseUrl ?? DEFAULT_BASE_URL[t.type]).replace(/\/+$/, '');
}

export const WEBHOOK_EVENTS = ['cluster.created', 'cluster.rising', 'cluster.resolved', 'digest.approved', 'digest.sent'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number] | 'ping';

export const WebhookConfigSchema = z
  .object({
    name: NAME,
    url: z.string().url(),
    /** Secret: `${ENV_VAR}` or `secret_FILE`; the HMAC-SHA256 key of X-Gleaner-Signature. */
    secret: z.string().min(8, 'a webhook secret has at least 8 characters'),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
    /** Tries per delivery before it is marked failed. */
    maxAttempts: z.number().int().min(1).max(50).default(8),
    /** Wait before the second try; doubled for each further try. */
    backoffMs: z.number().int().min(1).default(10_000),
    timeoutMs: z.number().int().min(100).default(10_000),
  })
  .strict();
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

/** Names are unique within a list (a push names its tracker, a test names its webhook). */
function uniqueNames<T extends { name: string }>(what: string) {
  return (list: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    list.forEach((x, i) => {
      if (seen.has(x.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `two ${what} are named ${x.name}` });
      seen.add(x.name);
    });
  };
}

export const TrackersSchema = z.array(TrackerConfigSchema).default([]).superRefine(uniqueNames('trackers'));
export const WebhooksSchema = z.array(WebhookConfigSchema).default([]).superRefine(uniqueNames('webhooks'));

/** When linked issues are read back (cron, in digest.timezone) and how often due webhook deliveries are sent. */
export const OutboundScheduleSchema = z
  .object({
    syncSchedule: z.string().default('0 * * * *'),
    deliverSchedule: z.string().default('* * * * *'),
  })
  .strict()
  .default({ syncSchedule: '0 * * * *', deliverSchedule: '* * * * *' });
