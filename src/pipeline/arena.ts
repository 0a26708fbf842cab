// Compact storage for the grouping index's per-item arrays and neighbour lists. A process that keeps a
// million items' frequencies paid for a backing store per small typed array (several per item) and for
// a Map per item's neighbours; here they are cut from large shared buffers. Pure: no I/O.

/** Elements per slab (4 MB of 32-bit values). */
const SLAB = 1 << 20;

/** Small typed arrays cut from large shared buffers (views that live as long as the items they belong to). */
export class Slab {
  private ints = new Int32Array(0);
  private intsAt = 0;
  private floats = new Float32Array(0);
  private floatsAt = 0;

  /** A zeroed Int32Array of `n` elements. */
  int32(n: number): Int32Array {
    if (n > SLAB >> 4) return new Int32Array(n);
    if (this.intsAt + n > this.ints.length) {
      this.ints = new Int32Array(SLAB);
      this.intsAt = 0;
    }
    const v = this.ints.subarray(this.intsAt, this.intsAt + n);
    this.intsAt += n;
    return v;
  }

  /** A zeroed Float32Array of `n` elements. */
  float32(n: number): Float32Array {
    if (n > SLAB >> 4) return new Float32Array(n);
    if (this.floatsAt + n > this.floats.length) {
      this.floats = new Float32Array(SLAB);
      this.floatsAt = 0;
    }
    const v = this.floats.subarray(this.floatsAt, this.floatsAt + n);
    this.floatsAt += n;
    return v;
  }

  /** A copy of `a` in the slab. */
  copyInt32(a: Int32Array): Int32Array {
    const v = this.int32(a.length);
    v.set(a);
    return v;
  }

  copyFloat32(a: Float32Array): Float32Array {
    const v = this.float32(a.length);
    v.set(a);
    return v;
  }
}

/** The head and tail edge of one item's list in {@link EdgeLists} (-1 when empty). */
export interface EdgeList {
  head: number;
  tail: number;
}

/**
 * Append-only lists of (neighbour id, similarity) edges, all in three growable typed arrays, each list
 * walked in the order its edges were appended (as a Map's insertion order).
 */
export class EdgeLists {
  private to = new Int32Array(1024);
  private sim = new Float64Array(1024);
  private next = new Int32Array(1024);
  private n = 0;

  static empty(): EdgeList {
    return { head: -1, tail: -1 };
  }

  push(list: EdgeList, to: number, sim: number): void {
    if (this.n === this.to.length) {
      const size = this.n * 2;
      const to = new Int32Array(size);
      to.set(this.to);
      this.to = to;
      const sim = new Float64Array(size);
      sim.set(this.sim);
      this.sim = sim;
      const next = new Int32Array(size);
      next.set(this.next);
      this.next = next;
    }
    const e = this.n++;
    this.to[e] = to;
    this.sim[e] = sim;
    this.next[e] = -1;
    if (list.tail >= 0) this.next[list.tail] = e;
    else list.head = e;
    list.tail = e;
  }

  forEach(list: EdgeList, f: (to: number, sim: number) => void): void {
    for (let e = list.head; e >= 0; e = this.next[e]!) f(this.to[e]!, this.sim[e]!);
  }

  /** Edges stored, over all lists. */
  get size(): number {
    return this.n;
  }
}
