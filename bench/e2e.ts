// npm run bench -- e2e [--n 1000000] [--skip-bullmq] [--skip-inprocess] [--pg postgres://...]
// A community of N messages over 12 weeks, written as the platforms' export files (Slack export folder,
// DiscordChatExporter JSON, Element JSON, WeeChat IRC logs, mbox), then the whole pipeline: import
// (parse + normalize, then ingest: store, threading, copy folding), tagging (enrich), clustering
// (near-dup candidates + clusters) and the digest of the last week. First in-process on SQLite, then
// through Redis with two worker processes (on PostgreSQL when --pg or GLEANER_BENCH_PG is given), until
// the queues are idle and nothing is left pending (the workers' idle sweep, run by the bench).
// Prints wall and CPU seconds per stage: the machine is shared, CPU seconds compare across runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openApp, type App } from '../src/app.js';
import type { Database } from '../src/store/schema.js';
import { parseConfig } from '../src/config/index.js';
import { IMPORT_BATCH, detectImporter, expandPaths, importFiles } from '../src/runner/import.js';
import { ensureSource, markSourcePulled } from '../src/store/queries.js';
import { parseAheadUsable } from '../src/threads/parse-ahead.js';
import { sweepPendingWhenIdle } from '../src/runner/pending.js';
import { pendingWorkCounts } from '../src/store/pending.js';
import { prefetchIngest, runIngest, type IngestPayload } from '../src/stages/ingest.js';
import { runEnrich } from '../src/stages/enrich.js';
import { runCluster } from '../src/stages/cluster.js';
import { buildDigest } from '../src/digest/build.js';
import { renderDigestHtml, renderDigestText } from '../src/digest/render.js';
import { isSkip, type RawMessage } from '../src/model/index.js';
import type { JobQueue, QueueCounts } from '../src/queue/port.js';
import type { BullMqQueue } from '../src/queue/bullmq.js';
import type { StageContext } from '../src/stages/context.js';
import { arg, benchRedis, figure, peakRssMb, rng, workerCommand } from './support.js';

const WEEKS = 12;
const WEEK_MS = 7 * 24 * 3600 * 1000;
const END = Date.UTC(2026, 10, 16); // a Monday
const START = END - WEEKS * WEEK_MS;
/** Conversations per tagging call (what a queued ingest batch of 500 messages hands on, about). */
const BATCH = 500;

// Topics people raise (what clustering should find) and chatter around them.
const TOPICS = [
  'login loops after upgrading okta sso redirect',
  'csv export button does nothing on large dashboards',
  'helm chart fails on kubernetes 1.30 with crd error',
  'python sdk timeout when uploading big files',
  'billing page charged twice after plan change',
  'dark mode for the query editor please',
  'webhook retries flood our slack channel',
  'docs quickstart misses the api token step',
  'metrics panel slow with more than ten series',
  'retention setting resets to seven days',
  'go client panics on empty response body',
  'alert rules cannot be copied between projects',
  'search ignores accents in names',
  'mobile layout cuts off the sidebar',
  'rate limit errors on the public api since tuesday',
  'thanks the new release fixed our crash',
];
const CHATTER =
  'the a to and of it for on with that this works fine thanks please help again after before since when why how does anyone know same here me too any update looking into it which version logs attached restart cleared cache tried'.split(
    ' ',
  );

type Platform = 'slack' | 'discord' | 'element' | 'irc' | 'mail';
const SHARE: Array<[Platform, number]> = [
  ['slack', 0.3],
  ['discord', 0.2],
  ['element', 0.15],
  ['irc', 0.2],
  ['mail', 0.15],
];

interface GenMessage {
  n: number;
  at: number;
  author: number;
  channel: number;
  text: string;
  /** Index (within the same platform stream) of the thread root or replied-to message, if any. */
  parent: number | null;
  subject: string | null;
}

