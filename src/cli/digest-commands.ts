// `gleaner digest` (files for a period, --preview, --send) and its subcommands: approve, list,
// resolve, run, schedule.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { openApp, type App } from '../app.js';
import { buildDigest } from '../digest/build.js';
import { renderDigestHtml, renderDigestText } from '../digest/render.js';
import { parseRange, parseWeek, weekContaining, weekLabel, type Period } from '../pipeline/period.js';
import { latestMessageAt } from '../store/queries.js';
import { teamByName, teamsOf } from '../digest/edition.js';
import type { EditionJson } from '../model/digest.js';
import type { SendOutcome } from '../digest/send.js';
import {
  approveEdition,
  editionFor,
  getEdition,
  lastCompleteWeek,
  listEditions,
  nextRun,
  prepareEdition,
  prepareEditions,
  registerDigestScheduler,
  resolveUnknown,
  runWeeklyDigest,
  sendHereOrHandOff,
  scheduleTimezone,
} from '../digest/workflow.js';
import type { EditionRow } from '../store/digests.js';
import { writePublicEdition } from './out-commands.js';

interface Globals {
  config?: string;
  db?: string;
}

async function withApp<T>(cmd: Command, fn: (app: App) => Promise<T>): Promise<T> {
  const g = cmd.optsWithGlobals<Globals>();
  const app = await openApp({ config: g.config, db: g.db });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

function periodFrom(opts: { week?: string; from?: string; to?: string }, fallback: number): Period {
  if (opts.week && (opts.from || opts.to)) throw new Error('--week and --from/--to both say which period: give --week, or --from and --to');
  if (opts.week) return parseWeek(opts.week);
  if (opts.from || opts.to) {
    if (!opts.from || !opts.to) throw new Error('--from and --to go together');
    return parseRange(opts.from, opts.to);
  }
  return weekContaining(fallback);
}

/** The week an edition command works on: --week, else the last complete week. */
function editionWeek(app: App, week: string | undefined): Period {
  return week ? parseWeek(week) : lastCompleteWeek(app.ctx.now());
}

function writeFiles(outDir: string | undefined, files: Array<[string, string]>): string[] {
  const dir = resolve(outDir ?? 'digest');
  mkdirSync(dir, { recursive: true });
  return files.map(([name, body]) => {
    const p = join(dir, name);
    writeFileSync(p, body);
    return p;
  });
}

/** Renders the digest for a period as HTML, text and JSON files (or one format to stdout). */
export async function writeDigestFiles(app: App, period: Period, outDir: string | undefined, format: string | undefined, top: number): Promise<string[]> {
  const json = await buildDigest(app.db, period, { top, segments: app.config.segments, archives: app.config.archives });
  const label = weekLabel(period);
  const render = { archiveUrl: null };
  const outputs: Array<[string, string]> = [];
  if (!format || format === 'html') outputs.push([`digest-${label}.html`, renderDigestHtml(json, render)]);
  if (!format || format === 'text') outputs.push([`digest-${label}.txt`, renderDigestText(json, render)]);
  if (!format || format === 'json') outputs.push([`digest-${label}.json`, JSON.stringify(json, null, 2) + '\n']);
  if (format && !outDir) {
    process.stdout.write(outputs[0]![1]);
    return [];
  }
  return writeFiles(outDir, outputs);
}

/**
 * For `gleaner demo`: each team's edition drafted in the store (the Digests page lists them for review)
 * and written beside the plain digest, with what its sections hold.
 */
export async function writeDemoEditions(app: App, period: Period, outDir: string): Promise<{ files: string[]; lines: string[] }> {
  const editions = await prepareEditions(app.ctx, period);
  const label = weekLabel(period);
  const outputs: Array<[string, string]> = [];
  const lines: string[] = [];
  for (const e of editions) {
    outputs.push([`edition-${e.team}-${label}.html`, e.html], [`edition-${e.team}-${label}.txt`, e.text]);
    const sections = (JSON.parse(e.json) as EditionJson).edition.sections;
    const counts = (['new', 'rising', 'resurfaced', 'quiet'] as const).map((k) => `${sections[k].length} ${k}`).join(', ');
    lines.push(`  ${describe(e)}: ${counts}`);
  }
  return { files: writeFiles(outDir, outputs), lines };
}

function describe(e: Pick<EditionRow, 'id' | 'team' | 'periodStart' | 'periodEnd' | 'status' | 'attempts' | 'lastError' | 'messageId'>): string {
  const week = weekLabel({ start: e.periodStart, end: e.periodEnd });
  const err = e.lastError && e.status !== 'sent' ? ` (${e.lastError})` : '';
  return `#${e.id} ${e.team} ${week} ${e.status}${e.attempts ? `, ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}` : ''}${err}`;
}

