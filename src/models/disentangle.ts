// The shipped chat-disentanglement model (models/disentangle.json), loaded and validated once.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from '../paths.js';
import { parseDisentangleModel, type DisentangleModel } from '../pipeline/disentangle/index.js';

let cached: DisentangleModel | undefined;
let version: string | undefined;

export function disentangleModelPath(): string {
  return join(modelsDir(), 'disentangle.json');
}

export function loadDisentangleModel(): DisentangleModel {
  if (cached) return cached;
  const path = disentangleModelPath();
  let json: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    version = createHash('sha256').update(text).digest('hex').slice(0, 16);
    json = JSON.parse(text);
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

/** A hash of the model file loaded (threads that link for each other must use the same model). */
export function disentangleModelVersion(): string {
  loadDisentangleModel();
  return version!;
}