/** Writes the community's export files into `dir`; returns the paths to import. */
async function generate(dir: string, n: number, seed: number): Promise<string[]> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const words = (k: number) => Array.from({ length: k }, () => pick(CHATTER)).join(' ');
  const paths: string[] = [];
  const streams = new Map<Platform, GenMessage[][]>();
  const channelsOf: Record<Platform, number> = { slack: 8, discord: 6, element: 4, irc: 4, mail: 3 };
  // Per platform: messages spread over channels in time order, 60% of chat in threads / replies.
  const recentCopies: string[] = [];
  for (const [platform, share] of SHARE) {
    const count = Math.round(n * share);
    const perChannel: GenMessage[][] = Array.from({ length: channelsOf[platform] }, () => []);
    const span = END - START;
    for (let i = 0; i < count; i++) {
      const at = START + Math.floor((i / count) * span) + Math.floor(r() * 1000);
      const channel = Math.floor(r() * perChannel.length);
      const list = perChannel[channel]!;
      let text: string;
      const roll = r();
      if (roll < 0.05 && recentCopies.length)
        text = pick(recentCopies); // exact copy (cross-post, bridge)
      else if (roll < 0.35)
        text = `${pick(TOPICS)} ${words(3 + Math.floor(r() * 8))}`; // feedback-ish, near copies of each other
      else text = `${words(5 + Math.floor(r() * 14))} ${i.toString(36)}`;
      if (roll >= 0.05 && roll < 0.35 && r() < 0.2) {
        recentCopies.push(text);
        if (recentCopies.length > 50) recentCopies.shift();
      }
      let parent: number | null = null;
      if (list.length && r() < (platform === 'irc' ? 0 : 0.6)) parent = Math.max(0, list.length - 1 - Math.floor(r() * 15));
      const root = parent === null ? null : (list[parent]!.parent ?? parent);
      list.push({
        n: i,
        at,
        author: Math.floor(r() * (platform === 'mail' ? 800 : 3000)),
        channel,
        text,
        parent: root,
        subject: platform === 'mail' ? (root === null ? text.split(' ').slice(0, 6).join(' ') : `Re: ${list[root]!.subject ?? ''}`) : null,
      });
    }
    streams.set(platform, perChannel);
  }

  const iso = (ms: number) => new Date(ms).toISOString();
  const write = async (out: WriteStream, s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };

  // Slack export folder: users.json, channels.json, <channel>/<YYYY-MM-DD>.json.
  {
    const root = join(dir, 'slack-export');
    mkdirSync(root, { recursive: true });
    const chans = streams.get('slack')!;
    writeFileSync(join(root, 'users.json'), JSON.stringify(Array.from({ length: 3000 }, (_, u) => ({ id: `U${u}`, name: `user${u}`, profile: { real_name: `Slack User ${u}` } }))));
    writeFileSync(join(root, 'channels.json'), JSON.stringify(chans.map((_, c) => ({ id: `C${c}`, name: `chan-${c}`, created: Math.floor(START / 1000) }))));
    chans.forEach((list, c) => {
      mkdirSync(join(root, `chan-${c}`));
      const ts = (m: GenMessage) => `${Math.floor(m.at / 1000)}.${String(m.n % 1_000_000).padStart(6, '0')}`;
      let day = '';
      let buf: unknown[] = [];
      const flush = () => {
        if (buf.length) writeFileSync(join(root, `chan-${c}`, `${day}.json`), JSON.stringify(buf));
        buf = [];
      };
      for (const m of list) {
        const d = iso(m.at).slice(0, 10);
        if (d !== day) {
          flush();
          day = d;
        }
        buf.push({ type: 'message', user: `U${m.author}`, text: m.text, ts: ts(m), ...(m.parent !== null ? { thread_ts: ts(list[m.parent]!) } : {}) });
      }
      flush();
    });
    paths.push(root);
  }

  // DiscordChatExporter: one JSON file per channel; replies through `reference`.
  for (const [c, list] of streams.get('discord')!.entries()) {
    const file = join(dir, `Community - general - chan-${c} [${1300000000000000000n + BigInt(c)}].json`);
    const out = createWriteStream(file);
    await write(
      out,
      JSON.stringify({
        guild: { id: '1200000000000000001', name: 'Community' },
        channel: { id: String(1300000000000000000n + BigInt(c)), type: 'GuildTextChat', category: 'general', name: `chan-${c}`, topic: null },
        dateRange: { after: null, before: null },
        exportedAt: iso(END),
      }).slice(0, -1) + ',"messages":[\n',
    );
    const id = (m: GenMessage) => String(1400000000000000000n + BigInt(m.n));
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      const msg = {
        id: id(m),
        type: m.parent !== null ? 'Reply' : 'Default',
        timestamp: iso(m.at),
        timestampEdited: null,
        isPinned: false,
        content: m.text,
        author: { id: String(1500000000000000000n + BigInt(m.author)), name: `member${m.author}`, discriminator: '0000', nickname: null, isBot: false },
        attachments: [],
        embeds: [],
        stickers: [],
        reactions: [],
        mentions: [],
        ...(m.parent !== null ? { reference: { messageId: id(list[m.parent]!), channelId: String(1300000000000000000n + BigInt(c)), guildId: '1200000000000000001' } } : {}),
      };
      await write(out, (i ? ',\n' : '') + JSON.stringify(msg));
    }
    await write(out, '\n]}\n');
    out.end();
    await once(out, 'finish');
    paths.push(file);
  }

  // Element exports: one JSON document per room; thread replies through m.thread relations.
  for (const [c, list] of streams.get('element')!.entries()) {
    const file = join(dir, `Element - room-${c} - Chat Export - ${iso(END).replace(/:/g, '-')}.json`);
    const out = createWriteStream(file);
    await write(out, `{"room_name":"room-${c}","room_creator":"@admin:example.org","topic":"","export_date":"16/11/2026","exported_by":"admin","messages":[\n`);
    const evId = (m: GenMessage) => `$ev${m.n}r${c}`;
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      const content: Record<string, unknown> = { msgtype: 'm.text', body: m.text };
      if (m.parent !== null) content['m.relates_to'] = { rel_type: 'm.thread', event_id: evId(list[m.parent]!), is_falling_back: true, 'm.in_reply_to': { event_id: evId(list[m.parent]!) } };
      await write(
        out,
        (i ? ',\n' : '') +
          JSON.stringify({ type: 'm.room.message', sender: `@member${m.author}:example.org`, content, origin_server_ts: m.at, event_id: evId(m), room_id: `!room${c}:example.org`, unsigned: {} }),
      );
    }
    await write(out, '\n]}\n');
    out.end();
    await once(out, 'finish');
    paths.push(file);
  }

  // IRC: WeeChat logs, one file per channel, no native threads (the disentangler links lines).
  for (const [c, list] of streams.get('irc')!.entries()) {
    const file = join(dir, `irc.libera.#chan-${c}.weechatlog`);
    const out = createWriteStream(file);
    for (const m of list) await write(out, `${iso(m.at).slice(0, 19).replace('T', ' ')}\tnick${m.author}\t${m.text}\n`);
    out.end();
    await once(out, 'finish');
    paths.push(file);
  }

  // Mail: one mbox per list, threads through In-Reply-To / References.
  for (const [c, list] of streams.get('mail')!.entries()) {
    const file = join(dir, `list-${c}.mbox`);
    const out = createWriteStream(file);
    const mid = (m: GenMessage) => `<m${m.n}.l${c}@lists.example.org>`;
    for (const m of list) {
      const d = new Date(m.at);
      const parent = m.parent !== null ? list[m.parent]! : null;
      await write(
        out,
        `From member${m.author}@example.org ${d.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) (\S+) GMT$/, '$1 $3 $2 $5 $4')}\nFrom: Member ${m.author} <member${m.author}@example.org>\nTo: list-${c}@lists.example.org\nDate: ${d.toUTCString().replace('GMT', '+0000')}\nSubject: ${m.subject ?? ''}\nMessage-ID: ${mid(m)}\n${parent ? `In-Reply-To: ${mid(parent)}\nReferences: ${mid(parent)}\n` : ''}Content-Type: text/plain; charset=utf-8\n\n${m.text}\n\n`,
      );
    }
    out.end();
    await once(out, 'finish');
    paths.push(file);
  }
  return paths;
}

