// Grouping feedback items by the need they voice. An item is represented by its need text (see
// need-text.ts: the subject, then the sentences that state the need; the subject weighed 1.75 times)
// plus what other non-staff people added in its thread, as 0.3 word + 0.7 character 3-5-gram TF-IDF
// (sublinear tf, stemmed words; 0.5 word with the shipped word model's nearest words). Placement is
// batch average-linkage at a cosine threshold over the recent items that no human placed, so the
// result does not depend on the order the items arrived in; older clusters and every cluster a human touched take part as fixed groups
// (a new week's group joins an older cluster it voices the same need as: a recorded merge). Candidate
// neighbours come from the duplicate index (BM25F, see dedupe/neardup.ts); a small window is compared
// all-pairs. Pure: no I/O; ids and time come from the caller.
import { CandidateIndex } from './cluster.js';
import { TermStats } from './cluster-terms.js';
import {
  CosineFrom,
  DEFAULT_CONCEPT_WEIGHT,
  DEFAULT_NEIGHBOURS,
  DEFAULT_WORD_WEIGHT,
  MODEL_WORD_WEIGHT,
  NEED_KIND_OF,
  NeedSpace,
  kindFactor,
  needKindsCompatible,
  type NeedVector,
  type TfPart,
} from './need-space.js';
import { tokenizeReport, type ReportTerms } from './dedupe/tokenize.js';
import { MergeHeap } from './merge-heap.js';
import { EdgeLists, Slab, type EdgeList } from './arena.js';
import type { FeedbackKind } from '../model/index.js';
import type { WordNeighbours } from './word-neighbours.js';

export interface NeedDoc {
  itemId: number;
  /** The subject (mail, issue or forum title) when there is one: counted titleWeight more. */
  title?: string | null;
  /** The need's own text: the subject, then the sentences that state the need (needTextOf). */
  need: string;
  /** What other (non-staff) people added in the thread; compared with less weight. */
  others?: string;
  at: number;
  kind: FeedbackKind | null;
  /** Need-group probabilities (problem, request, question, praise): an unsure kind keeps a pair apart less. */
  kindGroups?: readonly number[] | null;
}

export interface GroupingOptions {
  /** Average cosine (0..1) two groups need to be merged (default 0.1). */
  threshold?: number;
  /** Weight of the word part; the character part has the rest (default 0.5 with a word model, which gives the word part the paraphrases; 0.3 without). */
  wordWeight?: number;
  /** Weight of a concept token (concepts.ts) against a word, in the word part (default 1; 0 turns concepts off). */
  conceptWeight?: number;
  /** Multiplier on the similarity of items whose kinds are not compatible (bug vs feature; default 0.5), when both kinds are sure; less as the chance grows that both are the same group (kindFactor). */
  kindPenalty?: number;
  /** Items not placed by a human within this many days of the newest item are re-grouped in batch (default 28). */
  windowDays?: number;
  /** Candidate neighbours per item from the duplicate index (default 20). */
  candidates?: number;
  /** Up to this many re-grouped items (with the fixed groups' samples) are compared all-pairs (default 200). */
  denseLimit?: number;
  /** Largest neighbourhood re-grouped at once from the candidate graph past denseLimit (default 3000). */
  sparseLimit?: number;
  /** Members of a fixed cluster that stand for it (its newest; default 12). */
  sampleSize?: number;
  /** The cosine of two external need vectors (embeddings endpoint) that counts as `threshold` (default 0.8). */
  embeddingSameNeed?: number;
  /**
   * Need texts longer than this many characters (the shorter of the pair) need a higher cosine, by the
   * square of the length ratio, up to three times the threshold: long texts (mails, issues) share more
   * topic words without voicing the same need (default 300; 0 = off).
   */
  lengthPivot?: number;
  /**
   * Multiplier on the similarity of two questions (default 0.5: two questions need twice the
   * threshold): a question is one person's situation, and two are one need only when they ask the same
   * thing, while reports of one bug or wishes for one feature recur in other words. Questions on a
   * users' list all share the product's vocabulary (two long mails about proxy modules, one on route
   * lengths and one on WebSockets, met at 0.8). 1 turns it off.
   */
  questionFactor?: number;
  /**
   * The shipped word model's nearest words (word-neighbours.ts), added to each need's word part so
   * paraphrases meet; null = off (the default here: the cluster stage passes the shipped model).
   */
  wordModel?: WordNeighbours | null;
  /** A nearest word's share of its cosine against the word itself (default 0.75). */
  neighbourWeight?: number;
  /** Nearest words at this cosine or above (default 0.65). */
  neighbourMinSim?: number;
  /** At most this many nearest words per word (default 3). */
  neighbourCount?: number;
  /**
   * Extra weight of the subject line (mail subject, issue or forum title), on top of the need text,
   * which starts with it (needTextOf): the reporter's own one-line statement of the need, where the
   * body also holds logs, context and steps (default 0.75: the subject's words count 1.75 times; 0 = once).
   */
  titleWeight?: number;
  /** Two groups of several members each merge only when their average link is at least this share of the looser group's own cohesion (default 0.5; 0 = off). */
  cohesionShare?: number;
  /**
   * An older item (outside the re-grouping, placed by no human) whose most similar neighbour is in a
   * group formed now, tied to it by a candidate link, moves into that group when its average
   * similarity there is at least the threshold and this many times its average to the rest of its own
   * cluster: a report filed first into a broad cluster joins the cluster its need gets later
   * (default 1.5; 0 = off).
   */
  refitFactor?: number;
}

