// One typed request/reply over a helper thread, both ends. The caller's end numbers its requests,
// matches each reply to its request, fails a call that gets no answer in time, holds the thread (ref)
// only while a reply is awaited, and fails every waiting call when the thread dies. The thread's end
// (`serveRequests`) answers each numbered request with the handler's value or its error.
import { parentPort, type Worker } from 'node:worker_threads';
import { stopHelperThread } from './helper-thread.js';

/** A request as posted: `seq` null when no reply is wanted. */
export interface Envelope<Req> {
  seq: number | null;
  body: Req;
}
export type Reply<Rep> = { seq: number; ok: true; value: Rep } | { seq: number; ok: false; error: string };

/** Why a call failed: the thread refused it (its handler threw), gave no answer in time, or died. */
export class ThreadCallError extends Error {
  constructor(
    readonly why: 'refused' | 'timeout' | 'died',
    message: string,
  ) {
    super(message);
    this.name = 'ThreadCallError';
  }
}

export class RequestChannel<Req, Rep> {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (r: Rep) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closed = false;
  /** Why the thread is gone (null while it runs). */
  dead: Error | null = null;

  /** `name` names the thread in errors; `onDeath` hears of a thread that failed or exited unasked. */
  constructor(
    readonly worker: Worker,
    private readonly name: string,
    private readonly onDeath: (err: Error) => void = () => {},
  ) {
    worker.unref();
    worker.on('message', (r: Reply<Rep>) => this.answer(r));
    worker.on('error', (err) => this.die(err));
    worker.on('exit', (code) => this.die(new ThreadCallError('died', `${name} exited with code ${code}`)));
  }

  /** Posts `body` and resolves with the thread's answer. */
  call(body: Req, timeoutMs: number): Promise<Rep> {
    if (this.dead) return Promise.reject(this.dead);
    const seq = ++this.seq;
    return new Promise<Rep>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        if (!this.waiting.size) this.worker.unref();
        reject(new ThreadCallError('timeout', `${this.name} gave no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.waiting.set(seq, { resolve, reject, timer });
      this.worker.ref(); // a reply is awaited: the process must not exit under it
      this.worker.postMessage({ seq, body } satisfies Envelope<Req>);
    });
  }

  /** Posts `body` with no reply wanted. */
  post(body: Req): void {
    if (!this.dead) this.worker.postMessage({ seq: null, body } satisfies Envelope<Req>);
  }

  private answer(r: Reply<Rep>): void {
    const w = this.waiting.get(r.seq);
    if (!w) return;
    clearTimeout(w.timer);
    this.waiting.delete(r.seq);
    if (!this.waiting.size) this.worker.unref();
    if (r.ok) w.resolve(r.value);
    else w.reject(new ThreadCallError('refused', r.error));
  }

  private failWaiting(err: Error): void {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiting.clear();
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    this.failWaiting(err);
    if (!this.closed) this.onDeath(err);
  }

  /** Drops the thread now: its waiting calls fail with `err`, and it is terminated (not awaited). */
  kill(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    this.failWaiting(err);
    void this.worker.terminate();
  }

  /** Stops the thread without reporting it as a death; waiting calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.dead) {
      this.dead = new ThreadCallError('died', `${this.name} closed`);
      this.failWaiting(this.dead);
    }
    await stopHelperThread(this.worker);
  }
}

/** The thread's end: answers each request with `handle`'s value (or its error); requests posted without a number get no answer. */
export function serveRequests<Req, Rep>(handle: (body: Req) => Rep): void {
  const port = parentPort;
  if (!port) return;
  port.on('message', (m: Envelope<Req>) => {
    let reply: Reply<Rep> | null = null;
    try {
      const value = handle(m.body);
      if (m.seq !== null) reply = { seq: m.seq, ok: true, value };
    } catch (err: unknown) {
      if (m.seq !== null) reply = { seq: m.seq, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    if (reply) port.postMessage(reply);
  });
}
