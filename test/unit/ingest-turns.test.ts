// A worker that takes ingest jobs ahead stores them in the order it took them, at most `permits` at
// once (IngestHelpers.inTurn); fixed statements' in-lists are padded to a few lengths (inList).
import { describe, expect, it } from 'vitest';
import { IngestHelpers } from '../../src/stages/caches.js';
import { inList } from '../../src/store/bulk.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('IngestHelpers.inTurn', () => {
  it('stores one batch at a time in the order asked, whatever each one takes', async () => {
    const h = new IngestHelpers(() => {});
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const job = (name: string, ms: number) =>
      h.inTurn(1, async () => {
        running++;
        most = Math.max(most, running);
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        running--;
        return name;
      });
    const results = await Promise.all([job('a', 30), job('b', 1), job('c', 10)]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(most).toBe(1);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    await h.close();
  });

  it('lets `permits` run at once, and a failed batch passes its turn on', async () => {
    const h = new IngestHelpers(() => {});
    let running = 0;
    let most = 0;
    const job = (fail: boolean) =>
      h.inTurn(2, async () => {
        running++;
        most = Math.max(most, running);
        await tick();
        running--;
        if (fail) throw new Error('boom');
        return 'ok';
      });
    const results = await Promise.allSettled([job(false), job(true), job(false), job(false)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(most).toBe(2);
    // all permits are back: two more run at once again
    most = 0;
    await Promise.all([job(false), job(false)]);
    expect(most).toBe(2);
    await h.close();
  });
});

describe('inList', () => {
  it('pads to a power of two (at least 8) by repeating the last value', () => {
    expect(inList([1, 2, 3])).toEqual({ marks: Array(8).fill('?').join(', '), values: [1, 2, 3, 3, 3, 3, 3, 3] });
    const l = inList(Array.from({ length: 9 }, (_, i) => `k${i}`));
    expect(l.values).toHaveLength(16);
    expect(l.marks.split(', ')).toHaveLength(16);
    expect(new Set(l.values)).toEqual(new Set(Array.from({ length: 9 }, (_, i) => `k${i}`)));
  });

  it('refuses an empty list (in () is not SQL)', () => {
    expect(() => inList([])).toThrow(/empty/);
  });
});