const began = Date.now();
/** Where a long run is, on stderr (the figures go to stdout). */
function progress(what: string): void {
  process.stderr.write(`[e2e +${((Date.now() - began) / 1000).toFixed(0)} s] ${what}\n`);
}

/** Wall and CPU time of the parts of a run. */
class Clock {
  readonly wall = new Map<string, number>();
  readonly cpu = new Map<string, number>();
  /** The process's peak RSS (MB) as of the end of each stage's last slice: where the peak was reached. */
  readonly peak = new Map<string, number>();
  /** At the end of each stage's last slice: the process's RSS and this thread's JS heap in use (MB). */
  readonly end = new Map<string, { rss: number; heap: number }>();
  async time<T>(name: string, f: () => Promise<T>): Promise<T> {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    try {
      return await f();
    } finally {
      const du = process.cpuUsage(c);
      this.wall.set(name, (this.wall.get(name) ?? 0) + Number(process.hrtime.bigint() - t) / 1e9);
      this.cpu.set(name, (this.cpu.get(name) ?? 0) + (du.user + du.system) / 1e6);
      this.peak.set(name, peakRssMb());
      this.end.set(name, { rss: process.memoryUsage.rss() / 1048576, heap: process.memoryUsage().heapUsed / 1048576 });
    }
  }
}

