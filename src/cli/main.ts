// The `gleaner` command.
import { exitCode } from '../errors.js';
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { openApp, startWorkers, type App } from '../app.js';
import { importFiles, type ImportSummary } from '../runner/import.js';
import { Progress } from './progress.js';
import { weekContaining, weekLabel } from '../pipeline/period.js';
import { latestMessageAt, listQuarantine, storeStats } from '../store/queries.js';
import { QUEUE_NAMES, type QueueName } from '../queue/port.js';
import { examplesDir } from '../paths.js';
import { portOption, registerWebCommands, serveDemo } from './web-commands.js';
import { registerClusterCommands } from './cluster-commands.js';
import { registerOutCommands } from './out-commands.js';
import { registerMigrateCommand } from './migrate-command.js';
import { registerDigestCommands, writeDemoEditions, writeDigestFiles } from './digest-commands.js';
import { registerDigestScheduler } from '../digest/workflow.js';
import { registerOutboundSchedulers } from '../outbound-jobs.js';
import { registerOutboundCommands } from './outbound-commands.js';
import { listenSource, pullSource } from '../runner/pull.js';
import { registerEvalCommands } from './eval-commands.js';
import { registerTagCommands } from './tag-commands.js';
import { registerOpsCommands } from './ops-commands.js';
import { finishPendingWork, sweepPendingWhenIdle } from '../runner/pending.js';
import { stageRunner, type StageRunner } from '../runner/stage-runner.js';
import { jsonSafe, printSafe } from './terminal.js';
import { markUnfinishedWork, pendingWorkCounts } from '../store/pending.js';
import type { SourceConfig } from '../config/index.js';

interface GlobalOpts {
  config?: string;
  db?: string;
}

const program = new Command();
program
  .name('gleaner')
  .description('Community feedback from chat and mailing lists, threaded, deduplicated, tagged, clustered, and a weekly digest.')
  .option('-c, --config <file>', 'config file (default ./gleaner.yaml when present)')
  .option('--db <url>', 'SQLite path or postgres:// URL (env GLEANER_DB)')
  .showHelpAfterError();

/** Commands that only read the store: a missing SQLite file is an error, not a new empty store. */
const READ_ONLY = { redisUrl: null, mustExist: true } as const;

function globals(): GlobalOpts {
  return program.opts<GlobalOpts>();
}

