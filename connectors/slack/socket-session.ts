// One Slack Socket Mode connection over `ws`: buffers event envelopes, acknowledges them when asked,
// and ends on `disconnect`, close, error or abort (the connector's live side opens one per session).
import { WebSocket } from 'ws';
import type { ConnectorDeps } from '../types.js';
import type { SlackMessage } from './normalize.js';

/** A Socket Mode envelope (only the keys read here). */
export interface SocketEnvelope {
  envelope_id?: string;
  type?: string;
  reason?: string;
  payload?: { event?: SlackMessage & { channel?: string } };
}

/** Disconnect reasons after which Slack expects an immediate reconnect. */
export const REFRESH_REASONS = new Set(['refresh_requested', 'warning']);

/**
 * One Socket Mode connection: buffers envelopes, acks on request, ends on `disconnect`, close, error
 * or abort. `next()` hands out everything buffered, or null once the connection ended and the buffer is empty.
 */
export class SocketSession {
  private readonly queue: SocketEnvelope[] = [];
  private wake: (() => void) | null = null;
  private helloSeen = false;
  private onHello: ((ok: boolean) => void) | null = null;
  ended: string | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly signal: AbortSignal,
    private readonly log: ConnectorDeps['log'],
  ) {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => this.onMessage(Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8')));
    ws.on('close', (code) => this.end(`closed (${code})`));
    ws.on('error', (err) => {
      this.log('warn', `socket mode connection error: ${err.message.replace(/ticket=[^&\s]*/g, 'ticket=…')}`);
      this.end('error');
    });
    signal.addEventListener('abort', this.abort, { once: true });
  }

  private readonly abort = (): void => {
    this.end('aborted');
  };

  private onMessage(text: string): void {
    let env: SocketEnvelope;
    try {
      env = JSON.parse(text) as SocketEnvelope;
    } catch {
      this.log('warn', 'socket mode: a frame that is not JSON was ignored');
      return;
    }
    if (!env || typeof env !== 'object') return;
    if (env.type === 'hello') {
      this.helloSeen = true;
      this.onHello?.(true);
      return;
    }
    if (env.type === 'disconnect') {
      this.end(`disconnect: ${typeof env.reason === 'string' ? env.reason : 'unknown'}`, env.reason);
      return;
    }
    if (env.type === 'events_api' && typeof env.envelope_id === 'string') {
      this.queue.push(env);
      this.wakeUp();
      return;
    }
    // Slash commands, interactivity and the like are not ours: acknowledge so Slack does not retry them.
    if (typeof env.envelope_id === 'string') this.ack([env.envelope_id]);
  }

  /** The `disconnect` reason, when Slack sent one. */
  disconnectReason: string | null = null;

  private end(why: string, disconnectReason?: string): void {
    if (this.ended === null) {
      this.ended = why;
      if (disconnectReason !== undefined) this.disconnectReason = disconnectReason;
    }
    this.onHello?.(false);
    this.close();
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves true on `hello`, false when the connection ends first or `timeoutMs` passes. */
  waitHello(timeoutMs: number): Promise<boolean> {
    if (this.helloSeen) return Promise.resolve(true);
    if (this.ended !== null) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.end('no hello');
        resolve(false);
      }, timeoutMs);
      this.onHello = (ok) => {
        clearTimeout(timer);
        this.onHello = null;
        resolve(ok);
      };
    });
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
    if (this.ws.readyState !== WebSocket.OPEN) return;
    for (const id of ids) this.ws.send(JSON.stringify({ envelope_id: id }));
  }

  close(): void {
    this.signal.removeEventListener('abort', this.abort);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      try {
        this.ws.close(1000);
      } catch {
        this.ws.terminate();
      }
    }
  }
}
