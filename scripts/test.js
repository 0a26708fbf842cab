#!/usr/bin/env node
// Runs the whole test suite (unit, contract, integration, e2e) with vitest, then prints one plain
// closing line "tests: N passed, N failed, N skipped" so that any reader can tell a run that ran
// nothing from one that passed.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const outDir = join(process.cwd(), 'test-output');
mkdirSync(outDir, { recursive: true });
const resultsFile = join(outDir, 'results.json');
rmSync(resultsFile, { force: true });

const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit', env: process.env });
let summary = null;
try {
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  summary = { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests, total: r.numTotalTests, suitesFailed: r.numFailedTestSuites };
} catch {
  // no results: vitest failed before running anything
}
if (summary) {
  console.log(`tests: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  if (summary.total === 0) {
    console.error('no test was executed');
    process.exit(1);
  }
}
process.exit(run.status ?? 1);
