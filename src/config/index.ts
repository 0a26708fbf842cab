// gleaner.yaml: loaded once at start, validated against one schema that also documents it.
// Secrets come from environment variables (`${NAME}`) or `*_FILE` paths and are redacted in logs.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const SourceConfigSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'source names use letters, digits, _ . -'),
    platform: z.enum(['slack', 'discord', 'matrix', 'irc', 'mail']),
    enabled: z.boolean().default(true),
  })
  .passthrough();
export type SourceConfig = z.infer<typeof SourceConfigSchema>;

export const TagRuleSchema = z.object({
  tag: z.string().min(1),
  keywords: z.array(z.string()).default([]),
  patterns: z.array(z.string()).default([]),
  channels: z.array(z.string()).default([]),
});

/**
 * The optional language model: an OpenAI-compatible chat-completions endpoint (a local model server,
 * for example). Off by default and never required; community text is sent to it only when enabled.
 */
export const LlmConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Up to and including /v1, e.g. http://127.0.0.1:8000/v1. */
    baseUrl: z.string().url().default('http://127.0.0.1:8000/v1'),
    model: z.string().min(1).default('local-model'),
    /** Secret: `${ENV_VAR}` or `apiKey_FILE`; many local servers need none. */
    apiKey: z.string().optional(),
    timeoutMs: z.number().int().min(100).default(20_000),
    /** At most this many requests per enrich run; the rest keep the classifier's answer. */
    maxItemsPerRun: z.number().int().min(0).default(20),
    /** Items whose kind confidence is below this are sent for kind and area. */
    minKindConfidence: z.number().min(0).max(1).default(0.6),
    /** Ask for a one-line summary of every new feedback item (within maxItemsPerRun). */
    summaries: z.boolean().default(true),
  })
  .default({ enabled: false, baseUrl: 'http://127.0.0.1:8000/v1', model: 'local-model', timeoutMs: 20_000, maxItemsPerRun: 20, minKindConfidence: 0.6, summaries: true });
export type LlmConfig = z.infer<typeof LlmConfigSchema>;

const oneOrMany = z.union([z.string().transform((v) => [v]), z.array(z.string())]).optional();
/** A team's digest filter: kind (bug, feature, ...), tag, area (an `area:` tag), segment (customer, ...), channel. */
export const TeamFilterSchema = z.object({ kind: oneOrMany, tag: oneOrMany, area: oneOrMany, segment: oneOrMany, channel: oneOrMany }).strict();
export type TeamFilter = z.infer<typeof TeamFilterSchema>;

/**
 * An organisation: its people count in `segment` (customer, partner, community, staff, or your own).
 * Members are found by email domain, Slack workspace (Slack Connect team id) and Discord role; a
 * `people:` entry's `org:` comes first. An org with segment `staff` makes its members staff.
 */
