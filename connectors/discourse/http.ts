// The forum's JSON API over fetch: Api-Key/Api-Username headers (or none for a public forum), 429s waited
// out with Retry-After (or the body's extras.wait_seconds), network errors and 5xx retried with backoff,
// 401/403 on the forum as a whole mapped to an auth error. Never logs or throws the key.
import { ConnectorError, type ConnectorDeps } from '../types.js';
import type { DiscourseConfig } from './config.js';

/** Consecutive 429s on one request before giving up (each is waited out first). */
const MAX_RATE_LIMIT_RETRIES = 20;

/** Thrown when the signal aborts; ends the iteration quietly. */
export class Aborted extends Error {}

/** A refused request for one resource (a topic or category the key may not read, a deleted topic). */
export class DiscourseStatusError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly errorType: string | null,
  ) {
    super(`${path}: HTTP ${status}${errorType ? ` (${errorType})` : ''}`);
  }
}

interface ErrorBody {
  errors?: unknown;
  error_type?: unknown;
  extras?: { wait_seconds?: unknown };
}

export class DiscourseHttp {
  /** ms waited on rate limits since the last `takeRateLimited()`. */
  private rateLimitedMs = 0;
  private readonly base: string;

  constructor(
    private readonly cfg: DiscourseConfig,
    private readonly deps: ConnectorDeps,
  ) {
    this.base = cfg.url.replace(/\/+$/, '');
  }

  takeRateLimited(): number {
    const v = this.rateLimitedMs;
    this.rateLimitedMs = 0;
    return v;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    if (this.cfg.apiKey) {
      h['Api-Key'] = this.cfg.apiKey;
      h['Api-Username'] = this.cfg.apiUsername ?? 'system';
    }
    return h;
  }

  /** GET `path` (with its query) as JSON. A 403/404/410 on it throws DiscourseStatusError for the caller to judge. */
  async get<T>(path: string, signal: AbortSignal): Promise<T> {
    let failures = 0;
    for (let rateLimits = 0; ;) {
      if (signal.aborted) throw new Aborted();
      let res: Response;
      try {
        res = await fetch(`${this.base}${path}`, { headers: this.headers(), signal, redirect: 'follow' });
      } catch (err: unknown) {
        if (signal.aborted) throw new Aborted();
        if (++failures > this.cfg.retries) throw new ConnectorError('net', `cannot reach the forum at ${this.base} (${(err as Error).message})`, this.deps.source, { cause: err });
        await this.backoff(failures, signal);
        continue;
      }
      if (res.ok) {
        try {
          return (await res.json()) as T;
        } catch (err: unknown) {
          if (signal.aborted) throw new Aborted();
          throw new ConnectorError('bad_data', `${path}: the forum's answer is not JSON`, this.deps.source, { cause: err });
        }
      }
      const body = (await res.json().catch(() => ({}))) as ErrorBody;
      const errorType = typeof body.error_type === 'string' ? body.error_type : null;
      if (res.status === 429) {
        const header = Number(res.headers.get('retry-after'));
        const extra = Number(body.extras?.wait_seconds);
        const waitMs = Math.max(0, (Number.isFinite(header) && header > 0 ? header : Number.isFinite(extra) && extra > 0 ? extra : 1) * 1000);
        if (++rateLimits > MAX_RATE_LIMIT_RETRIES)
          throw new ConnectorError('rate_limit', `the forum kept answering 429 to ${path.split('?')[0]}; try again later`, this.deps.source, { retryAfterMs: waitMs });
        this.deps.log('info', `rate limited on ${path.split('?')[0]}, waiting ${waitMs} ms`, { retryAfterMs: waitMs });
        this.rateLimitedMs += waitMs;
        if (!(await this.deps.sleep(waitMs, signal))) throw new Aborted();
        continue;
      }
      if (res.status >= 500) {
        if (++failures > this.cfg.retries) throw new ConnectorError('net', `${path.split('?')[0]}: the forum answered HTTP ${res.status} ${failures} times`, this.deps.source);
        await this.backoff(failures, signal);
        continue;
      }
      if (res.status === 401 || (res.status === 403 && (errorType === 'invalid_access' || errorType === 'not_logged_in') && this.isForumWide(path))) {
        throw new ConnectorError('auth', this.authMessage(res.status, errorType), this.deps.source);
      }
      throw new DiscourseStatusError(path.split('?')[0]!, res.status, errorType);
    }
  }

  /** The forum-wide endpoints: a refusal there is the key (or the anonymous access) itself. */
  private isForumWide(path: string): boolean {
    return /^\/(?:posts|categories|latest|site)\.json/.test(path);
  }

  private authMessage(status: number, errorType: string | null): string {
    if (!this.cfg.apiKey)
      return `authentication needed: the forum refused anonymous access (HTTP ${status}${errorType ? `, ${errorType}` : ''}); it needs login: set apiKey (and apiUsername) for this source`;
    return `authentication failed: the forum refused the API key (HTTP ${status}${errorType ? `, ${errorType}` : ''}): check apiKey and apiUsername (the key may be revoked or scoped to another user)`;
  }

  private async backoff(failures: number, signal: AbortSignal): Promise<void> {
    const wait = this.cfg.retryBaseMs * 2 ** (failures - 1);
    this.deps.log('info', `forum request failed, retrying in ${wait} ms`, { attempt: failures });
    if (wait > 0 && !(await this.deps.sleep(wait, signal))) throw new Aborted();
  }
}
