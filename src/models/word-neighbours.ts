// The shipped word-neighbour model (models/word-neighbours.json), loaded and validated once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelsDir } from '../paths.js';
import { parseWordNeighbourModel, type WordNeighbours } from '../pipeline/word-neighbours.js';

let cached: WordNeighbours | undefined;

export function wordNeighboursPath(): string {
  return join(modelsDir(), 'word-neighbours.json');
}

export function loadWordNeighbours(): WordNeighbours {
  if (cached) return cached;
  const path = wordNeighboursPath();
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err: unknown) {
    throw new Error(`cannot read the word model ${path}`, { cause: err });
  }
  try {
    cached = parseWordNeighbourModel(json);
  } catch (err: unknown) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return cached;
}
