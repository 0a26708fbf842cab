// Feedback detection and clustering on the hand-labelled real archives (data/labelled/*.labels.csv,
// archives in ../shared/data/raw-channels): the figures of `gleaner eval feedback`.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, sharedDir } from '../src/paths.js';
import { evalFeedback } from '../src/eval/feedback-run.js';

export async function run(args: string[]): Promise<void> {
  const labelledDir = join(packageRoot(), 'data', 'labelled');
  const labels = readdirSync(labelledDir)
    .filter((n) => n.endsWith('.labels.csv'))
    .map((n) => join(labelledDir, n));
  const archivesDir = join(sharedDir(), 'data', 'raw-channels');
  if (!labels.length || !existsSync(archivesDir)) {
    console.error(`feedback: skipped, needs ${labelledDir}/*.labels.csv and the archives in ${archivesDir}`);
    return;
  }
  const config = args.find((a) => a.startsWith('--config='))?.split('=')[1];
  for (const [name, value] of await evalFeedback({ labels, archivesDirs: [archivesDir], config })) console.log(`${name}: ${Number.isInteger(value) ? value : value.toFixed(3)}`);
}
