// The optional language model in the enrich stage: kind and area for low-confidence items, one-line
// summaries for feedback items. Sequential requests within a per-run budget; any failure keeps the
// classifier's answer, is logged, and never fails the stage.
import type { Logger } from 'pino';
import type { LlmConfig } from '../config/index.js';
import type { DetectedFeedback } from '../pipeline/feedback.js';
import { chatJson, LlmError, type LlmEndpoint } from './client.js';
import { fitToShow } from '../pipeline/own-words.js';
import { applyClassifyAnswer, buildRequest, classifyAnswerSchema, llmVersion, oneLine, summaryAnswerSchema, type LlmItem, type LlmTask } from './prompt.js';

export interface LlmJob {
  key: number;
  item: LlmItem;
  detected: DetectedFeedback;
  /** False when the item has a summary already or a human decided on it. */
  wantsSummary: boolean;
  /** False when a human decided on the item: its kind is theirs. */
  wantsKind: boolean;
}

export interface LlmOutcome {
  detected: DetectedFeedback;
  summary: { text: string; version: string } | null;
}

export interface LlmRunStats {
  sent: number;
  failed: number;
  /** Items that would have been sent but for the budget or a stop after failures. */
  skipped: number;
}

/**
 * A model's summary held to the rules for titles and summaries: one line, and none of what is stripped
 * from the writer's words (PGP armour, phone numbers, footers, quote markers). Failing them, no summary:
 * the extractive one stands.
 */
export function checkedSummary(raw: string, version: string): { text: string; version: string } | null {
  const text = oneLine(raw);
  return fitToShow(text) ? { text, version } : null;
}

/** After this many failures in a row the rest of the run keeps the classifier's answers. */
const MAX_CONSECUTIVE_FAILURES = 3;

/** A detection the classifier is unsure about: its kind confidence (or, when not feedback, P(none)) is below the threshold. */
export function isLowConfidence(d: DetectedFeedback, threshold: number): boolean {
  return d.isFeedback ? d.kindConfidence < threshold : 1 - d.feedbackConfidence < threshold;
}

export function taskFor(job: LlmJob, cfg: LlmConfig): LlmTask | null {
  if (job.wantsKind && isLowConfidence(job.detected, cfg.minKindConfidence)) return 'classify';
  if (cfg.summaries && job.wantsSummary && job.detected.isFeedback) return 'summarize';
  return null;
}

export function endpointOf(cfg: LlmConfig): LlmEndpoint {
  return { baseUrl: cfg.baseUrl, model: cfg.model, timeoutMs: cfg.timeoutMs, ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}) };
}

export async function refineWithLlm(
  cfg: LlmConfig,
  areas: readonly string[],
  jobs: readonly LlmJob[],
  log: Logger,
  fetchImpl: typeof fetch = fetch,
): Promise<{ outcomes: Map<number, LlmOutcome>; stats: LlmRunStats }> {
  const outcomes = new Map<number, LlmOutcome>();
  const stats: LlmRunStats = { sent: 0, failed: 0, skipped: 0 };
  if (!cfg.enabled) return { outcomes, stats };
  const planned = jobs
    .map((job) => ({ job, task: taskFor(job, cfg) }))
    .filter((p): p is { job: LlmJob; task: LlmTask } => p.task !== null)
    // Low-confidence kinds first (least sure first), then summaries, in arrival order.
    .sort((a, b) => (a.task === b.task ? (a.task === 'classify' ? a.job.detected.kindConfidence - b.job.detected.kindConfidence : 0) : a.task === 'classify' ? -1 : 1));
  const endpoint = endpointOf(cfg);
  const version = llmVersion(cfg.model);
  let consecutive = 0;
  let stopped: string | null = null;
  for (const { job, task } of planned) {
    if (stopped || stats.sent >= cfg.maxItemsPerRun) {
      stats.skipped++;
      continue;
    }
    stats.sent++;
    try {
      const request = buildRequest(cfg.model, task, job.item, areas);
      if (task === 'classify') {
        const a = await chatJson(endpoint, request, classifyAnswerSchema, fetchImpl);
        const detected = applyClassifyAnswer(job.detected, a, cfg.model, areas);
        const summary = cfg.summaries && job.wantsSummary && detected.isFeedback && a.summary ? checkedSummary(a.summary, version) : null;
        outcomes.set(job.key, { detected, summary });
      } else {
        const a = await chatJson(endpoint, request, summaryAnswerSchema, fetchImpl);
        outcomes.set(job.key, { detected: job.detected, summary: checkedSummary(a.summary, version) });
      }
      consecutive = 0;
    } catch (err: unknown) {
      stats.failed++;
      consecutive++;
      const code = err instanceof LlmError ? err.code : 'error';
      log.warn({ llm: cfg.model, task, conversationId: job.key, code, err: (err as Error).message }, 'language model failed; keeping the classifier answer');
      if (code === 'rate_limited') stopped = 'rate limited';
      else if (consecutive >= MAX_CONSECUTIVE_FAILURES) stopped = `${consecutive} failures in a row`;
      if (stopped) log.warn({ llm: cfg.model, reason: stopped }, 'language model: no more requests in this run');
    }
  }
  if (stats.sent || stats.skipped) log.info({ llm: cfg.model, ...stats }, 'language model run');
  return { outcomes, stats };
}
