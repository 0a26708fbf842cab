// The GitHub clients: @octokit/rest (with the throttling and retry plugins) for REST and its `graphql`
// for GraphQL, at `baseUrl` (GitHub Enterprise: https://HOST/api/v3). The throttling plugin paces
// requests and names the limits; the waits themselves happen here, through `deps.sleep` with the pull's
// signal, so an abort ends a long wait at once and every wait is counted. The retry plugin retries
// network errors and 5xx. Rate limits: 429, or 403 with `x-ratelimit-remaining: 0` (primary; wait until
// `x-ratelimit-reset`) or a secondary-limit message (wait `retry-after`, else 60 s). 401: the token.
import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import type { GithubConfig } from './config.js';

const ThrottledOctokit = Octokit.plugin(throttling, retry);
type Client = InstanceType<typeof ThrottledOctokit>;

/** Consecutive rate-limit waits on one request before giving up. */
const MAX_RATE_LIMIT_RETRIES = 10;

export class Aborted extends Error {}

/** A refusal for one repository (403 without a rate limit, 404, 410): a gap for it, the others go on. */
export class RepoAccessError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface GithubClientOptions {
  /** ms per retry step of the retry plugin (default 1000: waits 1 s, 4 s, 9 s). */
  retryAfterBaseMs?: number;
}

interface RequestErrorLike {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

export class GithubClient {
  readonly octokit: Client;
  private rateLimitedMs = 0;
  signal: AbortSignal = new AbortController().signal;

  constructor(
    private readonly cfg: GithubConfig,
    private readonly deps: ConnectorDeps,
    opts: GithubClientOptions = {},
  ) {
    const log = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string) => deps.log(level, `octokit: ${msg}`);
    this.octokit = new ThrottledOctokit({
      auth: cfg.token,
      baseUrl: cfg.baseUrl.replace(/\/+$/, ''),
      userAgent: 'gleaner',
      log: { debug: () => undefined, info: log('debug'), warn: log('warn'), error: log('error') },
      request: { fetch: (url: string, init: RequestInit) => globalThis.fetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, this.signal]) : this.signal }) },
      throttle: {
        id: `gleaner-${deps.source}`,
        // The connector waits (abortable, counted): the plugin only reports.
        onRateLimit: (after: number) => {
          deps.log('info', `GitHub primary rate limit: ${after} s until reset`);
          return false;
        },
        onSecondaryRateLimit: (after: number) => {
          deps.log('info', `GitHub secondary rate limit: retry after ${after} s`);
          return false;
        },
      },
      retry: { retries: cfg.retries, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451], retryAfterBaseValue: opts.retryAfterBaseMs ?? 1000 },
    });
  }

  takeRateLimited(): number {
    const v = this.rateLimitedMs;
    this.rateLimitedMs = 0;
    return v;
  }

  /** Runs one API call; rate limits waited out, errors mapped. `what` names it in messages. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let waits = 0; ;) {
      if (this.signal.aborted) throw new Aborted();
      try {
        return await fn();
      } catch (err: unknown) {
        if (this.signal.aborted) throw new Aborted();
        const e = err as RequestErrorLike;
        const waitMs = this.rateLimitWait(e);
        if (waitMs !== null) {
          if (++waits > MAX_RATE_LIMIT_RETRIES || waitMs > this.cfg.maxRateLimitWaitSeconds * 1000) {
            throw new ConnectorError('rate_limit', `GitHub rate limit on ${what}: ${Math.ceil(waitMs / 1000)} s to wait; the next pull resumes from here`, this.deps.source, {
              retryAfterMs: waitMs,
              cause: err,
            });
          }
          this.deps.log('info', `rate limited on ${what}, waiting ${waitMs} ms`, { retryAfterMs: waitMs });
          this.rateLimitedMs += waitMs;
          if (!(await this.deps.sleep(waitMs, this.signal))) throw new Aborted();
          continue;
        }
        throw this.mapError(what, e, err);
      }
    }
  }

  private rateLimitWait(e: RequestErrorLike): number | null {
    const h = e.response?.headers ?? {};
    const header = (k: string) => (h[k] === undefined ? undefined : String(h[k]));
    const retryAfter = Number(header('retry-after'));
    const graphqlLimited =
      Array.isArray((e.response?.data as { errors?: Array<{ type?: string }> } | undefined)?.errors) &&
      (e.response!.data as { errors: Array<{ type?: string }> }).errors.some((x) => x.type === 'RATE_LIMITED');
    const secondary = /secondary rate/i.test(e.message ?? '');
    const primary = header('x-ratelimit-remaining') === '0' || graphqlLimited;
    if (e.status !== 429 && !(e.status === 403 && (secondary || primary)) && !graphqlLimited) return null;
    if (Number.isFinite(retryAfter) && retryAfter >= 0 && header('retry-after') !== undefined) return retryAfter * 1000;
    if (primary) {
      const reset = Number(header('x-ratelimit-reset'));
      if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - this.deps.now()) + 1000;
    }
    return 60_000;
  }

  private mapError(what: string, e: RequestErrorLike, cause: unknown): Error {
    const status = e.status;
    // GraphQL answers 200 with errors: a repository not there for this token is NOT_FOUND (or FORBIDDEN).
    const gqlErrors = (e as { errors?: Array<{ type?: string; message?: string }> }).errors;
    if (Array.isArray(gqlErrors) && gqlErrors.some((x) => x.type === 'NOT_FOUND' || x.type === 'FORBIDDEN')) return new RepoAccessError(404, gqlErrors.map((x) => x.message ?? x.type).join('; '));
    if (Array.isArray(gqlErrors) && status === undefined)
      return new ConnectorError('bad_data', `${what}: GraphQL errors: ${gqlErrors.map((x) => x.message ?? x.type).join('; ')}`, this.deps.source, { cause });
    if (status === 401)
      return new ConnectorError('auth', `authentication failed: GitHub refused the token (401) on ${what}; check token (expired, revoked, or an installation token past its hour)`, this.deps.source, {
        cause,
      });
    if (status === 403 || status === 404 || status === 410) {
      return new RepoAccessError(status, `${what}: HTTP ${status}${status === 404 ? ' (no such repository, or the token cannot see it)' : status === 403 ? ' (the token lacks permission)' : ''}`);
    }
    if (status === 304) return e as Error;
    if (status !== undefined && status >= 500) return new ConnectorError('net', `${what}: GitHub answered HTTP ${status} after ${this.cfg.retries} retries`, this.deps.source, { cause });
    if (status === undefined) return new ConnectorError('net', `${what}: cannot reach ${this.cfg.baseUrl} (${e.message ?? 'network error'})`, this.deps.source, { cause });
    return new ConnectorError('bad_data', `${what}: HTTP ${status} ${e.message ?? ''}`.trim(), this.deps.source, { cause });
  }
}
