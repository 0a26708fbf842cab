// Commands for what Gleaner sends out besides the email digest: `gleaner clusters resolve`, `gleaner loop
// list|approve|send|settle`, `gleaner digest post|posts`, and the public edition (`gleaner digest --public`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { openApp, type App } from '../app.js';
import { resolveCluster } from '../loop/drafts.js';
import { sendApproved, sendReply } from '../loop/send.js';
import { decideReply, editReply, listReplies, type LoopStatus } from '../store/loop.js';
import { listDigestPosts, settleOutbound } from '../store/outbound.js';
import { postEdition } from '../digest/post.js';
import type { OnceOutcome } from '../digest/once.js';
import { publicEditionOf } from '../digest/public.js';
import { renderPublicHtml } from '../digest/public-render.js';
import { buildEdition, teamByName } from '../digest/edition.js';
import { editionFor, lastCompleteWeek } from '../digest/workflow.js';
import { parseWeek, weekLabel } from '../pipeline/period.js';
import { printSafe } from './terminal.js';

interface Globals {
  config?: string;
  db?: string;
}

async function withApp<T>(cmd: Command, fn: (app: App) => Promise<T>): Promise<T> {
  const g = cmd.optsWithGlobals<Globals>();
  const app = await openApp({ config: g.config, db: g.db, redisUrl: null });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

const who = (by: string | undefined) => by ?? process.env.USER ?? 'cli';

function outcome(what: string, o: OnceOutcome): string {
  switch (o.status) {
    case 'sent':
      return `${what} sent (${o.externalId})${o.link ? ` ${o.link}` : ''}`;
    case 'already-sent':
      return `${what} was sent already${o.externalId ? ` (${o.externalId})` : ''}; nothing sent`;
    case 'busy':
      return `${what} is being sent by another process; nothing sent`;
    case 'not-ready':
      return `${what} is ${o.current}; nothing sent`;
    case 'failed':
      return `${what} NOT sent: ${o.error}`;
    case 'unknown':
      return `${what} outcome unknown: ${o.error}`;
  }
}
const bad = (o: OnceOutcome) => o.status === 'failed' || o.status === 'unknown';

/** `gleaner digest --public`: the public edition of a team's week, written as HTML and JSON. */
export async function writePublicEdition(app: App, opts: { team?: string; week?: string; out?: string }): Promise<string[]> {
  const team = teamByName(app.config, opts.team);
  const period = opts.week ? parseWeek(opts.week) : lastCompleteWeek(app.ctx.now());
  // The stored edition with its curation when there is one; else built now (not stored).
  const stored = await editionFor(app.ctx, team.name, period);
  const e = stored ?? {
    id: 0,
    team: team.name,
    periodStart: period.start,
    periodEnd: period.end,
    json: JSON.stringify(await buildEdition(app.db, period, team, { segments: app.config.segments, archives: app.config.archives })),
    curation: null,
    approvedAt: null,
    createdAt: app.ctx.now(),
  };
  const pub = await publicEditionOf(app.db, app.config, e);
  const dir = resolve(opts.out ?? 'digest');
  mkdirSync(dir, { recursive: true });
  const label = `${weekLabel(period)}-${team.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}`;
  const files: Array<[string, string]> = [
    [`public-${label}.html`, renderPublicHtml(pub, { baseUrl: app.config.web.baseUrl })],
    [`public-${label}.json`, JSON.stringify(pub, null, 2) + '\n'],
  ];
  return files.map(([name, body]) => {
    const p = join(dir, name);
    writeFileSync(p, body);
    return p;
  });
}

export function registerOutCommands(program: Command): void {
  const clusters = program.commands.find((c) => c.name() === 'clusters');
  if (!clusters) throw new Error('the clusters command is registered first');
  clusters
    .command('resolve <id>')
    .description('mark a cluster resolved (a release, a fix, an answer) and draft a reply to each thread where it was reported')
    .requiredOption('--ref <text>', 'the resolution: "fixed in 4.2.1"')
    .option('--url <url>', 'a link to it (release notes, the fix)')
    .option('--by <name>', 'who resolves it (default: $USER)')
    .action(async (id: string, opts: { ref: string; url?: string; by?: string }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const d = await resolveCluster(app.ctx, Number(id), { by: who(opts.by), reference: opts.ref, url: opts.url ?? null });
        printSafe(`cluster ${id} resolved: ${d.created} repl${d.created === 1 ? 'y' : 'ies'} drafted (${d.replies.length} in all)`);
        for (const s of d.skipped) printSafe(`  conversation ${s.conversationId} (${s.platform}): no reply: ${s.reason}`);
        if (!app.config.loop.autoApprove && d.created) printSafe(`review them on the cluster page or with: gleaner loop list --cluster ${id}`);
      });
    });

  const loop = program.command('loop').description('replies to the threads where a resolved need was voiced: list, approve, send');
  loop
    .command('list')
    .description('the replies, by cluster, with their state')
    .option('--cluster <id>', 'one cluster', (v) => Number(v))
    .addOption(new Option('--status <status>').choices(['draft', 'approved', 'sending', 'sent', 'failed', 'unknown', 'dismissed']))
    .action(async (opts: { cluster?: number; status?: LoopStatus }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const rows = await listReplies(app.db, { clusterId: opts.cluster, status: opts.status ? [opts.status] : undefined });
        if (!rows.length) printSafe('no replies');
        for (const r of rows) printSafe(`#${r.id} cluster ${r.clusterId} ${r.platform} ${r.status}${r.link ? ` ${r.link}` : ''}${r.lastError ? ` (${r.lastError})` : ''}\n    ${r.text}`);
      });
    });
  loop
    .command('approve [ids...]')
    .description('approve drafts (by id, or every draft of --cluster); --send sends them at once')
    .option('--cluster <id>', 'every draft of this cluster', (v) => Number(v))
    .option('--text <text>', 'replace the text first (one id only)')
    .option('--by <name>', 'who approves (default: $USER)')
    .option('--send', 'send them now')
    .action(async (ids: string[], opts: { cluster?: number; text?: string; by?: string; send?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const chosen = ids.length ? ids.map(Number) : opts.cluster !== undefined ? (await listReplies(app.db, { clusterId: opts.cluster, status: ['draft'] })).map((r) => r.id) : [];
        if (!chosen.length) throw new Error('name the replies (ids) or --cluster ID');
        if (opts.text !== undefined && chosen.length !== 1) throw new Error('--text edits one reply: give one id');
        for (const id of chosen) {
          if (opts.text !== undefined && !(await editReply(app.db, id, opts.text, app.ctx.now()))) throw new Error(`reply ${id} can no longer be edited`);
          printSafe(`#${id} ${(await decideReply(app.db, id, 'approved', who(opts.by), app.ctx.now())) ? 'approved' : 'was not a draft; unchanged'}`);
          if (opts.send) {
            const o = await sendReply(app.ctx, id);
            printSafe(outcome(`#${id}`, o));
            if (bad(o)) process.exitCode = 1;
          }
        }
      });
    });
  loop
    .command('send [ids...]')
    .description('send approved replies (by id, of --cluster, or all); each is sent once, safe to run twice')
    .option('--cluster <id>', 'one cluster', (v) => Number(v))
    .action(async (ids: string[], opts: { cluster?: number }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const out = ids.length ? await Promise.all(ids.map((id) => sendReply(app.ctx, Number(id)))) : await sendApproved(app.ctx, opts.cluster);
        if (!out.length) printSafe('nothing to send');
        for (const o of out) {
          printSafe(outcome(`#${o.id}`, o));
          if (bad(o)) process.exitCode = 1;
        }
      });
    });
  loop
    .command('settle <id>')
    .description('settle a reply whose outcome is unknown: --as sent (it arrived) or --as unsent (send it again)')
    .addOption(new Option('--as <outcome>').choices(['sent', 'unsent']).makeOptionMandatory())
    .option('--by <name>', 'who decides (default: $USER)')
    .action(async (id: string, opts: { as: 'sent' | 'unsent'; by?: string }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        if (!(await settleOutbound(app.db, 'loop_replies', Number(id), opts.as, who(opts.by), app.ctx.now()))) throw new Error(`reply ${id} is not in the unknown state`);
        printSafe(`#${id} settled as ${opts.as}`);
      });
    });

  const digest = program.commands.find((c) => c.name() === 'digest');
  if (!digest) throw new Error('the digest command is registered first');
  digest
    .command('post')
    .description("post an approved edition to its team's chat channels (teams[].post); each once, safe to run twice")
    .option('--id <n>', 'the edition id', (v) => Number(v))
    .option('--team <name>', 'team (default: the only one)')
    .option('--week <YYYY-Www>', 'ISO week (default: the last complete week)')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ id?: number; team?: string; week?: string }>();
      await withApp(cmd, async (app) => {
        const id = opts.id ?? (await editionFor(app.ctx, teamByName(app.config, opts.team).name, opts.week ? parseWeek(opts.week) : lastCompleteWeek(app.ctx.now())))?.id;
        if (id === undefined) throw new Error('no such edition; build and approve it first');
        const out = await postEdition(app.ctx, id, { force: true });
        if (!out.length) printSafe(`edition ${id}: its team has no teams[].post destinations`);
        for (const o of out) {
          printSafe(outcome(`#${id} to ${o.source} ${o.channel}`, o));
          if (bad(o) || o.status === 'not-ready') process.exitCode = 1;
        }
      });
    });
  digest
    .command('posts')
    .description('the chat posts of the editions (or one), with their state; --settle an unknown one')
    .option('--id <n>', 'one edition', (v) => Number(v))
    .option('--settle <post>', 'the post id to settle', (v) => Number(v))
    .addOption(new Option('--as <outcome>').choices(['sent', 'unsent']))
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ id?: number; settle?: number; as?: 'sent' | 'unsent'; by?: string }>();
      await withApp(cmd, async (app) => {
        if (opts.settle !== undefined) {
          if (!opts.as) throw new Error('--settle needs --as sent|unsent');
          if (!(await settleOutbound(app.db, 'digest_posts', opts.settle, opts.as, who(undefined), app.ctx.now()))) throw new Error(`post ${opts.settle} is not in the unknown state`);
        }
        const rows = await listDigestPosts(app.db, opts.id);
        if (!rows.length) printSafe('no posts');
        for (const r of rows)
          printSafe(`post ${r.id}: edition ${r.digestId} to ${r.source} ${r.channel} (${r.platform}) ${r.status}${r.externalId ? ` ${r.externalId}` : ''}${r.lastError ? ` (${r.lastError})` : ''}`);
      });
    });
}
