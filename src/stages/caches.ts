// What the stage shells keep between jobs in one process, one object per kind, owned by the app's
// services (src/services.ts): built with the app, dropped with it. Data only; the shells use it.
import type { NeedGrouper } from '../pipeline/grouping.js';
import type { CompiledRule } from '../pipeline/feedback.js';
import type { TagSuggester } from '../pipeline/suggest.js';
import type { Config } from '../config/index.js';
import { ChannelThreader } from '../pipeline/chat-threads.js';
import { loadDisentangleModel } from '../models/disentangle.js';
import { LinkAhead } from '../threads/link-ahead.js';

export interface ClusterIndexState {
  grouper: NeedGrouper;
  version: string;
}

export class ClusterCache {
  /** The in-memory index of placed items, built from the store on first use. */
  index: Promise<ClusterIndexState> | null = null;
  /** One job at a time in this process: the index is shared state. */
  lock: Promise<unknown> = Promise.resolve();
  /** Cluster id -> how many of its first items there were when this process last described it. */
  describedAt = new Map<number, number>();
  /** Per config: the newest identity id when the people config was last applied. */
  peopleApplied = new WeakMap<Config, number>();

  /** Drops the index and what it knew (tests; after a bulk re-import). */
  forget(): void {
    this.index = null;
    this.describedAt = new Map();
    this.peopleApplied = new WeakMap();
  }
}

export class EnrichCache {
  /** The tag rules compiled, for the config they came from. */
  rules: { config: Config; rules: CompiledRule[]; version: string } | null = null;
  /** Tag suggestions learnt from human decisions, with when their examples were loaded. */
  suggester: { suggester: TagSuggester; loadedAt: number } | null = null;
}

/** The ingest stage's helpers: the threader (each channel's recent stream between batches) and the thread that links ahead. */
export class IngestHelpers {
  private threaderOnce: ChannelThreader | null = null;
  private aheadOnce: LinkAhead | null = null;

  constructor(private readonly onError: (message: string) => void) {}

  threader(): ChannelThreader {
    return (this.threaderOnce ??= new ChannelThreader(loadDisentangleModel()));
  }

  /** The link-ahead helper once a bulk import asked for it (started then; undefined when it cannot be used). */
  linkAhead(start: boolean): LinkAhead | undefined {
    if (!this.aheadOnce && start) {
      const ahead = new LinkAhead(this.onError);
      if (!ahead.usable) return undefined;
      this.aheadOnce = ahead;
    }
    return this.aheadOnce ?? undefined;
  }

  /** How many channel batches took links made ahead, and how many were linked here after all. */
  linkAheadStats(): { taken: number; missed: number } {
    const s = this.aheadOnce?.stats ?? { taken: 0, missed: 0 };
    return { taken: s.taken, missed: s.missed };
  }

  private judgedAt = { taken: 0, rejected: 0 };
  private poor = false;
  private skipped = 0;

  /**
   * Whether a worker should have its next job's lines linked ahead. Links made ahead stand only when
   * this process stored the batch before (several workers taking turns on one source: they seldom do);
   * while most were rejected, only every 16th job is linked ahead, to see whether that changed.
   */
  aheadWorthIt(): boolean {
    const s = this.aheadOnce?.stats;
    if (s) {
      const taken = s.taken - this.judgedAt.taken;
      const rejected = s.rejected - this.judgedAt.rejected;
      if (taken + rejected >= 24) {
        this.poor = rejected > taken;
        this.judgedAt = { taken: s.taken, rejected: s.rejected };
      }
    }
    return !this.poor || ++this.skipped % 16 === 0;
  }

  private storing = 0;
  private readonly waiters: Array<() => void> = [];

  /** Runs `store` when fewer than `permits` batches are being stored in this process, in the order asked. */
  async inTurn<T>(permits: number, store: () => Promise<T>): Promise<T> {
    if (this.storing < permits) this.storing++;
    else await new Promise<void>((resolve) => this.waiters.push(resolve));
    try {
      return await store();
    } finally {
      const next = this.waiters.shift();
      if (next)
        next(); // the permit passes on
      else this.storing--;
    }
  }

  async close(): Promise<void> {
    const ahead = this.aheadOnce;
    this.aheadOnce = null;
    await ahead?.close();
  }
}
