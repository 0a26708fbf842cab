// npm run bench -- quality kind: the feedback classifier's quality and speed, `name: value` lines.
//  - kind.cv_macro_f1 (+ per repository): 5-fold stratified cross-validation on the visible NLBSE'24
//    training set (mean over repositories of per-repository macro F1 over bug/feature/question),
//    trained with the shipped settings plus the own set's train split (never tested on);
//  - kind.own.* / feedback.own.f1 / sentiment.own.macro_f1: the shipped model on the held-out split
//    of data/labelled/gleaner-feedback.jsonl;
//  - kind.items_per_s: classify() calls per CPU second (one core) over the own set's texts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { crossValidateKind, evalOwnSet, ownSplitOf, readOwnSet } from '../../src/eval/kind.js';
import { loadClassifierModel } from '../../src/models/classifier.js';
import { classify, SHIPPED_OWN_WEIGHT, SHIPPED_TRAIN_OPTIONS } from '../../src/pipeline/classify/index.js';
import { packageRoot, sharedDir } from '../../src/paths.js';

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(4));

export async function run(args: string[]): Promise<void> {
  const ownPath = join(packageRoot(), 'data', 'labelled', 'gleaner-feedback.jsonl');
  const own = await readOwnSet(ownPath);
  const trainCsv = join(sharedDir(), 'data', 'feedback-type-nlbse24', 'issues_train.csv');
  if (!args.includes('--no-cv')) {
    if (existsSync(trainCsv)) {
      const extra = own.filter((e) => ownSplitOf(e.text) === 'train').map((e) => ({ text: e.text, label: e.label, weight: SHIPPED_OWN_WEIGHT }));
      for (const [k, v] of await crossValidateKind(trainCsv, 5, { train: SHIPPED_TRAIN_OPTIONS, extra })) console.log(`${k}: ${fmt(v)}`);
    } else console.log(`# kind.cv_macro_f1 skipped: ${trainCsv} not found`);
  }
  const model = loadClassifierModel();
  for (const [k, v] of await evalOwnSet(ownPath, model)) console.log(`${k}: ${fmt(v)}`);

  // Throughput on one core: CPU time of this single-threaded loop, so a busy machine does not
  // understate it; the wall-clock rate is printed beside it.
  const texts = own.map((e) => e.text);
  for (let i = 0; i < 500; i++) classify(model, { text: texts[i % texts.length] ?? '' }); // warm-up
  const rounds = 20;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) for (const text of texts) classify(model, { text });
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(`kind.items_per_s: ${Math.round((rounds * texts.length) / cpuSeconds)}`);
  console.log(`kind.items_per_s_wall: ${Math.round((rounds * texts.length) / wallSeconds)}`);
}
