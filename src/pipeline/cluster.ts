// Incremental clustering of feedback items: each new item joins the most similar existing cluster
// (when it is similar enough and of a compatible kind) or starts a new one. Clusters keep their ids,
// assigned items never move, and a human's pins are the store's business: this index only proposes
// places for items that have none. Also the cluster's title, summary and kind, extracted from its items.
// Pure: no I/O; ids come from the caller (new clusters get provisional negative keys until stored).
import { capitalise, cleanSubject, fitToShow, looksLikeCode, ownWords } from './own-words.js';
import { tokenizeReport } from './dedupe/index.js';
import type { FeedbackKind } from '../model/index.js';
import type { ItemForDoc } from '../model/records.js';

export type { ItemForDoc };

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

interface Vec {
  terms: Int32Array;
  weights: Float32Array; // log-tf (title occurrences count double); idf applied at comparison time
}

/** A term vocabulary with document frequencies, shared by item vectors, centroids, titles and summaries. */
export class TermStats {
  private readonly ids = new Map<string, number>();
  private df: Int32Array = new Int32Array(1024);
  docs = 0;

  /** Terms of a text: stemmed words and identifiers (see tokenizeReport). */
  terms(title: string | null | undefined, text: string, maxTerms = 300, tags: readonly string[] = []): Map<string, number> {
    const tf = new Map<string, number>();
    const put = (t: string, w: number) => tf.set(t, (tf.get(t) ?? 0) + w);
    for (const t of tags) put('@' + t, 2);
    if (title) {
      const tt = tokenizeReport(title);
      for (const w of tt.words) put(w, 2);
      for (const x of tt.extras) put('#' + x, 2);
    }
    const body = tokenizeReport(text);
    const n = Math.min(body.words.length, maxTerms);
    for (let i = 0; i < n; i++) put(body.words[i]!, 1);
    for (let i = 0; i < Math.min(body.extras.length, maxTerms); i++) put('#' + body.extras[i]!, 1);
    return tf;
  }

  /** Adds a document's terms to the frequencies and returns its vector. */
  add(tf: Map<string, number>): Vec {
    this.docs++;
    return this.vector(tf, true);
  }

  vector(tf: Map<string, number>, count = false): Vec {
    const pairs: Array<[number, number]> = [];
    for (const [term, f] of tf) {
      let id = this.ids.get(term);
      if (id === undefined) {
        if (!count) continue;
        id = this.ids.size;
        this.ids.set(term, id);
        if (id >= this.df.length) {
          const grown = new Int32Array(this.df.length * 2);
          grown.set(this.df);
          this.df = grown;
        }
      }
      if (count) this.df[id]!++;
      pairs.push([id, 1 + Math.log(f)]);
    }
    pairs.sort((a, b) => a[0] - b[0]);
    return { terms: Int32Array.from(pairs, (p) => p[0]), weights: Float32Array.from(pairs, (p) => p[1]) };
  }

  /** Takes a counted document back out of the frequencies (its placement was not stored). */
  remove(v: Vec): void {
    this.docs--;
    for (let i = 0; i < v.terms.length; i++) this.df[v.terms[i]!]!--;
  }

  idf(id: number): number {
    const df = this.df[id] ?? 0;
    return Math.log((1 + this.docs) / (1 + df)) + 1;
  }

  /** Cosine of two vectors under the current idf. */
  cosine(a: Vec, b: Vec): number {
    let dot = 0;
    for (let i = 0, j = 0; i < a.terms.length && j < b.terms.length; ) {
      const x = a.terms[i]!;
      const y = b.terms[j]!;
      if (x < y) i++;
      else if (x > y) j++;
      else {
        const w = this.idf(x);
        dot += a.weights[i]! * b.weights[j]! * w * w;
        i++;
        j++;
      }
    }
    if (dot === 0) return 0;
    return dot / (this.norm(a) * this.norm(b));
  }

  norm(v: Vec): number {
    let s = 0;
    for (let i = 0; i < v.terms.length; i++) {
      const w = v.weights[i]! * this.idf(v.terms[i]!);
      s += w * w;
    }
    return Math.sqrt(s) || 1;
  }
}

