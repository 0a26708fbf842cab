// npm run bench -- scenario [NAME] [--detail]: imports a scenario of ../shared/data/scenarios (default
// quarry) into a fresh store with ../shared/tools/run-scenario.sh, as the project's bars do (sorted
// files, IRC logs last), and prints the scorer's `name: value` lines (needs_whole, bcubed_f,
// hard_negatives_apart, digest_first, ...) prefixed with `scenario.<name>.`. Needs a built checkout
// (npm run bench builds first) and python3.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedDir } from '../src/paths.js';

export async function run(args: string[]): Promise<void> {
  const name = args.find((a) => !a.startsWith('-')) ?? 'quarry';
  const detail = args.includes('--detail');
  const dir = join(sharedDir(), 'data', 'scenarios', name);
  const script = join(sharedDir(), 'tools', 'run-scenario.sh');
  if (!existsSync(join(dir, 'expected.json')) || !existsSync(script)) {
    console.error(`scenario: skipped, ${dir} or ${script} is missing`);
    return;
  }
  // The checkout root (dist/bench/scenario.js -> ../..): run-scenario.sh runs the built `gleaner` from there.
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const out = mkdtempSync(join(tmpdir(), `gleaner-scenario-${name}-`));
  const started = performance.now();
  const r = spawnSync('bash', [script, dir, out, ...(detail ? ['--detail'] : [])], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    console.error(`scenario: run-scenario.sh failed (exit ${r.status ?? r.signal}): ${r.stderr.slice(0, 2000)}`);
    process.exitCode = 1;
    return;
  }
  for (const line of r.stdout.split('\n')) {
    const m = /^([\w.@-]+): (.*)$/.exec(line);
    if (!m || m[1] === 'outputs') continue;
    if (m[1]!.startsWith('import.') || m[1] === 'summary') console.error(`# ${line}`);
    else console.log(`scenario.${name}.${m[1]}: ${m[2]}`);
  }
  console.error(`# scenario ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s; store, logs and JSON in ${out}`);
}
