// Incremental clustering of feedback items: each new item joins the most similar existing cluster
// (when it is similar enough and of a compatible kind) or starts a new one. Clusters keep their ids,
// assigned items never move, and a human's pins are the store's business: this index only proposes
// places for items that have none. Also the cluster's title, summary and kind, extracted from its items.
// Pure: no I/O; ids come from the caller (new clusters get provisional negative keys until stored).
import { Centroid, TermStats, type Vec } from './cluster-terms.js';
import type { DescribeItem } from './cluster-describe.js';
import type { FeedbackKind } from '../model/index.js';
import type { ItemForDoc } from '../model/records.js';
import { isPerson, needSubject, raiserMessages } from './need-text.js';
import { grown } from './arena.js';

export type { ItemForDoc };
export { cleanPhrase, clusterKind, clusterSummary, clusterTitle, itemScorer } from './cluster-describe.js';
export type { DescribeItem } from './cluster-describe.js';

export interface ClusterDoc {
  itemId: number;
  /** A subject line when the item has one (mail, forum post title). */
  title?: string | null;
  /** What the reporter(s) wrote: the report and the reporter's first words, without staff answers. */
  text: string;
  at: number;
  kind: FeedbackKind | null;
  /** Product-area tags (config rules, humans): a shared area is some evidence of the same need. */
  tags?: readonly string[];
}

export interface ClusterOptions {
  /** Cosine similarity (TF-IDF, 0..1) an item needs with a cluster to join it (default 0.22). */
  threshold?: number;
  /** Added to the similarity when two items share a product-area tag; half of it taken off when both have area tags and none is shared (default 0.08). */
  tagBonus?: number;
  /** Multiplier on the similarity when the kinds are not compatible (default 0.7). */
  kindPenalty?: number;
  /** Nearest earlier items looked at per new item (default 12). */
  candidates?: number;
  /** A cluster of 3+ items also needs this share of the threshold against its centroid (default 0.6): no chains. */
  centroidShare?: number;
  /** Only the first maxTerms words of a text count (long logs drown the report; default 300). */
  maxTerms?: number;
  /** Candidates come from the postings of an item's queryTerms most telling terms (default 24)... */
  queryTerms?: number;
  /** ...walking at most the newest maxPostings items of each (default 1000). */
  maxPostings?: number;
}

const DEFAULTS: Required<ClusterOptions> = { threshold: 0.22, tagBonus: 0.08, kindPenalty: 0.7, candidates: 12, centroidShare: 0.6, maxTerms: 300, queryTerms: 24, maxPostings: 1000 };

/** Kinds that describe the same kind of need: a bug and a complaint about it, a question and the docs gap. */
const KIND_GROUP: Record<FeedbackKind, number> = { bug: 0, complaint: 0, feature: 1, question: 2, docs: 2, praise: 3 };

export function kindsCompatible(a: FeedbackKind | null, b: FeedbackKind | null): boolean {
  return a === null || b === null || KIND_GROUP[a] === KIND_GROUP[b];
}

export interface Assignment {
  itemId: number;
  /** An existing cluster id, or a provisional negative key for a cluster created in this run. */
  clusterKey: number;
  created: boolean;
  /** Similarity with the cluster it joined (0 for a new cluster) and the item that matched best. */
  score: number;
  matchedItem: number | null;
}

/** Terms per page of CandidateIndex's stored vectors (4 MB of each). */
const VEC_PAGE = 1 << 20;

/**
 * Candidates for a new item: an inverted index over the items' TF-IDF vectors (the same vocabulary and
 * weights the decision uses). A query walks the postings of its most telling terms (highest weight x
 * idf), accumulates the partial dot product, and keeps the best `k` by that over the item's norm. The
 * exact cosine is the caller's. A very common term's postings are walked from the newest end and
 * capped: its rarer terms find an old item that is really about the same thing.
 */