/** A cluster's summed term weights: the centroid that guards against chains of pairwise matches. */
class Centroid {
  readonly sum = new Map<number, number>();
  size = 0;
  // The norm is cached and recomputed once the cluster or the collection has grown by a tenth
  // (a big cluster's centroid has thousands of terms; the idf drifts slowly).
  private norm = 0;
  private normAtSize = 0;
  private normAtDocs = 0;
  add(v: Vec): void {
    this.size++;
    for (let i = 0; i < v.terms.length; i++) this.sum.set(v.terms[i]!, (this.sum.get(v.terms[i]!) ?? 0) + v.weights[i]!);
  }
  remove(v: Vec): void {
    this.size--;
    for (let i = 0; i < v.terms.length; i++) {
      const t = v.terms[i]!;
      const left = (this.sum.get(t) ?? 0) - v.weights[i]!;
      if (left > 1e-9) this.sum.set(t, left);
      else this.sum.delete(t);
    }
    this.normAtSize = 0; // recomputed on the next comparison
  }
  cosine(v: Vec, stats: TermStats): number {
    let dot = 0;
    let nv = 0;
    for (let i = 0; i < v.terms.length; i++) {
      const t = v.terms[i]!;
      const idf = stats.idf(t);
      const w = v.weights[i]! * idf;
      nv += w * w;
      const c = this.sum.get(t);
      if (c !== undefined) dot += w * c * idf;
    }
    if (dot === 0) return 0;
    if (this.normAtSize === 0 || this.size > this.normAtSize * 1.1 || stats.docs > this.normAtDocs * 1.1) {
      let nc = 0;
      for (const [t, c] of this.sum) {
        const w = c * stats.idf(t);
        nc += w * w;
      }
      this.norm = Math.sqrt(nc);
      this.normAtSize = this.size;
      this.normAtDocs = stats.docs;
    }
    return dot / (Math.sqrt(nv) * this.norm || 1);
  }
}

/**
 * Candidates for a new item: an inverted index over the items' TF-IDF vectors (the same vocabulary and
 * weights the decision uses). A query walks the postings of its most telling terms (highest weight x
 * idf), accumulates the partial dot product, and keeps the best `k` by that over the item's norm. The
 * exact cosine is the caller's. A very common term's postings are walked from the newest end and
 * capped: its rarer terms find an old item that is really about the same thing.
 */
export class CandidateIndex {
  /** Per term id: interleaved slot, weight (log tf) of every item that has it, oldest first. */
  private readonly postings: number[][] = [];
  private readonly slotItem: number[] = [];
  private readonly slotVec: Vec[] = [];
  private readonly slotOf = new Map<number, number>();
  /** Each item's TF-IDF norm under the idf of when it was last computed (all refreshed as the collection grows by a tenth). */
  private norms = new Float64Array(1024);
  private normsAtDocs = 0;
  private acc = new Float64Array(1024);

  constructor(
    private readonly stats: TermStats,
    private readonly maxQueryTerms: number,
    private readonly maxPostings: number,
  ) {}

  add(itemId: number, v: Vec): void {
    if (this.slotOf.has(itemId)) return;
    const slot = this.slotItem.length;
    this.slotItem.push(itemId);
    this.slotVec.push(v);
    this.slotOf.set(itemId, slot);
    if (slot >= this.acc.length) {
      const size = this.acc.length * 2;
      const grow = (a: Float64Array) => {
        const b = new Float64Array(size);
        b.set(a);
        return b;
      };
      this.acc = grow(this.acc);
      this.norms = grow(this.norms);
    }
    this.norms[slot] = this.stats.norm(v);
    for (let i = 0; i < v.terms.length; i++) {
      const t = v.terms[i]!;
      let p = this.postings[t];
      if (!p) {
        // Term ids are dense and grow by one, so this fills any gap left by terms never indexed.
        while (this.postings.length <= t) this.postings.push([]);
        p = this.postings[t]!;
      }
      p.push(slot, v.weights[i]!);
    }
  }

  /** Recomputes every norm once the collection has grown by a tenth since the last time (the idf drifts slowly). */
  private refreshNorms(): void {
    const docs = this.stats.docs;
    if (this.normsAtDocs > 0 && docs <= this.normsAtDocs * 1.1) return;
    for (let slot = 0; slot < this.slotVec.length; slot++) this.norms[slot] = this.stats.norm(this.slotVec[slot]!);
    this.normsAtDocs = docs;
  }