/** A JobQueue that only records what the stages hand on: the bench calls the next stage itself. */
class RecordingQueue implements JobQueue {
  readonly kind = 'inprocess' as const;
  readonly durableSchedules = false;
  readonly conversations = new Set<number>();
  readonly items = new Set<number>();
  async add<T>(queue: string, _name: string, data: T): Promise<void> {
    const d = data as { conversationIds?: number[]; itemIds?: number[] };
    if (queue === 'enrich') for (const id of d.conversationIds ?? []) this.conversations.add(id);
    if (queue === 'cluster') for (const id of d.itemIds ?? []) this.items.add(id);
  }
  async ready(): Promise<void> {}
  async handOff<R>(_queue: string, _job: unknown, here: () => Promise<R>): Promise<R | undefined> {
    return here();
  }
  async schedule(): Promise<void> {}
  dashboardQueues(): null {
    return null;
  }
  process(): void {}
  async counts(): Promise<QueueCounts> {
    return { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 };
  }
  async failed(): Promise<[]> {
    return [];
  }
  async idle(): Promise<void> {}
  async close(): Promise<void> {}
}

let digestText = '';

/** People's placement after a run (staff, placed in an org): both paths should agree. */
async function peoplePlacement(app: App): Promise<{ people: number; staff: number; placed: number }> {
  const r = await app.db
    .selectFrom('people')
    .select((eb) => [eb.fn.countAll<number>().as('people'), eb.fn.sum<number>('is_staff').as('staff'), eb.fn.count<number>('org_id').as('placed')])
    .executeTakeFirstOrThrow();
  return { people: Number(r.people), staff: Number(r.staff ?? 0), placed: Number(r.placed) };
}

async function digestOf(app: App): Promise<number> {
  const period = { start: END - WEEK_MS, end: END };
  const json = await buildDigest(app.db, period, { top: app.config.digest.top, segments: app.config.segments });
  renderDigestHtml(json);
  digestText = renderDigestText(json);
  return json.clusters.length;
}

/**
 * Content digests of what the tag and cluster stages stored and of the digest's text: a change meant to
 * make a stage cheaper must leave them equal (sha256, first 16 hex digits). Items are named by their
 * message and clusters by their members: the tag stage saves overlapping batches, so item ids (and
 * the cluster ids that follow them) may be given in another order from run to run.
 */
export async function contentDigests(db: Kysely<Database>, digest: string): Promise<Record<string, string>> {
  const sha = () => createHash('sha256');
  const line = (h: ReturnType<typeof sha>, name: string, row: unknown[]) => {
    const text = JSON.stringify(row) + '\n';
    h.update(text);
    if (process.env.GLEANER_BENCH_DUMP) appendFileSync(`${process.env.GLEANER_BENCH_DUMP}.${name}`, text);
  };
  const tag = sha();
  const items = await sql<Record<string, unknown>>`select message_id, conversation_id, kind, kind_confidence, kind_groups, sentiment, status from feedback_items order by message_id`.execute(db);
  for (const r of items.rows) line(tag, 'items', Object.values(r));
  const tags = await sql<
    Record<string, unknown>
  >`select f.message_id, t.tag, t.provenance, t.confidence, t.version, t.state from tags t join feedback_items f on f.id = t.item_id order by f.message_id, t.tag, t.provenance`.execute(db);
  for (const r of tags.rows) line(tag, 'tags', Object.values(r));
  const people = await sql<Record<string, unknown>>`select id, org_id, is_staff, org_evidence from people order by id`.execute(db);
  for (const r of people.rows) line(tag, 'people', Object.values(r));
  const clusters = sha();
  const members = new Map<number, number[]>();
  const placed = await sql<{
    cluster_id: number;
    message_id: number;
    pinned: number;
  }>`select ci.cluster_id, f.message_id, ci.pinned from cluster_items ci join feedback_items f on f.id = ci.item_id order by f.message_id`.execute(db);
  for (const r of placed.rows) {
    const list = members.get(r.cluster_id) ?? [];
    list.push(r.pinned ? -r.message_id : r.message_id);
    members.set(r.cluster_id, list);
  }
  const described = await sql<{
    id: number;
    title: string;
    summary: string | null;
    kind: string | null;
    first_seen: number | null;
    last_seen: number | null;
  }>`select id, title, summary, kind, first_seen, last_seen from clusters`.execute(db);
  const rows = described.rows.filter((c) => members.has(c.id)).map((c) => [members.get(c.id)!, c.title, c.summary, c.kind, c.first_seen, c.last_seen] as const);
  rows.sort((x, y) => Math.abs(x[0][0]!) - Math.abs(y[0][0]!));
  for (const r of rows) line(clusters, 'clusters', [...r]);
  const merges = await sql<{ item_ids: string; score: number }>`select item_ids, score from cluster_merges order by id`.execute(db);
  const messageOf = new Map((await sql<{ id: number; message_id: number }>`select id, message_id from feedback_items`.execute(db)).rows.map((r) => [r.id, r.message_id]));
  const mergeRows = merges.rows.map((m) => [(JSON.parse(m.item_ids) as number[]).map((id) => messageOf.get(id) ?? -1).sort((x, y) => x - y), m.score] as const);
  mergeRows.sort((x, y) => (x[0][0] ?? 0) - (y[0][0] ?? 0) || x[1] - y[1]);
  for (const r of mergeRows) line(clusters, 'merges', [...r]);
  const needs = await sql<Record<string, unknown>>`select message_id, need_text from feedback_items order by message_id`.execute(db);
  for (const r of needs.rows) line(clusters, 'needs', Object.values(r));
  if (process.env.GLEANER_BENCH_DUMP) appendFileSync(`${process.env.GLEANER_BENCH_DUMP}.digest`, digest);
  return { tag: tag.digest('hex').slice(0, 16), clusters: clusters.digest('hex').slice(0, 16), digest: sha().update(digest).digest('hex').slice(0, 16) };
}