export class CandidateIndex {
  /**
   * Per term id: interleaved slot, weight (log tf) of the items that have it, oldest first: the newest
   * maxPostings at least (a query walks no further back), older ones dropped in batches.
   */
  private readonly postings: number[][] = [];
  /** Per term id: how many items have it (what its postings held before the old ones were dropped). */
  private dfs = new Int32Array(1024);
  private readonly slotItem: number[] = [];
  /**
   * Every slot's vector, for a norm refresh: slot s at vecOff[s] (vecLen[s] long) in page vecPage[s].
   * Pages are added as vectors are, never copied (no doubling: no spare half, no peak of old and new).
   */
  private readonly termPages: Int32Array[] = [];
  private readonly weightPages: Float32Array[] = [];
  private pageUsed = VEC_PAGE;
  private vecPage = new Int32Array(1024);
  private vecOff = new Int32Array(1024);
  private vecLen = new Int32Array(1024);
  private readonly slotOf = new Map<number, number>();
  /**
   * Per slot, side by side: a query's partial dot product (zero between queries), then the item's
   * TF-IDF norm under the idf of when it was last computed (all refreshed as the collection grows by a
   * tenth). A query reads a reached slot's norm from the cache line its sum is in.
   */
  private accNorms = new Float64Array(2048);
  private normsAtDocs = 0;
  /** Query scratch: the slots a query reached (one per slot), its most telling terms and their weights. */
  private touched = new Int32Array(0);
  private topTerms = new Int32Array(0);
  private topWeights = new Float64Array(0);

  constructor(
    private readonly stats: TermStats,
    private readonly maxQueryTerms: number,
    private readonly maxPostings: number,
  ) {}

  add(itemId: number, v: Vec): void {
    if (this.slotOf.has(itemId)) return;
    const slot = this.slotItem.length;
    this.slotItem.push(itemId);
    this.slotOf.set(itemId, slot);
    if (slot >= this.vecPage.length) {
      const size = this.vecPage.length * 2;
      this.accNorms = grown(this.accNorms, 2 * size);
      this.vecPage = grown(this.vecPage, size);
      this.vecOff = grown(this.vecOff, size);
      this.vecLen = grown(this.vecLen, size);
    }
    const n = v.terms.length;
    if (this.pageUsed + n > (this.termPages[this.termPages.length - 1]?.length ?? 0)) {
      const size = Math.max(VEC_PAGE, n);
      this.termPages.push(new Int32Array(size));
      this.weightPages.push(new Float32Array(size));
      this.pageUsed = 0;
    }
    const page = this.termPages.length - 1;
    this.termPages[page]!.set(v.terms, this.pageUsed);
    this.weightPages[page]!.set(v.weights, this.pageUsed);
    this.vecPage[slot] = page;
    this.vecOff[slot] = this.pageUsed;
    this.vecLen[slot] = n;
    this.pageUsed += n;
    this.accNorms[2 * slot + 1] = this.stats.norm(v);
    for (let i = 0; i < v.terms.length; i++) {
      const t = v.terms[i]!;
      let p = this.postings[t];
      if (!p) {
        // Term ids are dense and grow by one, so this fills any gap left by terms never indexed.
        while (this.postings.length <= t) this.postings.push([]);
        p = this.postings[t]!;
      }
      p.push(slot, v.weights[i]!);
      if (t >= this.dfs.length) this.dfs = grown(this.dfs, Math.max(this.dfs.length * 2, t + 1));
      this.dfs[t]!++;
      if (p.length >= 4 * this.maxPostings && this.maxPostings > 0) p.splice(0, p.length - 2 * this.maxPostings);
    }
  }

  /** Recomputes every norm once the collection has grown by a tenth since the last time (the idf drifts slowly). */
  private refreshNorms(): void {
    const docs = this.stats.docs;
    if (this.normsAtDocs > 0 && docs <= this.normsAtDocs * 1.1) return;
    for (let slot = 0; slot < this.slotItem.length; slot++) {
      const page = this.vecPage[slot]!;
      const off = this.vecOff[slot]!;
      this.accNorms[2 * slot + 1] = this.stats.normOf(this.termPages[page]!, this.weightPages[page]!, off, off + this.vecLen[slot]!);
    }
    this.normsAtDocs = docs;
  }

