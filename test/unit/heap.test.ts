// boundHeapGrowth: the percentage V8 may grow the heap over the live size, from the environment.
import { describe, expect, it } from 'vitest';
import { DEFAULT_HEAP_GROWTH_PERCENT, boundHeapGrowth } from '../../src/heap.js';

describe('boundHeapGrowth', () => {
  it('uses the default without GLEANER_HEAP_GROWTH_PERCENT, and the value given otherwise', () => {
    expect(boundHeapGrowth({})).toBe(DEFAULT_HEAP_GROWTH_PERCENT);
    expect(boundHeapGrowth({ GLEANER_HEAP_GROWTH_PERCENT: '80' })).toBe(80);
    expect(boundHeapGrowth({ GLEANER_HEAP_GROWTH_PERCENT: ' 0 ' })).toBe(0);
    expect(boundHeapGrowth({ GLEANER_HEAP_GROWTH_PERCENT: '' })).toBe(DEFAULT_HEAP_GROWTH_PERCENT);
  });

  it('refuses a value that is not a whole number of percent, naming it', () => {
    for (const bad of ['-5', '1.5', 'lots', '50%']) {
      expect(() => boundHeapGrowth({ GLEANER_HEAP_GROWTH_PERCENT: bad })).toThrow(new RegExp(`GLEANER_HEAP_GROWTH_PERCENT.*${JSON.stringify(bad).replace(/[.%]/g, '\\$&')}`));
    }
  });
});
