// `gleaner tag`, `gleaner items`, `gleaner train`: human tagging from the command line, and retraining
// the kind model from those decisions. Decisions keep who (--as, default $USER) and when.
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { openApp, type App } from '../app.js';
import { addTag, confirmItem, markNotFeedback, normalizeTag, removeTag } from '../store/curation.js';
import { listItems, loadHumanKindDecisions, type ListedItem } from '../store/tagging.js';
import { evalOwnSet } from '../eval/kind.js';
import { classifierModelPath, loadClassifierModel, localClassifierModelPath } from '../models/classifier.js';
import { DEFAULT_HUMAN_WEIGHT, defaultNlbsePath, ownSetPath, retrainFromDecisions } from '../models/retrain.js';
import { classify } from '../pipeline/classify/index.js';
import { jsonSafe, printSafe, terminalSafe } from './terminal.js';

async function withApp<T>(program: Command, fn: (app: App) => Promise<T>, opts: { mustExist?: boolean } = {}): Promise<T> {
  const g = program.opts<{ config?: string; db?: string }>();
  const app = await openApp({ config: g.config, db: g.db, redisUrl: null, mustExist: opts.mustExist });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function describeTag(t: ListedItem['tags'][number]): string {
  if (t.state === 'removed') return `-${t.tag} (removed by ${t.actor ?? '?'})`;
  if (t.provenance === 'human') return `${t.tag} (human: ${t.actor ?? '?'})`;
  if (t.version === 'suggest-1') return `${t.tag} (suggested ${t.confidence?.toFixed(2) ?? ''})`;
  const conf = t.confidence === null ? '' : ` ${t.confidence.toFixed(2)}`;
  return `${t.tag} (${t.provenance}${conf}${t.version ? ` ${t.version}` : ''})`;
}

function printItem(i: ListedItem): void {
  const when = new Date(i.at).toISOString().slice(0, 16).replace('T', ' ');
  const conf = i.kindConfidence === null ? '' : ` ${i.kindConfidence.toFixed(2)}`;
  printSafe(`#${i.id}  ${i.kind ?? '-'}${conf}  ${i.status}  ${i.channel}  ${when}`);
  const text = terminalSafe(`${i.subject ? `${i.subject}: ` : ''}${i.text}`)
    .replace(/\s+/g, ' ')
    .trim();
  printSafe(`  ${JSON.stringify(text.length > 160 ? `${text.slice(0, 159)}…` : text)}`);
  if (i.summary) printSafe(`  summary: ${i.summary}`);
  if (i.tags.length) printSafe(`  tags: ${i.tags.map(describeTag).join(', ')}`);
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(3));

export function registerTagCommands(program: Command): void {
  program
    .command('tag')
    .description('record a human decision on a feedback item: add, remove or confirm tags, or mark it not feedback (kept forever)')
    .argument('<item>', 'feedback item id', (v) => {
      if (!/^\d+$/.test(v)) throw new Error(`not an item id: ${v}`);
      return Number(v);
    })
    .option('--add <tag>', 'add a tag (repeatable; kind:bug sets the kind)', collect, [])
    .option('--remove <tag>', 'remove a tag; automatic re-runs never bring it back (repeatable)', collect, [])
    .option('--confirm', 'confirm the item as feedback with its current tags')
    .option('--not-feedback', 'mark the item as not feedback')
    .option('--as <name>', 'who decides (default $USER)')
    .action(async (itemId: number, opts: { add: string[]; remove: string[]; confirm?: boolean; notFeedback?: boolean; as?: string }) => {
      const add = opts.add.map(normalizeTag);
      const remove = opts.remove.map(normalizeTag);
      const both = add.filter((t) => remove.includes(t));
      if (both.length) throw new Error(`cannot both add and remove ${both.join(', ')}`);
      if (!add.length && !remove.length && !opts.confirm && !opts.notFeedback) throw new Error('nothing to do: give --add, --remove, --confirm or --not-feedback');
      const actor = opts.as ?? process.env.USER ?? process.env.USERNAME ?? 'unknown';
      await withApp(program, async (app) => {
        const now = app.ctx.now();
        if (opts.notFeedback) await markNotFeedback(app.db, itemId, actor, now);
        for (const t of add) await addTag(app.db, itemId, t, actor, now);
        for (const t of remove) await removeTag(app.db, itemId, t, actor, now);
        if (opts.confirm) await confirmItem(app.db, itemId, actor, now);
        const [item] = await listItems(app.db, { limit: 1, ids: [itemId] });
        if (item) printItem(item);
      });
    });

  program
    .command('items')
    .description('list feedback items with their kind, tags, suggestions and confidences (newest first)')
    .option('--untagged', 'only items waiting for a human decision')
    .option('--kind <kind>', 'only this kind')
    .option('--tag <tag>', 'only items with this tag')
    .option('--limit <n>', 'how many', (v) => Number(v), 50)
    .addOption(new Option('--format <format>').choices(['text', 'json']).default('text'))
    .action(async (opts: { untagged?: boolean; kind?: string; tag?: string; limit: number; format: string }) => {
      if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new Error('--limit takes a positive whole number');
      await withApp(
        program,
        async (app) => {
          const items = await listItems(app.db, { untagged: opts.untagged, kind: opts.kind, tag: opts.tag ? normalizeTag(opts.tag) : undefined, limit: opts.limit });
          if (opts.format === 'json') {
            console.log(jsonSafe(items));
            return;
          }
          if (!items.length) console.log(opts.untagged ? 'nothing waits for a decision' : 'no items');
          for (const i of items) printItem(i);
        },
        { mustExist: true },
      );
    });

  program
    .command('train')
    .description('retrain the kind model from the training data plus the human decisions in the store')
    .option('--out <file>', 'where to write the model (used in preference to the shipped one)', localClassifierModelPath())
    .option('--dry-run', 'train and print the figures, write nothing')
    .option('--human-weight <n>', 'weight of one human decision', (v) => Number(v), DEFAULT_HUMAN_WEIGHT)
    .option('--nlbse <csv>', "the NLBSE'24 training CSV, when you have it", defaultNlbsePath())
    .action(async (opts: { out: string; dryRun?: boolean; humanWeight: number; nlbse: string }) => {
      if (!(opts.humanWeight > 0)) throw new Error('--human-weight takes a positive number');
      await withApp(program, async (app) => {
        const t0 = performance.now();
        const r = await retrainFromDecisions(app.db, { humanWeight: opts.humanWeight, nlbsePath: resolve(opts.nlbse) });
        for (const n of r.notes) console.log(`note: ${n}`);
        const byLabel = Object.entries(r.counts.humanByLabel)
          .map(([l, n]) => `${l} ${n}`)
          .join(', ');
        console.log(
          `trained on ${r.counts.nlbse} NLBSE issues, ${r.counts.own} own examples, ${r.counts.human} human decisions${byLabel ? ` (${byLabel})` : ''} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
        const before = loadClassifierModel();
        const own = ownSetPath();
        const b = new Map(await evalOwnSet(own, before));
        const a = new Map(await evalOwnSet(own, r.model));
        console.log(`own held-out set (${b.get('kind.own.n_test') ?? 0} messages): before = ${before.version} (${classifierModelPath()}), after = ${r.model.version}`);
        for (const [k, v] of b) if (k !== 'kind.own.n_test') console.log(`${k}: ${fmt(v)} -> ${fmt(a.get(k) ?? 0)}`);
        // How many of the human decisions each model agrees with (the new one was trained on them).
        const decisions = await loadHumanKindDecisions(app.db);
        if (decisions.length) {
          const agree = (m: typeof before) => decisions.filter((d) => (classify(m, { ...(d.title ? { title: d.title } : {}), text: d.text }).kind ?? 'none') === d.label).length;
          console.log(`human decisions agreed with: ${agree(before)}/${decisions.length} -> ${agree(r.model)}/${decisions.length}`);
        }
        if (opts.dryRun) {
          console.log('dry run: nothing written');
          return;
        }
        const out = resolve(opts.out);
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, JSON.stringify(r.model) + '\n');
        console.log(`wrote ${out} (${(statSync(out).size / 1e6).toFixed(2)} MB)`);
        if (out === resolve(localClassifierModelPath())) console.log('it is used in preference to the shipped model; running workers load it when they restart');
        else console.log(`to use it: GLEANER_CLASSIFIER_MODEL=${out}`);
      });
    });
}