async function withApp<T>(fn: (app: App) => Promise<T>, extra: { redisUrl?: string | null; db?: string; config?: string; mustExist?: boolean } = {}): Promise<T> {
  const g = globals();
  const app = await openApp({ config: g.config ?? extra.config, db: extra.db ?? g.db, redisUrl: extra.redisUrl, mustExist: extra.mustExist });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

function printSummary(s: ImportSummary, inProcess: boolean): void {
  const skipped = Object.values(s.skipped).reduce((a, b) => a + b, 0);
  console.log(`files: ${s.files}`);
  console.log(`read: ${s.read}`);
  if (inProcess) {
    console.log(`new: ${s.new}`);
    console.log(`updated: ${s.updated}`);
    console.log(`duplicates: ${s.duplicates}`);
    console.log(`copies: ${s.copies}`);
  } else console.log(`batches queued: ${s.enqueuedBatches}`);
  console.log(`skipped: ${skipped}`);
  for (const [reason, n] of Object.entries(s.skipped).sort((a, b) => b[1] - a[1])) console.log(`  ${n}  ${reason}`);
  console.log(`quarantined: ${s.quarantined}${s.quarantined ? ' (see `gleaner quarantine`)' : ''}`);
  for (const e of s.errors) console.error(`error: ${e}`);
}

async function runImport(app: App, paths: string[], opts: { format?: string; source?: string; channel?: string; wait?: boolean }): Promise<ImportSummary> {
  const runner = stageRunner(app);
  await runner.begin();
  const progress = new Progress();
  const summary = await importFiles(app, paths, {
    format: opts.format,
    source: opts.source,
    channel: opts.channel,
    followUp: !runner.here,
    onProgress: (p) => progress.update(p.file, p.bytesRead, p.totalBytes, `${p.read} read`),
  });
  progress.done();
  await finish(runner, opts.wait);
  return summary;
}

/** After reading: here, tagging and clustering of whatever is pending (this run's batches and any earlier run's); with workers and `wait`, until they are idle. */
async function finish(runner: StageRunner, wait?: boolean): Promise<void> {
  const progress = new Progress();
  await runner.finish({
    wait,
    onProgress: (done, left) => progress.update('tagging and clustering', done.conversations + done.items, left.conversations + left.items, `${done.conversations} conversations, ${done.items} items`),
  });
  progress.done();
}

program
  .command('import')
  .description('import export files and archives (mbox, pipermail, ...); folders are read recursively')
  .argument('<paths...>')
  .option('-f, --format <format>', 'auto or a format name', 'auto')
  .option('-s, --source <name>', 'source name (default: the platform)')
  .option('--channel <name>', 'channel for items that name none')
  .option('--wait', 'with Redis: wait until the workers have processed the batches')
  .action(async (paths: string[], opts: { format: string; source?: string; channel?: string; wait?: boolean }) => {
    await withApp(async (app) => {
      const s = await runImport(app, paths, opts);
      printSummary(s, stageRunner(app).here);
      if (s.read === 0 && (s.errors.length > 0 || s.quarantined > 0 || s.files === 0)) process.exitCode = 1;
    });
  });

registerDigestCommands(program);

program
  .command('worker')
  .description('run BullMQ workers (needs REDIS_URL or redis: in the config) until SIGINT/SIGTERM')
  .option('-q, --queues <names>', `comma-separated queues (${QUEUE_NAMES.join(',')})`, QUEUE_NAMES.join(','))
  .option('--concurrency <n>', 'jobs at a time per queue', (v) => Number(v), 1)
  .action(async (opts: { queues: string; concurrency: number }) => {
    const g = globals();
    const app = await openApp({ config: g.config, db: g.db });
    if (stageRunner(app).here) {
      await app.close();
      throw new Error('gleaner worker needs Redis: set REDIS_URL or `redis:` in gleaner.yaml');
    }
    const queues = opts.queues.split(',').map((q) => q.trim()) as QueueName[];
    for (const q of queues) if (!QUEUE_NAMES.includes(q)) throw new Error(`unknown queue ${q}; queues: ${QUEUE_NAMES.join(', ')}`);
    startWorkers(app, queues, opts.concurrency);
    // The weekly digest's job scheduler: one id, so every worker registering it leaves one schedule.
    if (queues.includes('digest')) {
      await registerDigestScheduler(app.ctx, app.queue);
      await registerOutboundSchedulers(app.ctx, app.queue);
    }
    app.log.info({ queues }, 'worker started');
    // Work the store records as pending but no queue holds (a run killed before its jobs were queued
    // or done) is queued again whenever the queues are idle: now, and every PENDING_SWEEP_MS.
    const sweep = () => sweepPendingWhenIdle(app.ctx).catch((err: unknown) => app.log.warn({ err: (err as Error).message }, 'could not look for pending work'));
    let sweeping = sweep();
    const sweeper = setInterval(() => {
      sweeping = sweeping.then(sweep);
    }, app.config.queue.pendingSweepMs);
    await new Promise<void>((resolveStop) => {
      const stop = (sig: string) => {
        clearInterval(sweeper);
        app.log.info({ signal: sig }, 'worker stopping: finishing running jobs');
        void sweeping.then(() => app.close()).then(() => resolveStop());
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  });

function selectSources(app: App, names: string[]): SourceConfig[] {
  const enabled = app.config.sources.filter((s) => s.enabled);
  if (!names.length) return enabled;
  const out: SourceConfig[] = [];
  for (const n of names) {
    const s = app.config.sources.find((x) => x.name === n);
    if (!s) throw new Error(`no source named ${n} in ${app.configPath ?? 'the config'}; sources: ${app.config.sources.map((x) => x.name).join(', ') || '(none)'}`);
    out.push(s);
  }
  return out;
}

function stopSignal(): AbortController {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac;
}

program
  .command('pull')
  .description('backfill and catch up configured sources from their saved cursors')
  .argument('[sources...]', 'source names (default: every enabled source)')
  .action(async (names: string[]) => {
    await withApp(async (app) => {
      const ac = stopSignal();
      let failed = 0;
      const runner = stageRunner(app);
      await runner.begin();
      for (const cfg of selectSources(app, names)) {
        const r = await pullSource(app, cfg, ac.signal);
        const skipped = Object.values(r.skipped).reduce((a, b) => a + b, 0);
        console.log(
          `${r.source}: ${r.pages} pages, ${r.messages} messages, ${skipped} skipped, ${r.quarantined} quarantined, ${r.gaps} gaps${r.rateLimitedMs ? `, waited ${Math.round(r.rateLimitedMs / 1000)} s on rate limits` : ''}`,
        );
        if (r.error) {
          failed++;
          console.error(`  error: ${r.error}`);
        }
      }
      await finish(runner);
      if (failed) process.exitCode = 1;
    });
  });

program
  .command('listen')
  .description('run the live side of every configured source until SIGINT/SIGTERM')
  .argument('[sources...]', 'source names (default: every enabled source)')
  .action(async (names: string[]) => {
    await withApp(async (app) => {
      const ac = stopSignal();
      stageRunner(app).serve();
      const results = await Promise.all(selectSources(app, names).map((cfg) => listenSource(app, cfg, ac.signal)));
      for (const r of results) if (r.error) console.error(`${r.source} stopped: ${r.error}`);
      await app.queue.idle({ timeoutMs: 60_000 }).catch(() => undefined);
    });
  });

program
  .command('repair')
  .description('finish tagging and clustering that an interrupted run left undone (in this process)')
  .option('--recheck', 'also detect feedback again in every conversation without a feedback item (a store an interrupted run of a version before 0.2 left behind; slow on a big store)')
  .action(async (opts: { recheck?: boolean }) => {
    await withApp(
      async (app) => {
        // A full pass for unplaced items: explicit here, never on a run's fast path.
        const marked = await markUnfinishedWork(app.db, { conversations: opts.recheck === true });
        const before = await pendingWorkCounts(app.db);
        console.log(
          `pending: ${before.conversations} conversations to tag, ${before.items} items to place${marked.items || marked.conversations ? ` (${marked.items} unplaced items and ${marked.conversations} conversations found by a full pass)` : ''}`,
        );
        const progress = new Progress();
        const done = await finishPendingWork(app.ctx, (d, left) =>
          progress.update('repair', d.conversations + d.items, left.conversations + left.items, `${d.conversations} conversations, ${d.items} items`),
        );
        progress.done();
        const after = await pendingWorkCounts(app.db);
        console.log(`done: ${done.conversations} conversations tagged, ${done.items} items placed; still pending: ${after.conversations + after.items}`);
        if (after.conversations + after.items > 0) process.exitCode = 1;
      },
      { redisUrl: null, mustExist: true },
    );
  });

program
  .command('stats')
  .description('what the store holds (counts exclude copies and deleted messages)')
  .addOption(new Option('--format <format>').choices(['json', 'text']).default('text'))
  .action(async (opts: { format: string }) => {
    await withApp(async (app) => {
      const s = await storeStats(app.db);
      const iso = (t: number | null) => (t == null ? null : new Date(t).toISOString());
      const out = {
        messages: s.messages,
        conversations: s.conversations,
        feedbackItems: s.feedbackItems,
        clusters: s.clusters,
        quarantined: s.quarantined,
        sources: s.sources.map((x) => ({
          name: x.name,
          platform: x.platform,
          channels: x.channels,
          messages: x.messages,
          from: iso(x.from),
          to: iso(x.to),
          gaps: x.gaps.map((g) => ({ ...g, from: iso(g.from), to: iso(g.to) })),
        })),
      };
      if (opts.format === 'json') {
        console.log(jsonSafe(out));
        return;
      }
      printSafe(`messages: ${out.messages}\nconversations: ${out.conversations}\nfeedback items: ${out.feedbackItems}\nclusters: ${out.clusters}\nquarantined: ${out.quarantined}`);
      for (const src of out.sources) {
        printSafe(`source ${src.name} (${src.platform}): ${src.messages} messages, ${src.from?.slice(0, 10) ?? '-'} to ${src.to?.slice(0, 10) ?? '-'}, channels: ${src.channels.join(', ')}`);
        for (const g of src.gaps) printSafe(`  gap ${g.channel ?? ''} ${g.from} .. ${g.to ?? 'open'}: ${g.reason}`);
      }
    }, READ_ONLY);
  });

program
  .command('quarantine')
  .description('list bad input that was set aside, with where it came from')
  .option('--limit <n>', 'how many', (v) => Number(v), 50)
  .action(async (opts: { limit: number }) => {
    await withApp(async (app) => {
      for (const q of await listQuarantine(app.db, opts.limit)) {
        printSafe(`#${q.id} ${q.location}\n  ${q.reason}\n  ${JSON.stringify(q.excerpt.slice(0, 160))}`);
      }
    }, READ_ONLY);
  });

program
  .command('demo')
  .description('the embedded default: a fresh SQLite store in ./gleaner-demo, the sample community imported, the pipeline run, the digest written')
  .option('--dir <dir>', 'where to put the demo', 'gleaner-demo')
  .option('--no-serve', 'stop after writing the digest')
  .option('-p, --port <n>', 'port of the web UI', portOption, 8080)
  .option('--host <host>', 'address of the web UI', '127.0.0.1')
  .action(async (opts: { dir: string; serve: boolean; port: number; host: string }) => {
    const dir = resolve(opts.dir);
    if (existsSync(join(dir, 'gleaner.db'))) for (const f of ['gleaner.db', 'gleaner.db-wal', 'gleaner.db-shm']) rmSync(join(dir, f), { force: true });
    mkdirSync(dir, { recursive: true });
    await withApp(
      async (app) => {
        console.log(`Importing the sample community from ${examplesDir()} ...`);
        const summary = await runImport(app, [examplesDir()], {});
        printSummary(summary, true);
        const latest = await latestMessageAt(app.db);
        const period = weekContaining(latest ?? Date.now());
        const files = await writeDigestFiles(app, period, join(dir, 'digest'), undefined, app.config.digest.top);
        const s = await storeStats(app.db);
        console.log(`\nStored ${s.messages} messages in ${s.conversations} conversations from ${s.sources.length} sources.`);
        console.log(`Digest for ${weekLabel(period)} written to:`);
        for (const f of files) console.log(`  ${f}`);
        const editions = await writeDemoEditions(app, period, join(dir, 'digest'));
        console.log(`Team editions drafted for review (Digests page) and written to:\n${editions.lines.join('\n')}`);
        for (const f of editions.files) console.log(`  ${f}`);
        if (opts.serve) await serveDemo(app, { host: opts.host, port: opts.port });
      },
      // The sample community's people, orgs, segments and tag rules, unless -c names another config.
      { redisUrl: null, db: join(dir, 'gleaner.db'), config: existsSync(join(examplesDir(), 'gleaner.yaml')) ? join(examplesDir(), 'gleaner.yaml') : undefined },
    );
  });

registerWebCommands(program);
registerClusterCommands(program);
registerOutCommands(program);
registerMigrateCommand(program);

registerEvalCommands(program);
registerTagCommands(program);
registerOpsCommands(program);
registerOutboundCommands(program, withApp);

export async function main(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err: unknown) {
    console.error(`gleaner: ${(err as Error).message}`);
    process.exitCode = process.exitCode || exitCode(err);
  }
}
