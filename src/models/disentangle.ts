// The shipped chat-disentanglement model (models/disentangle.json), loaded and validated once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from '../paths.js';
import { parseDisentangleModel, type DisentangleModel } from '../pipeline/disentangle/index.js';

let cached: DisentangleModel | undefined;

export function disentangleModelPath(): string {
  return join(modelsDir(), 'disentangle.json');
}

export function loadDisentangleModel(): DisentangleModel {
  if (cached) return cached;
  const path = disentangleModelPath();
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err: unknown) {
    throw new Error(`cannot read the disentanglement model ${path}`, { cause: err });
  }
  try {
    cached = parseDisentangleModel(json);
  } catch (err: unknown) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return cached;
}
