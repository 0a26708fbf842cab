// One Slack Socket Mode connection, over @slack/socket-mode's SocketModeClient (apps.connections.open
// with the app token, the WebSocket, `hello`, pings, acks): buffers event envelopes, acknowledges them
// when asked, and ends on `disconnect`, close, error or abort. The client's own reconnecting is off: the
// connector's live side opens a session per connection, each with its catch-up pull.
import { SocketModeClient, LogLevel, type Logger } from '@slack/socket-mode';
import type { WebClientOptions } from '@slack/web-api';
import type { ConnectorDeps } from '../types.js';
import type { SlackMessage } from './normalize.js';

/** A Socket Mode envelope (only the keys read here). */
export interface SocketEnvelope {
  envelope_id?: string;
  type?: string;
  payload?: { event?: SlackMessage & { channel?: string } };
}

/** Disconnect reasons after which Slack expects an immediate reconnect. */
export const REFRESH_REASONS = new Set(['refresh_requested', 'warning']);

/** The one-time ticket of a Socket Mode URL stays out of the logs. */
const redact = (s: string): string => s.replace(/ticket=[^&\s]*/g, 'ticket=…');

/** The client's log lines into the connector's log: warnings and errors only (its debug lines carry whole frames). */
function clientLogger(log: ConnectorDeps['log']): Logger {
  const line = (msg: unknown[]) => redact(`socket mode: ${msg.map(String).join(' ')}`);
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (...msg: unknown[]) => log('warn', line(msg)),
    error: (...msg: unknown[]) => log('warn', line(msg)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.WARN,
    setName: () => undefined,
  };
}

interface SlackEvent {
  type?: string;
  envelope_id?: string;
  body?: SocketEnvelope['payload'];
  ack: () => Promise<void>;
}

/**
 * One Socket Mode connection: `start` opens it, then envelopes are buffered, acked on request, and the
 * session ends on `disconnect`, close, error or abort. `next()` hands out everything buffered, or null
 * once the connection ended and the buffer is empty.
 */
export class SocketSession {
  private readonly client: SocketModeClient;
  private readonly queue: SocketEnvelope[] = [];
  private readonly acks = new Map<string, () => Promise<void>>();
  private wake: (() => void) | null = null;
  private closing = false;
  ended: string | null = null;
  /** The `disconnect` reason, when Slack sent one. */
  disconnectReason: string | null = null;

  constructor(
    opts: { appToken: string; clientOptions: Omit<WebClientOptions, 'logLevel' | 'logger'> },
    private readonly signal: AbortSignal,
    private readonly log: ConnectorDeps['log'],
  ) {
    this.client = new SocketModeClient({ appToken: opts.appToken, autoReconnectEnabled: false, logger: clientLogger(log), clientOptions: opts.clientOptions });
    // The client's own frame handler is async and throws on an events_api envelope without an event:
    // its rejection is caught here, so a bad frame is logged and skipped, not an unhandled rejection.
    for (const handler of this.client.listeners('ws_message')) {
      this.client.off('ws_message', handler);
      this.client.on('ws_message', (...args: unknown[]) => {
        Promise.resolve(handler(...args)).catch((err: unknown) => this.log('warn', redact(`socket mode: a frame was skipped: ${err instanceof Error ? err.message : String(err)}`)));
      });
    }
    this.client.on('slack_event', (e: SlackEvent) => this.onEnvelope(e));
    // The client reads `disconnect` frames itself and closes; the reason is taken here from the same frame.
    this.client.on('ws_message', (data: unknown, isBinary: boolean) => this.onFrame(data, isBinary));
    this.client.on('error', (err: Error) => {
      if (this.ended === null) this.ended = 'error';
      this.log('warn', redact(`socket mode connection error: ${err.message}`));
    });
    this.client.on('disconnected', () => this.end('closed'));
    signal.addEventListener('abort', this.abort, { once: true });
  }

  private readonly abort = (): void => {
    this.end('aborted');
  };

  /**
   * Opens the connection (apps.connections.open, then the socket): true on `hello`, false when the
   * connection ends first or `helloTimeoutMs` passes after the URL came. Throws what apps.connections.open threw.
   */
  async start(helloTimeoutMs: number): Promise<boolean> {
    if (this.ended !== null) return false;
    let timer: NodeJS.Timeout | undefined;
    const noHello = new Promise<false>((resolve) => {
      this.client.once('authenticated', () => {
        timer = setTimeout(() => {
          this.end('no hello');
          resolve(false);
        }, helloTimeoutMs);
      });
    });
    try {
      // start() rejects with nothing when the connection closed before `hello`, with the Web API's error otherwise.
      const hello = await Promise.race([this.client.start().then(() => true), noHello]);
      if (hello && this.ended !== null) {
        // Ended (aborted) while the URL was fetched: the client connected after all; close it again.
        await this.client.disconnect();
        return false;
      }
      return hello;
    } catch (err: unknown) {
      if (err === undefined || this.ended !== null) return false;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private onFrame(data: unknown, isBinary: boolean): void {
    if (isBinary) return;
    let frame: { type?: unknown; reason?: unknown };
    try {
      frame = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer)) as typeof frame;
    } catch {
      this.log('warn', 'socket mode: a frame that is not JSON was ignored');
      return;
    }
    if (frame?.type !== 'disconnect') return;
    const reason = typeof frame.reason === 'string' ? frame.reason : 'unknown';
    if (this.ended === null) {
      this.ended = `disconnect: ${reason}`;
      this.disconnectReason = reason;
    }
  }

  private onEnvelope(e: SlackEvent): void {
    if (typeof e.envelope_id !== 'string') return;
    if (e.type === 'events_api') {
      this.acks.set(e.envelope_id, e.ack);
      this.queue.push({ envelope_id: e.envelope_id, type: e.type, ...(e.body ? { payload: e.body } : {}) });
      this.wakeUp();
      return;
    }
    // Slash commands, interactivity and the like are not ours: acknowledge so Slack does not retry them.
    e.ack().catch(() => undefined);
  }

  private end(why: string): void {
    if (this.ended === null) this.ended = why;
    this.close();
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Everything buffered (waiting for at least one envelope), or null when the connection ended. */
  async next(): Promise<SocketEnvelope[] | null> {
    for (;;) {
      if (this.signal.aborted) return null;
      if (this.queue.length) return this.queue.splice(0);
      if (this.ended !== null) return null;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Acknowledges envelopes; a closed connection drops the acks (Slack redelivers, the catch-up covers). */
  ack(ids: string[]): void {
    for (const id of ids) {
      const ack = this.acks.get(id);
      this.acks.delete(id);
      ack?.().catch(() => undefined);
    }
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.signal.removeEventListener('abort', this.abort);
    this.client.disconnect().catch(() => undefined);
  }
}
