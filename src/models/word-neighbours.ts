// The shipped word-neighbour model (models/word-neighbours.json), loaded and validated once.
import { join } from 'node:path';
import { modelsDir } from '../paths.js';
import { parseWordNeighbourModel, type WordNeighbours } from '../pipeline/word-neighbours.js';
import { readModelFile } from './model-file.js';

let cached: WordNeighbours | undefined;

export function wordNeighboursPath(): string {
  return join(modelsDir(), 'word-neighbours.json');
}

export function loadWordNeighbours(): WordNeighbours {
  cached ??= readModelFile(wordNeighboursPath(), 'word model', parseWordNeighbourModel, 'npx tsx scripts/train-words.ts').model;
  return cached;
}
