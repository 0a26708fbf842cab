// gleaner.yaml: loaded once at start, validated against one schema that also documents it.
// Secrets come from environment variables (`${NAME}`) or `*_FILE` paths and are redacted in logs.
import { isIP } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { withEnv } from './env.js';
import { DEFAULT_MAX_ENTRY_BYTES, DEFAULT_MAX_TOTAL_BYTES } from '../../connectors/types.js';
import { discordConfigSchema } from '../../connectors/discord/config.js';
import { discourseConfigSchema } from '../../connectors/discourse/config.js';
import { githubConfigSchema } from '../../connectors/github/config.js';
import { ircConfigSchema } from '../../connectors/irc/config.js';
import { mailConfigSchema } from '../../connectors/mail/config.js';
import { matrixConfigSchema } from '../../connectors/matrix/config.js';
import { slackConfigSchema } from '../../connectors/slack/config.js';
import { ArchiveConfigSchema } from '../pipeline/archives.js';
import { OutboundScheduleSchema, TrackersSchema, WebhooksSchema } from './outbound.js';
import { LoopConfigSchema, SourcePublicSchema, TeamPostSchema } from './out.js';

export const SourceConfigSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'source names use letters, digits, _ . -'),
    platform: z.enum(['slack', 'discord', 'matrix', 'irc', 'mail', 'discourse', 'github']),
    enabled: z.boolean().default(true),
    /** Channels quotable in the public edition: true (all), or channel names/ids; default none (src/config/out.ts). */
    public: SourcePublicSchema,
  })
  .passthrough();
export type SourceConfig = z.infer<typeof SourceConfigSchema>;

export const TagRuleSchema = z
  .object({
    tag: z.string().min(1),
    keywords: z.array(z.string()).default([]),
    patterns: z.array(z.string()).default([]),
    channels: z.array(z.string()).default([]),
  })
  .strict();

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
  .strict()
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

/** One trusted reverse proxy: an IP address, a CIDR range, or a named range as proxy-addr knows them. */
export const TrustedProxySchema = z.string().refine(isTrustedProxy, { message: 'not an IP address, a CIDR range (10.0.0.0/8) or one of loopback, linklocal, uniquelocal' });

export function isTrustedProxy(s: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(s)) return true;
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined || !addr) return false;
  const v = isIP(addr);
  if (!v) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (v === 4 ? 32 : 128);
}

