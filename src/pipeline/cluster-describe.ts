// A cluster's title, summary and kind, extracted from its items' words. Pure: no I/O. Split out of cluster.ts.
import { capitalise, cleanSubject, fitToShow, looksLikeCode, ownWords } from './own-words.js';
import { NEED_GROUP_OF, NEED_GROUPS, type FeedbackKind } from '../model/index.js';
import { TermStats, type Vec } from './cluster-terms.js';
import { grown } from './arena.js';

// Title, summary, kind --------------------------------------------------------------------------------

export interface DescribeItem {
  itemId: number;
  subject: string | null;
  /** The report text (reporter's words). */
  text: string;
  at: number;
  kind: FeedbackKind | null;
  /** The classifier's need-group probabilities (problem, request, question, praise); one-hot when a person set the kind. */
  kindGroups?: readonly number[] | null;
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
const BOILERPLATE =
  /^(?:is (?:any|some)one else (?:seeing|having|getting|hitting) (?:this|that|the same)|does any(?:one|body) know|any ideas|can any(?:one|body) help|thanks(?: in advance)?|thank you|any eta for the fix|any update|anyone\?)/i;
/** "jberg: ..." / "@priya, ...": the person addressed on IRC and chat. */
const ADDRESSEE = /^@?([a-z][\w.\-[\]]{1,30})[:,]\s+(?=\S)/;
const NOT_ADDRESSEE = /^(?:so|but|and|yes|no|ok|okay|well|also|hmm|sure|right|update|note|edit|ps)$/i;
const LIST_TAG = /^\s*(?:(?:re|fwd?|aw|sv)\s*:\s*|\[[^\]]{1,40}\]\s*)+/i;
/** A list item's number or bullet: "1) ", "2. ", "- ", "* ". */
const LIST_MARK = /^(?:\(?\d{1,2}[.)]|[-*•])\s+/;

