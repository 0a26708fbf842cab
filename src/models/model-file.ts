// Reads a shipped model file: JSON, then the model's own validation. An unreadable file and an invalid
// one are errors that name the file (and how to rebuild it), never a silent fallback.
import { readFileSync } from 'node:fs';

export interface ModelFile<T> {
  model: T;
  /** The file's text (for a version hash). */
  text: string;
}

export function readModelFile<T>(path: string, what: string, parse: (json: unknown) => T, rebuild?: string): ModelFile<T> {
  let text: string;
  let json: unknown;
  try {
    text = readFileSync(path, 'utf8');
    json = JSON.parse(text);
  } catch (err: unknown) {
    throw new Error(`cannot read the ${what} at ${path}${rebuild ? `; run \`${rebuild}\` to rebuild it` : ''}`, { cause: err });
  }
  try {
    return { model: parse(json), text };
  } catch (err: unknown) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
