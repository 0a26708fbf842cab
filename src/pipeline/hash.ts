import { hex64 } from './dedupe/hash.js';

// Fast non-cryptographic 64-bit content hash (two FNV-1a 32-bit lanes), as 16 hex characters.
export function contentHash(...parts: Array<string | number | null | undefined>): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (const part of parts) {
    const s = part === null || part === undefined ? '\u0000' : String(part);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
    }
    h1 = Math.imul(h1 ^ 0x1f, 0x01000193);
    h2 = Math.imul(h2 ^ 0x1f, 0x5bd1e995);
  }
  return hex64(h1, h2);
}