/** With GLEANER_BENCH_KEEP, a copy of the store between stages (to run one stage again on the same input). */
async function keep(app: App, name: string): Promise<void> {
  const dir = process.env.GLEANER_BENCH_KEEP;
  if (!dir || dir === '1') return;
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, `${name}.db`), { force: true });
  await sql`vacuum into ${join(dir, `${name}.db`)}`.execute(app.db);
}

async function inProcess(paths: string[], dbPath: string, n: number): Promise<void> {
  const app = await openApp({ db: dbPath, redisUrl: null, configObject: parseConfig('') });
  const rec = new RecordingQueue();
  const ctx: StageContext = { ...app.ctx, queue: rec };
  const clock = new Clock();
  const t0 = process.hrtime.bigint();
  let read = 0;
  let stored = 0;

  // Import: parse + normalize (the importers) and ingest (store, threads, copies), timed apart.
  for (const file of expandPaths(paths)) {
    const importer = detectImporter(file, undefined);
    if (!importer) throw new Error(`bench: no importer detected for ${file}`);
    const sourceId = await ensureSource(app.db, importer.platform, importer.platform, Date.now());
    const opts = { source: importer.platform };
    let messages: RawMessage[] = [];
    // As importFiles does in-process: a batch is stored one step behind, its successor's chat lines
    // linked meanwhile on a helper thread.
    let behind: IngestPayload | null = null;
    const flush = async (last = false) => {
      if (messages.length) {
        const payload: IngestPayload = { sourceId, platform: importer.platform, messages, normalizerVersion: importer.normalizerVersion };
        messages = [];
        await clock.time('ingest', async () => prefetchIngest(ctx, payload));
        const prev = behind;
        behind = payload;
        if (prev) stored += await clock.time('ingest', () => runIngest(ctx, prev)).then((r) => r.new + r.copies);
      }
      if (last && behind) {
        const prev = behind;
        behind = null;
        stored += await clock.time('ingest', () => runIngest(ctx, prev)).then((r) => r.new + r.copies);
      }
    };
    if (parseAheadUsable(file)) {
      // As importFiles does in-process with helper threads: parsed on one while this thread stores.
      // 'parse' is this thread's wait for the next batch.
      const batches = app.services.parse.parse(file, importer.format, { ...opts, batchSize: IMPORT_BATCH.inprocess })[Symbol.asyncIterator]();
      for (;;) {
        const b = await clock.time('parse', () => batches.next());
        if (b.done) break;
        read += b.value.read;
        messages.push(...b.value.messages);
        if (messages.length >= IMPORT_BATCH.inprocess) await flush();
      }
    } else {
      const pages = importer.read(file, opts)[Symbol.asyncIterator]();
      for (;;) {
        const page = await clock.time('parse', () => pages.next());
        if (page.done) break;
        await clock.time('parse', async () => {
          for (const item of page.value.items) {
            read++;
            const out = await importer.normalize(item.raw, opts);
            if (!isSkip(out)) messages.push(out);
          }
        });
        while (messages.length >= IMPORT_BATCH.inprocess) {
          const rest = messages.slice(IMPORT_BATCH.inprocess);
          messages = messages.slice(0, IMPORT_BATCH.inprocess);
          await flush();
          messages = rest;
        }
      }
    }
    await flush(true);
    await markSourcePulled(app.db, sourceId, Date.now(), null);
    progress(`imported ${file}: ${read} read, ${stored} stored`);
  }
  const ahead = app.services.ingest.linkAheadStats();
  figure('e2e.ingest.linked_ahead', ahead.taken);
  figure('e2e.ingest.linked_here', ahead.missed);
  // Tagging: feedback detection, kind and tags per touched conversation. The next batch is started
  // before this one is awaited (as the queue's concurrency lets it): its conversations load and go to
  // the helper thread while this thread saves the batch before.
  await keep(app, 'ingested');
  const convIds = [...rec.conversations].sort((a, b) => a - b);
  await clock.time('tag', async () => {
    let ahead: Promise<unknown> | null = null;
    for (let i = 0; i < convIds.length; i += BATCH) {
      // Saved in order (as finishPendingWork does): item ids, which break ties in grouping, do not depend on timing.
      const run = runEnrich(ctx, { conversationIds: convIds.slice(i, i + BATCH) }, { after: ahead?.catch(() => undefined) });
      run.catch(() => undefined); // awaited below, in order
      if (ahead) await ahead;
      ahead = run;
    }
    await ahead;
  });
  progress(`tagged ${convIds.length} conversations`);
  await keep(app, 'tagged');
  // Clustering: near-dup candidates and cluster assignment, in the order the tag stage was given the
  // conversations.
  const convOf = new Map((await sql<{ id: number; conversation_id: number }>`select id, conversation_id from feedback_items`.execute(app.db)).rows.map((r) => [r.id, r.conversation_id]));
  const itemIds = [...rec.items].sort((a, b) => (convOf.get(a) ?? 0) - (convOf.get(b) ?? 0) || a - b);
  convOf.clear();
  for (let i = 0; i < itemIds.length; i += 1000) await clock.time('cluster', () => runCluster(ctx, { itemIds: itemIds.slice(i, i + 1000) }));
  progress(`clustered ${itemIds.length} items`);
  const clusters = await clock.time('digest', () => digestOf(app));
  const total = Number(process.hrtime.bigint() - t0) / 1e9;

  figure('e2e.messages_read', read);
  figure('e2e.messages_stored', stored);
  figure('e2e.conversations', convIds.length);
  figure('e2e.feedback_items', itemIds.length);
  figure('e2e.digest_clusters', clusters);
  const people = await peoplePlacement(app);
  figure('e2e.people', people.people);
  figure('e2e.people_staff', people.staff);
  figure('e2e.people_in_org', people.placed);
  figure('e2e.total_s', total);
  figure('e2e.msgs_per_s', n / total);
  figure('e2e.peak_rss_mb', peakRssMb());
  for (const [name, s] of clock.wall) {
    figure(`e2e.stage.${name}_s`, s);
    figure(`e2e.stage.${name}_cpu_s`, clock.cpu.get(name) ?? 0);
    figure(`e2e.stage.${name}_msgs_per_s`, n / s);
    figure(`e2e.stage.${name}_peak_rss_mb`, clock.peak.get(name) ?? 0);
    figure(`e2e.stage.${name}_end_rss_mb`, clock.end.get(name)?.rss ?? 0);
    figure(`e2e.stage.${name}_end_heap_mb`, clock.end.get(name)?.heap ?? 0);
  }
  // After the memory figures: reading the tables back is not part of the run.
  for (const [name, h] of Object.entries(await contentDigests(app.db, digestText))) figure(`e2e.content.${name}_sha`, h);
  await app.close();
}