  /** Up to k item ids, best partial cosine first (items retracted or forgotten are the caller's to skip). */
  query(v: Vec, k: number, exclude: number): number[] {
    const n = v.terms.length;
    if (n === 0 || this.slotItem.length === 0) return [];
    this.refreshNorms();
    // The most telling terms (weight x idf², then the lower id: terms are unique, so one order),
    // kept sorted as they come in scratch arrays: only the first maxQueryTerms are walked.
    const limit = Math.min(n, this.maxQueryTerms);
    if (limit <= 0) return [];
    if (limit > this.topTerms.length) {
      this.topTerms = new Int32Array(limit);
      this.topWeights = new Float64Array(limit);
    }
    const topTerms = this.topTerms;
    const topWeights = this.topWeights;
    let top = 0;
    for (let i = 0; i < n; i++) {
      const t = v.terms[i]!;
      if (!(this.dfs[t]! > 0)) continue;
      const idf = this.stats.idf(t);
      const w = v.weights[i]! * idf * idf;
      let at = top;
      if (at === limit) {
        const lw = topWeights[limit - 1]!;
        if (w < lw || (w === lw && t > topTerms[limit - 1]!)) continue;
        at--;
      } else top++;
      while (at > 0 && (topWeights[at - 1]! < w || (topWeights[at - 1] === w && topTerms[at - 1]! > t))) {
        topWeights[at] = topWeights[at - 1]!;
        topTerms[at] = topTerms[at - 1]!;
        at--;
      }
      topWeights[at] = w;
      topTerms[at] = t;
    }
    const acc = this.accNorms;
    if (this.touched.length < this.vecPage.length) this.touched = new Int32Array(this.vecPage.length);
    const touched = this.touched;
    let nTouched = 0;
    // Terms in more than 2% of the items say little and their postings are long: skipped, except
    // that the three most telling terms are always walked (a query of common words still finds some).
    // Every list is walked newest first and capped at maxPostings, so a query costs the same at any size.
    const maxDf = Math.max(64, 0.02 * this.slotItem.length) * 2;
    for (let i = 0; i < top; i++) {
      const t = topTerms[i]!;
      if (i >= 3 && 2 * this.dfs[t]! > maxDf) continue;
      const w = topWeights[i]!;
      const p = this.postings[t]!;
      const from = Math.max(0, p.length - 2 * this.maxPostings);
      for (let j = from; j < p.length; j += 2) {
        const slot = p[j]!;
        if (acc[2 * slot] === 0) touched[nTouched++] = slot;
        acc[2 * slot]! += w * p[j + 1]!;
      }
    }
    // The best k by partial dot / norm: a small sorted list, replaced from the bottom.
    const bestSlots: number[] = [];
    const bestScores: number[] = [];
    const excludedSlot = this.slotOf.get(exclude) ?? -1;
    let floor = -1;
    for (let x = 0; x < nTouched; x++) {
      const slot = touched[x]!;
      const score = acc[2 * slot]! / (acc[2 * slot + 1]! || 1);
      acc[2 * slot] = 0;
      if (score <= floor || slot === excludedSlot) continue;
      let at = bestSlots.length;
      if (at === k) at--;
      while (at > 0 && bestScores[at - 1]! < score) {
        if (at < k) {
          bestScores[at] = bestScores[at - 1]!;
          bestSlots[at] = bestSlots[at - 1]!;
        }
        at--;
      }
      bestScores[at] = score;
      bestSlots[at] = slot;
      if (bestSlots.length === k) floor = bestScores[k - 1]!;
    }
    return bestSlots.map((s) => this.slotItem[s]!);
  }
}

/**
 * The in-memory clustering state of one process: every clustered item's vector and cluster, a
 * near-duplicate index over them for candidates, and per-cluster centroids. Built from the store on
 * first use (`add` for each stored assignment), then kept up to date as items join.
 */
export class ClusterIndex {
  private readonly o: Required<ClusterOptions>;
  readonly stats = new TermStats();
  private readonly near: CandidateIndex;
  private readonly vecs = new Map<number, Vec>();
  private readonly clusterOf = new Map<number, number>();
  private readonly kindOf = new Map<number, FeedbackKind | null>();
  private readonly tagsOf = new Map<number, string[]>();
  private readonly centroids = new Map<number, Centroid>();
  private nextProvisional = -1;
  /** Items of clusters created in this run, by provisional key (until relabelled). */
  private readonly provisional = new Map<number, number[]>();

  constructor(opts: ClusterOptions = {}) {
    this.o = { ...DEFAULTS, ...opts };
    // No time prior for candidates: a need raised again months later is the same need.
    this.near = new CandidateIndex(this.stats, this.o.queryTerms, this.o.maxPostings);
  }

