// Feedback detection for a batch of conversations, shared between this thread and worker threads.
// Detection is pure CPU work (features, the linear model, sentiment, rules) and most of the enrich
// stage's time; on a machine with more than one core it runs on a helper thread as well as here,
// while this thread stays free for the store and the queue. The result is the same either way:
// detectFeedback is pure and every thread loads the same model file.
//
// GLEANER_THREADS sets the number of helper threads (0: all here). A helper that fails (crash, a model
// file that changed underneath it) is dropped and its chunk is detected here; after a few such
// failures the pool stops starting helpers for the rest of the process.
import { availableParallelism } from 'node:os';
import { helperThreadPath, startHelperThread, stopHelperThread } from './helper-thread.js';
import { RequestChannel } from './channel.js';
import type { ConversationMessage, DetectedFeedback, TagRule } from '../pipeline/feedback.js';

export interface DetectJob {
  /** The version of the model this thread detects with; a helper with another model refuses the job. */
  modelVersion: string;
  rules: readonly TagRule[];
  rulesVersion: string;
  conversations: ReadonlyArray<readonly ConversationMessage[]>;
}

/** Conversations per message to a helper: big enough that a round trip is noise, small enough to share. */
const CHUNK = 32;
/** How long a helper may take to answer a chunk before it is taken for stuck. */
const CALL_TIMEOUT_MS = 60_000;
/** A turn of the event loop slower than this (ms) means this thread has other work than detecting. */
const BUSY_TURN_MS = 2;
/** Helper failures after which the process detects everything on its own thread. */
const MAX_FAILURES = 3;

/** How many helper threads to use: GLEANER_THREADS, else one fewer than the cores (at most 3). */
export function detectThreads(): number {
  const env = process.env.GLEANER_THREADS;
  if (env !== undefined && /^\d+$/.test(env.trim())) return Number(env.trim());
  return Math.min(Math.max(availableParallelism() - 1, 0), 3);
}

/** One detection thread: a request/reply channel, and whether it came up. */
class Helper {
  readonly channel: RequestChannel<DetectJob, Array<DetectedFeedback | null>>;
  readonly ready: Promise<boolean>;

  constructor(
    onDeath: (err: Error) => void,
    private readonly callTimeoutMs: number,
  ) {
    const worker = startHelperThread('detect-worker');
    this.channel = new RequestChannel(worker, 'detection thread', onDeath);
    this.ready = new Promise<boolean>((resolve) => {
      worker.once('online', () => resolve(true));
      worker.once('exit', () => resolve(false));
      worker.once('error', () => resolve(false));
    });
  }

  get dead(): Error | null {
    return this.channel.dead;
  }

  /**
   * Drops this helper: its calls still waiting fail now (their chunks are detected elsewhere; a call
   * posted but not answered before the thread stopped would otherwise wait for its timeout).
   */
  kill(err: Error): void {
    this.channel.kill(err);
  }

  call(job: DetectJob): Promise<Array<DetectedFeedback | null>> {
    // A chunk takes milliseconds: a helper silent this long is stuck, and its chunk is done here.
    return this.channel.call(job, this.callTimeoutMs);
  }
}

export class DetectPool {
  private helpers: Helper[] = [];
  private failures = 0;
  private warned = false;

  constructor(
    private readonly threads: number,
    private readonly onError: (message: string) => void = () => {},
    /** How long a helper may take to answer a chunk before it is taken for stuck. */
    private readonly callTimeoutMs = CALL_TIMEOUT_MS,
  ) {}

  /** Whether helper threads can be used: wanted, and the worker file exists beside this module. */
  private usable(): boolean {
    if (this.threads <= 0 || this.failures >= MAX_FAILURES) return false;
    const file = helperThreadPath('detect-worker');
    if (file.present) return true;
    if (!this.warned) {
      this.warned = true;
      this.onError(`detection threads off: ${file.path} not found`);
    }
    return false;
  }

  private live(): Helper[] {
    this.helpers = this.helpers.filter((h) => !h.dead);
    while (this.helpers.length < this.threads && this.usable()) {
      this.helpers.push(
        new Helper((err) => {
          this.failures++;
          this.onError(`detection thread failed (${this.failures}/${MAX_FAILURES}): ${err.message}`);
        }, this.callTimeoutMs),
      );
    }
    return this.helpers;
  }

  /**
   * The detection of every conversation, in order. Chunks go to whichever thread is free: this one
   * between its own chunks yields to the event loop, so replies (and other jobs) get their turn.
   */
  async detect(job: DetectJob, here: (messages: readonly ConversationMessage[]) => DetectedFeedback | null): Promise<Array<DetectedFeedback | null>> {
    const convs = job.conversations;
    const out = new Array<DetectedFeedback | null>(convs.length).fill(null);
    const chunks: Array<[number, number]> = [];
    for (let i = 0; i < convs.length; i += CHUNK) chunks.push([i, Math.min(convs.length, i + CHUNK)]);
    if (!chunks.length) return out;
    let next = 0;
    let done = 0;
    let finish!: () => void;
    const all = new Promise<void>((resolve) => (finish = resolve));
    const complete = () => {
      if (++done === chunks.length) finish();
    };
    const local = ([a, b]: [number, number]) => {
      for (let k = a; k < b; k++) out[k] = here(convs[k]!);
      complete();
    };
    const helpers = chunks.length > 1 ? this.live() : [];
    // Two chunks in flight per helper: it starts the next one while this thread is busy with its own.
    for (const h of [...helpers, ...helpers]) {
      void (async () => {
        if (!(await h.ready)) return;
        while (next < chunks.length && !h.dead) {
          const chunk = chunks[next++]!;
          try {
            const detected = await h.call({ modelVersion: job.modelVersion, rules: job.rules, rulesVersion: job.rulesVersion, conversations: convs.slice(chunk[0], chunk[1]) });
            if (detected.length !== chunk[1] - chunk[0]) throw new Error(`detection thread answered ${detected.length} of ${chunk[1] - chunk[0]}`);
            for (let k = 0; k < detected.length; k++) out[chunk[0] + k] = detected[k]!;
            complete();
          } catch (err: unknown) {
            // Detected here instead; a helper that failed (another model, no answer) is not asked again.
            if (!h.dead) {
              const e = err instanceof Error ? err : new Error(String(err));
              h.kill(e);
              this.failures++;
              this.onError(`detection thread failed a chunk: ${e.message}`);
            }
            local(chunk);
          }
        }
      })();
    }
    // This thread takes a chunk itself only when it has nothing else to do: a turn of the event loop
    // that came back slowly means other work ran (the cluster stage, an ingest), and this thread's time
    // is worth more there while the helpers take the chunks.
    let first = true;
    while (next < chunks.length) {
      if (helpers.length && !first) {
        const t = performance.now();
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (next >= chunks.length || (performance.now() - t > BUSY_TURN_MS && helpers.some((h) => !h.dead))) continue;
      }
      first = false;
      local(chunks[next++]!);
    }
    await all;
    return out;
  }

  async close(): Promise<void> {
    const hs = this.helpers;
    this.helpers = [];
    await Promise.all(
      hs.map((h) => {
        h.kill(new Error('detection threads closed'));
        return stopHelperThread(h.channel.worker);
      }),
    );
  }
}