async function throughBullMq(paths: string[], dbUrl: string, n: number): Promise<void> {
  const redis = await benchRedis();
  const prefix = `bench-${randomUUID()}`;
  const app = await openApp({ db: dbUrl, redisUrl: redis.url, queuePrefix: prefix, configObject: parseConfig('') });
  const env = { ...process.env, REDIS_URL: redis.url, GLEANER_DB: dbUrl, GLEANER_QUEUE_PREFIX: prefix, GLEANER_LOG_LEVEL: 'warn', GLEANER_DB_POOL: '4' };
  const { cmd, args } = workerCommand('all');
  // GLEANER_BENCH_WORKER_FLAGS: node flags for the workers (e.g. --cpu-prof --cpu-prof-dir=...; NODE_OPTIONS refuses some).
  const flags = (process.env.GLEANER_BENCH_WORKER_FLAGS ?? '').split(' ').filter(Boolean);
  const workers: ChildProcess[] = [0, 1].map(() => spawn(cmd, [...flags, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
  const peaks = new Map<number, number>();
  const sample = setInterval(() => {
    for (const w of workers) if (w.pid) peaks.set(w.pid, Math.max(peaks.get(w.pid) ?? 0, peakRssMb(w.pid)));
  }, 1000);
  const t0 = process.hrtime.bigint();
  const startedAt = Date.now();
  const c0 = process.cpuUsage();
  const summary = await importFiles(app, paths);
  const enqueued = Number(process.hrtime.bigint() - t0) / 1e9;
  await app.queue.idle({ timeoutMs: 6 * 3600_000, pollMs: 500 });
  // Queues idle is not yet done: work the store records as pending with no job for it (a job's items
  // taken by another, a batch queued a moment late) is queued by a worker's idle sweep. The sweep is
  // run here until nothing is pending, so the consistency counts below are the settled store's; how
  // much was pending at the first idle moment is printed (a count that never drains shows here too).
  const pendingAtIdle = await pendingWorkCounts(app.db);
  let sweeps = 0;
  for (let left = pendingAtIdle; (left.conversations || left.items) && sweeps < 10; left = await pendingWorkCounts(app.db)) {
    sweeps++;
    await sweepPendingWhenIdle(app.ctx);
    await app.queue.idle({ timeoutMs: 3600_000, pollMs: 500 });
  }
  const pipeline = Number(process.hrtime.bigint() - t0) / 1e9;
  const clusters = await digestOf(app);
  const total = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  clearInterval(sample);
  const workerCpu = workers.reduce((sum, w) => sum + cpuSeconds(w.pid), 0);
  for (const w of workers) if (w.pid) peaks.set(w.pid, Math.max(peaks.get(w.pid) ?? 0, peakRssMb(w.pid)));
  const failed = (await Promise.all((['ingest', 'enrich', 'cluster'] as const).map((q) => app.queue.failed(q)))).flat();

  figure('e2e.bullmq.db', dbUrl.startsWith('postgres') ? 'postgres' : 'sqlite');
  figure('e2e.bullmq.workers', workers.length);
  figure('e2e.bullmq.batches', summary.enqueuedBatches);
  figure('e2e.bullmq.failed_jobs', failed.length);
  figure('e2e.bullmq.pending_at_idle', `${pendingAtIdle.conversations} conversations, ${pendingAtIdle.items} items; ${sweeps} sweeps`);
  for (const f of failed.slice(0, 3)) figure('e2e.bullmq.failed_reason', `${f.id}: ${f.reason.slice(0, 300)}`);
  figure('e2e.bullmq.digest_clusters', clusters);
  const people = await peoplePlacement(app);
  figure('e2e.bullmq.people', people.people);
  figure('e2e.bullmq.people_staff', people.staff);
  figure('e2e.bullmq.people_in_org', people.placed);
  // Consistency after concurrent workers: every placement's item exists, every item's conversation
  // exists and every item is placed (each should print 0).
  const count = async (q: Promise<{ n: number | string | bigint }>) => Number((await q).n);
  figure(
    'e2e.bullmq.dangling_placements',
    await count(
      app.db
        .selectFrom('cluster_items as ci')
        .leftJoin('feedback_items as f', 'f.id', 'ci.item_id')
        .where('f.id', 'is', null)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ),
  );
  figure(
    'e2e.bullmq.items_without_conversation',
    await count(
      app.db
        .selectFrom('feedback_items as f')
        .leftJoin('conversations as c', 'c.id', 'f.conversation_id')
        .where('c.id', 'is', null)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ),
  );
  figure(
    'e2e.bullmq.unplaced_items',
    await count(
      app.db
        .selectFrom('feedback_items as f')
        .leftJoin('cluster_items as ci', 'ci.item_id', 'f.id')
        .where('ci.item_id', 'is', null)
        .where('f.status', '!=', 'not_feedback')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ),
  );
  // Where the workers' time went, per queue, from each job's own account (src/app.ts): jobs, the items
  // they carried, the statements they sent to the store (a round trip each on PostgreSQL) and the
  // processing time summed over jobs (jobs of a queue overlap across workers).
  // On PostgreSQL the same figures are printed as e2e.pg.* too (the issue's name for this run), with
  // each stage's span: from the start of its first job to the end of its last, from the producer's start.
  const pg = dbUrl.startsWith('postgres');
  for (const q of ['ingest', 'enrich', 'cluster'] as const) {
    const jobs = await (app.queue as BullMqQueue).completedJobs(q, 100_000);
    let items = 0;
    let queries = 0;
    let ms = 0;
    let first = Infinity;
    let last = 0;
    // An ingest job's own account of its time (ms per part of the store's transaction, see ingestBatch).
    const parts = new Map<string, number>();
    for (const j of jobs) {
      const r = j.result as { items?: number; queries?: number; stageMs?: Record<string, number> } | null;
      items += r?.items ?? 0;
      queries += r?.queries ?? 0;
      for (const [k, v] of Object.entries(r?.stageMs ?? {})) parts.set(k, (parts.get(k) ?? 0) + v);
      ms += j.ms;
      if (j.startedAt) first = Math.min(first, j.startedAt);
      last = Math.max(last, j.finishedAt);
    }
    figure(`e2e.bullmq.${q}.jobs`, jobs.length);
    figure(`e2e.bullmq.${q}.items`, items);
    figure(`e2e.bullmq.${q}.queries`, queries);
    figure(`e2e.bullmq.${q}.queries_per_item`, items ? queries / items : 0);
    figure(`e2e.bullmq.${q}.job_s`, ms / 1000);
    for (const [k, v] of parts) figure(`e2e.bullmq.${q}.${k}_s`, v / 1000);
    if (pg && jobs.length) {
      figure(`e2e.pg.stage.${q}_from_s`, (first - startedAt) / 1000);
      figure(`e2e.pg.stage.${q}_to_s`, (last - startedAt) / 1000);
      figure(`e2e.pg.stage.${q}_job_s`, ms / 1000);
      figure(`e2e.pg.stage.${q}_queries_per_item`, items ? queries / items : 0);
    }
  }
  if (pg) {
    figure('e2e.pg.total_s', total);
    figure('e2e.pg.msgs_per_s', n / total);
    figure('e2e.pg.failed_jobs', failed.length);
  }
  figure('e2e.bullmq.enqueue_s', enqueued);
  figure('e2e.bullmq.pipeline_s', pipeline);
  figure('e2e.bullmq.total_s', total);
  figure('e2e.bullmq.msgs_per_s', n / total);
  figure('e2e.bullmq.producer_cpu_s', (cpu.user + cpu.system) / 1e6);
  // The workers' CPU (PostgreSQL's is not counted: in-process, SQLite's work is in e2e.stage.*_cpu_s).
  figure('e2e.bullmq.worker_cpu_s', workerCpu);
  figure('e2e.bullmq.producer_peak_rss_mb', peakRssMb());
  figure('e2e.bullmq.worker_peak_rss_mb', Math.max(0, ...peaks.values()));

  for (const w of workers) w.kill('SIGTERM');
  for (const w of workers) if (w.exitCode === null) await once(w, 'exit');
  await app.close();
  redis.stop();
}

export async function run(args: string[]): Promise<void> {
  const n = arg(args, 'n', 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-e2e-'));
  try {
    const g0 = process.hrtime.bigint();
    const paths = await generate(join(dir, 'exports'), n, 42);
    figure('e2e.n', n);
    figure('e2e.generate_s', Number(process.hrtime.bigint() - g0) / 1e9);
    // --skip-inprocess: only the queued run (for looking into it; the ratio needs both).
    if (!args.includes('--skip-inprocess')) await inProcess(paths, join(dir, 'inprocess.db'), n);
    if (!args.includes('--skip-bullmq')) {
      const pgAt = args.indexOf('--pg');
      const pg = pgAt >= 0 ? args[pgAt + 1] : process.env.GLEANER_BENCH_PG;
      await throughBullMq(paths, pg ?? join(dir, 'bullmq.db'), n);
    }
  } finally {
    if (process.env.GLEANER_BENCH_KEEP) process.stderr.write(`# kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc; 0 when it cannot be read. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}
