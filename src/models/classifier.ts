// Loads the classifier weights once per process: models/classifier.local.json (retrained from human
// decisions by `gleaner train`) when present, else the shipped models/classifier.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseClassifierModel, type ClassifierModel } from '../pipeline/classify/index.js';
import { modelsDir } from '../paths.js';

let cached: ClassifierModel | undefined;

export const shippedClassifierModelPath = (): string => join(modelsDir(), 'classifier.json');
/** Written by `gleaner train` from human decisions; used in preference to the shipped model when present. */
export const localClassifierModelPath = (): string => join(modelsDir(), 'classifier.local.json');

/** GLEANER_CLASSIFIER_MODEL when set, else the local model when present, else the shipped one. */
export const classifierModelPath = (): string => {
  const local = localClassifierModelPath();
  return process.env.GLEANER_CLASSIFIER_MODEL || (existsSync(local) ? local : shippedClassifierModelPath());
};

export function loadClassifierModel(): ClassifierModel {
  if (cached) return cached;
  const path = classifierModelPath();
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err: unknown) {
    throw new Error(`cannot read the classifier model at ${path}; run \`npx tsx scripts/train-classifier.ts\` to rebuild it`, { cause: err });
  }
  try {
    cached = parseClassifierModel(json);
  } catch (err: unknown) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return cached;
}
