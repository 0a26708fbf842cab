// Feedback classification: is a message feedback, which kind, and its sentiment. Pure.
import { FEEDBACK_KINDS, runtimeOf, type ClassifierModel, type FeedbackKind, type Label } from './model.js';
import type { Sentiment } from './sentiment.js';
import { extractBlocks, type Blocks } from './text.js';
import { probabilities } from './train.js';
import { reportsFailure } from './community.js';

export type { ClassifierModel, FeedbackKind, Label } from './model.js';
export { FEEDBACK_KINDS, LABELS, MODEL_FORMAT, parseClassifierModel } from './model.js';
export type { Sentiment } from './sentiment.js';
export { sentimentOf } from './sentiment.js';
export { trainClassifier, DEFAULT_TRAIN_OPTIONS, SHIPPED_TRAIN_OPTIONS, SHIPPED_OWN_WEIGHT, type TrainingExample, type TrainOptions } from './train.js';
export { macroF1, binaryF1, perLabelScores, type LabelScores } from './metrics.js';

export interface Classification {
  isFeedback: boolean;
  /** Probability that the text is feedback of any kind (1 - P(none)), 0..1. */
  feedbackConfidence: number;
  /** The most likely kind; null when the text is not feedback. */
  kind: FeedbackKind | null;
  /** P(kind | feedback), 0..1; 0 when kind is null. */
  kindConfidence: number;
  /** Probabilities over all labels (0 for a label the model was not trained on); they sum to 1. */
  scores: Record<Label, number>;
  sentiment: Sentiment;
  /** -1 (negative) .. 1 (positive). */
  sentimentScore: number;
  modelVersion: string;
}

/** Label probabilities for one input (what `classify` decides from). */
export function labelScores(model: ClassifierModel, input: { title?: string; text: string }): Record<Label, number> {
  return scoresOf(model, extractBlocks(input, runtimeOf(model).features));
}

function scoresOf(model: ClassifierModel, blocks: Blocks): Record<Label, number> {
  const rt = runtimeOf(model);
  const p = probabilities(rt, blocks);
  const scores: Record<Label, number> = { bug: 0, feature: 0, question: 0, docs: 0, praise: 0, complaint: 0, none: 0 };
  rt.labels.forEach((l, i) => (scores[l] = p[i] ?? 0));
  return scores;
}

/**
 * A request the model reads as a feature while a question is nearly as likely (at least this share of
 * it) and the text asks how to do something with what exists: a question. The model learnt "I want
 * to ..." as a request, and support lists are full of "I want to set up X, how?".
 */
const HOW_TO_SHARE = 0.5;
/** Asking how to do something with what exists ("how do I", "can I", "I want to know", "any ideas", a question mark). */
const HOW_TO =
  /\bhow (?:do|can|could|should|would|to|does)\b|\bcan i\b|\bi(?:'d| would)? (?:want|like|need) to (?:know|understand|ask)\b|\b(?:any|some) (?:ideas?|advice|suggestions?|hints?|pointers?)\b|\bdoes any(?:one|body) know\b|\bwhat am i (?:doing )?(?:missing|wrong)\b|\bwhat (?:is|are) the (?:best|right|correct|recommended)\b|\?/i;
/** Asking for the product to change: a feature request whatever its form. */
const CHANGE_ASK =
  /\bplease (?:add|support|implement|consider|make|allow)\b|\bfeature request\b|\bwould be (?:nice|great|useful|good|awesome|helpful)\b|\bit would help\b|\badd(?:ing)? (?:an? |the )?(?:option|setting|flag|support|way)\b|\bsupport for\b|\b(?:could|can|would) you (?:please )?(?:add|support|implement|make|allow|consider)\b|\bwish\b|\b(?:should|must) (?:support|allow|have|offer|provide)\b|\broadmap\b|\bplan(?:s|ned)?\b|\bany (?:news|update|eta)\b/i;

function asksHowTo(text: string): boolean {
  const t = text.slice(0, 2000);
  return HOW_TO.test(t) && !CHANGE_ASK.test(t) && !reportsFailure(t);
}

/**
 * Classifies one message (a chat line, a mail body with its subject as title, an issue). It is
 * feedback when P(none) < 0.5; its kind is then the most probable feedback label.
 */
export function classify(model: ClassifierModel, input: { title?: string; text: string }): Classification {
  const blocks = extractBlocks(input, runtimeOf(model).features);
  const scores = scoresOf(model, blocks);
  const feedbackConfidence = 1 - scores.none;
  let kind: FeedbackKind = 'bug';
  for (const k of FEEDBACK_KINDS) if (scores[k] > scores[kind]) kind = k;
  if (kind === 'feature' && scores.question >= HOW_TO_SHARE * scores.feature && asksHowTo(input.text)) kind = 'question';
  // Feedback when that is likelier than not (P(none) < 0.5): the kinds share the feedback mass, so a
  // report split between bug, question and feature is still a report when no single kind beats 'none'.
  const isFeedback = scores.none < 0.5;
  const s = blocks.sentiment;
  return {
    isFeedback,
    feedbackConfidence,
    kind: isFeedback ? kind : null,
    kindConfidence: isFeedback && feedbackConfidence > 0 ? scores[kind] / feedbackConfidence : 0,
    scores,
    sentiment: s.sentiment,
    sentimentScore: s.score,
    modelVersion: model.version,
  };
}
