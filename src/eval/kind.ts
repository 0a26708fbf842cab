// Quality figures for the feedback classifier: the NLBSE'24 issue-type task (bug / feature /
// question, scored as the mean over repositories of per-repository macro F1) and Gleaner's own
// labelled chat set (held-out split).
import { readFile } from 'node:fs/promises';
import { loadClassifierModel } from '../models/classifier.js';
import {
  classify,
  labelScores,
  LABELS,
  macroF1,
  binaryF1,
  perLabelScores,
  type ClassifierModel,
  type Label,
  type Sentiment,
  type TrainingExample,
  type TrainOptions,
} from '../pipeline/classify/index.js';
import { fitPrepared, prepareExamples, probabilities } from '../pipeline/classify/train.js';
import { mulberry32 } from '../pipeline/classify/linear.js';
import { parseCsv } from './csv.js';
import { fnv1a, DEFAULT_FEATURE_CONFIG, type FeatureConfig } from '../pipeline/classify/text.js';

export { parseCsv };

/** CSV with a header row -> objects keyed by column name; a record whose field count differs from the header's is an error. */
export function parseCsvRecords(text: string): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  return rows
    .filter((r) => !(r.length === 1 && r[0] === ''))
    .map((r, line) => {
      if (r.length !== header.length) throw new Error(`CSV record ${line + 1}: ${r.length} fields, header has ${header.length}`);
      return Object.fromEntries(header.map((h, j) => [h, r[j] ?? '']));
    });
}

export type IssueKind = 'bug' | 'feature' | 'question';
export const ISSUE_KINDS: readonly IssueKind[] = ['bug', 'feature', 'question'];

export interface Issue {
  repo: string;
  label: IssueKind;
  title: string;
  body: string;
}

export async function readIssues(csvPath: string): Promise<Issue[]> {
  const records = parseCsvRecords(await readFile(csvPath, 'utf8'));
  return records.map((r, i) => {
    const label = r.label;
    if (label !== 'bug' && label !== 'feature' && label !== 'question') throw new Error(`${csvPath} record ${i + 1}: unknown label ${JSON.stringify(label)}`);
    return { repo: r.repo ?? '', label, title: r.title ?? '', body: r.body ?? '' };
  });
}

export const issueToExample = (i: Issue): TrainingExample => ({ title: i.title, text: i.body, label: i.label });

/** The argmax among bug / feature / question only (the issue task has no other labels). */
function issueKindOf(scores: Record<Label, number>): IssueKind {
  let best: IssueKind = 'bug';
  for (const k of ISSUE_KINDS) if (scores[k] > scores[best]) best = k;
  return best;
}

/** Mean over repositories of per-repository macro F1, plus one line per repository. */
export function repoMacroF1(name: string, issues: readonly Issue[], predicted: readonly IssueKind[]): Array<[string, number]> {
  const repos = [...new Set(issues.map((i) => i.repo))].sort();
  const per: Array<[string, number]> = repos.map((repo) => {
    const idx = issues.flatMap((i, j) => (i.repo === repo ? [j] : []));
    return [
      `${name}.${repo}`,
      macroF1(
        idx.map((j) => issues[j]!.label),
        idx.map((j) => predicted[j]!),
        ISSUE_KINDS,
      ),
    ];
  });
  const mean = per.reduce((s, [, v]) => s + v, 0) / (per.length || 1);
  return [[name, mean], ...per];
}

export async function evalKind(testCsv: string, model: ClassifierModel = loadClassifierModel()): Promise<Array<[string, number]>> {
  const issues = await readIssues(testCsv);
  const predicted = issues.map((i) => issueKindOf(labelScores(model, { title: i.title, text: i.body })));
  return repoMacroF1('kind.macro_f1', issues, predicted);
}

/** Stratified by (repo, label), shuffled by a seeded PRNG: fold of each row. */
export function stratifiedFolds(keys: readonly string[], folds: number, seed: number): Int32Array {
  const groups = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  });
  const out = new Int32Array(keys.length);
  const rand = mulberry32(seed);
  let offset = 0;
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key) ?? [];
    for (let i = g.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const a = g[i] ?? 0;
      g[i] = g[j] ?? 0;
      g[j] = a;
    }
    // Rotate the start so small groups do not all fill fold 0 first.
    g.forEach((row, k) => (out[row] = (k + offset) % folds));
    offset += g.length;
  }
  return out;
}

export interface CrossValidationOptions {
  seed?: number;
  train?: TrainOptions;
  features?: Partial<FeatureConfig>;
  /** Extra examples added to every training fold (never tested on), e.g. the own chat set. */
  extra?: readonly TrainingExample[];
  /** The competition's protocol: one model per repository, trained on that repository's rows only. */
  perRepo?: boolean;
}

