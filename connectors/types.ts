// What every connector and importer shares. Connectors import only the model and these helpers.
import type { Gap, NormalizeContext, Platform, QuarantineEntry, RawMessage, Skip } from '../src/model/index.js';

/** One page read from an export file: raw items to normalize, bad input already quarantined. */
export interface ImportPage {
  /** Raw platform items; each becomes a RawMessage or a Skip through `normalize`. */
  items: ImportItem[];
  quarantine: QuarantineEntry[];
  gaps?: Gap[];
  /** Progress: bytes of the file read so far and its total size (for a progress bar). */
  bytesRead: number;
  totalBytes: number;
}

export interface ImportItem {
  raw: unknown;
  /** Where it came from, for error messages: `file:line` or `file@byteOffset`. */
  location: string;
  /** The raw payload to keep beside the normalized message (the original text or JSON). */
  payload?: string;
}

export interface Importer {
  /** The `--format` name: mbox, pipermail, slack-export, discord-export, element-export, irc-irssi, ... */
  format: string;
  platform: Platform;
  /** Whether this importer reads the file, judged from its name and its first bytes (already gunzipped). */
  detect(path: string, head: Buffer): boolean;
  read(path: string, opts: ImportOptions, signal?: AbortSignal): AsyncIterable<ImportPage>;
  normalize(raw: unknown, ctx: NormalizeContext): RawMessage | Skip | Promise<RawMessage | Skip>;
  /** Bump when normalize changes, so stored raw items can be re-normalized. */
  normalizerVersion: number;
}

export interface ImportOptions {
  source: string;
  channel?: string;
  /** Messages per page. */
  pageSize?: number;
  /** Largest single message accepted; larger ones are quarantined (default 10 MiB). */
  maxMessageBytes?: number;
  /**
   * Largest decompressed size of one file inside a zipped export (or one file of an unpacked one); a larger
   * file is quarantined unread, so a zip bomb cannot fill memory (default 128 MiB).
   */
  maxEntryBytes?: number;
  /** Largest decompressed size of all files of one export; the files past it are quarantined unread (default 16 GiB). */
  maxTotalBytes?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_ENTRY_BYTES = 128 * 1024 * 1024;
export const DEFAULT_MAX_TOTAL_BYTES = 16 * 1024 * 1024 * 1024;

export type ConnectorErrorKind = 'auth' | 'permission' | 'rate_limit' | 'net' | 'bad_data' | 'config';

/**
 * A connector failure with its handling: `auth` and `config` stop that source with a clear message
 * (never a crash loop); `permission` skips one channel (recorded as a gap); `rate_limit` waits;
 * `net` retries with backoff. Messages never contain secrets.
 */
export class ConnectorError extends Error {
  constructor(
    readonly kind: ConnectorErrorKind,
    message: string,
    readonly source: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(`${source}: ${message}`, options);
    this.name = 'ConnectorError';
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

/** What a live connector factory gets from the runner. */
export interface ConnectorDeps {
  /** The source's name, for messages and ids. */
  source: string;
  now(): number;
  /** Sleeps, resolving early (with `false`) when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
  /** Structured log lines (never secrets). */
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One platform's entry in the registry: its config schema, which keys are secrets, and a factory. */
export interface ConnectorDefinition<Cfg = unknown, Cursor = unknown> {
  platform: Platform;
  /** Validates the `sources:` entry (after secrets are resolved); errors name the field. */
  configSchema: { safeParse(x: unknown): { success: true; data: Cfg } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } };
  secretKeys: string[];
  /** A fresh connector per configured source. */
  create(config: Cfg, deps: ConnectorDeps): import('../src/model/index.js').Connector<Cursor>;
}
