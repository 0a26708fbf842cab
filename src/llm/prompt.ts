// What Gleaner asks the optional language model, and how its answer changes a detection. Pure.
// What is sent: the item's subject (mail) and the text of the message that carries the report, cut
// to MAX_TEXT_CHARS; the kinds and the configured area tags. Never names, channels or sources.
import { z } from 'zod';
import { FEEDBACK_KINDS } from '../pipeline/classify/index.js';
import type { AutoTag, DetectedFeedback } from '../pipeline/feedback.js';
import type { FeedbackKind } from '../model/index.js';
import type { ChatRequest } from './client.js';

export const MAX_TEXT_CHARS = 2000;
export const MAX_SUMMARY_CHARS = 160;

export type LlmTask = 'classify' | 'summarize';

export interface LlmItem {
  subject?: string;
  text: string;
}

const SYSTEM = [
  'You label community feedback about a software product, from chat rooms and mailing lists.',
  'Kinds: bug (something is broken), feature (a request for something new), question (how to, support),',
  'docs (wrong or missing documentation), praise, complaint (general dissatisfaction), none (not feedback:',
  'greetings, thanks, chit-chat, bot noise). Answer with one JSON object following the given schema, nothing else.',
].join(' ');

export function answerJsonSchema(task: LlmTask, areas: readonly string[]): Record<string, unknown> {
  const summary = { type: 'string', maxLength: MAX_SUMMARY_CHARS, description: 'one line, at most 20 words, in English, no names' };
  if (task === 'summarize') return { type: 'object', additionalProperties: false, required: ['summary'], properties: { summary } };
  return {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'confidence', 'area', 'summary'],
    properties: {
      kind: { type: 'string', enum: [...FEEDBACK_KINDS, 'none'] },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      area: areas.length ? { anyOf: [{ type: 'string', enum: [...areas] }, { type: 'null' }] } : { type: 'null' },
      summary,
    },
  };
}

export function buildRequest(model: string, task: LlmTask, item: LlmItem, areas: readonly string[]): ChatRequest {
  const input: Record<string, unknown> = {
    task: task === 'classify' ? 'Give the kind of this message, your confidence, the product area (one of areas, or null) and a one-line summary.' : 'Summarise this feedback in one line.',
    ...(task === 'classify' ? { areas: [...areas] } : {}),
    ...(item.subject ? { subject: item.subject.slice(0, 300) } : {}),
    text: item.text.slice(0, MAX_TEXT_CHARS),
  };
  return {
    model,
    temperature: 0,
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: JSON.stringify(input) },
    ],
    response_format: { type: 'json_schema', json_schema: { name: task === 'classify' ? 'gleaner_label' : 'gleaner_summary', strict: true, schema: answerJsonSchema(task, areas) } },
  };
}

const summaryField = z
  .string()
  .transform((s) => s.replace(/\s+/g, ' ').trim())
  .pipe(
    z
      .string()
      .min(1)
      .max(MAX_SUMMARY_CHARS * 2),
  );

export const classifyAnswerSchema = z.object({
  kind: z.enum(['bug', 'feature', 'question', 'docs', 'praise', 'complaint', 'none'] satisfies Array<FeedbackKind | 'none'>),
  confidence: z.number().min(0).max(1),
  area: z.string().nullable().optional(),
  summary: summaryField.optional(),
});
export type ClassifyAnswer = z.infer<typeof classifyAnswerSchema>;

export const summaryAnswerSchema = z.object({ summary: summaryField });

export const llmVersion = (model: string): string => `llm:${model}`;

/** A summary cut to one line of at most MAX_SUMMARY_CHARS. */
export function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > MAX_SUMMARY_CHARS ? `${t.slice(0, MAX_SUMMARY_CHARS - 1)}…` : t;
}

/**
 * The model's kind and area replace the classifier's on a low-confidence item; an area outside the
 * configured ones is ignored. Tags carry provenance `model` and version `llm:<model>`.
 */
export function applyClassifyAnswer(d: DetectedFeedback, a: ClassifyAnswer, model: string, areas: readonly string[]): DetectedFeedback {
  const version = llmVersion(model);
  const confidence = Math.round(a.confidence * 1000) / 1000;
  const tags: AutoTag[] = d.tags.filter((t) => !(t.provenance === 'model' && t.tag.startsWith('kind:')));
  if (a.kind === 'none') return { ...d, isFeedback: false, kind: null, kindConfidence: 0, modelVersion: version, tags };
  tags.unshift({ tag: `kind:${a.kind}`, provenance: 'model', confidence, version });
  if (a.area && areas.includes(a.area) && !tags.some((t) => t.tag === a.area)) tags.push({ tag: a.area, provenance: 'model', confidence, version });
  return { ...d, isFeedback: true, kind: a.kind, kindConfidence: confidence, modelVersion: version, tags };
}
