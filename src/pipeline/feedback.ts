// Feedback detection for one conversation: which message carries the report, what kind it is, and
// the automatic tags (model kind, config rules for product areas, platform labels). Pure: the model,
// the rules and the conversation come in; the item and its tags go out.
import { classify, FEEDBACK_KINDS, type ClassifierModel, type Classification } from './classify/index.js';
import { agreementRest, agreesWithPrevious, isFailingVote, isReplySubject, isStructuralThread, messageNoiseOf, ownWords, reportsFailure, threadKindOf, voteOf } from './classify/community.js';
import { detectLanguage } from './classify/language.js';
import { NEED_GROUPS, NEED_GROUP_OF, type FeedbackKind } from '../model/index.js';
import type { AutoTag, ConversationMessage, DetectedFeedback } from '../model/records.js';

export type { AutoTag, ConversationMessage, DetectedFeedback };

export interface TagRule {
  tag: string;
  keywords: string[];
  patterns: string[];
  channels: string[];
}

/** Tag of an item in a language the classifier was not trained on: a person checks it (the tag inbox). */
export const LANGUAGE_REVIEW_TAG = 'review:language';

/** How many of a conversation's first human messages are looked at for the report. */
const CANDIDATES = 4;
/** Longer texts are cut before classifying (the report is at the start; a 1 MB paste is not). */
const MAX_CHARS = 4000;

export interface CompiledRule {
  tag: string;
  keywords: RegExp | null;
  patterns: RegExp[];
  channels: Set<string>;
}

