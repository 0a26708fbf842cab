// Fast non-cryptographic string hashes built on Math.imul. Two independent 32-bit halves make a
// 64-bit key: at 10^6 keys per window the chance of any collision is about 3e-8.

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units of s[start, end), finalised with fmix32. */
export function hash32(s: string, seed = 0, start = 0, end = s.length): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h ^ (end - start));
}

/** A second, independent 32-bit hash (multiply-rotate, murmur-style), for the other half of hash64. */
export function hash32b(s: string, seed = 0x9747b28c, start = 0, end = s.length): number {
  let h = seed >>> 0;
  for (let i = start; i < end; i++) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return fmix32(h ^ (end - start));
}

/** A 64-bit hash of a string as 16 hex characters (two independent 32-bit halves). */
export function hash64(s: string): string {
  // hash32 and hash32b in one pass over the string.
  let h1 = 0x811c9dc5 >>> 0;
  let h2 = 0x9747b28c >>> 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 ^= c;
    h1 = Math.imul(h1, 0x01000193);
    let k = Math.imul(c, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h2 ^= Math.imul(k, 0x1b873593);
    h2 = (h2 << 13) | (h2 >>> 19);
    h2 = (Math.imul(h2, 5) + 0xe6546b64) | 0;
  }
  return (
    fmix32(h1 ^ s.length)
      .toString(16)
      .padStart(8, '0') +
    fmix32(h2 ^ s.length)
      .toString(16)
      .padStart(8, '0')
  );
}

/** Mixes two 32-bit values into one (order-sensitive); used for word shingles and LSH band keys. */
export function combine32(a: number, b: number): number {
  return fmix32((Math.imul(a, 0x9e3779b1) ^ b) + 0x7f4a7c15);
}
