// Feedback detection for one conversation: which message carries the report, what kind it is, and
// the automatic tags (model kind, config rules for product areas, platform labels). Pure: the model,
// the rules and the conversation come in; the item and its tags go out.
import { classify, type ClassifierModel, type Classification } from './classify/index.js';
import type { FeedbackKind } from '../model/index.js';

export interface ConversationMessage {
  id: number;
  text: string;
  subject: string | null;
  channel: string;
  isBot: boolean;
  labels: string[];
}

export interface TagRule {
  tag: string;
  keywords: string[];
  patterns: string[];
  channels: string[];
}

export interface AutoTag {
  tag: string;
  provenance: 'rule' | 'model' | 'platform';
  confidence: number | null;
  version: string | null;
}

export interface DetectedFeedback {
  messageId: number;
  isFeedback: boolean;
  kind: FeedbackKind | null;
  kindConfidence: number;
  feedbackConfidence: number;
  sentiment: Classification['sentiment'];
  modelVersion: string;
  tags: AutoTag[];
}

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
    const words = r.keywords.map((k) => k.trim()).filter(Boolean).map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
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

export function detectFeedback(model: ClassifierModel, messages: readonly ConversationMessage[], rules: readonly CompiledRule[], rulesVersion: string): DetectedFeedback | null {
  const human = messages.filter((m) => !m.isBot && m.text.trim().length > 0);
  if (!human.length) return null;
  const subject = human[0]!.subject ?? undefined;
  let best: { m: ConversationMessage; c: Classification } | null = null;
  for (const m of human.slice(0, CANDIDATES)) {
    const c = classify(model, { title: m === human[0] ? subject : undefined, text: m.text.slice(0, MAX_CHARS) });
    if (!best || c.feedbackConfidence > best.c.feedbackConfidence) best = { m, c };
  }
  const { m, c } = best!;
  const tags: AutoTag[] = [];
  if (c.kind) tags.push({ tag: `kind:${c.kind}`, provenance: 'model', confidence: round(c.kindConfidence), version: c.modelVersion });
  const convText = human.slice(0, CANDIDATES).map((x) => x.text.slice(0, MAX_CHARS)).join('\n');
  const seen = new Set<string>();
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
    isFeedback: c.isFeedback,
    kind: c.kind,
    kindConfidence: round(c.kindConfidence),
    feedbackConfidence: round(c.feedbackConfidence),
    sentiment: c.sentiment,
    modelVersion: c.modelVersion,
    tags,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
