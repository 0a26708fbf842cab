// Loads the classifier weights once per process: models/classifier.local.json (retrained from human
// decisions by `gleaner train`) when present, else the shipped models/classifier.json.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseClassifierModel, type ClassifierModel } from '../pipeline/classify/index.js';
import { modelsDir } from '../paths.js';
import { readModelFile } from './model-file.js';

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
  cached ??= readModelFile(classifierModelPath(), 'classifier model', parseClassifierModel, 'npx tsx scripts/train-classifier.ts').model;
  return cached;
}