export const OrgConfigSchema = z
  .object({
    name: z.string().min(1),
    segment: z.string().min(1).default('customer'),
    /** Email domains; subdomains match too. */
    domains: z.array(z.string().min(1)).default([]),
    /** Slack team ids (T…) of the org's workspace, for its people in Slack Connect channels. */
    slackTeams: z.array(z.string().regex(/^[TE][A-Z0-9]+$/, 'a Slack team id (T… or E…, e.g. T0ACME12)')).default([]),
    /** Discord roles whose holders belong to the org: a role id (snowflake) or the role's name (any case). */
    discordRoles: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type OrgConfig = z.infer<typeof OrgConfigSchema>;

export const ConfigSchema = z.object({
  /** SQLite file path (default ./gleaner.db) or a postgres:// URL. */
  database: z.string().optional(),
  /** Redis URL: when set, stages run as BullMQ jobs; otherwise in-process. */
  redis: z.string().optional(),
  queue: z
    .object({ prefix: z.string().default('gleaner'), attempts: z.number().int().min(1).default(5), backoffMs: z.number().int().min(1).default(1000) })
    .default({ prefix: 'gleaner', attempts: 5, backoffMs: 1000 }),
  sources: z.array(SourceConfigSchema).default([]),
  tags: z.array(TagRuleSchema).default([]),
  digest: z
    .object({
      schedule: z.string().default('0 9 * * 1'),
      timezone: z.string().optional(),
      autoApprove: z.boolean().default(false),
      top: z.number().int().min(1).max(200).default(10),
      /** Recipients of the default edition (used when no `teams:` are configured). */
      recipients: z.array(z.string()).default([]),
    })
    .default({ schedule: '0 9 * * 1', autoApprove: false, top: 10, recipients: [] }),
  web: z.object({ baseUrl: z.string().default('http://127.0.0.1:8080'), port: z.number().int().default(8080) }).default({ baseUrl: 'http://127.0.0.1:8080', port: 8080 }),
  people: z.array(z.object({ name: z.string(), identities: z.array(z.string()).default([]), staff: z.boolean().optional(), org: z.string().optional() })).default([]),
  orgs: z.array(OrgConfigSchema).default([]),
  segments: z.record(z.string(), z.object({ weight: z.number().default(1) })).default({}),
  /** Each team gets its own digest edition: the clusters matching its filter (any value within a key, every key). */
  teams: z.array(z.object({ name: z.string().min(1), recipients: z.array(z.string()).default([]), filter: TeamFilterSchema.default({}), top: z.number().int().min(1).max(200).optional() }).passthrough()).default([]),
  smtp: z.object({ host: z.string(), port: z.number().int().default(587), secure: z.boolean().default(false), requireTLS: z.boolean().default(false), user: z.string().optional(), password: z.string().optional(), from: z.string().default('gleaner@localhost') }).optional(),
  llm: LlmConfigSchema,
  /** Grouping feedback items by the need they voice (see src/pipeline/grouping.ts); the defaults are the tested ones. */
  grouping: z
    .object({
      threshold: z.number().min(0).max(1).optional(),
      windowDays: z.number().int().min(1).max(365).optional(),
      /** Optional, stronger need vectors from an OpenAI-compatible /v1/embeddings endpoint; off by default, never required. */
      embeddings: z
        .object({
          enabled: z.boolean().default(false),
          /** Up to and including /v1, e.g. http://127.0.0.1:8000/v1. */
          baseUrl: z.string().url().default('http://127.0.0.1:8000/v1'),
          model: z.string().min(1).default('local-embeddings'),
          /** Secret: `${ENV_VAR}` or `apiKey_FILE`; many local servers need none. */
          apiKey: z.string().optional(),
          timeoutMs: z.number().int().min(100).default(10_000),
          /** The embedding cosine at which two needs count as the same (maps onto the grouping threshold). */
          sameNeed: z.number().min(0).max(1).default(0.8),
        })
        .strict()
        .optional(),
    })
    .strict()
    .optional(),
  log: z.object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).default({ level: 'info' }),
});
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** Keys whose values are secrets wherever they appear. */
export const SECRET_KEYS = ['password', 'token', 'botToken', 'appToken', 'accessToken', 'secret', 'apiKey', 'sasl_password', 'pass'];

/** Replaces `${NAME}` with the environment variable and `key_FILE: path` with `key: <file contents>`. */
export function resolveSecrets(value: unknown, env: NodeJS.ProcessEnv, where = 'config'): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) throw new ConfigError(`${where}: environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, env, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k.endsWith('_FILE') && typeof v === 'string') {
        const key = k.slice(0, -'_FILE'.length);
        try {
          out[key] = readFileSync(v, 'utf8').trim();
        } catch (err: unknown) {
          throw new ConfigError(`${where}.${k}: cannot read secret file ${v}: ${(err as Error).message}`, { cause: err });
        }
      } else out[k] = resolveSecrets(v, env, `${where}.${k}`);
    }
    return out;
  }
  return value;
}

export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env, file = 'gleaner.yaml'): Config {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err: unknown) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const resolved = resolveSecrets(doc, env, file);
  const parsed = ConfigSchema.safeParse(resolved);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`${file} is not valid:\n${lines.join('\n')}`);
  }
  const names = new Set<string>();
  for (const s of parsed.data.sources) {
    if (names.has(s.name)) throw new ConfigError(`${file}: two sources are named ${s.name}`);
    names.add(s.name);
  }
  return parsed.data;
}

/** Loads `file`, or ./gleaner.yaml when present, or the defaults. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): { config: Config; path: string | null } {
  const path = file ?? (existsSync('gleaner.yaml') ? 'gleaner.yaml' : null);
  if (!path) return { config: parseConfig('{}', env), path: null };
  const full = resolve(path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err: unknown) {
    throw new ConfigError(`cannot read the config file ${full}: ${(err as Error).message}`, { cause: err });
  }
  return { config: parseConfig(text, env, path), path: full };
}

/** A copy with every secret value replaced by "***" (for logs, errors and the API). */
export function redact<T>(value: T, extraKeys: string[] = []): T {
  const keys = new Set([...SECRET_KEYS, ...extraKeys].map((k) => k.toLowerCase()));
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = keys.has(k.toLowerCase()) && x != null ? '***' : walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}
