// Where the package's own files (templates, models, examples) live, wherever it is installed.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The folder holding Gleaner's package.json (works from src/ under tsx/vitest and from dist/). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the Gleaner package root (package.json beside templates/)');
    dir = parent;
  }
}

export const templatesDir = (): string => join(packageRoot(), 'templates');
export const modelsDir = (): string => join(packageRoot(), 'models');
export const examplesDir = (): string => join(packageRoot(), 'examples');
/** ../shared beside the checkout: evaluation data for benchmarks only, never needed by tests or users. */
export const sharedDir = (): string => process.env.GLEANER_SHARED ?? join(packageRoot(), '..', 'shared');