  get options(): Readonly<Required<ClusterOptions>> {
    return this.o;
  }

  size(): number {
    return this.vecs.size;
  }

  has(itemId: number): boolean {
    return this.clusterOf.has(itemId);
  }

  clusterOfItem(itemId: number): number | undefined {
    return this.clusterOf.get(itemId);
  }

  /** Records an item already in a cluster (loading from the store, or after a human moved it). */
  add(doc: ClusterDoc, clusterKey: number, counted?: Vec): void {
    const prev = this.clusterOf.get(doc.itemId);
    if (prev !== undefined) {
      if (prev === clusterKey) return;
      // Moved by a human: only its cluster changes (the vector and the near-dup entry stay).
      this.clusterOf.set(doc.itemId, clusterKey);
      this.rebuildCentroid(prev);
      this.centroidOf(clusterKey).add(this.vecs.get(doc.itemId)!);
      return;
    }
    const v = counted ?? this.stats.add(this.stats.terms(doc.title, doc.text, this.o.maxTerms));
    this.vecs.set(doc.itemId, v);
    this.clusterOf.set(doc.itemId, clusterKey);
    if (clusterKey < 0) {
      const list = this.provisional.get(clusterKey) ?? [];
      list.push(doc.itemId);
      this.provisional.set(clusterKey, list);
    }
    this.kindOf.set(doc.itemId, doc.kind);
    if (doc.tags?.length) this.tagsOf.set(doc.itemId, [...doc.tags]);
    this.centroidOf(clusterKey).add(v);
    this.near.add(doc.itemId, v);
  }

  /** Moves an item to another cluster (a human decision seen in the store). */
  move(itemId: number, clusterKey: number): void {
    const prev = this.clusterOf.get(itemId);
    const v = this.vecs.get(itemId);
    if (prev === undefined || v === undefined || prev === clusterKey) return;
    this.clusterOf.set(itemId, clusterKey);
    this.rebuildCentroid(prev);
    this.centroidOf(clusterKey).add(v);
  }

  /** Items no longer in any cluster (marked "not feedback") stop matching; moved ones follow `stored`. */
  forgetMissing(stored: ReadonlyMap<number, number>): void {
    const touched = new Set<number>();
    for (const [item, c] of this.clusterOf) {
      if (!stored.has(item)) {
        this.clusterOf.delete(item);
        touched.add(c);
      }
    }
    for (const c of touched) this.rebuildCentroid(c);
  }

  /**
   * Takes back the placements of `assign` that could not be stored (another worker changed the
   * clusters meanwhile): the items leave the index and the frequencies, as if never assigned.
   */
  retract(assignments: readonly Assignment[]): void {
    for (const a of assignments) {
      const v = this.vecs.get(a.itemId);
      const c = this.clusterOf.get(a.itemId);
      if (!v || c === undefined) continue;
      this.stats.remove(v);
      this.vecs.delete(a.itemId);
      this.clusterOf.delete(a.itemId);
      this.kindOf.delete(a.itemId);
      this.tagsOf.delete(a.itemId);
      const cen = this.centroids.get(c);
      cen?.remove(v);
      if (cen && cen.size <= 0) this.centroids.delete(c);
      if (c < 0) {
        const left = (this.provisional.get(c) ?? []).filter((id) => id !== a.itemId);
        if (left.length) this.provisional.set(c, left);
        else this.provisional.delete(c);
      }
    }
  }

  /** Renames a provisional cluster key to the id the store gave it. */
  relabel(from: number, to: number): void {
    for (const item of this.provisional.get(from) ?? []) if (this.clusterOf.get(item) === from) this.clusterOf.set(item, to);
    this.provisional.delete(from);
    const cen = this.centroids.get(from);
    if (cen) {
      this.centroids.delete(from);
      this.centroids.set(to, cen);
    }
  }

