// IMAP connector (imapflow): resumable history by UID per mailbox, live through IDLE.
// PLATFORMS.md 5.7: UIDs only grow while UIDVALIDITY holds; `N:*` always includes the highest UID,
// so every range is filtered `uid > lastUid` here.
import { ImapFlow, type FetchMessageObject } from 'imapflow';
import type { Connector, Page } from '../../src/model/index.js';
import { mailConfigSchema, type MailConfig, type MailConfigInput } from './config.js';
import { emptyMailCursor, parseMailCursor, resumeUid, withMailbox, type MailboxState, type MailCursor } from './cursor.js';
import { decodeSource } from './mime-check.js';
import { normalizeMail, type MailRaw } from './normalize.js';

export const IMAP_PAGE_SIZE = 100;
const CONNECT_TIMEOUT_MS = 30_000;
/** IDLE is restarted this often: servers drop IDLE after ~30 min. */
const MAX_IDLE_MS = 5 * 60_000;

export type MailErrorCode = 'MAIL_AUTH' | 'MAIL_CONNECT' | 'MAIL_MAILBOX' | 'MAIL_CURSOR';

export class MailConnectorError extends Error {
  constructor(
    readonly code: MailErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MailConnectorError';
  }
}

/** Login refused. Stop the source and ask for new credentials; retrying does not help. */
export class MailAuthError extends MailConnectorError {
  constructor(
    readonly responseText: string,
    host: string,
    user: string,
    options?: { cause?: unknown },
  ) {
    super('MAIL_AUTH', `IMAP login refused for ${user} at ${host}: ${responseText || 'authentication failed'}. Check the user and password.`, options);
    this.name = 'MailAuthError';
  }
}

interface ImapErrorLike {
  message?: string;
  code?: string;
  responseText?: string;
  serverResponseCode?: string;
  authenticationFailed?: boolean;
}

/** The imapflow error without `executedCommand`/`response`, which may hold the LOGIN line and so the password. */
function safeCause(err: unknown): Error {
  const e = (err ?? {}) as ImapErrorLike;
  const safe = new Error(typeof e.message === 'string' ? e.message : String(err)) as Error & Omit<ImapErrorLike, 'message'>;
  if (e.code) safe.code = e.code;
  if (e.responseText) safe.responseText = e.responseText;
  if (e.serverResponseCode) safe.serverResponseCode = e.serverResponseCode;
  return safe;
}

/** Read through a call so control-flow narrowing does not assume the worker callbacks never set it. */
const failureOf = (holder: { error: Error | null }): Error | null => holder.error;

function responseTextOf(err: unknown): string {
  const e = (err ?? {}) as ImapErrorLike;
  return e.responseText ?? e.message ?? String(err);
}

function toMailRaw(m: FetchMessageObject, path: string, uidValidity: string): MailRaw | null {
  if (!m.source) return null;
  const decoded = decodeSource(m.source);
  const internal = m.internalDate ? new Date(m.internalDate).getTime() : NaN;
  return {
    kind: 'mail',
    format: 'imap',
    source: decoded.text,
    sourceEncoding: decoded.encoding,
    fromLine: null,
    archive: null,
    location: `imap:${path};UIDVALIDITY=${uidValidity};UID=${m.uid}`,
    mailbox: path,
    uid: m.uid,
    uidValidity,
    internalDate: Number.isFinite(internal) ? internal : null,
  };
}

interface MailboxBatch {
  path: string;
  state: MailboxState;
  items: MailRaw[];
}

class ImapSession {
  readonly client: ImapFlow;
  /** Set when the connection fails or closes underneath us. */
  failure: Error | null = null;
  private closedByUs = false;

  constructor(private readonly cfg: MailConfig) {
    this.client = new ImapFlow({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      auth: { user: cfg.user, pass: cfg.password },
      logger: false,
      disableAutoIdle: true,
      maxIdleTime: MAX_IDLE_MS,
      connectionTimeout: CONNECT_TIMEOUT_MS,
    });
    // Without a listener an 'error' event would crash the process.
    this.client.on('error', (err: unknown) => {
      this.failure ??= new MailConnectorError('MAIL_CONNECT', `IMAP connection to ${cfg.host}:${cfg.port} failed: ${responseTextOf(err)}`, { cause: safeCause(err) });
    });
    this.client.on('close', () => {
      if (!this.closedByUs) this.failure ??= new MailConnectorError('MAIL_CONNECT', `IMAP connection to ${cfg.host}:${cfg.port} closed by the server`);
    });
  }

