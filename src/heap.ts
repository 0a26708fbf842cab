// How far V8 lets a process's heap grow past what is live before a full collection. When collecting
// is cheap, V8 lets the old generation grow to up to four times the live size: the digest of a
// million-message store, run beside the cluster stage's index (about 420 MB live), took the process
// to 1.9 GB before the next full collection (bench/e2e.ts). Gleaner's processes keep one large
// long-lived structure and stream rows through the rest, so half again over the live size is room
// enough: the same digest then peaks under 0.9 GB, at a few more (short) full collections.
import v8 from 'node:v8';

/** The heap may grow by this percentage over the live size before a full collection (V8's --heap-growing-percent). */
export const DEFAULT_HEAP_GROWTH_PERCENT = 50;

let applied: number | null = null;

/**
 * Sets V8's heap growing factor for this process (all its threads), once: GLEANER_HEAP_GROWTH_PERCENT,
 * else DEFAULT_HEAP_GROWTH_PERCENT; 0 leaves V8's own heuristics. Returns the percentage in force
 * (0: V8's own); a value that is not a whole number is refused with an error naming it.
 */
export function boundHeapGrowth(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.GLEANER_HEAP_GROWTH_PERCENT?.trim();
  let percent = DEFAULT_HEAP_GROWTH_PERCENT;
  if (raw) {
    if (!/^\d+$/.test(raw)) throw new Error(`GLEANER_HEAP_GROWTH_PERCENT must be a whole number of percent (0 for V8's own heuristics), not ${JSON.stringify(raw)}`);
    percent = Number(raw);
  }
  if (applied === percent) return percent;
  // V8 reads the flag each time it sets the next collection's limit, so it takes effect at once.
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  applied = percent;
  return percent;
}