function report(o: SendOutcome): string {
  switch (o.status) {
    case 'sent':
      return `#${o.id} sent as ${o.messageId} (${o.response})`;
    case 'already-sent':
      return `#${o.id} was already sent${o.messageId ? ` as ${o.messageId}` : ''}; nothing sent`;
    case 'busy':
      return `#${o.id} is being sent by another process${o.leaseUntil ? ` (lease until ${new Date(o.leaseUntil).toISOString()})` : ''}; nothing sent`;
    case 'not-approved':
      return `#${o.id} is a ${o.current}; approve it first (gleaner digest approve)`;
    case 'failed':
      return `#${o.id} NOT sent: ${o.error}`;
    case 'unknown':
      return `#${o.id} delivery outcome unknown: ${o.error}`;
  }
}

export function registerDigestCommands(program: Command): void {
  const digest = program
    .command('digest')
    .description("render the digest for a week (default: the week of the latest message); --preview a team's draft; --send the approved edition")
    .option('--week <YYYY-Www>', 'ISO week')
    .option('--from <date>', 'start date (YYYY-MM-DD)')
    .option('--to <date>', 'end date, inclusive (YYYY-MM-DD)')
    .addOption(new Option('--format <format>', 'one format only (printed when no --out)').choices(['html', 'text', 'json']))
    .option('--out <dir>', 'folder for the files (default ./digest)')
    .option('--top <n>', 'how many entries', (v) => Number(v))
    .option('--team <name>', 'the team whose edition to preview or send (default: every team for --send)')
    .option('--preview', "build (or rebuild) the team's draft for the week (default: the last complete week) and write it to files")
    .option('--send', 'send the approved edition (with digest.autoApprove: the current one); safe to run twice')
    .option('--public', "write the team's public edition for the week (no names, emails, customer orgs or private channels)")
    .action(
      async (opts: { week?: string; from?: string; to?: string; format?: string; out?: string; top?: number; team?: string; preview?: boolean; send?: boolean; public?: boolean }, cmd: Command) => {
        await withApp(cmd, async (app) => {
          if (opts.public) {
            for (const f of await writePublicEdition(app, opts)) console.log(f);
            return;
          }
          if (opts.preview && opts.send) throw new Error('--preview and --send are separate steps: preview, approve, then send');
          if (opts.preview) {
            const team = teamByName(app.config, opts.team);
            const period = editionWeek(app, opts.week);
            const e = await prepareEdition(app.ctx, team, period);
            const label = `${weekLabel(period)}-${team.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}`;
            const files: Array<[string, string]> = [];
            if (!opts.format || opts.format === 'html') files.push([`digest-${label}.html`, e.html]);
            if (!opts.format || opts.format === 'text') files.push([`digest-${label}.txt`, e.text]);
            if (!opts.format || opts.format === 'json') files.push([`digest-${label}.json`, JSON.stringify(JSON.parse(e.json), null, 2) + '\n']);
            for (const f of writeFiles(opts.out, files)) console.log(f);
            console.log(describe(e));
            return;
          }
          if (opts.send) {
            const period = editionWeek(app, opts.week);
            const teams = opts.team ? [teamByName(app.config, opts.team)] : teamsOf(app.config);
            for (const team of teams) {
              let e = await editionFor(app.ctx, team.name, period);
              if (app.config.digest.autoApprove && (!e || e.status === 'draft')) {
                e = await prepareEdition(app.ctx, team, period);
                e = await approveEdition(app.ctx, e.id, 'autoApprove', { send: false });
              }
              if (!e) {
                console.log(`${team.name} ${weekLabel(period)}: no edition; build one with --preview (or gleaner digest run), then approve it`);
                process.exitCode = 1;
                continue;
              }
              const o = await sendHereOrHandOff(app.ctx, e.id);
              console.log(o ? report(o) : `#${e.id} queued for sending on the digest queue`);
              if (o && (o.status === 'failed' || o.status === 'unknown' || o.status === 'not-approved')) process.exitCode = 1;
            }
            return;
          }
          const latest = await latestMessageAt(app.db);
          const period = periodFrom(opts, latest ?? Date.now());
          if (latest === null) {
            // An empty digest for this week, written without a word, looked like a quiet week.
            console.error(
              `nothing has been imported into ${app.store.location} yet, so there is no digest to write. Import first: gleaner import <files or folders> (exports, mbox, archives), or gleaner pull for the sources in gleaner.yaml`,
            );
            process.exitCode = 1;
            return;
          }
          const files = await writeDigestFiles(app, period, opts.out, opts.format, opts.top ?? app.config.digest.top);
          for (const f of files) console.log(f);
        });
      },
    );

  digest
    .command('approve')
    .description("approve a team's draft for a week and send it")
    .option('--team <name>', 'team (default: the only one)')
    .option('--week <YYYY-Www>', 'ISO week (default: the last complete week)')
    .option('--id <n>', 'the edition id instead of team and week', (v) => Number(v))
    .option('--by <name>', 'who approves (default: $USER)')
    .option('--no-send', 'approve only')
    .action(async (_opts: unknown, cmd: Command) => {
      // --team and --week also name options of `digest` itself, which takes them wherever they stand.
      const opts = cmd.optsWithGlobals<{ team?: string; week?: string; id?: number; by?: string; send: boolean }>();
      await withApp(cmd, async (app) => {
        const e = opts.id !== undefined ? await getEdition(app.db, opts.id) : await editionFor(app.ctx, teamByName(app.config, opts.team).name, editionWeek(app, opts.week));
        if (!e) throw new Error('no such edition; build the draft first (gleaner digest --preview or gleaner digest run)');
        const approved = await approveEdition(app.ctx, e.id, opts.by ?? process.env.USER ?? 'cli', { send: false });
        console.log(describe(approved));
        if (!opts.send) return;
        const o = await sendHereOrHandOff(app.ctx, e.id);
        console.log(o ? report(o) : `#${e.id} queued for sending on the digest queue`);
        if (o && (o.status === 'failed' || o.status === 'unknown')) process.exitCode = 1;
      });
    });

  digest
    .command('list')
    .description('editions, newest week first, with their status and last error')
    .option('--team <name>', 'one team only')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 50)
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ team?: string; limit: number }>();
      await withApp(cmd, async (app) => {
        const rows = await listEditions(app.db, { team: opts.team, limit: opts.limit });
        if (!rows.length) console.log('no editions yet');
        for (const r of rows) console.log(describe(r));
      });
    });

  digest
    .command('resolve')
    .description('settle an edition whose delivery outcome is unknown: --as sent (it arrived) or --as unsent (send it again)')
    .requiredOption('--id <n>', 'edition id', (v) => Number(v))
    .addOption(new Option('--as <outcome>', 'what happened').choices(['sent', 'unsent']).makeOptionMandatory())
    .option('--by <name>', 'who decides (default: $USER)')
    .action(async (opts: { id: number; as: 'sent' | 'unsent'; by?: string }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        if (!(await resolveUnknown(app.db, opts.id, opts.as, opts.by ?? process.env.USER ?? 'cli', app.ctx.now()))) throw new Error(`edition ${opts.id} is not in the unknown state`);
        const e = await getEdition(app.db, opts.id);
        if (e) console.log(describe(e));
      });
    });

  digest
    .command('run')
    .description('the scheduled job, now: drafts for the last complete week for every team; with autoApprove they are sent')
    .option('--week <YYYY-Www>', 'another week')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ week?: string }>();
      await withApp(cmd, async (app) => {
        const r = await runWeeklyDigest(app.ctx, { period: opts.week ? parseWeek(opts.week) : undefined, sendHereOrHandOff: true });
        for (const e of r.editions) console.log(`#${e.id} ${e.team} ${weekLabel(r.period)} ${e.status}${e.outcome ? `: ${report(e.outcome)}` : ''}`);
      });
    });

  digest
    .command('schedule')
    .description('with Redis: register the weekly job scheduler (digest.schedule in digest.timezone); without: print when it would run')
    .action(async (_opts: unknown, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const tz = scheduleTimezone(app.ctx);
        if (app.queue.durableSchedules) {
          const r = await registerDigestScheduler(app.ctx, app.queue);
          console.log(`job scheduler registered: "${r.pattern}" in ${r.tz}`);
        } else console.log(`no Redis: \`gleaner serve\` runs the schedule itself ("${app.config.digest.schedule}" in ${tz})`);
        console.log(`next run: ${new Date(nextRun(app.ctx, app.ctx.now())).toISOString()}`);
      });
    });
}
