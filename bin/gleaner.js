#!/usr/bin/env node
// Runs the compiled CLI (npm run build writes dist/).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  console.error('gleaner: not built yet; run `npm run build` in ' + root);
  process.exit(1);
}
const { main } = await import(entry);
await main(process.argv);
