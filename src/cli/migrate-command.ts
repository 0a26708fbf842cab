// `gleaner migrate --from sqlite:FILE --to postgres://...`: moves an installation from its SQLite file
// to PostgreSQL, ids kept, counts verified and printed.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { isPostgresUrl, openDb, redactUrl, type OpenedDb } from '../store/db.js';
import { copyStore } from '../store/copy.js';

interface MigrateOpts {
  from: string;
  to: string;
  force?: boolean;
  batch?: number;
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('copy a SQLite store into PostgreSQL (stop the workers first); the target database must exist and be empty')
    .requiredOption('--from <sqlite:FILE>', 'the SQLite store (sqlite:PATH or a path)')
    .requiredOption('--to <postgres://...>', 'the PostgreSQL database (created beforehand, e.g. createdb gleaner)')
    .option('--force', 'replace whatever the PostgreSQL database holds already')
    .option('--batch <rows>', 'rows per read and insert', (v) => Number(v))
    .action(async (opts: MigrateOpts) => {
      const path = opts.from.startsWith('sqlite:') ? opts.from.slice('sqlite:'.length) : opts.from;
      if (isPostgresUrl(opts.from)) throw new Error('--from is the SQLite file to copy (sqlite:PATH); copying from PostgreSQL is not supported');
      if (path === ':memory:' || !existsSync(path)) throw new Error(`--from: no SQLite file at ${path}`);
      if (!isPostgresUrl(opts.to)) throw new Error(`--to must be a postgres:// URL, not ${opts.to}`);
      if (opts.batch !== undefined && (!Number.isInteger(opts.batch) || opts.batch < 1)) throw new Error('--batch must be a positive integer');

      const started = Date.now();
      let source: OpenedDb | undefined;
      let target: OpenedDb | undefined;
      try {
        // Opening brings both to this version's schema; the copy checks that they agree.
        source = await openDb(path);
        target = await openDb(opts.to, { poolSize: 2 });
        console.log(`Copying ${path} into ${redactUrl(opts.to)} ...`);
        const report = await copyStore(source.db, target.db, {
          force: opts.force,
          batchRows: opts.batch,
          onTable: (table, rows) => console.error(`  copied ${table}: ${rows} rows`),
        });
        const width = Math.max(...report.tables.map((t) => t.table.length), 5);
        console.log(`\n${'table'.padEnd(width)}  ${'sqlite'.padStart(9)}  ${'postgres'.padStart(9)}`);
        for (const t of report.tables) console.log(`${t.table.padEnd(width)}  ${String(t.source).padStart(9)}  ${String(t.target).padStart(9)}`);
        const total = report.tables.reduce((a, t) => a + t.target, 0);
        console.log(`\nCopied ${total} rows in ${report.tables.length} tables in ${((Date.now() - started) / 1000).toFixed(1)} s; counts verified; ${report.sequencesReset} id sequences reset.`);
        if (report.nulStripped) console.log(`${report.nulStripped} text values held NUL characters, which PostgreSQL cannot store: copied without them.`);
        console.log(`Point Gleaner at it with --db, GLEANER_DB or \`database:\` in gleaner.yaml.`);
      } finally {
        await source?.close();
        await target?.close();
      }
    });
}