  async connect(): Promise<void> {
    try {
      await this.client.connect();
    } catch (err: unknown) {
      this.closedByUs = true;
      if ((err as ImapErrorLike).authenticationFailed) throw new MailAuthError(responseTextOf(err), this.cfg.host, this.cfg.user, { cause: safeCause(err) });
      throw new MailConnectorError('MAIL_CONNECT', `cannot connect to IMAP ${this.cfg.host}:${this.cfg.port}: ${responseTextOf(err)}`, { cause: safeCause(err) });
    }
  }

  async close(): Promise<void> {
    if (this.closedByUs) return;
    this.closedByUs = true;
    try {
      await this.client.logout();
    } catch {
      this.client.close();
    }
  }

  /** Selects the mailbox and returns its UIDVALIDITY (decimal string) and message count. */
  async open(path: string): Promise<{ uidValidity: string; exists: number }> {
    try {
      const mb = await this.client.mailboxOpen(path);
      return { uidValidity: mb.uidValidity.toString(), exists: mb.exists };
    } catch (err: unknown) {
      throw new MailConnectorError('MAIL_MAILBOX', `cannot open IMAP mailbox "${path}" on ${this.cfg.host}: ${responseTextOf(err)}`, { cause: safeCause(err) });
    }
  }

  /**
   * New messages of the selected mailbox after `state.lastUid`, in UID order, in batches of
   * IMAP_PAGE_SIZE, each with the mailbox state after it. A changed UIDVALIDITY restarts at UID 1.
   */
  async *newMessages(path: string, cursor: MailCursor, signal: AbortSignal): AsyncGenerator<MailboxBatch> {
    const { uidValidity, exists } = await this.open(path);
    let lastUid = resumeUid(cursor, path, uidValidity);
    const known = cursor.mailboxes[path];
    let stateChanged = !known || known.uidValidity !== uidValidity;
    const found = exists === 0 ? [] : (await this.client.search({ uid: `${lastUid + 1}:*` }, { uid: true })) || [];
    const uids = [...new Set(found)].filter((u) => u > lastUid).sort((a, b) => a - b);
    for (let i = 0; i < uids.length; i += IMAP_PAGE_SIZE) {
      if (signal.aborted) return;
      const chunk = uids.slice(i, i + IMAP_PAGE_SIZE);
      const fetched = await this.client.fetchAll(chunk.join(','), { uid: true, source: true, internalDate: true }, { uid: true });
      const items = fetched
        .filter((m) => m.uid > lastUid)
        .sort((a, b) => a.uid - b.uid)
        .map((m) => toMailRaw(m, path, uidValidity))
        .filter((m): m is MailRaw => m !== null);
      // A UID expunged between SEARCH and FETCH is simply passed over.
      lastUid = Math.max(lastUid, ...chunk);
      stateChanged = false;
      yield { path, state: { uidValidity, lastUid }, items };
    }
    // Record a new or changed UIDVALIDITY even when there was nothing to read.
    if (stateChanged) yield { path, state: { uidValidity, lastUid }, items: [] };
  }
}