  /** The best existing cluster for a doc, or null when none is similar enough. */
  best(doc: ClusterDoc, counted?: Vec): { clusterKey: number; score: number; matchedItem: number } | null {
    if (this.vecs.size === 0) return null;
    const v = counted ?? this.stats.vector(this.stats.terms(doc.title, doc.text, this.o.maxTerms));
    if (v.terms.length === 0) return null;
    const tags = doc.tags ?? [];
    const cands = this.near.query(v, this.o.candidates, doc.itemId);
    const byCluster = new Map<number, { score: number; item: number }>();
    for (const item of cands) {
      const cv = this.vecs.get(item);
      const ck = this.clusterOf.get(item);
      if (!cv || ck === undefined || item === doc.itemId) continue;
      let s = this.stats.cosine(v, cv);
      if (!kindsCompatible(doc.kind, this.kindOf.get(item) ?? null)) s *= this.o.kindPenalty;
      const other = this.tagsOf.get(item);
      if (tags.length && other?.length) s += tags.some((t) => other.includes(t)) ? this.o.tagBonus : -this.o.tagBonus / 2;
      const prev = byCluster.get(ck);
      if (!prev || s > prev.score) byCluster.set(ck, { score: s, item });
    }
    const ranked = [...byCluster].sort((a, b) => b[1].score - a[1].score || a[0] - b[0]);
    for (const [ck, { score, item }] of ranked.slice(0, 3)) {
      if (score < this.o.threshold) break;
      const cen = this.centroids.get(ck);
      if (cen && cen.size >= 3 && cen.cosine(v, this.stats) < this.o.threshold * this.o.centroidShare) continue;
      return { clusterKey: ck, score, matchedItem: item };
    }
    return null;
  }

  /**
   * Places new items, in the order given (time order keeps the result stable): each joins its best
   * cluster or starts one with a provisional negative key. Items already placed are left where they are.
   */
  assign(docs: readonly ClusterDoc[]): Assignment[] {
    const out: Assignment[] = [];
    // The whole batch counts in the document frequencies first, so the first items of a backfill
    // are compared under the same idf as the last ones (a small corpus otherwise chains on common words).
    const fresh = docs.filter((d) => !this.clusterOf.has(d.itemId));
    const counted = new Map(fresh.map((d) => [d.itemId, this.stats.add(this.stats.terms(d.title, d.text, this.o.maxTerms))]));
    for (const doc of fresh) {
      if (this.clusterOf.has(doc.itemId)) continue;
      const vec = counted.get(doc.itemId)!;
      const b = this.best(doc, vec);
      if (b) {
        this.add(doc, b.clusterKey, vec);
        out.push({ itemId: doc.itemId, clusterKey: b.clusterKey, created: false, score: b.score, matchedItem: b.matchedItem });
      } else {
        const key = this.nextProvisional--;
        this.add(doc, key, vec);
        out.push({ itemId: doc.itemId, clusterKey: key, created: true, score: 0, matchedItem: null });
      }
    }
    return out;
  }

  /** Term vector of a text under this index's vocabulary (for titles and summaries). */
  vectorOf(title: string | null | undefined, text: string): Vec {
    return this.stats.vector(this.stats.terms(title, text, this.o.maxTerms));
  }

  private centroidOf(key: number): Centroid {
    let c = this.centroids.get(key);
    if (!c) {
      c = new Centroid();
      this.centroids.set(key, c);
    }
    return c;
  }

  private rebuildCentroid(key: number): void {
    const c = new Centroid();
    for (const [item, ck] of this.clusterOf) if (ck === key) c.add(this.vecs.get(item)!);
    if (c.size) this.centroids.set(key, c);
    else this.centroids.delete(key);
  }
}

export function itemDoc(item: ItemForDoc): ClusterDoc & DescribeItem {
  const { report, raiser, raised } = raiserMessages(item);
  let chosen = raised;
  if (report && isPerson(report) && !chosen.includes(report)) chosen = [...chosen, report];
  if (!chosen.length && report) chosen = [report];
  if (!chosen.length) chosen = item.messages.slice(0, 1);
  const text = chosen
    .map((m) => m.text.replace(/<[^>\s]{1,32}>\s*"[^"]*"\s*(?:<-)?/g, ' ').trim())
    .filter(Boolean)
    .join('\n');
  const at = report?.at ?? chosen[0]?.at ?? 0;
  const subject = needSubject(item);
  return {
    itemId: item.itemId,
    title: subject,
    subject,
    text,
    at,
    kind: item.kind,
    kindGroups: item.kindGroups ?? null,
    staffOnly: raiser === undefined,
    llmSummary: item.llmSummary ?? null,
    tags: (item.tags ?? []).filter((t) => t.startsWith('area:')),
  };
}
