// Tag suggestions learnt from human decisions: for a new item, find the k most similar items a human
// tagged and suggest the tags they share, with a confidence that is the similarity-weighted share of
// those neighbours carrying the tag. Pure: the human-tagged examples come in, suggestions go out.
import { createNearDupIndex, type NearDupIndex } from './dedupe/index.js';
import type { AutoTag, ConversationMessage, DetectedFeedback } from './feedback.js';

export const SUGGEST_VERSION = 'suggest-1';

export interface HumanTaggedExample {
  /** The item's conversation (enrich knows conversations before it knows item ids). */
  conversationId: number;
  title?: string;
  text: string;
  /** The tags a human added or confirmed and did not remove. */
  tags: string[];
}

export interface SuggestOptions {
  /** Neighbours looked at (default 10). */
  k?: number;
  /** A tag is suggested only once humans have put it on at least this many items (default 3). */
  minTagCount?: number;
  /** Suggestions below this confidence are dropped (default 0.5). */
  minConfidence?: number;
  /** At least this many neighbours must carry the tag (default 2): one look-alike is not a pattern. */
  minVotes?: number;
  /** Characters of an item's text that are indexed and queried (default 2000). */
  maxChars?: number;
}

export interface TagSuggestion {
  tag: string;
  confidence: number;
  /** How many of the neighbours carry the tag. */
  votes: number;
}

/** Tags that belong to the classifier or to a decision about the item, never suggested from neighbours. */
const isSuggestible = (tag: string): boolean => !tag.startsWith('kind:') && tag !== 'not-feedback';

export interface TagSuggester {
  readonly size: number;
  readonly version: string;
  /** Suggestions for one item, best first; `excludeConversationId` leaves the item itself out of its neighbours. */
  suggest(doc: { title?: string; text: string }, excludeConversationId?: number): TagSuggestion[];
}

export function createTagSuggester(examples: readonly HumanTaggedExample[], options: SuggestOptions = {}): TagSuggester {
  const k = options.k ?? 10;
  const minTagCount = options.minTagCount ?? 3;
  const minConfidence = options.minConfidence ?? 0.5;
  const minVotes = options.minVotes ?? 2;
  const maxChars = options.maxChars ?? 2000;
  const counts = new Map<string, number>();
  for (const e of examples) for (const t of new Set(e.tags)) if (isSuggestible(t)) counts.set(t, (counts.get(t) ?? 0) + 1);
  const frequent = new Set([...counts].filter(([, n]) => n >= minTagCount).map(([t]) => t));
  const tagsOf = new Map<string, string[]>();
  const allTagsOf = new Map<string, Set<string>>();
  // Only items carrying a frequent tag can vote for one; the rest still count in the denominator,
  // so an item like many untagged-but-reviewed ones gets low confidence.
  // Without the need ranker (neardup-options.ts): it would change which neighbours vote, with no
  // measure of suggestion quality to say it helps, and costs ~0.17 ms a query (tag bench: 2,539 ->
  // 1,772 items/s CPU, suggester build 93 -> 306 ms for 2,000 examples).
  const index: NearDupIndex = createNearDupIndex({ capacity: Math.max(16, examples.length), recencyBoost: 0, needRankWeight: 0 });
  for (const e of examples) {
    const id = String(e.conversationId);
    if (tagsOf.has(id)) continue;
    tagsOf.set(
      id,
      [...new Set(e.tags)].filter((t) => frequent.has(t)),
    );
    allTagsOf.set(id, new Set(e.tags));
    index.add(id, { ...(e.title ? { title: e.title.slice(0, 300) } : {}), text: e.text.slice(0, maxChars) });
  }
  return {
    size: index.size(),
    version: SUGGEST_VERSION,
    suggest(doc, excludeConversationId) {
      if (frequent.size === 0 || index.size() === 0) return [];
      const query = { ...(doc.title ? { title: doc.title.slice(0, 300) } : {}), text: doc.text.slice(0, maxChars) };
      const exclude = excludeConversationId === undefined ? undefined : String(excludeConversationId);
      const hits = index
        .query(query, k + (exclude ? 1 : 0), exclude ? { exclude } : {})
        .filter((h) => h.id !== exclude)
        .slice(0, k);
      // Weight by rank-normalised score: scores are comparable within one query only.
      const total = hits.reduce((s, h) => s + Math.max(0, h.score), 0);
      if (total <= 0) return [];
      const votes = new Map<string, { w: number; n: number }>();
      for (const h of hits) {
        for (const t of tagsOf.get(h.id) ?? []) {
          const v = votes.get(t) ?? { w: 0, n: 0 };
          v.w += Math.max(0, h.score);
          v.n += 1;
          votes.set(t, v);
        }
      }
      // A tag a human already put on this very item is not suggested again.
      const own = exclude === undefined ? undefined : allTagsOf.get(exclude);
      const out: TagSuggestion[] = [];
      for (const [tag, v] of votes) {
        if (own?.has(tag)) continue;
        const confidence = Math.round((v.w / total) * 1000) / 1000;
        if (v.n >= minVotes && confidence >= minConfidence) out.push({ tag, confidence, votes: v.n });
      }
      return out.sort((a, b) => b.confidence - a.confidence || a.tag.localeCompare(b.tag));
    },
  };
}

/**
 * Adds suggestions to a detection as `model` tags (version suggest-1) for tags it does not already
 * carry. Saving keeps human decisions: a tag a human removed is never stored again.
 */
export function withSuggestions(d: DetectedFeedback, suggester: TagSuggester | null, doc: { title?: string; text: string }, conversationId?: number): DetectedFeedback {
  if (!suggester || !d.isFeedback) return d;
  const have = new Set(d.tags.map((t) => t.tag));
  const extra: AutoTag[] = suggester
    .suggest(doc, conversationId)
    .filter((s) => !have.has(s.tag))
    .map((s) => ({ tag: s.tag, provenance: 'model', confidence: s.confidence, version: suggester.version }));
  return extra.length ? { ...d, tags: [...d.tags, ...extra] } : d;
}

/** What an item is compared on: the subject and the message that carries the report. */
export function reportDoc(messages: readonly ConversationMessage[], d: DetectedFeedback): { title?: string; text: string } {
  const m = messages.find((x) => x.id === d.messageId);
  const subject = messages.find((x) => !x.isBot)?.subject ?? null;
  return { ...(subject ? { title: subject } : {}), text: m?.text ?? '' };
}