export function createMailConnector(input: MailConfigInput): Connector<MailCursor> {
  const cfg = mailConfigSchema.parse(input);

  const startCursor = (from: MailCursor | undefined): MailCursor => {
    if (from === undefined) return emptyMailCursor();
    try {
      return parseMailCursor(from);
    } catch (err: unknown) {
      throw new MailConnectorError('MAIL_CURSOR', 'stored mail cursor is not a v1 cursor { v: 1, mailboxes: { path: { uidValidity, lastUid } } }', { cause: err });
    }
  };

  async function* history(from: MailCursor | undefined, signal: AbortSignal): AsyncIterable<Page<MailCursor>> {
    let cursor = startCursor(from);
    if (signal.aborted) return;
    const session = new ImapSession(cfg);
    await session.connect();
    const onAbort = (): void => void session.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (const path of cfg.mailboxes) {
        for await (const batch of session.newMessages(path, cursor, signal)) {
          cursor = withMailbox(cursor, batch.path, batch.state);
          yield { items: batch.items, cursor };
          if (signal.aborted) return;
        }
        if (signal.aborted) return;
      }
    } catch (err: unknown) {
      if (signal.aborted) return;
      throw session.failure ?? err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await session.close();
    }
  }

  /**
   * Catches up from `since`, then waits in IDLE and yields new messages as they arrive. One connection
   * per mailbox (IDLE watches only the selected one); ends when `signal` aborts, throws when a
   * connection fails.
   */
  async function* live(since: MailCursor | undefined, signal: AbortSignal): AsyncIterable<Page<MailCursor>> {
    let cursor = startCursor(since);
    if (signal.aborted) return;
    const inner = new AbortController();
    const stop = (): void => inner.abort();
    signal.addEventListener('abort', stop, { once: true });

    const queue: Array<{ batch: MailboxBatch; taken: () => void }> = [];
    // A holder, not a `let`: it is set from the workers' callbacks, which control-flow narrowing does not see.
    const failed: { error: Error | null } = { error: null };
    let running = cfg.mailboxes.length;
    let wakeConsumer: (() => void) | null = null;
    const poke = (): void => {
      const w = wakeConsumer;
      wakeConsumer = null;
      w?.();
    };
    inner.signal.addEventListener('abort', poke, { once: true });
    const sessions: ImapSession[] = [];

    const watch = async (path: string, start: MailCursor): Promise<void> => {
      const session = new ImapSession(cfg);
      sessions.push(session);
      let pending = true;
      let wakeWorker: (() => void) | null = null;
      const wake = (): void => {
        const w = wakeWorker;
        wakeWorker = null;
        w?.();
      };
      session.client.on('exists', (ev: { path: string }) => {
        if (ev.path === path) {
          pending = true;
          wake();
        }
      });
      session.client.on('close', wake);
      inner.signal.addEventListener(
        'abort',
        () => {
          wake();
          void session.close();
        },
        { once: true },
      );
      let mine = start;
      await session.connect();
      while (!inner.signal.aborted) {
        if (session.failure) throw session.failure;
        if (pending) {
          pending = false;
          for await (const batch of session.newMessages(path, mine, inner.signal)) {
            mine = withMailbox(mine, batch.path, batch.state);
            await new Promise<void>((taken) => {
              queue.push({ batch, taken });
              poke();
            });
            if (inner.signal.aborted) return;
          }
          continue;
        }
        const woken = new Promise<void>((resolve) => (wakeWorker = resolve));
        // Not awaited: IDLE ends by itself when the next command (the fetch) is sent.
        session.client.idle().catch(() => undefined);
        await woken;
      }
    };

    const workers = cfg.mailboxes.map((path) =>
      watch(path, cursor)
        .catch((err: unknown) => {
          if (!inner.signal.aborted) {
            failed.error ??= err instanceof Error ? err : new MailConnectorError('MAIL_CONNECT', String(err));
            inner.abort();
          }
        })
        .finally(() => {
          running -= 1;
          poke();
        }),
    );

    try {
      for (;;) {
        const next = queue.shift();
        if (next) {
          cursor = withMailbox(cursor, next.batch.path, next.batch.state);
          yield { items: next.batch.items, cursor };
          next.taken();
          continue;
        }
        if (failed.error) throw failed.error;
        if (inner.signal.aborted || running === 0) break;
        await new Promise<void>((resolve) => (wakeConsumer = resolve));
      }
      const late = failureOf(failed);
      if (late) throw late;
    } finally {
      signal.removeEventListener('abort', stop);
      inner.abort();
      for (const q of queue.splice(0)) q.taken();
      await Promise.allSettled(sessions.map((s) => s.close()));
      await Promise.allSettled(workers);
    }
  }

  return {
    platform: 'mail',
    capabilities: { history: true, live: true, edits: false, threads: true },
    history,
    live,
    normalize: normalizeMail,
  };
}
