#!/usr/bin/env node
// Runs the whole test suite (unit, contract, integration, e2e) with vitest, then prints one plain
// closing line "tests: N passed, N failed, N skipped" so that any reader can tell a run that ran
// nothing from one that passed. A test file or suite that failed without a failing test (a hook that
// threw, a file that could not be imported: its tests are reported skipped) counts as a failure.
// First, the Debian packages the tests start (Redis, PostgreSQL, Dovecot, ngircd, Chromium) are
// installed when missing, as root with apt-get (scripts/test-deps.js); otherwise the run stops with
// the exact command. GLEANER_SKIP_TEST_DEPS=1 skips that step.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTestPackages } from './test-deps.js';

if (process.env.GLEANER_SKIP_TEST_DEPS !== '1') {
  const problem = ensureTestPackages();
  if (problem) {
    console.error(problem);
    console.log('tests: not run (missing Debian packages)');
    process.exit(1);
  }
}

const outDir = process.env.GLEANER_TEST_OUTPUT_DIR ?? join(process.cwd(), 'test-output');
mkdirSync(outDir, { recursive: true });
const resultsFile = join(outDir, 'results.json');
rmSync(resultsFile, { force: true });

const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit', env: process.env });
let r = null;
try {
  r = JSON.parse(readFileSync(resultsFile, 'utf8'));
} catch {
  // no results: vitest failed before running anything
}
if (!r) {
  console.log(`tests: no results (vitest exited with ${run.status ?? run.signal} before reporting)`);
  process.exit(run.status || 1);
}
// Files that failed with no failing test in them: their failure is not in numFailedTests.
const filesFailedAlone = r.testResults.filter((f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed'));
let failed = r.numFailedTests + filesFailedAlone.length;
if (failed === 0 && r.numFailedTestSuites > 0) failed = r.numFailedTestSuites;
const skipped = r.numPendingTests + r.numTodoTests;
for (const f of filesFailedAlone) console.log(`failed without a failing test: ${f.name}${f.message ? ` (${f.message.split('\n')[0]})` : ''}`);
const suites = r.numFailedTestSuites ? ` (${r.numFailedTestSuites} suite${r.numFailedTestSuites === 1 ? '' : 's'} failed)` : '';
console.log(`tests: ${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped${suites}`);
if (r.numTotalTests === 0) {
  console.error('no test was executed');
  process.exit(1);
}
process.exit(failed > 0 ? run.status || 1 : (run.status ?? 1));