export function compileRules(rules: readonly TagRule[]): CompiledRule[] {
  return rules.map((r) => {
    const words = r.keywords
      .map((k) => k.trim())
      .filter(Boolean)
      .map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    let patterns: RegExp[];
    try {
      patterns = r.patterns.map((p) => new RegExp(p, 'iu'));
    } catch (err: unknown) {
      throw new Error(`tag rule ${r.tag}: bad regular expression: ${(err as Error).message}`, { cause: err });
    }
    return {
      tag: r.tag,
      keywords: words.length ? new RegExp(`(?<![\\p{L}\\p{N}])(${words.join('|')})(?![\\p{L}\\p{N}])`, 'iu') : null,
      patterns,
      channels: new Set(r.channels.map((c) => c.replace(/^#/, '').toLowerCase())),
    };
  });
}

export function ruleTags(rules: readonly CompiledRule[], text: string, channel: string, version: string): AutoTag[] {
  const ch = channel.replace(/^#/, '').toLowerCase();
  const out: AutoTag[] = [];
  for (const r of rules) {
    const hit = (r.keywords?.test(text) ?? false) || r.patterns.some((p) => p.test(text)) || r.channels.has(ch);
    if (hit) out.push({ tag: r.tag, provenance: 'rule', confidence: null, version });
  }
  return out;
}

/** Agreement with nothing of its own: it can add a reporter to a need, never raise one. */
const AGREEMENT_ONLY =
  /^(?:\+\s?1|-\s?1|\+\s?0|same(?: here)?|me too|yes please|seconded|agreed|this|thanks?(?: you)?|thx|ty|congrats|congratulations|nice|cool|great|awesome|lgtm|\u{1F44D}|\u{1F389}|\u{2764}\u{FE0F}?)[\s!.,:;)(\p{Extended_Pictographic}]*$/iu;

/** Agreement with nothing of its own ("+1", "same here", "👍"): it adds a reporter, it states no need. */
export function isAgreementOnly(text: string): boolean {
  return AGREEMENT_ONLY.test(ownWords(text));
}

/**
 * The feedback a conversation carries. The report is the first message, among the first few that may
 * raise a need, that the classifier finds most likely to be feedback. Who may raise a need: not a bot,
 * not staff, not a message that is noise by its own form (an out-of-office reply, an unsubscribe
 * request, a newsletter, a greeting, a bare paste), not a vote or a plain "+1". A vote thread is never
 * feedback, except for a "-1" that reports a concrete failure, which is a bug in its own right (whoever
 * casts it). In an announcement, CI or notification thread the starter is not a report, a reply can be.
 * A report in a language the classifier does not read is kept, flagged for review with its language.
 */
export function detectFeedback(model: ClassifierModel, messages: readonly ConversationMessage[], rules: readonly CompiledRule[], rulesVersion: string): DetectedFeedback | null {
  const human = messages.filter((m) => !m.isBot && m.text.trim().length > 0);
  if (!human.length) return null;
  const subject = human[0]!.subject ?? undefined;
  const thread = threadKindOf(messages[0]?.subject ?? subject);
  const starter = messages[0];
  const mayRaise = (m: ConversationMessage) => {
    if (m.isStaff) return false;
    if (messageNoiseOf(m.text, m.subject) !== null) return false;
    if (isAgreementOnly(m.text)) return false;
    // "We saw something like that too" agrees with something said before it (in this conversation, or a
    // relayed copy of it) and names no need of its own: it raises nothing. "Same here: the SSO login
    // loops on 2.4" restates the need and may.
    if (agreesWithPrevious(m.text) && !classify(model, { text: agreementRest(m.text) }).isFeedback) return false;
    // The notification or announcement itself raises nothing; a reply to it ("Re:") whose original is not
    // stored here is a person answering it, and may.
    if (isStructuralThread(thread) && m === starter && !isReplySubject(m.subject)) return false;
    return true;
  };
  let candidates: ConversationMessage[];
  let forced: FeedbackKind | null = null;
  if (thread === 'vote') {
    // A failing -1 is a bug report whoever casts it: it must surface, not hide in the vote. Without
    // one, a user (not staff) who reports a concrete failure of the release without voting is one too.
    candidates = human.filter((m) => isFailingVote(m.text)).slice(0, 1);
    if (!candidates.length) candidates = human.filter((m) => !m.isStaff && voteOf(m.text) === null && m !== starter && reportsFailure(m.text)).slice(0, 1);
    forced = 'bug';
  } else if (thread === 'out-of-office' || thread === 'unsubscribe') {
    candidates = [];
  } else {
    // The first few that may raise one: a long thread's later messages are not looked at.
    candidates = [];
    for (const m of human) {
      if (!mayRaise(m)) continue;
      candidates.push(m);
      if (candidates.length === CANDIDATES) break;
    }
  }
  if (!candidates.length) return notFeedback(model, human[0]!);

  const title = (m: ConversationMessage) => (m === human[0] && !forced ? subject : undefined);
  // A reply led by "+1" adds to a need raised before it: it is the report only when nothing else is.
  let best: { m: ConversationMessage; c: Classification; lead: boolean } | null = null;
  for (const m of candidates) {
    const c = classify(model, { title: title(m), text: m.text.slice(0, MAX_CHARS) });
    const lead = !(voteOf(m.text) !== null && m !== candidates[0]) || forced !== null;
    const better =
      !best || (lead && c.isFeedback && !(best.lead && best.c.isFeedback)) || ((lead && c.isFeedback) === (best.lead && best.c.isFeedback) && c.feedbackConfidence > best.c.feedbackConfidence);
    if (better) best = { m, c, lead };
  }
  let { m, c } = best!;
  let kind = forced ?? c.kind;
  let isFeedback = forced !== null || c.isFeedback;
  const tags: AutoTag[] = [];
  // The language of the report; a report the classifier cannot read is kept for a person to judge.
  let lang = detectLanguage(ownWords(m.text)).lang;
  if (!isFeedback) {
    for (const x of candidates) {
      const l = detectLanguage(ownWords(x.text)).lang;
      if (l === 'und' || l === 'en') continue;
      m = x;
      lang = l;
      c = classify(model, { title: title(x), text: x.text.slice(0, MAX_CHARS) });
      isFeedback = true;
      kind = likeliestKind(c);
      break;
    }
  }
  // The classifier learnt English: in another language its verdict and kind are a guess, for a person to check.
  if (isFeedback && lang !== 'und' && lang !== 'en') tags.push({ tag: LANGUAGE_REVIEW_TAG, provenance: 'model', confidence: null, version: c.modelVersion });
  if (kind) tags.push({ tag: `kind:${kind}`, provenance: 'model', confidence: round(forced ? 1 : c.kindConfidence), version: c.modelVersion });
  // English is the default and goes untagged (a tag on every digest entry would say nothing).
  if (lang !== 'und' && lang !== 'en') tags.push({ tag: `lang:${lang}`, provenance: 'model', confidence: null, version: c.modelVersion });
  const convText = candidates.map((x) => x.text.slice(0, MAX_CHARS)).join('\n');
  const seen = new Set<string>(tags.map((t) => t.tag));
  for (const t of ruleTags(rules, `${subject ?? ''}\n${convText}`, m.channel, rulesVersion)) {
    if (!seen.has(t.tag)) {
      seen.add(t.tag);
      tags.push(t);
    }
  }
  for (const l of new Set(messages.flatMap((x) => x.labels))) {
    if (!seen.has(l)) {
      seen.add(l);
      tags.push({ tag: l, provenance: 'platform', confidence: null, version: null });
    }
  }
  return {
    messageId: m.id,
    isFeedback,
    kind: isFeedback ? kind : null,
    kindConfidence: forced ? 1 : round(c.kindConfidence),
    kindGroups: isFeedback && kind ? needGroups(forced ? null : c.scores, kind) : null,
    feedbackConfidence: forced ? 1 : round(c.feedbackConfidence),
    sentiment: c.sentiment,
    modelVersion: c.modelVersion,
    tags,
    language: lang === 'und' ? null : lang,
  };
}

/**
 * The report's need-group probabilities from the classifier's kind scores (2 decimals, summing to about
 * 1); one-hot on the kind's group when the kind was set by a rule or a person.
 */
function needGroups(scores: Readonly<Record<FeedbackKind, number>> | null, kind: FeedbackKind): number[] {
  const p = NEED_GROUPS.map(() => 0);
  let total = 0;
  if (scores) for (const k of FEEDBACK_KINDS) total += scores[k];
  if (!scores || !(total > 0)) {
    p[NEED_GROUP_OF[kind]] = 1;
    return p;
  }
  for (const k of FEEDBACK_KINDS) p[NEED_GROUP_OF[k]]! += scores[k] / total;
  return p.map((x) => Math.round(x * 100) / 100);
}

/** The conversation holds nothing that raises a need: a detection that says so (its item, if any, goes). */
function notFeedback(model: ClassifierModel, first: ConversationMessage): DetectedFeedback {
  return { messageId: first.id, isFeedback: false, kind: null, kindConfidence: 0, feedbackConfidence: 0, sentiment: 'neutral', modelVersion: model.version, tags: [], language: null };
}

/** The most probable kind, 'none' left out. */
function likeliestKind(c: Classification): FeedbackKind {
  let kind: FeedbackKind = 'question';
  for (const k of FEEDBACK_KINDS) if (c.scores[k] > c.scores[kind]) kind = k;
  return kind;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