/** Strips greetings, list tags, reply prefixes and lead-ins ("Feature request:", "quick one:") off a phrase. */
export function cleanPhrase(s: string): string {
  let t = s.replace(/<[^>\s]{1,32}>\s*"[^"]*"\s*(?:<-)?/g, ' '); // an IRC quote of another line
  t = t.replace(/\s+/g, ' ').trim();
  for (let i = 0; i < 3; i++) {
    const before = t;
    t = t
      .replace(LIST_TAG, '')
      .replace(LIST_MARK, '')
      .replace(GREETING, '')
      .replace(LEAD_IN, '')
      .replace(ADDRESSEE, (m, w: string) => (NOT_ADDRESSEE.test(w) ? m : ''))
      .trim();
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
const REQUEST =
  /^(?:could|can|would|will) (?:we|you|it|i)(?: please)?(?: be able to)? (?=\p{L})|^(?:is (?:it|there a way) (?:possible )?to|would it be possible to|it would be (?:great|nice|useful|awesome) (?:to|if (?:we|you) could)|i(?:'d| would) (?:like|love) to|we(?:'d| would) (?:like|love) to|please) (?=\p{L})/iu;

/**
 * A map of at most `max` entries that keeps those used lately: when half of that were set since the
 * last time, the older half goes, and an entry read from it moves to the newer half. (Emptying the
 * whole map when full dropped the entries of the clusters being described again: two of every three
 * misses were of keys it had held before.)
 */
class Generations<K, V> {
  private now = new Map<K, V>();
  private before = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(key: K): V | undefined {
    const v = this.now.get(key);
    if (v !== undefined) return v;
    const old = this.before.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }
  set(key: K, v: V): void {
    if (this.now.size >= this.max / 2) {
      this.before = this.now;
      this.now = new Map();
    }
    this.now.set(key, v);
  }
}

/**
 * Results of pure functions of texts, kept across describe calls: a cluster is described again as it
 * grows, from mostly the same items, and their phrases were cut, cleaned and tokenized each time.
 */
class Memo<K, V> {
  private readonly m: Generations<K, V>;
  constructor(max: number) {
    this.m = new Generations(max);
  }
  get(key: K, make: () => V): V {
    let v = this.m.get(key);
    if (v === undefined) this.m.set(key, (v = make()));
    return v;
  }
}

/**
 * Per item id, what was cut from its texts, with the texts it was cut from: used again only while
 * they are the same (comparing strings is cheaper than hashing a long one as a key).
 */
class ItemMemo<V> {
  private readonly m: Generations<number, { subject: string | null; llm: string | null; text: string; v: V }>;
  constructor(max: number) {
    this.m = new Generations(max);
  }
  get(item: DescribeItem, make: () => V): V {
    const subject = item.subject ?? null;
    const llm = item.llmSummary ?? null;
    const e = this.m.get(item.itemId);
    if (e && e.subject === subject && e.llm === llm && e.text === item.text) return e.v;
    const v = make();
    this.m.set(item.itemId, { subject, llm, text: item.text, v });
    return v;
  }
}

/** A phrase that could be a title, with its number of words. */
type TitleCandidate = Readonly<{ text: string; words: number; subject: boolean; position: number }>;
const titleMemo = new ItemMemo<readonly TitleCandidate[]>(20_000);

function titleCandidates(item: DescribeItem): readonly TitleCandidate[] {
  return titleMemo.get(item, () => cutTitleCandidates(item));
}

function cutTitleCandidates(item: DescribeItem): TitleCandidate[] {
  const out: TitleCandidate[] = [];
  const push = (raw: string, subject: boolean, position: number) => {
    let t = cleanPhrase(raw)
      .replace(/[\s.,;:!-]+$/u, '')
      .replace(/\s*\?$/, '?');
    if (REQUEST.test(t)) t = t.replace(REQUEST, '').replace(/\?$/, '');
    const n = words(t).length;
    // A subject names the need in few words ("Download links"); a sentence needs three to state one.
    // One word names a need only as an identifier ("mod_proxy_hcheck", "ProxyPass"), never "Question".
    if (n === 1 && !/[_.\d-]|\p{Ll}\p{Lu}/u.test(t)) return;
    if (n >= (subject ? 1 : 3) && n <= 12 && !BOILERPLATE.test(t) && !META.test(t) && fitToShow(t) && !looksLikeCode(t) && !DATELINE.test(t) && /[\p{L}]{3}/u.test(t))
      out.push({ text: t, words: n, subject, position });
  };
  if (item.subject) push(cleanSubject(item.subject), true, 0);
  // A language model's summary, checked by the same rules, is the stronger candidate when there is one.
  if (item.llmSummary && fitToShow(item.llmSummary)) push(item.llmSummary, false, 0);
  sentences(ownWords(item.text))
    .slice(0, 6)
    .forEach((s, i) => {
      if (!CONTINUES.test(cleanPhrase(s))) push(s, false, i);
      const parts = s.split(/:\s+|,\s+|\s+-\s+|;\s+|\s+\((?=\w)/);
      if (parts.length > 1)
        parts.forEach((p, k) => {
          // A clause cut off its sentence must still stand alone: not the condition of a question cut
          // off ("When I set X to 500, does ..."), not a continuation ("..., or specific zip files").
          const t = cleanPhrase(p);
          if (k === 0 ? !CONDITION.test(t) : !CONTINUES.test(t) && !REFERS_BACK.test(t)) push(p.replace(/\)$/, ''), false, i);
        });
    });
  return out;
}

/** A phrase that continues what came before it ("Or a zip", "But then ..."): it states nothing alone. */
const CONTINUES = /^(?:or|and|but|so|then|which|whereas|nor|plus|except)\b/i;
/** A clause whose subject is what the sentence's first part named ("..., that should only be used for X"). */
const REFERS_BACK = /^(?:that|this|it|they|these|those|who|where|which|maybe|perhaps|though|because|since|as|if|when|unless|until|while)\b/i;
/** A subordinate clause: the condition of a statement or question that follows it. */
const CONDITION = /^(?:when|whenever|if|because|since|although|though|while|unless|until|once|after|before|as soon as|even if|whether)\b/i;

/** Sentences about the thread rather than the need ("This deserves a separate thread", "See below"). */
const META =
  /^(?:this|that|it) (?:topic|thread|question|discussion|issue) (?:deserves|needs|should|belongs)|\b(?:separate|new|own) (?:mail ?)?thread\b|^see (?:below|above|attached)|^(?:as|like) (?:i|we) (?:said|mentioned|wrote)|^(?:i|we) (?:have|had|'ve) (?:a|another|one)(?: \w+)? (?:question|problem|issue|query)s?[.!?]?$|^(?:i|we) (?:would like|want|wanted) to ask\b/i;
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
  const w = words(t)
    .slice(0, 12)
    .join(' ')
    .replace(/[\s.,;:!-]+$/u, '');
  return capitalise(w);
}

export interface TextScorer {
  /** Similarity of a text to the cluster's centre (0..1). */
  centrality(text: string): number;
  /** Similarity of two texts (0..1). */
  similarity(a: string, b: string): number;
}

/** Terms of phrases and short texts (a long text is tokenized again, as hashing it as a key cost about as much). */
const termMemo = new Memo<string, ReadonlyMap<string, number>>(20_000);
const MEMO_CHARS = 300;
/** Tokenizes for the memos (TermStats.terms reads nothing of the stats). */
const tokens = new TermStats();

function textTerms(t: string): ReadonlyMap<string, number> {
  return t.length <= MEMO_CHARS ? termMemo.get(t, () => tokens.terms(null, t)) : tokens.terms(null, t);
}

const MAX_DOCS = 60;

/**
 * A scorer over the items' texts (subject, a line break, text): TF-IDF from the given term stats (or
 * the texts themselves).
 */
export function itemScorer(items: readonly DescribeItem[], stats?: TermStats): TextScorer {
  // An item's text is often short enough to be kept with the phrases' terms; keeping every item's terms
  // (per item, like its title candidates) cost 60 MB or more for 20,000 items, for a few hundred ms.
  const texts = items.map((i) => textTerms(`${i.subject ?? ''}\n${i.text}`));
  const local = stats ?? new TermStats();
  if (!stats) for (const tf of texts) local.count(tf);
  const docTerms = texts.slice(0, MAX_DOCS);
  const docs = docTerms.map((tf) => local.vector(tf));
  const n = docs.length;
  // Each id's idf (the stats do not change while the scorer is used): the texts' own stats have few
  // ids; shared stats are asked as needed.
  const idfs = stats ? null : new Float64Array(local.size);
  if (idfs) for (let id = 0; id < idfs.length; id++) idfs[id] = local.idf(id);
  const idf = idfs ? (id: number) => idfs[id]! : (id: number) => local.idf(id);
  const docNorms = docs.map((d) => local.norm(d));
  // Per term id, the texts that have it and its weight there (texts in order): a phrase is scored
  // against every text through its own few terms, not by walking each text's terms. Each text's dot
  // product adds the same terms in the same (id) order as TermStats.dot, so the sums are the same.
  let bound = 0;
  for (const d of docs) for (let i = 0; i < d.terms.length; i++) bound = Math.max(bound, d.terms[i]! + 1);
  const start = new Int32Array(bound + 1);
  for (const d of docs) for (let i = 0; i < d.terms.length; i++) start[d.terms[i]! + 1]!++;
  for (let id = 0; id < bound; id++) start[id + 1]! += start[id]!;
  const postDoc = new Int32Array(start[bound]!);
  const postWeight = new Float32Array(start[bound]!);
  const cursor = start.slice(0, bound);
  docs.forEach((d, j) => {
    for (let i = 0; i < d.terms.length; i++) {
      const p = cursor[d.terms[i]!]!++;
      postDoc[p] = j;
      postWeight[p] = d.weights[i]!;
    }
  });
  // In how many of the texts each term occurs: by id when every term of the texts has one (the
  // texts' own stats), by term otherwise.
  const shareById = stats ? null : new Int32Array(bound);
  if (shareById) for (const d of docs) for (let i = 0; i < d.terms.length; i++) shareById[d.terms[i]!]!++;
  const shareByTerm = new Map<string, number>();
  if (!shareById) for (const tf of docTerms) for (const term of tf.keys()) shareByTerm.set(term, (shareByTerm.get(term) ?? 0) + 1);
  // Scratch for a phrase's vector (ids ascending, weights as TermStats.vector makes them) and its dot products.
  let ids = new Int32Array(64);
  let weights = new Float64Array(64);
  const dots = new Float64Array(n);
  // Mean similarity to every text: a phrase that speaks for all the items, not the words one long item
  // repeats; and the share of the texts its words occur in.
  const centrality = (t: string) => {
    if (!n) return 0;
    let k = 0;
    let words = 0;
    let shared = 0;
    for (const [term, f] of textTerms(t)) {
      const id = local.idOf(term);
      if (!term.startsWith('#')) {
        words++;
        shared += shareById ? (id !== undefined && id < bound ? shareById[id]! : 0) : (shareByTerm.get(term) ?? 0);
      }
      if (id === undefined) continue;
      if (k === ids.length) {
        ids = grown(ids, k * 2);
        weights = grown(weights, k * 2);
      }
      const w = Math.fround(1 + Math.log(f));
      let at = k++;
      for (; at > 0 && ids[at - 1]! > id; at--) {
        ids[at] = ids[at - 1]!;
        weights[at] = weights[at - 1]!;
      }
      ids[at] = id;
      weights[at] = w;
    }
    if (!k) return 0;
    let sq = 0;
    for (let i = 0; i < k; i++) {
      const w = weights[i]! * idf(ids[i]!);
      sq += w * w;
    }
    const norm = Math.sqrt(sq) || 1;
    dots.fill(0);
    for (let i = 0; i < k; i++) {
      const id = ids[i]!;
      if (id >= bound) continue;
      const w = idf(id);
      const a = weights[i]!;
      for (let p = start[id]!, end = start[id + 1]!; p < end; p++) dots[postDoc[p]!]! += a * postWeight[p]! * w * w;
    }
    let s = 0;
    for (let j = 0; j < n; j++) s += dots[j] === 0 ? 0 : dots[j]! / (norm * docNorms[j]!);
    return 0.5 * (words ? shared / words / Math.max(1, n) : 0) + 0.5 * (s / n);
  };
  // Each compared text's vector, and its norm once a cosine needs it (the same numbers as TermStats.cosine).
  const vecMemo = new Map<string, { v: Vec; norm: number }>();
  const vec = (t: string) => {
    let e = vecMemo.get(t);
    if (!e) vecMemo.set(t, (e = { v: local.vector(textTerms(t)), norm: -1 }));
    return e;
  };
  const norm = (e: { v: Vec; norm: number }) => (e.norm >= 0 ? e.norm : (e.norm = local.norm(e.v)));
  const similarity = (a: string, b: string) => {
    const x = vec(a);
    const y = vec(b);
    const dot = local.dot(x.v, y.v);
    return dot === 0 ? 0 : dot / (norm(x) * norm(y));
  };
  return { centrality, similarity };
}

/**
 * A title a product manager would write, taken from the items: the cleaned subject, sentence or clause
 * (3-12 words) closest to the cluster's centre, subjects preferred, greetings and boilerplate removed.
 */
export function clusterTitle(items: readonly DescribeItem[], scorer?: TextScorer): string {
  if (!items.length) return '(untitled)';
  items = speaking(items);
  const s = scorer ?? itemScorer(items);
  let best: { text: string; score: number } | null = null;
  for (const item of items.slice(0, 60)) {
    for (const c of titleCandidates(item)) {
      const score = (s.centrality(c.text) + (c.subject ? 0.1 : 0)) * lengthPrior(c.words) * (c.text.endsWith('?') ? 0.9 : 1) * (c.position === 0 ? 1 : 0.85);
      if (!best || score > best.score + 1e-9) best = { text: c.text, score };
    }
  }
  if (best) return finishTitle(best.text);
  const first = items[0]!;
  const fallback = cleanPhrase(first.subject ? cleanSubject(first.subject) : (sentences(ownWords(first.text))[0] ?? first.text));
  return finishTitle(fallback || '(untitled)');
}

/** A summary sentence an item offers: shown as `text`, scored on `scored`, its centrality times `factor`. */
type SummaryPhrase = Readonly<{ text: string; scored: string; factor: number }>;
const summaryMemo = new ItemMemo<readonly SummaryPhrase[]>(20_000);

function summaryPhrases(item: DescribeItem): readonly SummaryPhrase[] {
  return summaryMemo.get(item, () => {
    // A language model's summary of the item, when it passes the same checks, speaks for the item.
    const llm = item.llmSummary ? cleanPhrase(item.llmSummary) : '';
    if (llm && fitToShow(llm) && words(llm).length >= 3) return [{ text: /[.!?]$/.test(llm) ? llm : `${llm}.`, scored: llm, factor: 1.15 }];
    const out: SummaryPhrase[] = [];
    sentences(ownWords(item.text))
      .slice(0, 8)
      .forEach((raw, i) => {
        const t = cleanPhrase(raw);
        const n = words(t).length;
        // A sentence ending in ":" introduces a list or code that is not there: it says nothing alone.
        if (n < 4 || t.length > 300 || /:$/.test(t) || BOILERPLATE.test(t) || META.test(t) || !fitToShow(t) || looksLikeCode(t) || DATELINE.test(t)) return;
        out.push({ text: /[.!?]$/.test(t) ? t : `${t}.`, scored: t, factor: i === 0 ? 1 : 0.85 });
      });
    return out;
  });
}

/**
 * Two or three sentences from different items: the most central first, then by maximal marginal
 * relevance (central, unlike what is already chosen). Extractive: the reporters' own words.
 */
export function clusterSummary(items: readonly DescribeItem[], scorer?: TextScorer, max = 3): string | null {
  items = speaking(items);
  const s = scorer ?? itemScorer(items);
  const cands: Array<{ item: number; text: string; scored: string; rel: number; order: number }> = [];
  let order = 0;
  for (const item of items.slice(0, 60))
    for (const p of summaryPhrases(item)) cands.push({ item: item.itemId, text: p.text, scored: p.scored, rel: s.centrality(p.scored) * p.factor, order: order++ });
  if (!cands.length) return null;
  const offering = new Set(cands.map((c) => c.item)).size;
  const want = Math.min(max, Math.max(2, offering));
  const chosen: typeof cands = [];
  const usedItems = new Set<number>();
  // Per candidate, its highest similarity to the chosen ones, and how many of them that covers:
  // brought up to date as it is needed, each pair compared once.
  const redOf = cands.map(() => 0);
  const covered = cands.map(() => 0);
  while (chosen.length < want) {
    let best: { c: (typeof cands)[number]; score: number } | null = null;
    for (let k = 0; k < cands.length; k++) {
      const c = cands[k]!;
      if (chosen.includes(c)) continue;
      if (usedItems.has(c.item) && usedItems.size < offering) continue;
      // Compared on the scored phrases: a shown text only adds a full stop, which no term takes in
      // (tokenizeReport's words never end in "."), and the scored ones' terms were cut for centrality.
      for (; covered[k]! < chosen.length; covered[k]!++) redOf[k] = Math.max(redOf[k]!, s.similarity(chosen[covered[k]!]!.scored, c.scored));
      const red = redOf[k]!;
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

/**
 * The cluster's kind: the kind most of its items have, when more than half of them have it. When
 * they disagree with no majority (four reports of one outage read as feature, question, feature and
 * bug), the items' need-group probabilities are summed (an item without them counts one-hot on its
 * kind's group) and the likeliest group decides: the kind is the commonest among the items in it
 * (ties to the kind seen first), or, when no item's own kind is in it, the commonest of all.
 */
export function clusterKind(items: ReadonlyArray<Pick<DescribeItem, 'kind' | 'at' | 'kindGroups'>>): FeedbackKind | null {
  const commonest = majorityKind(items);
  const kinded = items.filter((i) => i.kind);
  if (!commonest || 2 * kinded.filter((i) => i.kind === commonest).length > kinded.length) return commonest;
  const mass = NEED_GROUPS.map(() => 0);
  const first = NEED_GROUPS.map(() => Infinity);
  for (const i of items) {
    if (!i.kind) continue;
    const p = i.kindGroups && i.kindGroups.length === NEED_GROUPS.length ? i.kindGroups : null;
    for (let g = 0; g < mass.length; g++) mass[g]! += p ? p[g]! : g === NEED_GROUP_OF[i.kind] ? 1 : 0;
    const g = NEED_GROUP_OF[i.kind];
    first[g] = Math.min(first[g]!, i.at);
  }
  let best = -1;
  for (let g = 0; g < mass.length; g++) if (mass[g]! > 0 && (best < 0 || mass[g]! > mass[best]! || (mass[g] === mass[best] && first[g]! < first[best]!))) best = g;
  const inGroup = items.filter((i) => i.kind && NEED_GROUP_OF[i.kind] === best);
  return majorityKind(inGroup.length ? inGroup : items);
}

/** The commonest kind of the items; ties go to the kind seen first. */
function majorityKind(items: ReadonlyArray<Pick<DescribeItem, 'kind' | 'at'>>): FeedbackKind | null {
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
