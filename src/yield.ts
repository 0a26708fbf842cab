// Long CPU work yields to the event loop now and then, so that timers run in between: BullMQ renews a
// job's lock from a timer, and a lock left unrenewed past its duration lets another worker take the job
// (a stalled job, processed twice). setTimeout, not setImmediate: timers run only in their own phase.

export type Yielder = () => Promise<void>;

/** A function to await in long loops: it yields at most every `everyMs` and costs nothing otherwise. */
export function cooperativeYield(everyMs = 50): Yielder {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < everyMs) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    last = performance.now();
  };
}