const DEFAULTS: Required<GroupingOptions> = {
  threshold: 0.1,
  wordWeight: DEFAULT_WORD_WEIGHT,
  conceptWeight: DEFAULT_CONCEPT_WEIGHT,
  kindPenalty: 0.5,
  windowDays: 28,
  lengthPivot: 300,
  cohesionShare: 0.5,
  refitFactor: 1.5,
  questionFactor: 0.5,
  candidates: 20,
  denseLimit: 200,
  sparseLimit: 3000,
  sampleSize: 12,
  embeddingSameNeed: 0.8,
  wordModel: null,
  neighbourWeight: DEFAULT_NEIGHBOURS.weight,
  neighbourMinSim: DEFAULT_NEIGHBOURS.minSim,
  neighbourCount: DEFAULT_NEIGHBOURS.count,
  titleWeight: 0.75,
};

const DAY_MS = 86_400_000;
/** An item leaves only a cluster this small, compared with all its other members; a bigger one is an established need. */
const REFIT_MAX_CLUSTER = 48;

/** Where an item is: its cluster (an id, or a provisional negative key) and whether a human put it there. */
export interface Placement {
  clusterId: number;
  pinned: boolean;
}

export interface RegroupPlan {
  /** Items whose cluster is new or changes: item -> cluster id or provisional negative key. */
  place: Map<number, number>;
  /** Clusters left without items (merged into another or re-grouped away). */
  emptied: number[];
  /** Existing clusters merged into another: recorded so a curator can see and undo it. */
  merges: Array<{ from: number; into: number; score: number; items: number[] }>;
  /** Items compared in this run, and whether all-pairs. */
  compared: number;
  dense: boolean;
}

/**
 * What the index keeps of an item: what placing compares, not its texts (but the need, which orders
 * items of the same time). Frequencies and the cached vector live in shared slabs, neighbours in one
 * edge store (arena.ts): a few small objects per item, whatever the size of the collection.
 */
interface Item extends EdgeList, NeedVector {
  itemId: number;
  at: number;
  need: string;
  /** Characters of the title and need text (lengthFactor). */
  len: number;
  kind: FeedbackKind | null;
  kindGroups: readonly number[] | null | undefined;
  // NeedVector: word then character n-gram ids of the frequencies (NeedSpace.tf) in `ids`; in `w`
  // their tf, then (from `off`, = ids.length) the vector under the idf of when `vecDocs` documents
  // were counted (-1: not yet), recomputed in place. Two views per item, whatever the parts.
  vecDocs: number;
  // EdgeList head and tail: the neighbours from the duplicate index, both directions, with their
  // similarity when found (the idf drifts slowly).
  /** The most similar neighbour (ties to the lower id; NaN sim when none): kept as edges are appended, as a walk over them finds it. */
  bestId: number;
  bestSim: number;
}

