// `gleaner eval threads|dups|kind`: scoring commands that work on any data in these formats, each
// printing one figure per line as `name: value`.
import type { Command } from 'commander';
import { evalThreads } from '../eval/threads.js';
import { evalDups } from '../eval/dups.js';
import { evalKind, evalOwnSet } from '../eval/kind.js';

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
}
