// Coded errors. Every error Gleaner raises on purpose carries a code; one table maps the code to the
// HTTP status the web answers with and the exit code the CLI ends with. Nothing picks a status from
// an error's message text. The message is the user's (it is shown as it is); `cause` keeps what went
// wrong underneath for the log.

/** What kind of failure it is: the codes the table below answers for. */
export type ErrorCode =
  /** The input (a form, a query, a name, a tag, a CSV) is not valid; saying it again will not help. */
  | 'invalid_input'
  /** What was asked for does not exist (or no longer: merged, deleted). */
  | 'not_found'
  /** Logged in but not allowed: a role short, a CSRF check failed. */
  | 'forbidden'
  /** Too many attempts; try later. */
  | 'rate_limited'
  /** The state changed under the request (a concurrent writer); trying again may help. */
  | 'conflict'
  /** The configuration file or environment is not valid. */
  | 'config'
  /** An import could not read its input. */
  | 'import_failed'
  /** The store (SQLite or PostgreSQL) failed or is not usable. */
  | 'store'
  /** The queue (Redis) cannot be reached. */
  | 'queue_unreachable'
  /** A job's payload or input is bad for good: no retry. */
  | 'job_permanent'
  /** A digest could not be sent. */
  | 'send_failed'
  /** A language-model or embeddings endpoint failed. */
  | 'llm'
  /** An issue tracker refused the token (401) or the permission (403): fix the tracker's token in the config. */
  | 'tracker_auth'
  /** An issue tracker failed otherwise (5xx after retries, a bad answer, the project not found). */
  | 'tracker_failed'
  /** Anything else: a bug or a failure nobody coded. */
  | 'internal';

export interface ErrorHandling {
  /** The HTTP status the web answers with. */
  http: number;
  /**
   * The exit code the CLI ends with. Every failure exits 1 (scripts and the tests rely on it); the
   * column is here so a code can get its own exit code in one place.
   */
  exit: number;
}

/** The one table from code to HTTP status and exit code. */
export const ERROR_HANDLING: Readonly<Record<ErrorCode, ErrorHandling>> = {
  invalid_input: { http: 400, exit: 1 },
  not_found: { http: 404, exit: 1 },
  forbidden: { http: 403, exit: 1 },
  rate_limited: { http: 429, exit: 1 },
  conflict: { http: 409, exit: 1 },
  config: { http: 500, exit: 1 },
  import_failed: { http: 400, exit: 1 },
  store: { http: 500, exit: 1 },
  queue_unreachable: { http: 503, exit: 1 },
  job_permanent: { http: 400, exit: 1 },
  send_failed: { http: 502, exit: 1 },
  llm: { http: 502, exit: 1 },
  tracker_auth: { http: 502, exit: 1 },
  tracker_failed: { http: 502, exit: 1 },
  internal: { http: 500, exit: 1 },
};

/** An error with a code. Subclasses only fix the code (and keep `instanceof` for the places that steer on it). */
export class GleanerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GleanerError';
    this.code = code;
  }
}

/** A GleanerError subclass with its code fixed (and its own name, for logs and `instanceof`). */
function coded(code: ErrorCode, name: string) {
  return class extends GleanerError {
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
      this.name = name;
    }
  };
}

/** Bad input from a user or a file: a 400, the message says what is wrong and how it should be. */
export class InputError extends coded('invalid_input', 'InputError') {}
export class ConfigError extends coded('config', 'ConfigError') {}
export class StoreError extends coded('store', 'StoreError') {}

/** `<what> not found` (the message names the thing), or a message of its own with `{ message }`. */
export class NotFoundError extends GleanerError {
  constructor(what: string | { message: string }) {
    super('not_found', typeof what === 'string' ? `${what} not found` : what.message);
    this.name = 'NotFoundError';
  }
}

/** The code of any thrown value: its own if coded, else `internal`. */
export function errorCode(err: unknown): ErrorCode {
  return err instanceof GleanerError ? err.code : 'internal';
}

/** The HTTP status for a thrown value (from the table; 500 for anything not coded). */
export function httpStatus(err: unknown): number {
  return ERROR_HANDLING[errorCode(err)].http;
}

/** The CLI exit code for a thrown value (from the table; 1 for anything not coded). */
export function exitCode(err: unknown): number {
  return ERROR_HANDLING[errorCode(err)].exit;
}
