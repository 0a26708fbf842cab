// A small JSON-over-fetch helper for the trackers whose clients are fetch (Jira, Linear), and the retry
// every tracker call goes through: a 5xx or no answer is tried again with exponential backoff; a 4xx is not.
import { TrackerError } from './types.js';

export interface RetryOptions {
  retries: number;
  backoffMs: number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (attempt: number, status: number | null, err: unknown) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The HTTP status of an error from any of the clients: Octokit's `status`, Gitbeaker's `cause.response.status`, ours. */
export function statusOf(err: unknown): number | null {
  if (err instanceof TrackerError) return err.status;
  const e = err as { status?: unknown; cause?: { response?: { status?: unknown } } } | null;
  if (e && typeof e.status === 'number') return e.status;
  if (e?.cause?.response && typeof e.cause.response.status === 'number') return e.cause.response.status;
  return null;
}

function retryable(err: unknown): boolean {
  const s = statusOf(err);
  // No answer at all (a reset connection, a timeout) is tried again like a 5xx.
  return s === null || s >= 500 || s === 429;
}

export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const sleep = opts.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err: unknown) {
      if (attempt >= opts.retries || !retryable(err)) throw err;
      opts.onRetry?.(attempt + 1, statusOf(err), err);
      await sleep(opts.backoffMs * 2 ** attempt);
    }
  }
}

/** One JSON request; a non-2xx answer throws a TrackerError with the status and the API's own message. */
export async function requestJson<T>(tracker: string, url: string, init: { method: string; headers: Record<string, string>; body?: unknown; timeoutMs?: number }): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      headers: { accept: 'application/json', ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs ?? 20_000),
    });
  } catch (err: unknown) {
    throw new TrackerError(tracker, null, `${init.method} ${new URL(url).pathname}: ${(err as Error).message}`, { cause: err });
  }
  const text = await res.text();
  if (!res.ok) throw new TrackerError(tracker, res.status, `${init.method} ${new URL(url).pathname}: ${apiMessage(text) || res.statusText}`);
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (err: unknown) {
    throw new TrackerError(tracker, res.status, `${init.method} ${new URL(url).pathname}: the answer is not JSON`, { cause: err });
  }
}

/** The message an API put in its error body (Jira's errorMessages, GitHub/GitLab's message, GraphQL's errors). */
function apiMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { message?: unknown; errorMessages?: unknown; errors?: unknown; error?: unknown };
    if (Array.isArray(j.errorMessages) && j.errorMessages.length) return j.errorMessages.join('; ');
    if (Array.isArray(j.errors)) return j.errors.map((e: { message?: string }) => e.message ?? '').join('; ');
    if (typeof j.message === 'string') return j.message;
    if (typeof j.error === 'string') return j.error;
  } catch {
    /* not JSON: the text itself */
  }
  return text.slice(0, 300);
}
