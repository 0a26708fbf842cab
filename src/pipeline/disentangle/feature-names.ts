// The disentanglement model's feature layout: bucket bounds, feature names in input order, and the
// indices the feature stream sets. Pure. Split out of features.ts.

// ---------------------------------------------------------------------------------------------
// Feature names. The order is the model's input layout; a model records the list it was trained with.

export const DIST_BOUNDS = [1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 75]; // > 75 is the last bucket
export const TIME_BOUNDS_S = [0, 30, 60, 120, 180, 300, 600, 1200, 3600]; // > 3600 is the last bucket
export const LEN_BOUNDS = [0, 2, 5, 10, 20]; // content-free token counts
export const COUNT_BOUNDS = [0, 1, 4]; // 0, 1, 2-4, 5+
export const AGO_BOUNDS = [1, 5, 20]; // lines ago: 1, 2-5, 6-20, 21+ (plus "never")
export const GAP_BOUNDS_S = [0, 60, 300, 1800]; // seconds: 0, <=1m, <=5m, <=30m, more (plus "never")
export const OVERLAP_BOUNDS = [1, 2]; // 1, 2, 3+ (only when some word is shared)
export const IDF_BOUNDS = [4, 8, 12, 18]; // summed idf of shared words
export const JACCARD_BOUNDS = [0.1, 0.2, 0.35, 0.5];
export const RANK_BOUNDS = [1, 2, 5]; // 1, 2, 3-5, 6+
export const BETWEEN_BOUNDS = [0, 1]; // 0, 1, 2+

function bucketNames(prefix: string, bounds: number[]): string[] {
  return [...bounds.map((b) => `${prefix}<=${b}`), `${prefix}>${bounds[bounds.length - 1] ?? 0}`];
}

/** Line-level flags, used for the new line ("s.") and for a candidate ("c."). */
const LINE_FLAGS = ['system', 'action', 'question', 'url', 'thanks', 'greeting', 'ack', 'addresses', 'mentions', 'code', 'exclaim'] as const;

function buildNames(): string[] {
  const n: string[] = ['self'];
  for (const f of LINE_FLAGS) n.push(`s.${f}`);
  n.push(...bucketNames('s.len', LEN_BOUNDS));
  n.push(...bucketNames('s.author_lines', COUNT_BOUNDS));
  n.push('s.author_last_never', ...bucketNames('s.author_last_ago', AGO_BOUNDS));
  n.push('s.author_gap_never', ...bucketNames('s.author_gap_s', GAP_BOUNDS_S));
  n.push('s.addressed_never', ...bucketNames('s.addressed_ago', AGO_BOUNDS));
  n.push('s.joined_recently');
  n.push(...bucketNames('s.prev_gap_s', GAP_BOUNDS_S));
  for (const f of LINE_FLAGS) n.push(`c.${f}`);
  n.push(...bucketNames('c.len', LEN_BOUNDS));
  // Always present, so crossed: one row each instead of several (the scorer adds few rows per pair).
  // The distance x time cross comes first in every pair's list (the scorer caches it per line).
  for (const d of bucketNames('dist', DIST_BOUNDS)) for (const t of bucketNames('time_s', TIME_BOUNDS_S)) n.push(`p.${d},${t}`);
  for (const r of bucketNames('c_author_rank', RANK_BOUNDS))
    for (const a of bucketNames('s_author_between', BETWEEN_BOUNDS)) for (const b of bucketNames('c_author_between_to_s', BETWEEN_BOUNDS)) n.push(`p.${r},${a},${b}`);
  n.push('p.same_author', 'p.s_addresses_c', 'p.s_mentions_c', 'p.c_addresses_s', 'p.c_mentions_s');
  n.push('p.c_author_last_addressed_s', 'p.s_author_last_addressed_c', 'p.c_is_last_line_to_s', 'p.c_is_last_line_from_s_to_c');
  n.push('p.c_author_is_prev_speaker', 'p.same_addressee');
  n.push(...bucketNames('p.overlap', OVERLAP_BOUNDS));
  n.push(...bucketNames('p.overlap_idf', IDF_BOUNDS));
  n.push(...bucketNames('p.jaccard', JACCARD_BOUNDS));
  n.push('p.rare_overlap');
  return n;
}

export const FEATURE_NAMES: readonly string[] = buildNames();
export const FEATURE_COUNT = FEATURE_NAMES.length;
const INDEX = new Map(FEATURE_NAMES.map((n, i) => [n, i]));

function fi(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new Error(`unknown feature ${name}`);
  return i;
}
function bucketBase(prefix: string, bounds: number[]): number {
  return fi(`${prefix}<=${bounds[0] ?? 0}`);
}
export function bucket(x: number, bounds: number[]): number {
  for (let i = 0; i < bounds.length; i++) if (x <= (bounds[i] as number)) return i;
  return bounds.length;
}

/** The distance x time cross: the first feature of every pair, in a block of this many rows. */
export const DIST_TIME_COUNT = (DIST_BOUNDS.length + 1) * (TIME_BOUNDS_S.length + 1);
export const DIST_TIME_FIRST = INDEX.get(`p.dist<=${DIST_BOUNDS[0]},time_s<=${TIME_BOUNDS_S[0]}`) as number;

export const F = {
  self: fi('self'),
  sFlag: fi(`s.${LINE_FLAGS[0]}`),
  cFlag: fi(`c.${LINE_FLAGS[0]}`),
  sLen: bucketBase('s.len', LEN_BOUNDS),
  cLen: bucketBase('c.len', LEN_BOUNDS),
  sAuthorLines: bucketBase('s.author_lines', COUNT_BOUNDS),
  sAuthorLastNever: fi('s.author_last_never'),
  sAuthorLastAgo: bucketBase('s.author_last_ago', AGO_BOUNDS),
  sAuthorGapNever: fi('s.author_gap_never'),
  sAuthorGap: bucketBase('s.author_gap_s', GAP_BOUNDS_S),
  sAddressedNever: fi('s.addressed_never'),
  sAddressedAgo: bucketBase('s.addressed_ago', AGO_BOUNDS),
  sJoinedRecently: fi('s.joined_recently'),
  sPrevGap: bucketBase('s.prev_gap_s', GAP_BOUNDS_S),
  distTime: fi(`p.dist<=${DIST_BOUNDS[0]},time_s<=${TIME_BOUNDS_S[0]}`),
  rankBetween: fi(`p.c_author_rank<=${RANK_BOUNDS[0]},s_author_between<=${BETWEEN_BOUNDS[0]},c_author_between_to_s<=${BETWEEN_BOUNDS[0]}`),
  sameAuthor: fi('p.same_author'),
  sAddressesC: fi('p.s_addresses_c'),
  sMentionsC: fi('p.s_mentions_c'),
  cAddressesS: fi('p.c_addresses_s'),
  cMentionsS: fi('p.c_mentions_s'),
  cAuthorLastAddressedS: fi('p.c_author_last_addressed_s'),
  sAuthorLastAddressedC: fi('p.s_author_last_addressed_c'),
  cIsLastLineToS: fi('p.c_is_last_line_to_s'),
  cIsLastLineFromSToC: fi('p.c_is_last_line_from_s_to_c'),
  cAuthorIsPrevSpeaker: fi('p.c_author_is_prev_speaker'),
  sameAddressee: fi('p.same_addressee'),
  overlap: bucketBase('p.overlap', OVERLAP_BOUNDS),
  overlapIdf: bucketBase('p.overlap_idf', IDF_BOUNDS),
  jaccard: bucketBase('p.jaccard', JACCARD_BOUNDS),
  rareOverlap: fi('p.rare_overlap'),
};
