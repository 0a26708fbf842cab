// Reproducible training of models/classifier.json:
//   npx tsx scripts/train-classifier.ts [--nlbse path/to/issues_train.csv] [--own data/labelled/gleaner-feedback.jsonl] [--out models/classifier.json]
// Inputs: the NLBSE'24 issue training set (bug / feature / question; research data, never copied
// into the repo) and the train split of Gleaner's own labelled chat set (all seven labels).
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { issueToExample, ownSplitOf, readIssues, readOwnSet } from '../src/eval/kind.js';
import { SHIPPED_OWN_WEIGHT, SHIPPED_TRAIN_OPTIONS, trainClassifier, type TrainingExample } from '../src/pipeline/classify/index.js';
import { modelsDir, packageRoot, sharedDir } from '../src/paths.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v ?? fallback;
}

const nlbsePath = resolve(arg('--nlbse', join(sharedDir(), 'data', 'feedback-type-nlbse24', 'issues_train.csv')));
const ownPath = resolve(arg('--own', join(packageRoot(), 'data', 'labelled', 'gleaner-feedback.jsonl')));
const outPath = resolve(arg('--out', join(modelsDir(), 'classifier.json')));

const t0 = performance.now();
const issues = await readIssues(nlbsePath);
const own = (await readOwnSet(ownPath)).filter((e) => ownSplitOf(e.text) === 'train');
const examples: TrainingExample[] = [...issues.map(issueToExample), ...own.map((e) => ({ text: e.text, label: e.label, weight: SHIPPED_OWN_WEIGHT }))];
const counts: Record<string, number> = {};
for (const e of examples) counts[e.label] = (counts[e.label] ?? 0) + 1;
console.log(`training on ${issues.length} NLBSE issues + ${own.length} own examples:`, counts);

const version = `classifier-${SHIPPED_TRAIN_OPTIONS.algorithm ?? 'softmax'}-${examples.length}ex-${SHIPPED_TRAIN_OPTIONS.maxFeatures ?? 'all'}f-seed${SHIPPED_TRAIN_OPTIONS.seed ?? 1}`;
const model = trainClassifier(examples, {
  ...SHIPPED_TRAIN_OPTIONS,
  version,
  meta: {
    trainedOn: { nlbseIssues: issues.length, ownExamples: own.length, labels: counts },
    options: SHIPPED_TRAIN_OPTIONS,
    ownWeight: SHIPPED_OWN_WEIGHT,
  },
});
const seconds = (performance.now() - t0) / 1000;
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, JSON.stringify(model) + '\n');
console.log(`wrote ${outPath}: ${(statSync(outPath).size / 1e6).toFixed(2)} MB, version ${version}, trained in ${seconds.toFixed(1)} s`);