  /** Up to k item ids, best partial cosine first (items retracted or forgotten are the caller's to skip). */
  query(v: Vec, k: number, exclude: number): number[] {
    const n = v.terms.length;
    if (n === 0 || this.slotItem.length === 0) return [];
    this.refreshNorms();
    const order: Array<{ t: number; w: number }> = [];
    for (let i = 0; i < n; i++) {
      const t = v.terms[i]!;
      const p = this.postings[t];
      if (!p?.length) continue;
      const idf = this.stats.idf(t);
      order.push({ t, w: v.weights[i]! * idf * idf });
    }
    order.sort((a, b) => b.w - a.w || a.t - b.t);
    const acc = this.acc;
    const touched: number[] = [];
    const limit = Math.min(order.length, this.maxQueryTerms);
    // Terms in more than 2% of the items say little and their postings are long: skipped, except
    // that the three most telling terms are always walked (a query of common words still finds some).
    // Every list is walked newest first and capped at maxPostings, so a query costs the same at any size.
    const maxDf = Math.max(64, 0.02 * this.slotItem.length) * 2;
    for (let i = 0; i < limit; i++) {
      const { t, w } = order[i]!;
      const p = this.postings[t]!;
      if (i >= 3 && p.length > maxDf) continue;
      const from = Math.max(0, p.length - 2 * this.maxPostings);
      for (let j = from; j < p.length; j += 2) {
        const slot = p[j]!;
        if (acc[slot] === 0) touched.push(slot);
        acc[slot]! += w * p[j + 1]!;
      }
    }
    // The best k by partial dot / norm: a small sorted list, replaced from the bottom.
    const norms = this.norms;
    const bestSlots: number[] = [];
    const bestScores: number[] = [];
    const excludedSlot = this.slotOf.get(exclude) ?? -1;
    let floor = -1;
    for (let x = 0; x < touched.length; x++) {
      const slot = touched[x]!;
      const score = acc[slot]! / (norms[slot]! || 1);
      acc[slot] = 0;
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

// Title, summary, kind --------------------------------------------------------------------------------

export interface DescribeItem {
  itemId: number;
  subject: string | null;
  /** The report text (reporter's words). */
  text: string;
  at: number;
  kind: FeedbackKind | null;
  /** Only staff (or bots) wrote in this item: its words describe an answer, not the need. */
  staffOnly?: boolean;
  /** A language model's one-line summary of the item (`llm:` version), when one was written. */
  llmSummary?: string | null;
}

/** The items whose words describe the need: those raised by someone other than staff, when there are any. */
function speaking<T extends { staffOnly?: boolean }>(items: readonly T[]): readonly T[] {
  const some = items.filter((i) => !i.staffOnly);
  return some.length ? some : items;
}

const GREETING = /^(?:(?:hi|hello|hey|hiya|morning|good (?:morning|afternoon|evening)|greetings|dear)(?:\s+(?:all|everyone|folks|team|there|guys|people|y'all|list|devs))?[,!.:;\s-]*)+/i;
const LEAD_IN =
  /^(?:(?:same here|me too|\+1(?: for this)?|quick (?:one|question)|(?:a |one )?(?:different|another|small|related) question|feature request|bug report|question|request|idea|suggestion|fyi|ps|btw|so|ok(?:ay)?|well|also|update|edit|psa|heads up|just (?:a )?(?:fyi|wondering))\s*[:,!.-]\s*)+/i;
const BOILERPLATE = /^(?:is (?:any|some)one else (?:seeing|having|getting|hitting) (?:this|that|the same)|does any(?:one|body) know|any ideas|can any(?:one|body) help|thanks(?: in advance)?|thank you|any eta for the fix|any update|anyone\?)/i;
/** "jberg: ..." / "@priya, ...": the person addressed on IRC and chat. */
const ADDRESSEE = /^@?([a-z][\w.\-[\]]{1,30})[:,]\s+(?=\S)/;
const NOT_ADDRESSEE = /^(?:so|but|and|yes|no|ok|okay|well|also|hmm|sure|right|update|note|edit|ps)$/i;
const LIST_TAG = /^\s*(?:(?:re|fwd?|aw|sv)\s*:\s*|\[[^\]]{1,40}\]\s*)+/i;

/** Strips greetings, list tags, reply prefixes and lead-ins ("Feature request:", "quick one:") off a phrase. */
export function cleanPhrase(s: string): string {
  let t = s.replace(/<[^>\s]{1,32}>\s*"[^"]*"\s*(?:<-)?/g, ' '); // an IRC quote of another line
  t = t.replace(/\s+/g, ' ').trim();
  for (let i = 0; i < 3; i++) {
    const before = t;
    t = t.replace(LIST_TAG, '').replace(GREETING, '').replace(LEAD_IN, '').replace(ADDRESSEE, (m, w: string) => (NOT_ADDRESSEE.test(w) ? m : '')).trim();
    if (t === before) break;
  }
  return t;
}

function words(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

/** Sentences of a text (on . ! ? and line breaks), trimmed. */
export function sentences(text: string): string[] {
  return text
    .replace(/```[\s\S]*?```/g, ' ')
    .split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'`(])|\n+/u)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.length > 0);
}

/** Phrases that could be a title: cleaned sentences, and their clauses on ":" / "," / " - ". */
/** "Could we export dashboards as PDF?" -> "export dashboards as PDF": a request reads as its object. */
const REQUEST = /^(?:could|can|would|will) (?:we|you|lumen|it|i)(?: please)?(?: be able to)? (?=\p{L})|^(?:is (?:it|there a way) (?:possible )?to|would it be possible to|it would be (?:great|nice|useful|awesome) (?:to|if (?:we|you) could)|i(?:'d| would) (?:like|love) to|we(?:'d| would) (?:like|love) to|please) (?=\p{L})/iu;

function titleCandidates(item: DescribeItem): Array<{ text: string; subject: boolean; position: number }> {
  const out: Array<{ text: string; subject: boolean; position: number }> = [];
  const push = (raw: string, subject: boolean, position: number) => {
    let t = cleanPhrase(raw).replace(/[\s.,;:!-]+$/u, '').replace(/\s*\?$/, '?');
    if (REQUEST.test(t)) t = t.replace(REQUEST, '').replace(/\?$/, '');
    const n = words(t).length;
    // A subject names the need in few words ("Download links"); a sentence needs three to state one.
    // One word names a need only as an identifier ("mod_proxy_hcheck", "ProxyPass"), never "Question".
    if (n === 1 && !/[_.\d-]|\p{Ll}\p{Lu}/u.test(t)) return;
    if (n >= (subject ? 1 : 3) && n <= 12 && !BOILERPLATE.test(t) && !META.test(t) && fitToShow(t) && !looksLikeCode(t) && !DATELINE.test(t) && /[\p{L}]{3}/u.test(t)) out.push({ text: t, subject, position });
  };
  if (item.subject) push(cleanSubject(item.subject), true, 0);
  // A language model's summary, checked by the same rules, is the stronger candidate when there is one.
  if (item.llmSummary && fitToShow(item.llmSummary)) push(item.llmSummary, false, 0);
  sentences(ownWords(item.text))
    .slice(0, 6)
    .forEach((s, i) => {
      push(s, false, i);
      const parts = s.split(/:\s+|,\s+|\s+-\s+|;\s+|\s+\((?=\w)/);
      if (parts.length > 1) for (const p of parts) push(p.replace(/\)$/, ''), false, i);
    });
  return out;
}

/** Sentences about the thread rather than the need ("This deserves a separate thread", "See below"). */
const META = /^(?:this|that|it) (?:topic|thread|question|discussion|issue) (?:deserves|needs|should|belongs)|\b(?:separate|new|own) (?:mail ?)?thread\b|^see (?:below|above|attached)|^(?:as|like) (?:i|we) (?:said|mentioned|wrote)|^(?:i|we) (?:have|had|'ve) (?:a|another|one)(?: \w+)? (?:question|problem|issue|query)s?[.!?]?$|^(?:i|we) (?:would like|want|wanted) to ask\b/i;
/** A date, a time and a name: an attribution or a log line, never a title. */
const DATELINE = /^\d{4}-\d{2}-\d{2}\b|^\w{3}, \d{1,2} \w{3} \d{4}/;

function lengthPrior(n: number): number {
  if (n < 1) return 0;
  if (n === 1) return 0.6;
  if (n === 2) return 0.8;
  if (n <= 4) return 0.85;
  if (n <= 9) return 1;
  return 1 - (n - 9) * 0.06;
}

/** Capitalised, without trailing punctuation, at most 12 words. */
function finishTitle(t: string): string {
  const w = words(t).slice(0, 12).join(' ').replace(/[\s.,;:!-]+$/u, '');
  return capitalise(w);
}

export interface TextScorer {
  /** Similarity of a text to the cluster's centre (0..1). */
  centrality(text: string): number;
  /** Similarity of two texts (0..1). */
  similarity(a: string, b: string): number;
}

/** A scorer over a set of texts: TF-IDF from the given term stats (or the texts themselves). */
export function textScorer(texts: readonly string[], stats?: TermStats): TextScorer {
  const local = stats ?? new TermStats();
  // Titles and summaries score the same texts and phrases many times: each is tokenized once here.
  const termMemo = new Map<string, Map<string, number>>();
  const termsOf = (t: string) => {
    let tf = termMemo.get(t);
    if (!tf) termMemo.set(t, (tf = local.terms(null, t)));
    return tf;
  };
  if (!stats) for (const t of texts) local.add(termsOf(t));
  const vecMemo = new Map<string, Vec>();
  const vec = (t: string) => {
    let v = vecMemo.get(t);
    if (!v) vecMemo.set(t, (v = local.vector(termsOf(t))));
    return v;
  };
  const docs = texts.slice(0, 60).map(vec);
  // In how many of the texts each term occurs.
  const share = new Map<string, number>();
  for (const t of texts.slice(0, 60)) for (const term of termsOf(t).keys()) share.set(term, (share.get(term) ?? 0) + 1);
  const termShare = (t: string) => {
    const terms = [...termsOf(t).keys()].filter((x) => !x.startsWith('#'));
    if (!terms.length) return 0;
    return terms.reduce((a, x) => a + (share.get(x) ?? 0), 0) / terms.length / Math.max(1, docs.length);
  };
  // Mean similarity to every text: a phrase that speaks for all the items, not the words one long item repeats.
  const centrality = (t: string) => {
    const v = vec(t);
    if (!docs.length || !v.terms.length) return 0;
    let s = 0;
    for (const d of docs) s += local.cosine(v, d);
    return 0.5 * termShare(t) + 0.5 * (s / docs.length);
  };
  return { centrality, similarity: (a, b) => local.cosine(vec(a), vec(b)) };
}

/**
 * A title a product manager would write, taken from the items: the cleaned subject, sentence or clause
 * (3-12 words) closest to the cluster's centre, subjects preferred, greetings and boilerplate removed.
 */
export function clusterTitle(items: readonly DescribeItem[], scorer?: TextScorer): string {
  if (!items.length) return '(untitled)';
  items = speaking(items);
  const s = scorer ?? textScorer(items.map((i) => `${i.subject ?? ''}\n${i.text}`));
  let best: { text: string; score: number } | null = null;
  for (const item of items.slice(0, 60)) {
    for (const c of titleCandidates(item)) {
      const n = words(c.text).length;
      const score = (s.centrality(c.text) + (c.subject ? 0.1 : 0)) * lengthPrior(n) * (c.text.endsWith('?') ? 0.9 : 1) * (c.position === 0 ? 1 : 0.85);
      if (!best || score > best.score + 1e-9) best = { text: c.text, score };
    }
  }
  if (best) return finishTitle(best.text);
  const first = items[0]!;
  const fallback = cleanPhrase(first.subject ? cleanSubject(first.subject) : (sentences(ownWords(first.text))[0] ?? first.text));
  return finishTitle(fallback || '(untitled)');
}

/**
 * Two or three sentences from different items: the most central first, then by maximal marginal
 * relevance (central, unlike what is already chosen). Extractive: the reporters' own words.
 */
export function clusterSummary(items: readonly DescribeItem[], scorer?: TextScorer, max = 3): string | null {
  items = speaking(items);
  const s = scorer ?? textScorer(items.map((i) => `${i.subject ?? ''}\n${i.text}`));
  const cands: Array<{ item: number; text: string; rel: number; order: number }> = [];
  let order = 0;
  for (const item of items.slice(0, 60)) {
    // A language model's summary of the item, when it passes the same checks, speaks for the item.
    const llm = item.llmSummary ? cleanPhrase(item.llmSummary) : '';
    if (llm && fitToShow(llm) && words(llm).length >= 3) {
      cands.push({ item: item.itemId, text: /[.!?]$/.test(llm) ? llm : `${llm}.`, rel: s.centrality(llm) * 1.15, order: order++ });
      continue;
    }
    sentences(ownWords(item.text))
      .slice(0, 8)
      .forEach((raw, i) => {
        const t = cleanPhrase(raw);
        const n = words(t).length;
        // A sentence ending in ":" introduces a list or code that is not there: it says nothing alone.
        if (n < 4 || t.length > 300 || /:$/.test(t) || BOILERPLATE.test(t) || META.test(t) || !fitToShow(t) || looksLikeCode(t) || DATELINE.test(t)) return;
        cands.push({ item: item.itemId, text: /[.!?]$/.test(t) ? t : `${t}.`, rel: s.centrality(t) * (i === 0 ? 1 : 0.85), order: order++ });
      });
  }
  if (!cands.length) return null;
  const want = Math.min(max, Math.max(2, new Set(cands.map((c) => c.item)).size));
  const chosen: typeof cands = [];
  const usedItems = new Set<number>();
  while (chosen.length < want) {
    let best: { c: (typeof cands)[number]; score: number } | null = null;
    for (const c of cands) {
      if (chosen.includes(c)) continue;
      if (usedItems.has(c.item) && usedItems.size < new Set(cands.map((x) => x.item)).size) continue;
      const red = chosen.length ? Math.max(...chosen.map((x) => s.similarity(x.text, c.text))) : 0;
      if (red > 0.8) continue;
      const score = 0.7 * c.rel - 0.3 * red;
      if (!best || score > best.score + 1e-9) best = { c, score };
    }
    if (!best) break;
    chosen.push(best.c);
    usedItems.add(best.c.item);
  }
  return chosen.map((c) => capitalise(c.text)).join(' ');
}

/** The majority kind of the items; ties go to the kind seen first. */
export function clusterKind(items: ReadonlyArray<Pick<DescribeItem, 'kind' | 'at'>>): FeedbackKind | null {
  const counts = new Map<FeedbackKind, { n: number; first: number }>();
  for (const i of items) {
    if (!i.kind) continue;
    const c = counts.get(i.kind);
    if (c) {
      c.n++;
      c.first = Math.min(c.first, i.at);
    } else counts.set(i.kind, { n: 1, first: i.at });
  }
  let best: [FeedbackKind, { n: number; first: number }] | null = null;
  for (const e of counts) if (!best || e[1].n > best[1].n || (e[1].n === best[1].n && e[1].first < best[1].first)) best = e;
  return best ? best[0] : null;
}

// From a stored item to what is clustered -----------------------------------------------------------

/**
 * The words an item is clustered on: its subject, and what the person who raised it wrote at the
 * start of the conversation (up to three of their first messages, plus the report message). Staff
 * answers and bots are left out unless nobody else wrote anything.
 */
export function itemDoc(item: ItemForDoc): ClusterDoc & DescribeItem {
  const person = (m: { segment: string }) => m.segment !== 'staff' && m.segment !== 'bot';
  const report = item.messages.find((m) => m.messageId === item.reportMessageId);
  const raiser = report && person(report) ? report.personId : item.messages.find(person)?.personId;
  let chosen = raiser === undefined ? [] : item.messages.slice(0, 8).filter((m) => m.personId === raiser).slice(0, 3);
  if (report && person(report) && !chosen.includes(report)) chosen = [...chosen, report];
  if (!chosen.length && report) chosen = [report];
  if (!chosen.length) chosen = item.messages.slice(0, 1);
  const text = chosen.map((m) => m.text.replace(/<[^>\s]{1,32}>\s*"[^"]*"\s*(?:<-)?/g, ' ').trim()).filter(Boolean).join('\n');
  const at = report?.at ?? chosen[0]?.at ?? 0;
  return { itemId: item.itemId, title: item.subject, subject: item.subject, text, at, kind: item.kind, staffOnly: raiser === undefined, llmSummary: item.llmSummary ?? null, tags: (item.tags ?? []).filter((t) => t.startsWith('area:')) };
}
