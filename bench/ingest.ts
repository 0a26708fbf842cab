// npm run bench -- ingest [--chat N] [--mail N] [--batch N] [--import 0] [--bullmq 0] [--worker-prof DIR]
// Chat-shaped stream: generated normalized messages (70% in native threads, 30% unthreaded lines that
// go through the disentanglement model) fed to ingest in batches, as a connector would, in-process (one
// batch at a time; and as an import, linking ahead) and through BullMQ with one worker process. Each
// prints where its time went per stage (µs per message) and what was stored (counts and a digest),
// which must be the same on every path. Mail: a generated mbox parsed and imported in-process.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, createWriteStream, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { openApp } from '../src/app.js';
import { parseConfig } from '../src/config/index.js';
import { ensureSource } from '../src/store/queries.js';
import { ingestJobId, type IngestPayload } from '../src/stages/ingest.js';
import { ingestStageTimes, stageMsSince } from '../src/stages/ingest-batch.js';
import { storedDigest, type StoredDigest } from './stored.js';
import { importFiles } from '../src/runner/import.js';
import { stageRunner } from '../src/runner/stage-runner.js';
import { BullMqQueue } from '../src/queue/bullmq.js';
import type { RawMessage } from '../src/model/index.js';
import { arg, benchRedis, figure, peakRssMb, rng, workerCommand } from './support.js';

const WORDS =
  'the a to and of in is it for on with that this dashboard export login okta sso redirect loop upgrade version cli sdk python go retention billing page slow charged twice docs quickstart error crash timeout token config yaml helm chart metrics query panel alert webhook slack discord api rate limit works fine thanks please help broken again after before since when why how does anyone know'.split(
    ' ',
  );

function chatBatches(n: number, batch: number, seed: number): RawMessage[][] {
  const r = rng(seed);
  const t0 = Date.UTC(2026, 9, 5);
  const out: RawMessage[][] = [];
  let cur: RawMessage[] = [];
  const roots: string[] = [];
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: 8 + Math.floor(r() * 25) }, () => WORDS[Math.floor(r() * WORDS.length)]!);
    const threaded = r() < 0.7;
    let threadId: string | null = null;
    if (threaded) {
      if (roots.length && r() < 0.75) threadId = roots[roots.length - 1 - Math.floor(r() * Math.min(roots.length, 20))]!;
      else {
        threadId = `c${i}`;
        roots.push(threadId);
      }
    }
    cur.push({
      externalId: `c${i}`,
      channel: `C${Math.floor(r() * 12)}`,
      author: { id: `U${Math.floor(r() * 2000)}`, name: `user${Math.floor(r() * 2000)}` },
      text: words.join(' '),
      sentAt: t0 + i * 700,
      threadId,
      reactions: r() < 0.1 ? { '+1': 1 + Math.floor(r() * 3) } : undefined,
    });
    if (cur.length === batch) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Where the time went, as µs per message and share of the wall time, one figure per stage. */
function printStages(prefix: string, stages: Record<string, number>, messages: number, wallMs: number): void {
  const accounted = Object.values(stages).reduce((a, b) => a + b, 0);
  const all = { ...stages, other: Math.max(0, wallMs - accounted) };
  figure(
    `${prefix}.stages`,
    Object.entries(all)
      .map(([k, ms]) => `${k} ${((1000 * ms) / messages).toFixed(1)}us (${((100 * ms) / wallMs).toFixed(0)}%)`)
      .join(', '),
  );
  for (const [k, ms] of Object.entries(all)) figure(`${prefix}.us_per_msg.${k}`, (1000 * ms) / messages);
}

/**
 * `import`: as `gleaner import` stores a file (src/runner/stage-runner.ts): each batch stored one step
 * behind, the next one's chat lines linked on a helper thread meanwhile. `pull`: batch by batch, as
 * a connector's pull hands them over to src/runner/pull.ts (stored in turn: each while the next one is
 * read, its chat lines linked on the helper while the one before is stored).
 */
