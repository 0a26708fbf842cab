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

/**
 * hash64 of a text fed one UTF-16 code unit at a time, for a text that is produced as it is read
 * rather than built first (the normalised key of every new message is hashed this way).
 */
export class Hash64Stream {
  private h1 = 0x811c9dc5 >>> 0;
  private h2 = 0x9747b28c >>> 0;
  length = 0;

  add(c: number): void {
    this.h1 = Math.imul(this.h1 ^ c, 0x01000193);
    let k = Math.imul(c, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    const h2 = this.h2 ^ Math.imul(k, 0x1b873593);
    this.h2 = (Math.imul((h2 << 13) | (h2 >>> 19), 5) + 0xe6546b64) | 0;
    this.length++;
  }

  /** 16 hex characters, as hash64 of the text fed. */
  digest(): string {
    return hex64(fmix32(this.h1 ^ this.length), fmix32(this.h2 ^ this.length));
  }
}

const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * Two 32-bit values as 16 lower-case hex characters, each zero-padded to 8: what
 * `toString(16).padStart(8, '0')` of each gives, in a tenth of the time (toString's radix path
 * was two of the five microseconds the ingest plan spent on a message).
 */
export function hex64(hi: number, lo: number): string {
  const h = HEX;
  return String.fromCharCode(
    h[hi >>> 28]!,
    h[(hi >>> 24) & 15]!,
    h[(hi >>> 20) & 15]!,
    h[(hi >>> 16) & 15]!,
    h[(hi >>> 12) & 15]!,
    h[(hi >>> 8) & 15]!,
    h[(hi >>> 4) & 15]!,
    h[hi & 15]!,
    h[lo >>> 28]!,
    h[(lo >>> 24) & 15]!,
    h[(lo >>> 20) & 15]!,
    h[(lo >>> 16) & 15]!,
    h[(lo >>> 12) & 15]!,
    h[(lo >>> 8) & 15]!,
    h[(lo >>> 4) & 15]!,
    h[lo & 15]!,
  );
}

/** A 64-bit hash of a string as 16 hex characters (hash32's and hash32b's lanes in one pass). */
export function hash64(s: string): string {
  const h = new Hash64Stream();
  for (let i = 0; i < s.length; i++) h.add(s.charCodeAt(i));
  return h.digest();
}

/** Mixes two 32-bit values into one (order-sensitive); used for word shingles and LSH band keys. */
export function combine32(a: number, b: number): number {
  return fmix32((Math.imul(a, 0x9e3779b1) ^ b) + 0x7f4a7c15);
}
