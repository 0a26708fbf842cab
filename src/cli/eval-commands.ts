// `gleaner eval threads|dups|kind|feedback`: scoring commands that work on any data in these formats, each
// printing one figure per line as `name: value`.
import type { Command } from 'commander';
import { evalThreads } from '../eval/threads.js';
import { evalDups } from '../eval/dups.js';
import { evalKind, evalOwnSet } from '../eval/kind.js';
import { evalFeedback } from '../eval/feedback-run.js';
import { sharedDir } from '../paths.js';
import { join } from 'node:path';

function print(lines: Array<[string, number]>): void {
  for (const [name, value] of lines) console.log(`${name}: ${Number.isInteger(value) ? value : value.toFixed(value > 1 ? 1 : 3)}`);
}

export function registerEvalCommands(program: Command): void {
  const evalCmd = program.command('eval').description('score the shipped models on labelled data (prints `name: value` lines)');
  evalCmd
    .command('threads')
    .description('conversation disentanglement on IRC logs (*.raw.txt or *.ascii.txt with *.annotation.txt gold)')
    .argument('<dirs...>')
    .action(async (dirs: string[]) => print(await evalThreads(dirs)));
  evalCmd
    .command('dups')
    .description('near-duplicate retrieval on a GitBugs-style reports CSV and duplicate pairs CSV')
    .requiredOption('--reports <csv>', 'reports CSV')
    .requiredOption('--pairs <csv>', 'duplicate pairs CSV')
    .action(async (opts: { reports: string; pairs: string }) => print(await evalDups(opts.reports, opts.pairs)));
  evalCmd
    .command('kind')
    .description('bug / feature / question macro F1 on a CSV with the NLBSE columns (mean over repositories)')
    .option('--test <csv>', 'NLBSE-style CSV')
    .option('--own <jsonl>', "Gleaner's own labelled set (held-out split)")
    .action(async (opts: { test?: string; own?: string }) => {
      if (!opts.test && !opts.own) throw new Error('give --test CSV and/or --own JSONL');
      if (opts.test) print(await evalKind(opts.test));
      if (opts.own) print(await evalOwnSet(opts.own));
    });
  evalCmd
    .command('feedback')
    .description('feedback precision/recall and cluster purity of the pipeline on hand-labelled archives (data/labelled/GUIDELINE.md)')
    .requiredOption('--labels <csv>', 'labels CSV (repeatable)', collect, [])
    .option('--archive <path>', 'an archive the labels name (repeatable); others are found by file name under --archives-dir', collect, [])
    .option('--archives-dir <dir>', 'folder searched for the archives the labels name', join(sharedDir(), 'data', 'raw-channels'))
    .option('--store', 'score the configured store (-c / --db / GLEANER_DB) as it is instead of importing into a temporary one')
    .action(async (opts: { labels: string[]; archive: string[]; archivesDir: string; store?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ config?: string; db?: string }>();
      const lines = await evalFeedback({
        labels: opts.labels,
        archives: opts.archive,
        archivesDirs: [opts.archivesDir],
        config: g.config,
        useStore: opts.store === true,
        db: g.db,
      });
      // Three decimals throughout: need_split is a small number above 1.
      for (const [name, value] of lines) console.log(`${name}: ${Number.isInteger(value) ? value : value.toFixed(3)}`);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
