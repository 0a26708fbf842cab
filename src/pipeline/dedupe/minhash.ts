// MinHash signatures in typed arrays. Each of the numPerm "permutations" is a bijection on 32-bit
// values (xor a seed, multiply by an odd constant, xorshift), applied to well-mixed shingle hashes.

import { combine32, fmix32 } from './hash.js';

export const DEFAULT_NUM_PERM = 128;

export class MinHasher {
  readonly numPerm: number;
  private readonly mul: Uint32Array;
  private readonly xor: Uint32Array;

  constructor(numPerm = DEFAULT_NUM_PERM, seed = 1) {
    this.numPerm = numPerm;
    this.mul = new Uint32Array(numPerm);
    this.xor = new Uint32Array(numPerm);
    let s = fmix32(seed ^ 0x5bd1e995);
    for (let i = 0; i < numPerm; i++) {
      s = fmix32(s + 0x9e3779b9);
      this.mul[i] = (s | 1) >>> 0;
      s = fmix32(s + 0x9e3779b9);
      this.xor[i] = s;
    }
  }

  /**
   * Writes the signature of the set of shingle hashes hashes[0, count) into out[offset, offset+numPerm).
   * An empty set gets all 0xffffffff, which matches only other empty sets.
   */
  signature(hashes: Uint32Array | Int32Array, count: number, out: Uint32Array, offset = 0): void {
    const p = this.numPerm;
    const mul = this.mul;
    const xor = this.xor;
    // Minima are tracked as signed int32 with the sign bit flipped, which orders like unsigned
    // and keeps the hot loop in small integers.
    // Read the hashes as int32 so the hot loop never sees a value above 2^31 (a heap number).
    const hs = hashes instanceof Int32Array ? hashes : new Int32Array(hashes.buffer, hashes.byteOffset, count);
    // Four permutations per pass over the shingles: four minima in registers, a quarter of the loads.
    let i = 0;
    for (; i + 4 <= p; i += 4) {
      const a0 = mul[i]! | 0,
        a1 = mul[i + 1]! | 0,
        a2 = mul[i + 2]! | 0,
        a3 = mul[i + 3]! | 0;
      const b0 = xor[i]! | 0,
        b1 = xor[i + 1]! | 0,
        b2 = xor[i + 2]! | 0,
        b3 = xor[i + 3]! | 0;
      let m0 = 0x7fffffff,
        m1 = 0x7fffffff,
        m2 = 0x7fffffff,
        m3 = 0x7fffffff;
      for (let j = 0; j < count; j++) {
        const x = hs[j]!;
        const v0 = Math.imul(x ^ b0, a0) ^ 0x80000000;
        const v1 = Math.imul(x ^ b1, a1) ^ 0x80000000;
        const v2 = Math.imul(x ^ b2, a2) ^ 0x80000000;
        const v3 = Math.imul(x ^ b3, a3) ^ 0x80000000;
        if (v0 < m0) m0 = v0;
        if (v1 < m1) m1 = v1;
        if (v2 < m2) m2 = v2;
        if (v3 < m3) m3 = v3;
      }
      out[offset + i] = (m0 ^ 0x80000000) >>> 0;
      out[offset + i + 1] = (m1 ^ 0x80000000) >>> 0;
      out[offset + i + 2] = (m2 ^ 0x80000000) >>> 0;
      out[offset + i + 3] = (m3 ^ 0x80000000) >>> 0;
    }
    for (; i < p; i++) {
      const a = mul[i]! | 0;
      const b = xor[i]! | 0;
      let min = 0x7fffffff;
      for (let j = 0; j < count; j++) {
        const v = Math.imul(hs[j]! ^ b, a) ^ 0x80000000;
        if (v < min) min = v;
      }
      out[offset + i] = (min ^ 0x80000000) >>> 0;
    }
  }

  /** Convenience: a fresh signature for a set of 32-bit values. */
  of(hashes: ArrayLike<number>): Uint32Array {
    const out = new Uint32Array(this.numPerm);
    this.signature(Uint32Array.from(hashes), hashes.length, out, 0);
    return out;
  }
}

/** Share of equal positions: an unbiased estimate of the Jaccard similarity of the two sets. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array, numPerm = a.length, offA = 0, offB = 0): number {
  let same = 0;
  for (let i = 0; i < numPerm; i++) if (a[offA + i] === b[offB + i]) same++;
  return same / numPerm;
}

/**
 * Hashes the word k-shingles of text into out without allocating strings: words are runs of
 * letters/digits (ASCII case-folded; other characters by toLowerCase per char), and a text with
 * fewer than k words gives one shingle of all its words. Returns the number of hashes written
 * (at most out.length).
 */
export function wordShingleHashes(text: string, k: number, out: Uint32Array): number {
  // Ring of the last k word hashes.
  const ring = SHINGLE_RING.length >= k ? SHINGLE_RING : (SHINGLE_RING = new Uint32Array(k));
  let words = 0;
  let n = 0;
  let h = 0x811c9dc5;
  let inWord = false;
  const len = text.length;
  for (let i = 0; i <= len; i++) {
    let c = i < len ? text.charCodeAt(i) : 32;
    let isWord: boolean;
    if (c < 128) {
      if (c >= 65 && c <= 90) c += 32;
      isWord = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    } else {
      const ch = String.fromCharCode(c);
      const lower = ch.toLowerCase();
      isWord = lower !== ch.toUpperCase() || (c >= 0x3040 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af);
      c = lower.charCodeAt(0);
    }
    if (isWord) {
      h = Math.imul(h ^ c, 0x01000193);
      inWord = true;
    } else if (inWord) {
      ring[words % k] = fmix32(h);
      words++;
      h = 0x811c9dc5;
      inWord = false;
      if (words >= k && n < out.length) out[n++] = shingleAt(ring, words, k, k);
    }
  }
  if (words > 0 && words < k && n < out.length) out[n++] = shingleAt(ring, words, words, k);
  return n;
}

let SHINGLE_RING = new Uint32Array(8);

/** Hash of the last `count` words (word index words-count .. words-1) held in a ring of size k. */
function shingleAt(ring: Uint32Array, words: number, count: number, k: number): number {
  let h = 0x2545f491;
  for (let j = words - count; j < words; j++) h = combine32(h, ring[j % k]!);
  return h;
}
