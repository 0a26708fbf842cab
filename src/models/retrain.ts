// `gleaner train`: retrains the kind classifier from the shipped training data description (the
// NLBSE'24 issues when present, the train split of data/labelled) plus the human decisions in the store,
// human examples weighted up. The NLBSE CSV is research data that users do not have: without it the
// model is trained on the own set's train split and the human decisions, and the result says so.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { issueToExample, ownSplitOf, readIssues, readOwnSet } from '../eval/kind.js';
import { LABELS, SHIPPED_OWN_WEIGHT, SHIPPED_TRAIN_OPTIONS, trainClassifier, type ClassifierModel, type Label, type TrainingExample } from '../pipeline/classify/index.js';
import { loadHumanKindDecisions } from '../store/tagging.js';
import type { Database } from '../store/schema.js';
import { packageRoot, sharedDir } from '../paths.js';

/** One human decision counts as this many training examples (they are few and they are about this community). */
export const DEFAULT_HUMAN_WEIGHT = 5;

export const defaultNlbsePath = (): string => join(sharedDir(), 'data', 'feedback-type-nlbse24', 'issues_train.csv');
export const ownSetPath = (): string => join(packageRoot(), 'data', 'labelled', 'gleaner-feedback.jsonl');

export interface RetrainOptions {
  nlbsePath?: string;
  ownPath?: string;
  humanWeight?: number;
}

export interface RetrainResult {
  model: ClassifierModel;
  notes: string[];
  counts: { nlbse: number; own: number; human: number; humanByLabel: Record<string, number> };
}

export async function humanExamples(db: Kysely<Database>, weight: number): Promise<TrainingExample[]> {
  const seen = new Set<string>();
  const out: TrainingExample[] = [];
  for (const d of await loadHumanKindDecisions(db)) {
    if (!LABELS.includes(d.label as Label) || !d.text.trim()) continue;
    const key = `${d.title ?? ''}\u0000${d.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...(d.title ? { title: d.title } : {}), text: d.text.slice(0, 10_000), label: d.label as Label, weight });
  }
  return out;
}

export async function retrainFromDecisions(db: Kysely<Database>, opts: RetrainOptions = {}): Promise<RetrainResult> {
  const notes: string[] = [];
  const humanWeight = opts.humanWeight ?? DEFAULT_HUMAN_WEIGHT;
  const human = await humanExamples(db, humanWeight);
  const nlbsePath = opts.nlbsePath ?? defaultNlbsePath();
  const ownPath = opts.ownPath ?? ownSetPath();
  const hasNlbse = existsSync(nlbsePath);
  const issues = hasNlbse ? await readIssues(nlbsePath) : [];
  if (!hasNlbse) notes.push(`the NLBSE'24 training CSV is not here (${nlbsePath}): training on the own labelled set's train split and the human decisions only`);
  // The own set's weight is relative to the NLBSE issues (which outnumber it); alone it is 1.
  const ownWeight = hasNlbse ? SHIPPED_OWN_WEIGHT : 1;
  const own = (await readOwnSet(ownPath)).filter((e) => ownSplitOf(e.text) === 'train').map((e) => ({ text: e.text, label: e.label, weight: ownWeight }));
  if (!human.length) notes.push('no human decisions in the store yet (confirm items, add kind:* tags or mark items "not feedback")');
  const examples: TrainingExample[] = [...issues.map(issueToExample), ...own, ...human];
  const humanByLabel: Record<string, number> = {};
  for (const h of human) humanByLabel[h.label] = (humanByLabel[h.label] ?? 0) + 1;
  const digest = createHash('sha256');
  for (const h of human) digest.update(`${h.label}\u0000${h.title ?? ''}\u0000${h.text}\u0001`);
  const version = `classifier-local-${issues.length}n-${own.length}o-${human.length}h-${digest.digest('hex').slice(0, 8)}`;
  const model = trainClassifier(examples, {
    ...SHIPPED_TRAIN_OPTIONS,
    version,
    meta: { trainedOn: { nlbseIssues: issues.length, ownExamples: own.length, humanDecisions: human.length, humanByLabel }, humanWeight, ownWeight, options: SHIPPED_TRAIN_OPTIONS },
  });
  return { model, notes, counts: { nlbse: issues.length, own: own.length, human: human.length, humanByLabel } };
}
