// `gleaner push`, `gleaner sync`, `gleaner trackers` and `gleaner webhooks`: clusters out to issue
// trackers and their state back; webhook deliveries listed, a ping sent, due deliveries posted.
import { Option, type Command } from 'commander';
import type { App } from '../app.js';
import { pushCluster } from '../trackers/push.js';
import { syncTrackers } from '../trackers/sync.js';
import { trackerSummaries } from '../store/trackers.js';
import { listDeliveries } from '../store/webhooks.js';
import { deliverDue, sendPing } from '../webhooks/deliver.js';
import { InputError } from '../errors.js';
import { jsonSafe, printSafe } from './terminal.js';

type WithApp = <T>(fn: (app: App) => Promise<T>, extra?: { redisUrl?: string | null; mustExist?: boolean }) => Promise<T>;

const iso = (t: number | null) => (t == null ? '-' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));

export function registerOutboundCommands(program: Command, withApp: WithApp): void {
  program
    .command('push')
    .description('create (or update) the issue of a cluster in a tracker from trackers: in gleaner.yaml; prints its URL')
    .argument('<cluster>', 'cluster id')
    .requiredOption('-t, --tracker <name>', 'tracker name')
    .action(async (cluster: string, opts: { tracker: string }) => {
      const id = Number(cluster.replace(/^cluster-/, ''));
      if (!Number.isInteger(id) || id <= 0) throw new InputError(`${cluster} is not a cluster id (a number, as on the cluster page)`);
      await withApp(
        async (app) => {
          const r = await pushCluster(app.ctx, id, opts.tracker);
          printSafe(r.url);
          console.error(`${r.created ? 'created' : 'updated'} ${r.key}`);
        },
        { redisUrl: null, mustExist: true },
      );
    });

  program
    .command('sync')
    .description('read the state of every linked issue: closed resolves its cluster, reopened reopens it')
    .option('-t, --tracker <name>', 'only this tracker')
    .action(async (opts: { tracker?: string }) => {
      await withApp(
        async (app) => {
          const r = await syncTrackers(app.ctx, opts);
          for (const c of r.changes) printSafe(`cluster ${c.clusterId} ${c.change} (${c.tracker} ${c.issue}${c.reference ? `: ${c.reference}` : ''})`);
          for (const e of r.errors) printSafe(`error [${e.code}] ${e.tracker} ${e.issue}: ${e.message}`);
          console.log(`checked ${r.checked} issues: ${r.changes.length} changes, ${r.errors.length} errors`);
          if (r.changes.length) await deliverDue(app.ctx);
          if (r.errors.length) process.exitCode = 1;
        },
        { redisUrl: null, mustExist: true },
      );
    });

  program
    .command('trackers')
    .description('the configured trackers: linked issues and the latest error (a refused token shows here)')
    .addOption(new Option('--format <format>').choices(['json', 'text']).default('text'))
    .action(async (opts: { format: string }) => {
      await withApp(
        async (app) => {
          const sums = await trackerSummaries(app.db);
          const rows = app.config.trackers.map((t) => ({
            name: t.name,
            type: t.type,
            target: t.repo ?? t.project ?? t.team ?? null,
            ...(sums.get(t.name) ?? { links: 0, open: 0, closed: 0, lastError: null, lastErrorCode: null }),
          }));
          if (opts.format === 'json') return console.log(jsonSafe(rows));
          if (!rows.length) console.log('no trackers: add them under trackers: in gleaner.yaml');
          for (const r of rows)
            printSafe(
              `${r.name} (${r.type} ${r.target ?? ''}): ${r.links} issues, ${r.open} open, ${r.closed} closed${r.lastError ? `\n  error [${r.lastErrorCode ?? 'internal'}]: ${r.lastError}` : ''}`,
            );
          if (rows.some((r) => r.lastError)) process.exitCode = 1;
        },
        { redisUrl: null, mustExist: true },
      );
    });

  const hooks = program.command('webhooks').description('webhook deliveries: list them, send a ping, post the due ones');
  hooks
    .command('deliveries')
    .description('deliveries, newest first, with their status')
    .option('-w, --webhook <name>', 'only this webhook')
    .addOption(new Option('--status <status>').choices(['pending', 'delivered', 'failed']))
    .option('--limit <n>', 'how many', (v) => Number(v), 50)
    .addOption(new Option('--format <format>').choices(['json', 'text']).default('text'))
    .action(async (opts: { webhook?: string; status?: string; limit: number; format: string }) => {
      await withApp(
        async (app) => {
          const rows = await listDeliveries(app.db, opts);
          if (opts.format === 'json') return console.log(jsonSafe(rows.map(({ body: _body, ...r }) => r)));
          if (!rows.length) console.log('no deliveries');
          for (const d of rows)
            printSafe(
              `#${d.id} ${iso(d.createdAt)} ${d.webhook} ${d.event} ${d.status} tries=${d.attempts}${d.responseStatus ? ` http=${d.responseStatus}` : ''} ${d.deliveryId}${d.status === 'pending' && d.attempts ? ` next=${iso(d.nextAttemptAt)}` : ''}${d.lastError ? `\n  ${d.lastError}` : ''}`,
            );
        },
        { redisUrl: null, mustExist: true },
      );
    });
  hooks
    .command('test')
    .description('send a signed ping to a webhook now')
    .argument('<name>', 'webhook name')
    .action(async (name: string) => {
      await withApp(
        async (app) => {
          const r = await sendPing(app.ctx, name);
          printSafe(r.ok ? `ping ${r.delivery.deliveryId} delivered (HTTP ${r.status})` : `ping ${r.delivery.deliveryId} failed: ${r.error ?? ''}`);
          if (!r.ok) process.exitCode = 1;
        },
        { redisUrl: null },
      );
    });
  hooks
    .command('deliver')
    .description('post the deliveries that are due now (the scheduled job does this every minute)')
    .action(async () => {
      await withApp(
        async (app) => {
          const r = await deliverDue(app.ctx);
          console.log(`${r.length} attempted, ${r.filter((x) => x.ok).length} delivered, ${r.filter((x) => !x.ok && x.retryAt === null).length} given up`);
        },
        { redisUrl: null, mustExist: true },
      );
    });
}