/** Canonical order: time, then the need text (as the string `time padded to 15 digits, NUL, need` sorts). */
function keyCompare(a: Item, b: Item): number {
  if (a.at !== b.at) {
    if (plainTime(a.at) && plainTime(b.at)) return a.at < b.at ? -1 : 1;
    const ka = `${String(a.at).padStart(15, '0')}\u0000${a.need}`;
    const kb = `${String(b.at).padStart(15, '0')}\u0000${b.need}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  }
  return a.need < b.need ? -1 : a.need > b.need ? 1 : 0;
}

/**
 * A flat copy of a string that refers to nothing else: a need text is built from slices of its
 * messages (whole mails, stack traces), and an index that lives as long as the process must not keep
 * those alive through it.
 */
function detached(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** A placement as one number: the cluster id doubled, plus one when a human put the item there. */
function placementCode(p: Placement): number {
  return p.clusterId * 2 + (p.pinned ? 1 : 0);
}

function codePinned(code: number): boolean {
  return code % 2 !== 0;
}

function codeCluster(code: number): number {
  return (code - (codePinned(code) ? 1 : 0)) / 2;
}

/** A time whose padded decimal string sorts as the number does. */
function plainTime(at: number): boolean {
  return Number.isSafeInteger(at) && at >= 0 && at < 1e15;
}

/**
 * The grouping state of one process: every known item's frequencies, the duplicate index for
 * candidates, and the items' placements as the store has them. `add` new items, then `regroup`.
 */
export class NeedGrouper {
  readonly o: Required<GroupingOptions>;
  readonly space: NeedSpace;
  private readonly items = new Map<number, Item>();
  /** Candidate neighbours: the word TF-IDF inverted index the duplicate lookups of the cluster index use (capped postings). */
  private readonly termStats = new TermStats();
  private readonly dup: CandidateIndex;
  /** Item -> its placement, as one number (placementCode): a Map of small integers holds no object per item. */
  private placement = new Map<number, number>();
  /** Items per cluster (as `placement` has them). */
  private members = new Map<number, Set<number>>();
  /** Pinned items per cluster, for the clusters that hold any. */
  private pinnedIn = new Map<number, number>();
  /** Item ids by day of `at`: the window is read from the days it covers. */
  private readonly byDay = new Map<number, number[]>();
  private newest = 0;
  private readonly slab = new Slab();
  private readonly edges = new EdgeLists();
  /** External need vectors (embeddings endpoint), unit length; used for a pair when both items have one. */
  private readonly embeddings = new Map<number, Float32Array>();
  /** Per older item, whether it fitted its own cluster below the threshold when last screened (fitsOwnBelow). */
  private readonly ownFit = new Map<number, { cluster: number; size: number; docs: number; below: boolean }>();
  /** One item's vector against many (the new item against its candidates; each against the rest in a dense window). */
  private readonly from = new CosineFrom();

  constructor(opts: GroupingOptions = {}) {
    this.o = { ...DEFAULTS, ...(opts.wordModel ? { wordWeight: MODEL_WORD_WEIGHT } : {}), ...opts };
    const o = this.o;
    this.space = new NeedSpace(o.wordWeight, o.conceptWeight, o.wordModel ? { model: o.wordModel, weight: o.neighbourWeight, minSim: o.neighbourMinSim, count: o.neighbourCount } : null);
    // No time prior: a need raised again months later is the same need.
    this.dup = new CandidateIndex(this.termStats, 24, 1000);
  }

  size(): number {
    return this.items.size;
  }

  has(itemId: number): boolean {
    return this.items.has(itemId);
  }

  clusterOf(itemId: number): number | undefined {
    const code = this.placement.get(itemId);
    return code === undefined ? undefined : codeCluster(code);
  }

  private pinned(itemId: number): boolean {
    const code = this.placement.get(itemId);
    return code !== undefined && codePinned(code);
  }

  /** The store's placements (all of them): replaces what this index believed. */
  setPlacements(p: ReadonlyMap<number, Placement>): void {
    this.placement = new Map();
    this.members = new Map();
    this.pinnedIn = new Map();
    for (const [id, x] of p) this.place(id, x);
  }

  place(itemId: number, p: Placement): void {
    const prevCode = this.placement.get(itemId);
    if (prevCode !== undefined) {
      const prev = { clusterId: codeCluster(prevCode), pinned: codePinned(prevCode) };
      const m = this.members.get(prev.clusterId);
      m?.delete(itemId);
      if (m && !m.size) this.members.delete(prev.clusterId);
      if (prev.pinned) {
        const left = (this.pinnedIn.get(prev.clusterId) ?? 1) - 1;
        if (left > 0) this.pinnedIn.set(prev.clusterId, left);
        else this.pinnedIn.delete(prev.clusterId);
      }
    }
    if (p.pinned) this.pinnedIn.set(p.clusterId, (this.pinnedIn.get(p.clusterId) ?? 0) + 1);
    this.placement.set(itemId, placementCode(p));
    let m = this.members.get(p.clusterId);
    if (!m) this.members.set(p.clusterId, (m = new Set()));
    m.add(itemId);
  }

  /**
   * Takes a plan as stored: provisional keys become the ids the store gave (`ids`), emptied clusters
   * are gone. Items the store skipped (removed meanwhile) are left unplaced.
   */
  commit(plan: RegroupPlan, ids: ReadonlyMap<number, number>, skipped: ReadonlySet<number> = new Set()): void {
    for (const [item, key] of plan.place) {
      if (skipped.has(item)) continue;
      const id = key < 0 ? ids.get(key) : key;
      if (id !== undefined) this.place(item, { clusterId: id, pinned: false });
    }
  }

  /** Sets an item's external need vector (normalised here). */
  setEmbedding(itemId: number, v: Float32Array): void {
    let n = 0;
    for (const x of v) n += x * x;
    n = Math.sqrt(n) || 1;
    this.embeddings.set(
      itemId,
      v.map((x) => x / n),
    );
  }

  /** The pair's cosine: external vectors when both items have one (rescaled so embeddingSameNeed counts as threshold), else the shipped representation. */
  private pairCosine(a: number, b: number, va: NeedVector, vb: NeedVector, from?: CosineFrom): number {
    const ea = this.embeddings.get(a);
    const eb = ea && this.embeddings.get(b);
    if (ea && eb && ea.length === eb.length) {
      let d = 0;
      for (let i = 0; i < ea.length; i++) d += ea[i]! * eb[i]!;
      return Math.max(0, d) * (this.o.threshold / this.o.embeddingSameNeed);
    }
    return from ? from.cosine(vb) : NeedSpace.cosine(va, vb);
  }

  /** Adds items (counted in the frequencies, indexed for candidates); items already known are skipped. */
  add(docs: readonly NeedDoc[]): void {
    for (const doc of docs) {
      if (this.items.has(doc.itemId)) continue;
      // The title, the need and the others' text are tokenised once for both the need space and the
      // candidate index (the need space cuts a part at 2,000 characters and tokenises it anew when longer).
      // The subject line is the reporter's own one-line statement of the need: its words count more.
      const title = doc.title?.trim() ?? '';
      const titleTerms = tokenizeReport(doc.title ?? '');
      const needTerms = tokenizeReport(doc.need);
      const othersTerms = doc.others ? tokenizeReport(doc.others) : null;
      const part = (text: string, weight: number, terms: ReportTerms): TfPart => ({ text, weight, ...(text.length <= 2000 ? { terms } : {}) });
      const parts: TfPart[] = [];
      if (title && this.o.titleWeight > 0) parts.push(part(title, this.o.titleWeight, titleTerms));
      parts.push(part(doc.need, 1, needTerms));
      if (doc.others) parts.push(part(doc.others, 0.5, othersTerms!));
      const fresh = this.space.tf(parts);
      this.space.count(fresh);
      const slab = this.slab;
      const nWords = fresh.words.length;
      const n = nWords + fresh.chars.length;
      const ids = slab.int32(n);
      ids.set(fresh.words);
      ids.set(fresh.chars, nWords);
      const w = slab.float32(2 * n);
      w.set(fresh.wordTf);
      w.set(fresh.charTf, nWords);
      const item: Item = {
        itemId: doc.itemId,
        at: doc.at,
        need: detached(doc.need),
        len: doc.need.length + (doc.title?.length ?? 0),
        kind: doc.kind,
        kindGroups: doc.kindGroups,
        ids,
        nWords,
        w,
        off: n,
        vecDocs: -1,
        head: -1,
        tail: -1,
        bestId: 0,
        bestSim: NaN,
      };
      const terms = this.termStats.addTermsOf(doc.title ? titleTerms : null, needTerms, othersTerms);
      const near: Item[] = [];
      for (const other of this.dup.query(terms, this.o.candidates, doc.itemId)) {
        const it = this.items.get(other);
        if (it) near.push(it);
      }
      this.dup.add(doc.itemId, terms);
      this.items.set(doc.itemId, item);
      const day = Math.floor(doc.at / DAY_MS);
      const list = this.byDay.get(day);
      if (list) list.push(doc.itemId);
      else this.byDay.set(day, [doc.itemId]);
      // The new item's vector is held against its candidates' (the counts do not change meanwhile).
      if (near.length) this.from.hold(this.vector(item, false));
      for (const it of near) {
        const sim = this.itemSimilarity(item, it, false, this.from);
        const firstOfItem = item.head < 0;
        const firstOfIt = it.head < 0;
        this.edges.pushPair(item, it.itemId, it, doc.itemId, sim);
        this.noteBest(item, it.itemId, sim, firstOfItem);
        this.noteBest(it, doc.itemId, sim, firstOfIt);
      }
      this.from.release();
      if (doc.at > this.newest) this.newest = doc.at;
    }
  }

  private vector(it: Item, exact: boolean): NeedVector {
    const docs = this.space.docs;
    if (it.vecDocs >= 0 && (it.vecDocs === docs || (!exact && docs <= it.vecDocs * 1.5 + 50))) return it;
    this.space.vectorFrom(it, 0);
    it.vecDocs = docs;
    return it;
  }

  /** Similarity of two items: the cosine, lowered when their kinds cannot be the same need. */
  similarity(a: number, b: number, exact = true): number {
    const ia = this.items.get(a);
    const ib = this.items.get(b);
    if (!ia || !ib) return 0;
    return this.itemSimilarity(ia, ib, exact);
  }

  /** `from`, when given, holds the vector of `ia` (as `vector` gives it now). */
  private itemSimilarity(ia: Item, ib: Item, exact: boolean, from?: CosineFrom): number {
    let s = this.pairCosine(ia.itemId, ib.itemId, this.vector(ia, exact), this.vector(ib, exact), from);
    if (!needKindsCompatible(ia.kind, ib.kind)) s *= kindFactor(this.o.kindPenalty, ia.kindGroups, ib.kindGroups);
    return s * this.lengthFactor(ia, ib) * this.questionPair(ia, ib);
  }

  /** questionFactor for a pair of questions, else 1. */
  private questionPair(a: Item, b: Item): number {
    return a.kind === 'question' && b.kind === 'question' ? this.o.questionFactor : 1;
  }

  /** 1 for short need texts; (pivot / length)² (down to 1/3) when the shorter of the two is longer than lengthPivot. */
  private lengthFactor(a: Item, b: Item): number {
    const pivot = this.o.lengthPivot;
    if (!(pivot > 0)) return 1;
    const len = Math.min(a.len, b.len);
    return len <= pivot ? 1 : 1 / Math.min((len / pivot) ** 2, 3);
  }

  /** The item's most similar candidate neighbour when that one's most similar is the item too, at the threshold or above. */
  private mutualBest(itemId: number): { id: number; sim: number } | undefined {
    const best = this.bestNear(itemId);
    if (!best || best.sim < this.o.threshold) return undefined;
    return this.bestNear(best.id)?.id === itemId ? best : undefined;
  }

  /** The item's most similar candidate neighbour as found when items were added. */
  bestNear(itemId: number): { id: number; sim: number } | undefined {
    const it = this.items.get(itemId);
    return it && it.head >= 0 ? { id: it.bestId, sim: it.bestSim } : undefined;
  }

  /** Keeps an item's best neighbour as one is appended to its list: the first, then a higher sim or the same sim and a lower id. */
  private noteBest(it: Item, to: number, sim: number, first: boolean): void {
    if (first || sim > it.bestSim || (sim === it.bestSim && to < it.bestId)) {
      it.bestId = to;
      it.bestSim = sim;
    }
  }

  /**
   * Whether an item fits its own cluster below the threshold (`screen`), remembered while it stays in a
   * cluster of the same size and the collection grows by less than half: an older item is linked to new
   * ones batch after batch, and its cluster seldom changes meanwhile.
   */
  private fitsOwnBelow(it: Item, cluster: number, size: number, screen: () => boolean): boolean {
    const docs = this.space.docs;
    const known = this.ownFit.get(it.itemId);
    if (known && known.cluster === cluster && known.size === size && docs <= known.docs * 1.5 + 50) return known.below;
    const below = screen();
    this.ownFit.set(it.itemId, { cluster, size, docs, below });
    return below;
  }

  /**
   * Older items that fit a group of this re-grouping clearly better than their own cluster (see
   * refitFactor): item -> the group's cluster (or provisional key). Candidates are the fixed, unpinned
   * neighbours of the group's new members, linked at the threshold, whose most similar neighbour is in
   * the group and whose cluster keeps other members; each is compared with
   * the group's members and with all other members of its own cluster (of at most REFIT_MAX_CLUSTER).
   */
  private refits(
    finalGroups: ReadonlyArray<{ members: number[]; fixed: number | null }>,
    target: ReadonlyMap<unknown, number>,
    order: readonly Item[],
    chosen: ReadonlySet<number>,
  ): Map<number, number> {
    const o = this.o;
    const best = new Map<number, { to: number; score: number }>();
    // The average similarity to `others` (which never hold `it`): on exact vectors, or as a screen on
    // the vectors at hand (recomputed only as the collection grows by half: exact vectors are built
    // again for every member at every batch). It stops once the average cannot be under `stopAt`
    // (returning at least that).
    const avg = (it: Item, others: readonly Item[], exact: boolean, stopAt = Infinity): number => {
      if (!others.length) return NaN;
      let sum = 0;
      const stop = stopAt * others.length;
      const from = this.from;
      from.hold(this.vector(it, exact));
      try {
        for (const x of others) if ((sum += this.itemSimilarity(it, x, exact, from)) >= stop) break;
      } finally {
        from.release();
      }
      return sum / others.length;
    };
    for (const g of finalGroups) {
      const to = target.get(g)!;
      const members = g.members.map((i) => order[i]!);
      const fresh = members.filter((it) => chosen.has(it.itemId));
      if (!fresh.length) continue;
      const memberIds = new Set(members.map((it) => it.itemId));
      // An older cluster stands in the re-grouping for its newest members only: an item is held
      // against all of it (as against its own), so a broad cluster's recent sample does not look tighter than it is.
      let whole: Item[] | null = null;
      const wholeGroup = (): Item[] => {
        if (whole) return whole;
        whole = [...members];
        if (g.fixed !== null) {
          const rest = [...(this.members.get(g.fixed) ?? [])].filter((id) => !memberIds.has(id) && this.items.has(id)).sort((a, b) => a - b);
          // A big cluster by an even spread of its members over its life.
          const step = Math.max(1, rest.length / REFIT_MAX_CLUSTER);
          for (let k = 0; k < rest.length; k += step) whole.push(this.items.get(rest[Math.floor(k)]!)!);
        }
        return whole;
      };
      const seen = new Set<number>();
      for (const it of fresh) {
        this.edges.forEach(it, (n, sim) => {
          // Only a link at the same-need threshold ties an older item to the group.
          if (!(sim >= o.threshold) || seen.has(n) || memberIds.has(n) || chosen.has(n)) return;
          seen.add(n);
          const code = this.placement.get(n);
          if (code === undefined || codePinned(code) || codeCluster(code) === to) return;
          const own = this.members.get(codeCluster(code));
          if (!own || own.size < 2 || own.size > REFIT_MAX_CLUSTER) return;
          const x = this.items.get(n)!;
          // Rank evidence from the older item's side: its most similar neighbour is in the group; or
          // it no longer fits its own cluster as average linkage would admit it (below the threshold).
          if (x.head < 0) return;
          let rest: Item[] | null = null;
          const restOf = (): Item[] => (rest ??= [...own].filter((id) => id !== n && this.items.has(id)).map((id) => this.items.get(id)!));
          if (!memberIds.has(x.bestId)) {
            if (!this.fitsOwnBelow(x, codeCluster(code), own.size, () => avg(x, restOf(), false, o.threshold) < o.threshold)) return;
            if (!(avg(x, wholeGroup(), false) >= o.threshold)) return;
          }
          const toGroup = avg(x, wholeGroup(), true);
          if (!(toGroup >= o.threshold) || toGroup <= (best.get(n)?.score ?? 0)) return;
          const toOwn = avg(x, restOf(), true);
          if (toGroup >= o.refitFactor * (Number.isNaN(toOwn) ? 0 : toOwn)) best.set(n, { to, score: toGroup });
        });
      }
    }
    // A cluster keeps at least one member that neither moves here nor is re-grouped now.
    const out = new Map<number, number>();
    for (const [id, b] of best) {
      const c = this.clusterOf(id)!;
      const own = this.members.get(c)!;
      let stays = 0;
      for (const m of own) if (!best.has(m) && !chosen.has(m)) stays++;
      if (stays > 0) out.set(id, b.to);
    }
    return out;
  }

  /**
   * Re-groups the items no human placed within the window (and `fresh`, the items to place now) by
   * average linkage; clusters holding pinned or older items take part as fixed groups (their newest
   * members stand for them). Returns what changes.
   */
  regroup(fresh: readonly number[]): RegroupPlan {
    const o = this.o;
    const since = this.newest - o.windowDays * DAY_MS;
    const freshSet = new Set(fresh.filter((id) => this.items.has(id)));
    const movable = (id: number) => {
      const it = this.items.get(id);
      if (!it) return false;
      if (freshSet.has(id)) return true;
      const code = this.placement.get(id);
      return code !== undefined && !codePinned(code) && it.at >= since;
    };
    // The window's movable items, read by day.
    const windowItems: number[] = [...freshSet];
    const lastDay = Math.floor(this.newest / DAY_MS);
    for (let day = Math.floor(since / DAY_MS); day <= lastDay && windowItems.length <= o.denseLimit; day++) {
      for (const id of this.byDay.get(day) ?? []) if (!freshSet.has(id) && movable(id)) windowItems.push(id);
    }
    // A small window is re-grouped whole, all pairs, exactly: the result does not depend on the order
    // the items came in. Past denseLimit, the new items are grouped among themselves and against the
    // clusters of their candidate neighbours, on the candidate graph's similarities.
    const dense = windowItems.length <= o.denseLimit;
    const chosen = dense ? windowItems : [...freshSet];
    const chosenSet = new Set(chosen);
    const isFixed = (id: number) => !chosenSet.has(id);
    // Fixed groups: the clusters of the chosen items' neighbours and of the chosen items themselves,
    // without the chosen items; their newest members (dense) or the neighbours in them (sparse) stand for them.
    // Per wanted cluster, its members that are a chosen item's neighbours, with the best similarity
    // found (a chosen item's mutual best neighbour first: see mutualBest).
    const wanted = new Map<number, Map<number, number>>();
    const want = (c: number, id: number | null, evidence = 0) => {
      let set = wanted.get(c);
      if (!set) wanted.set(c, (set = new Map()));
      if (id !== null) set.set(id, Math.max(set.get(id) ?? 0, evidence));
    };
    for (const id of chosen) {
      const cur = this.clusterOf(id);
      if (cur !== undefined) want(cur, null);
      const mutual = this.mutualBest(id)?.id;
      this.edges.forEach(this.items.get(id)!, (n, sim) => {
        const c = this.clusterOf(n);
        if (c !== undefined && isFixed(n)) want(c, n, n === mutual ? Infinity : sim);
      });
    }
    const fixedMembers = new Map<number, number[]>();
    const fixedPinned = new Map<number, boolean>();
    // The fixed members of a cluster (not chosen, known here).
    const fixedOf = (c: number) => [...(this.members.get(c) ?? [])].filter((id) => isFixed(id) && this.items.has(id));
    for (const [c, near] of wanted) {
      // Sparse: the neighbours found are fixed members themselves (edges join known items), so a
      // cluster without them has no sample; a big cluster's members are only walked when it holds a pinned one.
      if (!dense && !near.size) continue;
      const all = dense || this.pinnedIn.has(c) ? fixedOf(c) : null;
      if (all && !all.length) continue;
      let sample: number[];
      // Dense: the members a chosen item found as neighbours (the evidence: a duplicate filed months
      // after the cluster's newest members), then its newest members, up to sampleSize.
      if (dense && all) {
        const evidence = [...near]
          .filter(([, e]) => e === Infinity)
          .map(([id]) => id)
          .sort((a, b) => a - b)
          .slice(0, o.sampleSize);
        const taken = new Set(evidence);
        sample = [
          ...evidence,
          ...all
            .filter((id) => !taken.has(id))
            .map((id) => this.items.get(id)!)
            .sort((a, b) => keyCompare(b, a))
            .slice(0, o.sampleSize - evidence.length)
            .map((it) => it.itemId),
        ];
      } else sample = [...near.keys()].slice(0, o.sampleSize);
      if (!sample.length) continue;
      fixedMembers.set(c, sample);
      fixedPinned.set(c, all?.some((id) => this.pinned(id)) ?? false);
    }
    // Nodes in canonical order (time, then text): the same items give the same result in any arrival order.
    const nodeItems = [...chosen, ...[...fixedMembers.values()].flat()];
    const order = nodeItems.map((id) => this.items.get(id)!).sort((a, b) => keyCompare(a, b) || a.itemId - b.itemId);
    const n = order.length;
    const index = new Map(order.map((it, i) => [it.itemId, i]));
    // Initial groups: one per movable item; one per fixed cluster.
    const groupOf = new Int32Array(n);
    const groups: Array<{ members: number[]; fixed: number | null; pinned: boolean; alive: boolean; version: number; inner: number }> = [];
    const fixedGroup = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const id = order[i]!.itemId;
      if (chosenSet.has(id)) {
        groupOf[i] = groups.length;
        groups.push({ members: [i], fixed: null, pinned: false, alive: true, version: 0, inner: 0 });
      }
    }
    for (const [c, members] of fixedMembers) {
      const g = groups.length;
      fixedGroup.set(c, g);
      const pinned = fixedPinned.get(c) ?? false;
      groups.push({ members: members.map((id) => index.get(id)!).sort((a, b) => a - b), fixed: c, pinned, alive: true, version: 0, inner: 0 });
      for (const m of members) groupOf[index.get(m)!] = g;
    }
    // Mutual best neighbours: two items each of which is the other's most similar item (among the
    // duplicate index's candidates), at the same-need threshold, start in one group whatever the rest
    // of their clusters: rank evidence, as a report is to its duplicate filed months later. A chosen
    // item so joins an older cluster; two fixed clusters still stay apart.
    const mergeScore = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const id = order[i]!.itemId;
      if (!chosenSet.has(id)) continue;
      const best = this.mutualBest(id);
      const j = best === undefined ? undefined : index.get(best.id);
      if (j === undefined || groupOf[i] === groupOf[j]) continue;
      const gi = groupOf[i]!;
      const gj = groupOf[j]!;
      if (groups[gi]!.fixed !== null && groups[gj]!.fixed !== null) continue;
      const [keep, gone] = groups[gi]!.fixed !== null ? [gi, gj] : [gj, gi];
      const gk = groups[keep]!;
      const gg = groups[gone]!;
      for (const m of gg.members) groupOf[m] = keep;
      gk.members = [...gk.members, ...gg.members].sort((x, y) => x - y);
      gg.members = [];
      gg.alive = false;
      if (gk.fixed !== null) mergeScore.set(keep, Math.max(mergeScore.get(keep) ?? 0, best!.sim));
    }
    // Pair sums between groups.
    const sums = new Map<number, Map<number, number>>();
    const addSum = (a: number, b: number, s: number) => {
      if (a === b) {
        groups[a]!.inner += s;
        return;
      }
      const [x, y] = a < b ? [a, b] : [b, a];
      let m = sums.get(x);
      if (!m) sums.set(x, (m = new Map()));
      m.set(y, (m.get(y) ?? 0) + s);
    };
    const ids = order.map((it) => it.itemId);
    if (dense) {
      // Exact, under the current idf: the same items give the same similarities whatever came first.
      const vecs = order.map((it) => this.vector(it, true));
      const groupKind = order.map((it) => NEED_KIND_OF(it.kind));
      const kindGroups = order.map((it) => it.kindGroups);
      const from = this.from;
      for (let i = 0; i < n; i++) {
        const vi = vecs[i]!;
        from.hold(vi);
        for (let j = i + 1; j < n; j++) {
          let sim = this.embeddings.size ? this.pairCosine(ids[i]!, ids[j]!, vi, vecs[j]!, from) : from.cosine(vecs[j]!);
          const ki = groupKind[i]!;
          const kj = groupKind[j]!;
          if (ki >= 0 && kj >= 0 && ki !== kj) sim *= kindFactor(o.kindPenalty, kindGroups[i], kindGroups[j]);
          sim *= this.lengthFactor(order[i]!, order[j]!) * this.questionPair(order[i]!, order[j]!);
          addSum(groupOf[i]!, groupOf[j]!, sim);
        }
      }
      from.release();
    } else {
      // Each node's links to later nodes, in the order its list holds them. A fixed member's list
      // holds every later item that found it (thousands for a common need, as many more as the
      // index grows), mostly outside this re-grouping; but a link between two items is also among
      // the first edges of the newer one's list, those it found when it was added (first of their
      // pairs, the older one's edge next to it): walking only those finds every link between nodes.
      const edges = this.edges;
      const later: number[][] = order.map(() => []);
      for (let y = 0; y < n; y++) {
        for (let e = edges.first(order[y]!); e >= 0 && EdgeLists.isFirstOfPair(e); e = edges.next(e)) {
          const x = index.get(edges.to(e));
          if (x === undefined) continue;
          if (y < x) later[y]!.push(e, x);
          else later[x]!.push(e + 1, y);
        }
      }
      for (let i = 0; i < n; i++) {
        const l = later[i]!;
        // Edge ids grow along a list: by id is the list's order.
        const at = Array.from({ length: l.length / 2 }, (_, k) => 2 * k).sort((a, b) => l[a]! - l[b]!);
        for (const k of at) addSum(groupOf[i]!, groupOf[l[k + 1]!]!, edges.sim(l[k]!));
      }
    }
    // Average linkage with a heap of candidate merges (stale entries skipped by version).
    const heap = new MergeHeap();
    const avg = (a: number, b: number, s: number) => s / (groups[a]!.members.length * groups[b]!.members.length);
    const canMerge = (a: number, b: number) => {
      const ga = groups[a]!;
      const gb = groups[b]!;
      // Two clusters a human touched stay apart; so do two older clusters (nothing new links them here).
      if (ga.fixed !== null && gb.fixed !== null) return false;
      return true;
    };
    const firstOf = (g: number) => groups[g]!.members[0]!;
    // A group's cohesion: the average similarity of its members' pairs (null for one member).
    const cohesion = (g: number): number | null => {
      const k = groups[g]!.members.length;
      return k > 1 ? groups[g]!.inner / ((k * (k - 1)) / 2) : null;
    };
    // Two tight groups that are only loosely alike voice two needs: the link between them must be at
    // least a share (cohesionShare) of the looser group's own cohesion.
    const cohesive = (a: number, b: number, v: number) => {
      const ca = cohesion(a);
      const cb = cohesion(b);
      if (ca === null || cb === null) return true;
      return v >= o.cohesionShare * Math.min(ca, cb);
    };
    const push = (a: number, b: number, s: number) => {
      const v = avg(a, b, s);
      if (v >= o.threshold && canMerge(a, b) && cohesive(a, b, v))
        heap.push({ score: v, a, b, va: groups[a]!.version, vb: groups[b]!.version, tie: Math.min(firstOf(a), firstOf(b)) * n + Math.max(firstOf(a), firstOf(b)) });
    };
    for (const [a, m] of sums) for (const [b, s] of m) push(a, b, s);
    // Adjacency kept per group for the merge updates (built once from `sums`).
    const adj = new Map<number, Map<number, number>>();
    for (let g = 0; g < groups.length; g++) adj.set(g, new Map());
    for (const [a, m] of sums)
      for (const [b, s] of m) {
        adj.get(a)!.set(b, s);
        adj.get(b)!.set(a, s);
      }
    for (;;) {
      const top = heap.pop();
      if (!top) break;
      const ga = groups[top.a]!;
      const gb = groups[top.b]!;
      if (!ga.alive || !gb.alive || ga.version !== top.va || gb.version !== top.vb) continue;
      if (!canMerge(top.a, top.b)) continue;
      // Merge b into a (the fixed one survives: it is an existing cluster).
      const [keep, gone] = gb.fixed !== null ? [top.b, top.a] : [top.a, top.b];
      const gk = groups[keep]!;
      const gg = groups[gone]!;
      gk.inner += gg.inner + (adj.get(keep)!.get(gone) ?? 0);
      gk.members = [...gk.members, ...gg.members].sort((x, y) => x - y);
      gk.pinned ||= gg.pinned;
      gk.version++;
      gg.alive = false;
      if (gk.fixed !== null) mergeScore.set(keep, Math.max(mergeScore.get(keep) ?? 0, top.score));
      const ak = adj.get(keep)!;
      const ag = adj.get(gone)!;
      for (const [x, s] of ag) {
        if (x === keep) continue;
        ak.set(x, (ak.get(x) ?? 0) + s);
        const ax = adj.get(x)!;
        ax.delete(gone);
        ax.set(keep, (ax.get(keep) ?? 0) + s);
      }
      ak.delete(gone);
      adj.delete(gone);
      for (const [x, s] of ak) if (groups[x]!.alive) push(keep, x, s);
    }
    // Groups to clusters: a fixed group is its cluster; another takes the existing cluster that holds
    // most of its items (each cluster once), else a new one.
    const place = new Map<number, number>();
    const claimed = new Set<number>(fixedMembers.keys());
    let provisional = -1;
    const finalGroups = groups.filter((g) => g.alive).sort((a, b) => a.members[0]! - b.members[0]!);
    const target = new Map<(typeof groups)[number], number>();
    for (const g of finalGroups) if (g.fixed !== null) target.set(g, g.fixed);
    // Bigger groups choose first, then by canonical order.
    const free = finalGroups.filter((g) => g.fixed === null).sort((a, b) => b.members.length - a.members.length || a.members[0]! - b.members[0]!);
    for (const g of free) {
      const votes = new Map<number, number>();
      for (const i of g.members) {
        const c = this.clusterOf(ids[i]!);
        if (c !== undefined && !claimed.has(c)) votes.set(c, (votes.get(c) ?? 0) + 1);
      }
      const best = [...votes].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
      if (best) {
        claimed.add(best[0]);
        target.set(g, best[0]);
      } else target.set(g, provisional--);
    }
    const refits = o.refitFactor > 0 ? this.refits(finalGroups, target, order, chosenSet) : new Map<number, number>();
    // The clusters the chosen items are in now: those a re-grouping can empty.
    const before = new Map<number, Set<number>>();
    for (const id of chosen) {
      const c = this.clusterOf(id);
      if (c !== undefined && !before.has(c)) before.set(c, this.members.get(c) ?? new Set());
    }
    const moved = new Map<number, number>();
    for (const g of finalGroups) {
      const c = target.get(g)!;
      for (const i of g.members) {
        const id = ids[i]!;
        if (!chosenSet.has(id)) continue;
        if (this.clusterOf(id) !== c) {
          place.set(id, c);
          moved.set(id, c);
        }
      }
    }
    for (const [id, c] of refits) {
      place.set(id, c);
      moved.set(id, c);
    }
    // Clusters that lose every item.
    const emptied: number[] = [];
    const merges: RegroupPlan['merges'] = [];
    for (const [c, members] of before) {
      if (c < 0) continue;
      const left = [...members].filter((id) => !moved.has(id));
      if (left.length) continue;
      emptied.push(c);
      const dest = new Map<number, number>();
      for (const id of members) dest.set(moved.get(id)!, (dest.get(moved.get(id)!) ?? 0) + 1);
      const into = [...dest].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0];
      if (into !== undefined && into > 0 && fixedMembers.has(into)) merges.push({ from: c, into, score: mergeScore.get(fixedGroup.get(into)!) ?? 0, items: [...members].sort((a, b) => a - b) });
    }
    emptied.sort((a, b) => a - b);
    return { place, emptied, merges, compared: n, dense };
  }
}
