// The enrich stage's automatic tagging beyond the classifier and the rules: tag suggestions learnt
// from human decisions (examples loaded once per process, refreshed every SUGGESTER_REFRESH_MS) and
// the optional language model. Neither ever overrides a human decision (saveDetections plans around them).
import type { ConversationMessage, DetectedFeedback } from '../pipeline/feedback.js';
import { createTagSuggester, reportDoc, withSuggestions, type TagSuggester } from '../pipeline/suggest.js';
import { itemStateByConversation, loadHumanTaggedItems } from '../store/tagging.js';
import { refineWithLlm, type LlmJob } from '../llm/refine.js';
import type { StageContext } from './context.js';

export const SUGGESTER_REFRESH_MS = 10 * 60_000;

async function suggesterFor(ctx: StageContext): Promise<TagSuggester> {
  const cached = ctx.services.enrich.suggester;
  const now = ctx.now();
  if (cached && now - cached.loadedAt < SUGGESTER_REFRESH_MS) return cached.suggester;
  const examples = await loadHumanTaggedItems(ctx.db);
  const suggester = createTagSuggester(examples);
  ctx.services.enrich.suggester = { suggester, loadedAt: now };
  return suggester;
}

export interface TaggedConversation {
  conversationId: number;
  detected: DetectedFeedback | null;
  summary: { text: string; version: string } | null;
}

export async function autoTag(
  ctx: StageContext,
  conversationIds: readonly number[],
  convs: Map<number, ConversationMessage[]>,
  detectedOf: (conversationId: number) => DetectedFeedback | null,
): Promise<TaggedConversation[]> {
  const suggester = await suggesterFor(ctx);
  const out: TaggedConversation[] = [];
  const jobs: LlmJob[] = [];
  const llm = ctx.config.llm;
  const states = llm.enabled ? await itemStateByConversation(ctx.db, [...conversationIds]) : new Map<number, { status: string; hasSummary: boolean }>();
  for (const id of conversationIds) {
    const messages = convs.get(id) ?? [];
    let detected = detectedOf(id);
    if (detected) {
      const doc = reportDoc(messages, detected);
      detected = withSuggestions(detected, suggester, doc, id);
      const state = states.get(id);
      const human = state !== undefined && state.status !== 'auto';
      if (llm.enabled && state?.status !== 'not_feedback') {
        jobs.push({ key: id, item: { ...(doc.title ? { subject: doc.title } : {}), text: doc.text }, detected, wantsKind: !human, wantsSummary: !state?.hasSummary });
      }
    }
    out.push({ conversationId: id, detected, summary: null });
  }
  if (jobs.length) {
    const areas = ctx.config.tags.map((t) => t.tag).filter((t) => t.startsWith('area:'));
    const { outcomes } = await refineWithLlm(llm, [...new Set(areas)], jobs, ctx.log);
    for (const t of out) {
      const o = outcomes.get(t.conversationId);
      if (o) {
        t.detected = o.detected;
        t.summary = o.summary;
      }
    }
  }
  return out;
}
