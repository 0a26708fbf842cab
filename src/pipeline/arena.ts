// Compact storage for the grouping index's per-item arrays and neighbour lists. A process that keeps a
// million items' frequencies paid for a backing store per small typed array (several per item) and for
// a Map per item's neighbours; here they are cut from large shared buffers. Pure: no I/O.

type Growable = Int32Array | Float32Array | Float64Array;

/** A copy of `a` in a new array of the same type, `size` long (at least as long as `a`): growing a flat store. */
export function grown<T extends Growable>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

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

/** Edges per page: pages are added as edges are, never copied (no doubling: no spare half and no peak of old and new arrays). */
const PAGE_BITS = 16;
const PAGE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE - 1;

/**
 * Append-only lists of (neighbour id, similarity) edges, in fixed-size typed-array pages, each list
 * walked in the order its edges were appended (as a Map's insertion order). Edges come in pairs, the
 * two directions of one link, which share one similarity.
 */
export class EdgeLists {
  private readonly toPages: Int32Array[] = [];
  private readonly nextPages: Int32Array[] = [];
  /** One per pair (edge e's is at e >> 1). */
  private readonly simPages: Float64Array[] = [];
  private n = 0;

  static empty(): EdgeList {
    return { head: -1, tail: -1 };
  }

  /** Appends `b` to list `a` and `a` to list `b`, both with `sim`. */
  pushPair(a: EdgeList, aTo: number, b: EdgeList, bTo: number, sim: number): void {
    const e = this.n;
    if ((e & PAGE_MASK) === 0) {
      this.toPages.push(new Int32Array(PAGE));
      this.nextPages.push(new Int32Array(PAGE));
      this.simPages.push(new Float64Array(PAGE >> 1));
    }
    this.simPages[e >> PAGE_BITS]![(e & PAGE_MASK) >> 1] = sim;
    this.append(a, e, aTo);
    this.append(b, e + 1, bTo);
    this.n += 2;
  }

  private append(list: EdgeList, e: number, to: number): void {
    this.toPages[e >> PAGE_BITS]![e & PAGE_MASK] = to;
    this.nextPages[e >> PAGE_BITS]![e & PAGE_MASK] = -1;
    if (list.tail >= 0) this.nextPages[list.tail >> PAGE_BITS]![list.tail & PAGE_MASK] = e;
    else list.head = e;
    list.tail = e;
  }

  forEach(list: EdgeList, f: (to: number, sim: number) => void): void {
    for (let e = list.head; e >= 0;) {
      const page = e >> PAGE_BITS;
      const at = e & PAGE_MASK;
      f(this.toPages[page]![at]!, this.simPages[page]![at >> 1]!);
      e = this.nextPages[page]![at]!;
    }
  }

  /** A list's first edge (-1 when empty); then {@link next} until -1. A walk without a callback per edge. */
  first(list: EdgeList): number {
    return list.head;
  }

  next(e: number): number {
    return this.nextPages[e >> PAGE_BITS]![e & PAGE_MASK]!;
  }

  /** The neighbour an edge leads to. */
  to(e: number): number {
    return this.toPages[e >> PAGE_BITS]![e & PAGE_MASK]!;
  }

  /** Whether `e` went to pushPair's `a` list (the edge appended to `b`'s is then e + 1). */
  static isFirstOfPair(e: number): boolean {
    return (e & 1) === 0;
  }

  /** An edge's similarity. */
  sim(e: number): number {
    return this.simPages[e >> PAGE_BITS]![(e & PAGE_MASK) >> 1]!;
  }

  /** Edges stored, over all lists. */
  get size(): number {
    return this.n;
  }
}
