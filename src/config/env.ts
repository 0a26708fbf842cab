// The environment variables Gleaner reads, each mapped onto its config key in this one table. They are
// laid over the config file before it is validated (so the schema checks them too); the code reads the
// config, never these variables. Secrets inside the file use `${NAME}` and `key_FILE` (see index.ts).
import { ConfigError } from '../errors.js';

type Kind = 'string' | 'int' | 'flag';

export interface EnvKnob {
  name: string;
  /** The config key it sets, as a path. */
  path: readonly string[];
  kind: Kind;
  /** Set only when the file leaves the key unset, and only under an object the file has (smtp). */
  fallback?: boolean;
  doc: string;
}

export const ENV_KNOBS: readonly EnvKnob[] = [
  { name: 'GLEANER_DB', path: ['database'], kind: 'string', doc: 'SQLite path or postgres:// URL (--db wins)' },
  { name: 'REDIS_URL', path: ['redis'], kind: 'string', doc: 'Redis URL: stages run as BullMQ jobs' },
  { name: 'GLEANER_QUEUE_PREFIX', path: ['queue', 'prefix'], kind: 'string', doc: 'BullMQ key prefix' },
  { name: 'GLEANER_LOCK_DURATION_MS', path: ['queue', 'lockDurationMs'], kind: 'int', doc: "BullMQ job lock; a stalled job's lock runs out after it" },
  { name: 'GLEANER_STALLED_INTERVAL_MS', path: ['queue', 'stalledIntervalMs'], kind: 'int', doc: 'how often BullMQ looks for stalled jobs' },
  { name: 'GLEANER_REDIS_CONNECT_TIMEOUT_MS', path: ['queue', 'connectTimeoutMs'], kind: 'int', doc: 'how long a command waits for Redis at start' },
  { name: 'GLEANER_PENDING_SWEEP_MS', path: ['queue', 'pendingSweepMs'], kind: 'int', doc: "how often a worker queues the store's pending work again" },
  { name: 'GLEANER_CONCURRENCY', path: ['queue', 'concurrency'], kind: 'int', doc: 'jobs a worker process runs at once per queue' },
  { name: 'GLEANER_INGEST_AHEAD', path: ['queue', 'ingestAhead'], kind: 'int', doc: 'ingest jobs a worker takes ahead of those it stores (their chat lines linked meanwhile)' },
  { name: 'GLEANER_DB_POOL', path: ['store', 'poolSize'], kind: 'int', doc: 'PostgreSQL pool size' },
  { name: 'GLEANER_SQLITE_CACHE_MB', path: ['store', 'sqliteCacheMb'], kind: 'int', doc: 'SQLite page cache per connection' },
  { name: 'GLEANER_QUERY_STATS', path: ['store', 'queryStats'], kind: 'flag', doc: 'time every statement, print the costliest at exit' },
  { name: 'GLEANER_LOG_LEVEL', path: ['log', 'level'], kind: 'string', doc: 'log level' },
  { name: 'GLEANER_SMTP_USER', path: ['smtp', 'user'], kind: 'string', fallback: true, doc: 'SMTP login when smtp.user is unset' },
  { name: 'GLEANER_SMTP_PASSWORD', path: ['smtp', 'password'], kind: 'string', fallback: true, doc: 'SMTP password when smtp.password is unset' },
];

/**
 * Variables read outside the config, on purpose: where the config comes from, what runs before it is
 * read, and the test and bench harness. Listed here so that this file names every variable.
 */
export const OTHER_ENV = {
  GLEANER_CONFIG: 'the config file of a worker process (workers/run.ts); the CLI takes -c',
  GLEANER_HEAP_GROWTH_PERCENT: "V8's heap growing factor, set before the config is read (src/heap.ts)",
  GLEANER_THREADS: 'helper threads for parsing, detection and linking (src/stages: moves to src/threads with issue 19)',
  GLEANER_CLASSIFIER_MODEL: 'a classifier model file in place of the local or shipped one (src/models/classifier.ts)',
  GLEANER_SHARED: 'the ../shared folder with evaluation data (benchmarks and `gleaner eval`)',
  GLEANER_HEALTH_URL: "the Docker health check's URL (bin/healthcheck.js)",
  GLEANER_SKIP_TEST_DEPS: 'tests: 1 skips installing the Debian packages the tests start (scripts/test.js)',
  GLEANER_TEST_OUTPUT_DIR: "tests: where scripts/test.js writes vitest's JSON results",
  GLEANER_TEST_PG_URL: 'tests: an existing PostgreSQL server instead of starting one',
  GLEANER_FUZZ_RUNS: 'tests: how many runs each fuzz property makes',
  GLEANER_BENCH_PG: 'bench: run the end-to-end bench on PostgreSQL too',
  GLEANER_BENCH_KEEP: 'bench: keep the bench stores',
} as const;

function envValue(knob: EnvKnob, raw: string): string | number | boolean {
  if (knob.kind === 'string') return raw;
  if (knob.kind === 'flag') return !['', '0', 'false', 'no'].includes(raw.trim().toLowerCase());
  const t = raw.trim();
  if (!/^\d+$/.test(t)) throw new ConfigError(`${knob.name} must be a whole number, not ${JSON.stringify(raw)} (config key ${knob.path.join('.')})`);
  return Number(t);
}

/**
 * The config document with the environment laid over it (a new object; the input is not changed).
 * Empty variables count as unset.
 */
export function withEnv(doc: unknown, env: NodeJS.ProcessEnv): unknown {
  const root: Record<string, unknown> = doc && typeof doc === 'object' && !Array.isArray(doc) ? structuredClone(doc as Record<string, unknown>) : {};
  for (const knob of ENV_KNOBS) {
    const raw = env[knob.name];
    if (raw === undefined || raw === '') continue;
    let node = root;
    let ok = true;
    for (const key of knob.path.slice(0, -1)) {
      const next = node[key];
      if (next && typeof next === 'object' && !Array.isArray(next)) node = next as Record<string, unknown>;
      else if (knob.fallback || next != null) {
        ok = false; // no such object in the file (smtp), or not an object (the schema says so)
        break;
      } else node = node[key] = {};
    }
    const leaf = knob.path[knob.path.length - 1]!;
    if (!ok || (knob.fallback && node[leaf] != null)) continue;
    node[leaf] = envValue(knob, raw);
  }
  return root;
}
