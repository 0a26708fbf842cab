// The shipped chat-disentanglement model (models/disentangle.json), loaded and validated once.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { modelsDir } from '../paths.js';
import { parseDisentangleModel, type DisentangleModel } from '../pipeline/disentangle/index.js';
import { readModelFile } from './model-file.js';

let cached: DisentangleModel | undefined;
let version: string | undefined;

export function disentangleModelPath(): string {
  return join(modelsDir(), 'disentangle.json');
}

export function loadDisentangleModel(): DisentangleModel {
  if (cached) return cached;
  const { model, text } = readModelFile(disentangleModelPath(), 'disentanglement model', parseDisentangleModel, 'npx tsx scripts/train-threads.ts');
  version = createHash('sha256').update(text).digest('hex').slice(0, 16);
  cached = model;
  return cached;
}

/** A hash of the model file loaded (threads that link for each other must use the same model). */
export function disentangleModelVersion(): string {
  loadDisentangleModel();
  return version!;
}
