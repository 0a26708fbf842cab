// The max-heap of candidate merges grouping's average-linkage walks. Pure. Split out of grouping.ts.

export interface HeapEntry {
  score: number;
  a: number;
  b: number;
  va: number;
  vb: number;
  tie: number;
}

/** A max-heap of candidate merges: highest score first, then the earliest pair (canonical order). */
export class MergeHeap {
  private readonly h: HeapEntry[] = [];
  private better(x: HeapEntry, y: HeapEntry): boolean {
    return x.score > y.score + 1e-12 || (Math.abs(x.score - y.score) <= 1e-12 && x.tie < y.tie);
  }
  push(e: HeapEntry): void {
    const h = this.h;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): HeapEntry | undefined {
    const h = this.h;
    if (!h.length) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.better(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.better(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
