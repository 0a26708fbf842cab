// Feedback classification: is a message feedback, which kind, and its sentiment. Pure.
import { FEEDBACK_KINDS, runtimeOf, type ClassifierModel, type FeedbackKind, type Label } from './model.js';
import type { Sentiment } from './sentiment.js';
import { extractBlocks, type Blocks } from './text.js';
import { probabilities } from './train.js';

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
 * Classifies one message (a chat line, a mail body with its subject as title, an issue). It is
 * feedback when P(none) < 0.5; its kind is then the most probable feedback label.
 */
export function classify(model: ClassifierModel, input: { title?: string; text: string }): Classification {
  const blocks = extractBlocks(input, runtimeOf(model).features);
  const scores = scoresOf(model, blocks);
  const feedbackConfidence = 1 - scores.none;
  let kind: FeedbackKind = 'bug';
  for (const k of FEEDBACK_KINDS) if (scores[k] > scores[kind]) kind = k;
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