// Every object is strict: an unknown key (`databse:`, a Slack source's `channels:`) is an error naming
// its path with a suggestion, never silently ignored. Sources are checked against their platform's schema
// for unknown keys in parseConfig; their other rules apply when the source is started.
export const ConfigSchema = z
  .object({
    /** The community's time zone (IANA name, e.g. Europe/Berlin): the default of digest.timezone. */
    timezone: z.string().min(1).optional(),
    /** SQLite file path (default ./gleaner.db) or a postgres:// URL. */
    database: z.string().optional(),
    /** Redis URL: when set, stages run as BullMQ jobs; otherwise in-process. */
    redis: z.string().optional(),
    queue: z
      .object({
        prefix: z.string().default('gleaner'),
        attempts: z.number().int().min(1).default(5),
        backoffMs: z.number().int().min(1).default(1000),
        /** BullMQ's job lock (default BullMQ's 30 s): a worker that died leaves its job locked this long. */
        lockDurationMs: z.number().int().min(1).optional(),
        /** How often BullMQ looks for stalled jobs (default BullMQ's 30 s). */
        stalledIntervalMs: z.number().int().min(1).optional(),
        /** How long a command waits for Redis to answer at start before it gives up, naming the URL. */
        connectTimeoutMs: z.number().int().min(1).default(10_000),
        /** How often a worker queues again the work the store records as pending but no queue holds. */
        pendingSweepMs: z.number().int().min(1).default(60_000),
        /** Jobs a worker process (workers/) runs at once per queue. */
        concurrency: z.number().int().min(1).default(1),
        /**
         * Ingest jobs a worker process takes ahead of the ones it stores: their chat lines are linked on a
         * helper thread while the one before is stored (they are still stored one after another, in order).
         * 0: one job at a time.
         */
        ingestAhead: z.number().int().min(0).max(8).default(1),
      })
      .strict()
      .default({ prefix: 'gleaner', attempts: 5, backoffMs: 1000, connectTimeoutMs: 10_000, pendingSweepMs: 60_000, concurrency: 1, ingestAhead: 1 }),
    store: z
      .object({
        /** PostgreSQL connection pool size. */
        poolSize: z.number().int().min(1).default(10),
        /** SQLite page cache per connection, in MB (SQLite's own is 2 MB: a big store's indexes thrash it). */
        sqliteCacheMb: z.number().int().min(2).default(64),
        /** Time every statement and print the costliest (by total time) to stderr at exit. */
        queryStats: z.boolean().default(false),
      })
      .strict()
      .default({ poolSize: 10, sqliteCacheMb: 64, queryStats: false }),
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
      .strict()
      .default({ schedule: '0 9 * * 1', autoApprove: false, top: 10, recipients: [] }),
    web: z
      .object({
        baseUrl: z.string().default('http://127.0.0.1:8080'),
        port: z.number().int().default(8080),
        /** Reverse proxies whose X-Forwarded-For is believed (addresses, CIDR ranges, or loopback/linklocal/uniquelocal); none by default. */
        trustProxy: z.array(TrustedProxySchema).default([]),
      })
      .strict()
      .default({ baseUrl: 'http://127.0.0.1:8080', port: 8080, trustProxy: [] }),
    people: z.array(z.object({ name: z.string(), identities: z.array(z.string()).default([]), staff: z.boolean().optional(), org: z.string().optional() }).strict()).default([]),
    orgs: z.array(OrgConfigSchema).default([]),
    segments: z.record(z.string(), z.object({ weight: z.number().default(1) }).strict()).default({}),
    /** Each team gets its own digest edition: the clusters matching its filter (any value within a key, every key). */
    teams: z
      .array(
        z
          .object({
            name: z.string().min(1),
            recipients: z.array(z.string()).default([]),
            filter: TeamFilterSchema.default({}),
            top: z.number().int().min(1).max(200).optional(),
            post: z.array(TeamPostSchema).default([]),
            public: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
    /** Closing the loop: replies to the threads of a resolved need (src/config/out.ts). */
    loop: LoopConfigSchema,
    smtp: z
      .object({
        host: z.string(),
        port: z.number().int().default(587),
        secure: z.boolean().default(false),
        requireTLS: z.boolean().default(false),
        user: z.string().optional(),
        password: z.string().optional(),
        from: z.string().default('gleaner@localhost'),
      })
      .strict()
      .optional(),
    /** Limits on export files (`gleaner import`). */
    import: z
      .object({
        /** Largest decompressed size of one file in a zipped export (a Slack export's day file); larger ones are quarantined unread. */
        maxEntryBytes: z.number().int().min(1).default(DEFAULT_MAX_ENTRY_BYTES),
        /** Largest decompressed size of all the files of one export; the files past it are quarantined unread. */
        maxTotalBytes: z.number().int().min(1).default(DEFAULT_MAX_TOTAL_BYTES),
      })
      .strict()
      .default({ maxEntryBytes: DEFAULT_MAX_ENTRY_BYTES, maxTotalBytes: DEFAULT_MAX_TOTAL_BYTES }),
    llm: LlmConfigSchema,
    /** Web archives of mailing lists, for links from mail quotes that carry no Archived-At (see src/digest/archives.ts). */
    archives: z.array(ArchiveConfigSchema).default([]),
    /** Grouping feedback items by the need they voice (see src/pipeline/grouping.ts); the defaults are the tested ones. */
    grouping: z
      .object({
        threshold: z.number().min(0).max(1).optional(),
        windowDays: z.number().int().min(1).max(365).optional(),
        /** Weight of the shipped thesaurus's concept tokens against a word (src/pipeline/concepts.ts); 0 turns them off. */
        conceptWeight: z.number().min(0).max(4).optional(),
        /** Need texts longer than this (characters) need a higher similarity, by the square of the length ratio, up to 3x; 0 turns it off. */
        lengthPivot: z.number().int().min(0).max(100000).optional(),
        /** Extra weight of the subject line (mail subject, issue or forum title) on top of the need text, which starts with it (default 0.75: its words count 1.75 times; 0 = once). */
        titleWeight: z.number().min(0).max(4).optional(),
        /** An older report moves into a later group holding its most similar report when it fits there this many times better than in its own cluster (default 1.5; 0 turns it off). */
        refitFactor: z.number().min(0).max(10).optional(),
        /** Multiplier on the similarity of two questions (default 0.8; 1 turns it off). */
        questionFactor: z.number().min(0).max(1).optional(),
        /** Weight of the shipped word model's nearest words against a word itself (models/word-neighbours.json); 0 turns them off. */
        neighbourWeight: z.number().min(0).max(2).optional(),
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
    /** Issue trackers clusters are pushed to (src/trackers/), webhooks events are sent to (src/webhooks/), and their schedules. */
    trackers: TrackersSchema,
    webhooks: WebhooksSchema,
    outbound: OutboundScheduleSchema,
    log: z
      .object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();
export type Config = z.infer<typeof ConfigSchema>;

/** Keys whose values are secrets wherever they appear. */

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
  const resolved = withEnv(resolveSecrets(doc, env, file), env);
  const parsed = ConfigSchema.safeParse(resolved);
  const lines = parsed.success ? [] : parsed.error.issues.flatMap((i) => issueLines(ConfigSchema, i));
  // Sources pass through the schema above; their unknown keys are judged by their platform's schema.
  const sources = (resolved as { sources?: unknown } | null)?.sources;
  if (Array.isArray(sources)) {
    sources.forEach((src: unknown, n) => {
      if (!src || typeof src !== 'object') return;
      const { name: _name, platform, enabled: _enabled, public: _public, ...own } = src as Record<string, unknown>;
      // Own keys only: a platform named "__proto__" or "constructor" is no schema (the error above says so).
      const schema = typeof platform === 'string' && Object.hasOwn(SOURCE_SCHEMAS, platform) ? SOURCE_SCHEMAS[platform as SourceConfig['platform']] : undefined;
      if (!schema) return;
      const r = schema.safeParse(own);
      if (r.success) return;
      for (const i of r.error.issues) {
        if (i.code !== 'unrecognized_keys') continue;
        lines.push(...issueLines(schema, i, ['sources', n], [...SOURCE_COMMON_KEYS]));
      }
    });
  }
  if (!parsed.success || lines.length) {
    throw new ConfigError(`${file} is not valid:\n${lines.join('\n')}`);
  }
  if (parsed.data.timezone && !parsed.data.digest.timezone) parsed.data.digest.timezone = parsed.data.timezone;
  const names = new Set<string>();
  for (const s of parsed.data.sources) {
    if (names.has(s.name)) throw new ConfigError(`${file}: two sources are named ${s.name}`);
    names.add(s.name);
  }
  return parsed.data;
}

/** Each platform's source schema (the same ones the connector registry holds), for unknown keys at load. */
const SOURCE_SCHEMAS: Record<SourceConfig['platform'], z.ZodType> = {
  slack: slackConfigSchema,
  discord: discordConfigSchema,
  matrix: matrixConfigSchema,
  irc: ircConfigSchema,
  mail: mailConfigSchema,
  discourse: discourseConfigSchema,
  github: githubConfigSchema,
};
const SOURCE_COMMON_KEYS = ['name', 'platform', 'enabled', 'public'] as const;

const pathText = (path: readonly PropertyKey[]): string => path.map(String).join('.');

/** One issue as lines `  path: message`; an unknown key gets its own line with the nearest known keys. */
function issueLines(root: z.ZodType, issue: z.core.$ZodIssue, prefix: PropertyKey[] = [], extraKnown: string[] = []): string[] {
  const at = [...prefix, ...issue.path];
  if (issue.code !== 'unrecognized_keys') return [`  ${pathText(at) || '(root)'}: ${issue.message}`];
  const known = [...keysAt(root, issue.path), ...extraKnown];
  return issue.keys.map((key) => {
    const near = suggestKeys(key, known);
    const hint = near.length ? `did you mean ${near.join(' or ')}?` : known.length ? `the keys here are ${known.join(', ')}` : 'no keys are allowed here';
    return `  ${pathText([...at, key])}: unknown key; ${hint}`;
  });
}

/** The keys the object at `path` of `schema` accepts (zod's definitions walked through wrappers, arrays, records). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  let rest = [...path];
  for (let guard = 0; guard < 100 && node; guard++) {
    const def = (node as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return [];
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
        node = def.innerType;
        continue;
      case 'pipe':
        node = def.in;
        continue;
      case 'array':
        if (rest.length && typeof rest[0] === 'number') rest = rest.slice(1);
        node = def.element;
        continue;
      case 'record':
        if (!rest.length) return [];
        rest = rest.slice(1);
        node = def.valueType;
        continue;
      case 'object': {
        const shape = def.shape as Record<string, unknown>;
        if (!rest.length) return Object.keys(shape);
        node = shape[String(rest[0])];
        rest = rest.slice(1);
        continue;
      }
      default:
        return [];
    }
  }
  return [];
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The known keys `key` was probably meant to be: a few edits away (`databse` -> database), or one
 * containing it or contained in it (`channels` -> includeChannels), nearest first, at most two.
 */
export function suggestKeys(key: string, known: readonly string[]): string[] {
  const k = key.toLowerCase();
  const scored = known
    .map((c) => {
      const l = c.toLowerCase();
      const d = levenshtein(k, l);
      const near = d <= Math.max(1, Math.min(3, Math.floor(Math.max(k.length, l.length) / 3)));
      const within = k.length >= 3 && (l.includes(k) || k.includes(l));
      return { c, d, ok: near || within };
    })
    .filter((x) => x.ok)
    .sort((x, y) => x.d - y.d);
  return scored.slice(0, 2).map((x) => x.c);
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

export { redact, redactSecretValues, secretValues, SECRET_KEYS } from './secrets.js';