async function chatInProcess(
  batches: RawMessage[][],
  mode: 'import' | 'pull',
): Promise<{ rate: number; cpuRate: number; mainCpuRate: number; stored: StoredDigest; linkAhead: { taken: number; missed: number } }> {
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-bench-'));
  const app = await openApp({ db: join(dir, 'g.db'), redisUrl: null, configObject: parseConfig('') });
  const sourceId = await ensureSource(app.db, 'chat', 'slack', Date.now());
  const total = batches.reduce((a, b) => a + b.length, 0);
  const before = ingestStageTimes();
  const t = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const main0 = cpuSeconds(process.pid, process.pid);
  if (mode === 'import') {
    const counts = { new: 0, updated: 0, duplicates: 0, copies: 0, quarantined: 0, enqueuedBatches: 0 };
    const sink = stageRunner(app).sink(counts, {});
    for (const messages of batches) await sink.put({ sourceId, platform: 'slack', messages, normalizerVersion: 1 });
    await sink.end();
  } else {
    const turns = stageRunner(app).turns();
    for (const messages of batches) await turns.put({ sourceId, platform: 'slack', messages, normalizerVersion: 1 } satisfies IngestPayload);
    await turns.end();
  }
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  // This thread's CPU (with a link-ahead helper: the helper's too, it is a thread of this process).
  const cpu = process.cpuUsage(cpu0);
  const mainCpuS = cpuSeconds(process.pid, process.pid) - main0;
  printStages(`ingest.chat.inprocess_${mode}`, stageMsSince(before, ingestStageTimes()), total, s * 1000);
  const linkAhead = app.services.ingest.linkAheadStats();
  const stored = await storedDigest(app.db);
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  // CPU seconds too: on a shared, loaded machine the wall clock says more about the neighbours.
  // And this (the storing) thread's alone: what bounds the rate when the helper threads have a core of their own.
  return { rate: total / s, cpuRate: total / ((cpu.user + cpu.system) / 1e6), mainCpuRate: mainCpuS > 0 ? total / mainCpuS : 0, stored, linkAhead };
}

