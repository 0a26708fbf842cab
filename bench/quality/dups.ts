// Duplicate-report retrieval on the visible GitBugs (Hadoop) split: prints the dups.* lines.
// Protocol (src/eval/dups.ts): each pair's first report is the query, all other reports are ranked.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { evalDups } from '../../src/eval/dups.js';
import { sharedDir } from '../../src/paths.js';

export async function run(_args: string[]): Promise<void> {
  const dir = join(sharedDir(), 'data', 'bug-duplicates-gitbugs', 'hadoop');
  const reports = join(dir, 'hadoop_bugs.visible.csv');
  const pairs = join(dir, 'pairs-train.csv');
  if (!existsSync(reports) || !existsSync(pairs)) {
    console.error(`dups: skipped, ${dir} does not hold hadoop_bugs.visible.csv and pairs-train.csv`);
    return;
  }
  const started = performance.now();
  for (const [name, value] of await evalDups(reports, pairs)) console.log(`${name}: ${value.toFixed(3)}`);
  console.error(`# dups: visible GitBugs Hadoop split (80 train pairs, 2,457 reports) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
