// The knobs of the "reported before?" index (BM25F, candidates, fusion, LSH) and their defaults.
// Split out of neardup.ts.
import type { WordNeighbours } from '../word-neighbours.js';

export interface NearDupOptions {
  /** BM25 saturation (default 1.2). */
  k1?: number;
  /** Length normalisation of the title and the text fields (defaults 0.3 and 0.75). */
  bTitle?: number;
  bText?: number;
  /** Weight of a title occurrence relative to a text occurrence (default 3). */
  titleWeight?: number;
  /** Query-side multiplier of terms that occur in the query's title (default 2). */
  queryTitleBoost?: number;
  /** Weight of word bigrams and of whole-identifier/version terms relative to words (defaults 0.3 and 1). */
  bigramWeight?: number;
  identifierWeight?: number;
  /** Only the first maxTextTerms words of a text are indexed: long logs drown the report (default 250). */
  maxTextTerms?: number;
  /** Candidates from the inverted index use the query's rarest maxQueryTerms terms (default 64). */
  maxQueryTerms?: number;
  /**
   * ...and skip terms in more than this share of the documents (default 0.02): their postings are
   * long and say little. They still count in the exact scores of the candidates.
   */
  maxCandidateDf?: number;
  /** Size of the candidate pool that is scored exactly (at least 2k; default 100). */
  pool?: number;
  /** Pseudo-relevance feedback: expand with the top prfDocs results' best prfTerms terms (0 = off). */
  prfDocs?: number;
  prfTerms?: number;
  prfWeight?: number;
  /** Reciprocal-rank-fusion constant for combining rankings (default 60). */
  rrfK?: number;
  /**
   * Fusion weights of the extra rankers, each fused with BM25F by reciprocal rank (0 = off):
   * a title-to-title BM25 (short reports are mostly their title) and a TF-IDF cosine over all terms
   * (log tf, strong length normalisation, which BM25 lacks).
   */
  titleRankWeight?: number;
  cosineRankWeight?: number;
  /**
   * Fusion weight of the need ranker (default 1.25, the middle of the flat 1-1.5 region on the visible
   * GitBugs split; 0 = off): grouping's need-space cosine (need-space.ts) of the two reports' need
   * texts (need-text.ts: title and need sentences, without code fences and stack-trace lines), over
   * stemmed words, their nearest words in `wordModel`, and character 3-5-grams, which meet
   * inflections, identifiers and compounds the word rankers miss.
   */
  needRankWeight?: number;
  /** The shipped word model (word-neighbours.ts) for the need ranker (default null: words and character n-grams only). */
  wordModel?: WordNeighbours | null;
  /** LSH layout over MinHash of the word set (bands x rows permutations). */
  lshBands?: number;
  lshRows?: number;
  /**
   * Time prior: scores are multiplied by 1 + recencyBoost / (1 + |days apart| / recencyDays).
   * Duplicates tend to be filed close together; 0 turns it off, as does a doc without `at`.
   */
  recencyBoost?: number;
  recencyDays?: number;
  /** Expected number of documents. */
  capacity?: number;
}

export const NEARDUP_DEFAULTS: Required<NearDupOptions> = {
  k1: 1.2,
  bTitle: 0.3,
  bText: 0.75,
  titleWeight: 3,
  queryTitleBoost: 2,
  bigramWeight: 0.3,
  identifierWeight: 1,
  maxTextTerms: 250,
  maxQueryTerms: 64,
  maxCandidateDf: 0.02,
  pool: 100,
  prfDocs: 0,
  prfTerms: 20,
  prfWeight: 0.5,
  rrfK: 60,
  titleRankWeight: 0,
  cosineRankWeight: 2,
  needRankWeight: 1.25,
  wordModel: null,
  lshBands: 16,
  lshRows: 4,
  recencyBoost: 1,
  recencyDays: 60,
  capacity: 1024,
};
