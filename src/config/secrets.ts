// Secrets in the config and in what Gleaner prints: values under a secret key shown as ***, and every
// secret value (with its URL-encoded and base64 forms) cut out of text that leaves the process.
/** The config shape secret scrubbing reads: the store and Redis URLs, the rest walked by key. */
interface SecretSource {
  database?: string | null;
  redis?: string | null;
}

export const SECRET_KEYS = ['password', 'token', 'botToken', 'appToken', 'accessToken', 'secret', 'apiKey', 'sasl_password', 'pass'];

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

/**
 * The secret values of a config, for scrubbing error text that an upstream server echoed back (a bot
 * token in an API error, AUTH PLAIN in an SMTP reply): every value under a secret key (SECRET_KEYS and
 * `extraKeys`) anywhere in it (and in `more`, e.g. a source config given on its own), the passwords in the database and Redis URLs, and GLEANER_SMTP_PASSWORD.
 */
export function secretValues(config: SecretSource | { config: SecretSource; more: unknown }, env: NodeJS.ProcessEnv = process.env, extraKeys: readonly string[] = []): string[] {
  const keys = new Set([...SECRET_KEYS, ...extraKeys].map((k) => k.toLowerCase()));
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (keys.has(k.toLowerCase()) && typeof x === 'string') out.add(x);
        else walk(x);
      }
    }
  };
  walk(config);
  const c = 'more' in config ? config.config : config;
  for (const url of [c.database, c.redis, env.REDIS_URL, env.GLEANER_DB]) {
    if (!url || !url.includes('://')) continue;
    try {
      const password = new URL(url).password;
      if (password) out.add(decodeURIComponent(password));
    } catch {
      /* not a URL: nothing to take */
    }
  }
  if (env.GLEANER_SMTP_PASSWORD) out.add(env.GLEANER_SMTP_PASSWORD);
  return [...out].filter((s) => s.length >= MIN_SECRET_CHARS);
}

/** Shorter values are not scrubbed from text (they would match ordinary words). */
const MIN_SECRET_CHARS = 4;

/**
 * The base64 forms of a secret: at each of the three byte alignments it can have inside a longer base64
 * string (AUTH PLAIN is base64 of `\0user\0password`), trimmed to the characters that depend on the
 * secret alone; standard and URL alphabets.
 */
function base64Cores(secret: string): string[] {
  const cores = new Set<string>();
  const bytes = Buffer.from(secret, 'utf8');
  for (let lead = 0; lead < 3; lead++) {
    const b64 = Buffer.concat([Buffer.alloc(lead), bytes]).toString('base64');
    const end = (lead + bytes.length) % 3 === 0 ? b64.length : b64.length - 4;
    const core = b64.slice(lead ? 4 : 0, end);
    if (core.length >= 6) {
      cores.add(core);
      cores.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...cores];
}

/**
 * `text` with each secret value (as is and URL-encoded) replaced by `***`, and every base64 string that
 * holds one (a token's base64, an echoed AUTH PLAIN) replaced whole.
 */
export function redactSecretValues(text: string, secrets: readonly string[]): string {
  let out = text;
  const cores: string[] = [];
  for (const s of secrets) {
    if (s.length < MIN_SECRET_CHARS) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
    cores.push(...base64Cores(s));
  }
  if (cores.length) out = out.replace(/[A-Za-z0-9+/_-]{6,}=*/g, (run) => (cores.some((c) => run.includes(c)) ? '***' : run));
  return out;
}