export async function crossValidateKind(trainCsv: string, folds = 5, options: CrossValidationOptions = {}): Promise<Array<[string, number]>> {
  const issues = await readIssues(trainCsv);
  return crossValidateIssues(issues, folds, options);
}

export function crossValidateIssues(issues: readonly Issue[], folds = 5, options: CrossValidationOptions = {}): Array<[string, number]> {
  const cfg: FeatureConfig = { ...DEFAULT_FEATURE_CONFIG, ...options.train?.features, ...options.features };
  const fold = stratifiedFolds(
    issues.map((i) => `${i.repo}|${i.label}`),
    folds,
    options.seed ?? 7,
  );
  const prepared = prepareExamples(issues.map(issueToExample), cfg);
  const extra = prepareExamples(options.extra ?? [], cfg);
  const predicted: IssueKind[] = new Array<IssueKind>(issues.length).fill('bug');
  const groups = options.perRepo ? [...new Set(issues.map((i) => i.repo))].sort() : [undefined];
  for (let f = 0; f < folds; f++)
    for (const repo of groups) {
      const inGroup = (i: number): boolean => repo === undefined || issues[i]?.repo === repo;
      const train = prepared.filter((_, i) => fold[i] !== f && inGroup(i)).concat(extra);
      const rt = fitPrepared(train, cfg, options.train);
      prepared.forEach((p, i) => {
        if (fold[i] !== f || !inGroup(i)) return;
        const probs = probabilities(rt, p.blocks);
        const scores = Object.fromEntries(LABELS.map((l) => [l, 0])) as Record<Label, number>;
        rt.labels.forEach((l, k) => (scores[l] = probs[k] ?? 0));
        predicted[i] = issueKindOf(scores);
      });
    }
  return repoMacroF1('kind.cv_macro_f1', issues, predicted);
}

// ---- Gleaner's own labelled set -------------------------------------------------------------

export interface OwnExample {
  text: string;
  label: Label;
  platform: 'slack' | 'discord' | 'irc' | 'matrix' | 'mail';
  sentiment: Sentiment;
}

/** The fixed held-out rule of data/labelled: FNV-1a of the exact text, 1 in 5 goes to test. */
export function ownSplitOf(text: string): 'train' | 'test' {
  return fnv1a(text) % 5 === 0 ? 'test' : 'train';
}

export async function readOwnSet(jsonlPath: string): Promise<OwnExample[]> {
  const lines = (await readFile(jsonlPath, 'utf8')).split('\n');
  const out: OwnExample[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err: unknown) {
      throw new Error(`${jsonlPath}:${i + 1}: not JSON`, { cause: err });
    }
    const o = v as Partial<OwnExample>;
    if (typeof o.text !== 'string' || !LABELS.includes(o.label as Label)) throw new Error(`${jsonlPath}:${i + 1}: needs a text and a label in ${LABELS.join('/')}`);
    if (!['slack', 'discord', 'irc', 'matrix', 'mail'].includes(o.platform ?? '')) throw new Error(`${jsonlPath}:${i + 1}: bad platform`);
    if (!['negative', 'neutral', 'positive'].includes(o.sentiment ?? '')) throw new Error(`${jsonlPath}:${i + 1}: bad sentiment`);
    out.push(o as OwnExample);
  });
  return out;
}

export async function evalOwnSet(jsonlPath: string, model: ClassifierModel = loadClassifierModel()): Promise<Array<[string, number]>> {
  const test = (await readOwnSet(jsonlPath)).filter((e) => ownSplitOf(e.text) === 'test');
  const results = test.map((e) => classify(model, { text: e.text }));
  const gold = test.map((e) => e.label);
  const predicted: Label[] = results.map((r) => r.kind ?? 'none');
  const out: Array<[string, number]> = [
    ['kind.own.n_test', test.length],
    ['kind.own.macro_f1', macroF1(gold, predicted, LABELS)],
    [
      'feedback.own.f1',
      binaryF1(
        gold.map((g) => g !== 'none'),
        results.map((r) => r.isFeedback),
      ),
    ],
  ];
  for (const [label, s] of perLabelScores(gold, predicted, LABELS)) out.push([`kind.own.f1.${label}`, s.f1]);
  const sentiments: Sentiment[] = ['negative', 'neutral', 'positive'];
  out.push([
    'sentiment.own.macro_f1',
    macroF1(
      test.map((e) => e.sentiment),
      results.map((r) => r.sentiment),
      sentiments,
    ),
  ]);
  return out;
}
