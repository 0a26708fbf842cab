// Copies and near-duplicates: pure functions and in-memory indexes, no I/O.
export { contentKey, contentKeyHash, stripBridgePrefix, type ContentKeyOptions } from './normalize.js';
export { hash32, hash32b, hash64, fmix32, combine32 } from './hash.js';
export { CopyDetector, type CopyCandidate, type CopyDetectorOptions } from './copy.js';
export { MinHasher, estimateJaccard, wordShingleHashes, DEFAULT_NUM_PERM } from './minhash.js';
export { LshIndex, NearCopyDetector, type LshOptions, type NearCopyOptions } from './lsh.js';
export { createNearDupIndex, type NearDupIndex, type NearDupDoc, type NearDupOptions } from './neardup.js';
export { tokenizeReport, stem, isStopword, type ReportTerms } from './tokenize.js';
