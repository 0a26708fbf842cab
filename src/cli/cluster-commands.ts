// `gleaner clusters`: the clusters active in a period, with the digest's fields and every item behind
// them (messages with author, platform, channel, time and permalink), so anyone can audit a cluster.
import { Option, type Command } from 'commander';
import { openApp } from '../app.js';
import { clusterEntries } from '../digest/clusters.js';
import { parseRange, parseWeek, weekContaining, weekLabel, type Period } from '../pipeline/period.js';
import { latestMessageAt } from '../store/queries.js';
import { jsonSafe, printSafe } from './terminal.js';
import { describeOwedClusters } from '../stages/describe.js';

interface GlobalOpts {
  config?: string;
  db?: string;
}

interface ClustersOpts {
  week?: string;
  from?: string;
  to?: string;
  format: string;
  top?: number;
}

function periodOf(opts: ClustersOpts, latest: number | null): Period {
  if (opts.week && (opts.from || opts.to)) throw new Error('--week and --from/--to both say which period: give --week, or --from and --to');
  if (opts.week) return parseWeek(opts.week);
  if (opts.from || opts.to) {
    if (!opts.from || !opts.to) throw new Error('--from and --to go together');
    return parseRange(opts.from, opts.to);
  }
  return weekContaining(latest ?? Date.now());
}

export function registerClusterCommands(program: Command): void {
  program
    .command('clusters')
    .description('the clusters active in a period (default: the week of the latest message), with reporters, score, trend and every item behind them')
    .option('--week <YYYY-Www>', 'ISO week')
    .option('--from <date>', 'start date (YYYY-MM-DD)')
    .option('--to <date>', 'end date, inclusive (YYYY-MM-DD)')
    .option('--top <n>', 'at most n clusters', (v) => Number(v))
    .addOption(new Option('--format <format>').choices(['json', 'text']).default('text'))
    .action(async (opts: ClustersOpts) => {
      const g = program.opts<GlobalOpts>();
      const app = await openApp({ config: g.config, db: g.db, redisUrl: null, mustExist: true });
      try {
        const period = periodOf(opts, await latestMessageAt(app.db));
        await describeOwedClusters(app.db, app.ctx.now);
        const entries = await clusterEntries(app.db, period, { segments: app.config.segments, top: opts.top, archives: app.config.archives });
        const clusters = entries.map(({ entry, items }) => ({
          ...entry,
          items: items.map((i) => ({
            id: i.itemId,
            kind: i.kind,
            tags: i.tags,
            subject: i.subject,
            reportMessageId: i.reportMessageId,
            messages: i.messages.map((m) => ({
              id: m.messageId,
              text: m.text,
              author: m.personName,
              segment: m.segment,
              org: m.org,
              platform: m.platform,
              channel: m.channel,
              at: new Date(m.at).toISOString(),
              permalink: m.permalink,
            })),
          })),
        }));
        const out = { period: { start: new Date(period.start).toISOString(), end: new Date(period.end).toISOString() }, clusters };
        if (opts.format === 'json') {
          console.log(jsonSafe(out));
          return;
        }
        printSafe(`${clusters.length} cluster${clusters.length === 1 ? '' : 's'} active in ${weekLabel(period)} (${out.period.start.slice(0, 10)} .. ${out.period.end.slice(0, 10)})`);
        for (const c of clusters) {
          printSafe(`\n#${c.id.replace(/^cluster-/, '')} ${c.title}  [${c.kind ?? '-'}${c.tags.length ? `; ${c.tags.join(', ')}` : ''}]`);
          printSafe(`  ${c.why}`);
          printSafe(`  score ${c.score}: ${c.scoreExplanation}`);
          printSafe(`  reporters: ${c.evidence?.reporters.map((r) => `${r.name} (${r.org ?? r.segment})`).join(', ') || '-'}`);
          if (c.summary) printSafe(`  summary: ${c.summary}`);
          for (const i of c.items) {
            printSafe(`  item ${i.id} (${i.kind ?? '-'}):`);
            for (const m of i.messages)
              printSafe(`    ${m.at.slice(0, 16).replace('T', ' ')} ${m.platform} ${m.channel} ${m.author}: ${m.text.replace(/\s+/g, ' ').slice(0, 100)}${m.permalink ? `  <${m.permalink}>` : ''}`);
          }
        }
      } finally {
        await app.close();
      }
    });
}