async function chatBullMq(batches: RawMessage[][], profileDir: string | null): Promise<{ rate: number; workerRssMb: number; workerCpuS: number; stored: StoredDigest }> {
  const redis = await benchRedis();
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-bench-'));
  const db = join(dir, 'g.db');
  const prefix = `bench-${randomUUID()}`;
  const app = await openApp({ db, redisUrl: redis.url, queuePrefix: prefix, configObject: parseConfig('') });
  const sourceId = await ensureSource(app.db, 'chat', 'slack', Date.now());
  const { cmd, args } = workerCommand('ingest');
  // --worker-prof DIR: the worker writes a CPU profile there (node --cpu-prof) when it stops.
  const worker = spawn(cmd, profileDir ? [`--cpu-prof`, `--cpu-prof-dir=${profileDir}`, ...args] : args, {
    env: { ...process.env, REDIS_URL: redis.url, GLEANER_DB: db, GLEANER_QUEUE_PREFIX: prefix, GLEANER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let workerRssMb = 0;
  let workerCpuS = 0;
  const sampler = setInterval(() => {
    workerRssMb = Math.max(workerRssMb, peakRssMb(worker.pid));
    workerCpuS = Math.max(workerCpuS, cpuSeconds(worker.pid));
  }, 200);
  const total = batches.reduce((a, b) => a + b.length, 0);
  // The clock starts once the worker listens: its start (Node, migrations) is not throughput.
  const queue = app.queue as BullMqQueue;
  for (let i = 0; i < 600 && (await queue.workerCount('ingest')) < 1; i++) await new Promise((r) => setTimeout(r, 50));
  const t = process.hrtime.bigint();
  for (const messages of batches) {
    const p: IngestPayload = { sourceId, platform: 'slack', messages, normalizerVersion: 1 };
    await app.queue.add('ingest', 'ingest', p, { jobId: ingestJobId(p) });
  }
  const queuedMs = Number(process.hrtime.bigint() - t) / 1e6;
  await app.queue.idle({ timeoutMs: 30 * 60_000, pollMs: 50, queues: ['ingest'] });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  clearInterval(sampler);
  workerCpuS = Math.max(workerCpuS, cpuSeconds(worker.pid));
  // The worker's own account of each job (src/app.ts returns the stage times as the job's result).
  // Jobs overlap (one is linked ahead while another is stored), their stages do not: the rest of the
  // wall time is the queue's (fetching, completing, waiting for the next job) and the job shell's.
  const jobs = await (app.queue as BullMqQueue).completedJobs('ingest', batches.length);
  const stages: Record<string, number> = {};
  for (const j of jobs) {
    for (const [k, v] of Object.entries((j.result as { stageMs?: Record<string, number> } | null)?.stageMs ?? {})) stages[k] = (stages[k] ?? 0) + v;
  }
  printStages('ingest.chat.bullmq', stages, total, s * 1000);
  figure('ingest.chat.bullmq_producer_add_ms', queuedMs);
  worker.kill('SIGTERM');
  await once(worker, 'exit');
  const stored = await storedDigest(app.db);
  await (app.queue as BullMqQueue).obliterate();
  await app.close();
  redis.stop();
  rmSync(dir, { recursive: true, force: true });
  return { rate: total / s, workerRssMb, workerCpuS, stored };
}

/** CPU seconds (user + system) a process (or one of its threads) has used so far, from /proc; 0 when it cannot be read. */
function cpuSeconds(pid: number | undefined, tid?: number): number {
  try {
    const f = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
      .split(') ')[1]!
      .split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

function asctime(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (x: number) => String(x).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

async function writeMbox(path: string, n: number, seed: number): Promise<void> {
  const r = rng(seed);
  const out = createWriteStream(path);
  const t0 = Date.UTC(2026, 9, 5);
  for (let i = 0; i < n; i++) {
    const d = new Date(t0 + i * 60_000);
    const from = `user${Math.floor(r() * 3000)}@example${Math.floor(r() * 50)}.org`;
    const parent = i > 0 && r() < 0.6 ? Math.max(0, i - 1 - Math.floor(r() * 30)) : -1;
    const body = Array.from({ length: 30 + Math.floor(r() * 120) }, () => WORDS[Math.floor(r() * WORDS.length)]!)
      .join(' ')
      .replace(/(.{1,72})(\s|$)/g, '$1\n');
    const lines = [
      `From ${from}  ${asctime(d)}`,
      `From: User ${i} <${from}>`,
      `To: users@lists.example.org`,
      `Subject: ${parent >= 0 ? 'Re: ' : ''}Topic ${parent >= 0 ? parent : i}`,
      `Date: ${d.toUTCString()}`,
      `Message-ID: <m${i}@example.org>`,
      ...(parent >= 0 ? [`In-Reply-To: <m${parent}@example.org>`, `References: <m${parent}@example.org>`] : []),
      `List-Id: Users <users.lists.example.org>`,
      `Content-Type: text/plain; charset=utf-8`,
      '',
      body,
      '',
    ];
    if (!out.write(lines.join('\n'))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function mailInProcess(n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-bench-'));
  const mbox = join(dir, 'bench.mbox');
  await writeMbox(mbox, n, 7);
  const app = await openApp({ db: join(dir, 'g.db'), redisUrl: null, configObject: parseConfig('') });
  const t = process.hrtime.bigint();
  const s = await importFiles(app, [mbox], {});
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  if (s.read !== n) throw new Error(`mail bench: read ${s.read} of ${n}`);
  return n / secs;
}

export async function run(args: string[]): Promise<void> {
  const chatN = arg(args, 'chat', 100_000);
  const mailN = arg(args, 'mail', 100_000);
  const batch = arg(args, 'batch', 500);
  const batches = chatBatches(chatN, batch, 42);
  figure('ingest.chat.messages', chatN);
  figure('ingest.chat.batch_size', batch);
  // One batch at a time, as a connector's pull stores them (the figure this benchmark always printed),
  // then as an import stores a file (the next batch's lines linked ahead on a helper thread).
  const pull = await chatInProcess(batches, 'pull');
  figure('ingest.chat.inprocess_msgs_per_s', pull.rate);
  figure('ingest.chat.inprocess_msgs_per_cpu_s', pull.cpuRate);
  if (pull.mainCpuRate) figure('ingest.chat.inprocess_msgs_per_main_thread_cpu_s', pull.mainCpuRate);
  figure('ingest.chat.stored', `${pull.stored.counts} digest ${pull.stored.digest}`);
  if (arg(args, 'import', 1)) {
    const imp = await chatInProcess(batches, 'import');
    figure('ingest.chat.inprocess_import_msgs_per_s', imp.rate);
    figure('ingest.chat.inprocess_import_msgs_per_cpu_s', imp.cpuRate);
    if (imp.mainCpuRate) figure('ingest.chat.inprocess_import_msgs_per_main_thread_cpu_s', imp.mainCpuRate);
    figure('ingest.chat.inprocess_import_link_ahead', `${imp.linkAhead.taken} channel batches linked ahead, ${imp.linkAhead.missed} linked here`);
    if (imp.stored.digest !== pull.stored.digest)
      throw new Error(`ingest bench: an import stored ${imp.stored.counts} digest ${imp.stored.digest}, a pull ${pull.stored.counts} digest ${pull.stored.digest}`);
  }
  if (arg(args, 'bullmq', 1)) {
    const profIdx = args.indexOf('--worker-prof');
    const bull = await chatBullMq(batches, profIdx >= 0 ? (args[profIdx + 1] ?? null) : null);
    figure('ingest.chat.bullmq_msgs_per_s', bull.rate);
    if (bull.workerCpuS) figure('ingest.chat.bullmq_worker_msgs_per_cpu_s', chatN / bull.workerCpuS);
    figure('ingest.chat.bullmq_worker_peak_rss_mb', bull.workerRssMb);
    // Both paths store the same batches: what they stored must be the same.
    if (bull.stored.digest !== pull.stored.digest)
      throw new Error(`ingest bench: BullMQ stored ${bull.stored.counts} digest ${bull.stored.digest}, in-process ${pull.stored.counts} digest ${pull.stored.digest}`);
    figure('ingest.chat.bullmq_stored_same', 'yes');
  }
  if (mailN > 0) {
    figure('ingest.mail.messages', mailN);
    figure('ingest.mail.inprocess_msgs_per_s', await mailInProcess(mailN));
  }
  figure('ingest.peak_rss_mb', peakRssMb());
}
