// npm run bench -- dedupe [--n 1000000] [--workers 1] [--shingle 2] [--bands 32] [--rows 4]
//   [--threshold 0.5] [--index-n 100000] [--seed 7]
//
// Generates N short feedback-like chat messages over 12 weeks with planted copies (5%: cross-posts,
// bridge relays and pastes twice, same text within minutes) and near copies (10%: a few words
// changed, any time later), then runs exact-copy detection (content key + windowed CopyDetector) and
// near-copy detection (word-shingle MinHash, 128 permutations + LSH + b-bit verification) over all of
// them in one process, and prints throughput, peak RSS and precision/recall against the plants.
// The stateless work (content key, shingling, MinHash) runs on a worker thread by default; the
// stateful work (copy window, LSH tables) stays on the main thread, as in the ingest design.
// Also times NearDupIndex.query over --index-n messages.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { availableParallelism, loadavg } from 'node:os';
import { contentKey, CopyDetector, createNearDupIndex, MinHasher, NearCopyDetector, wordShingleHashes } from '../src/pipeline/dedupe/index.js';

const WEEK_MS = 7 * 86_400_000;
const SPAN_MS = 12 * WEEK_MS;
const BATCH = 4096;
const MIN_NEAR_SHINGLES = 8; // shorter messages are chatter, not candidates for near copies

interface Params {
  n: number;
  workers: number;
  shingle: number;
  bands: number;
  rows: number;
  threshold: number;
  indexN: number;
  seed: number;
}

function parseArgs(args: string[]): Params {
  const get = (name: string, dflt: number): number => {
    const i = args.indexOf(`--${name}`);
    const v = i >= 0 ? Number(args[i + 1]) : dflt;
    if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
    return v;
  };
  return {
    n: get('n', 1_000_000),
    workers: get('workers', 1),
    shingle: get('shingle', 2),
    bands: get('bands', 32),
    rows: get('rows', 4),
    threshold: get('threshold', 0.5),
    indexN: get('index-n', 100_000),
    seed: get('seed', 7),
  };
}

// ---------------------------------------------------------------- generator

/** mulberry32: a small seeded PRNG, so every run sees the same messages. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the a to is it and of in for on that this with not when after we i you but be are can from have ' +
  'build error crash login page search export import sync upload download api endpoint webhook token ' +
  'timeout slow fast memory cpu dashboard chart report filter sort pagination button modal dialog menu ' +
  'settings profile avatar notification email digest invite team workspace project repo branch deploy ' +
  'release version upgrade install docker kubernetes helm config yaml json csv pdf mobile android ios ' +
  'browser firefox chrome safari windows linux macos dark mode theme font layout table column row cell ' +
  'editor markdown preview comment thread reply mention reaction emoji channel message bot integration ' +
  'slack discord matrix irc github gitlab jira oauth sso saml ldap password reset twofactor session ' +
  'cookie cache redis postgres sqlite migration schema index query latency queue worker job retry ' +
  'failed broken missing wrong weird confusing unclear docs tutorial example guide link typo feature ' +
  'request please would love nice great awesome thanks issue bug regression since yesterday today again ' +
  'always sometimes never randomly intermittent flaky stuck blank white screen loading spinner forever ' +
  'click scroll drag drop keyboard shortcut accessibility screenreader contrast translation locale ' +
  'timezone date format currency billing invoice plan trial upgrade downgrade seat license admin role ' +
  'permission access denied forbidden unauthorized rate limit quota storage file attachment image video ' +
  'audio call meeting calendar reminder schedule weekly daily monthly backup restore audit log export ' +
  'cli flag option default value parameter variable environment production staging local dev test ' +
  'ci pipeline runner artifact plugin extension sdk library python node java go rust typescript ruby'
).split(' ');

const OPENERS = ['hi all,', 'hey team,', 'quick question:', 'fyi', 'hello!', 'not sure if this is known but', 'anyone else seeing this?', ''];
const CHATTER = ['ok', '+1', 'thanks!', 'thank you', 'same here', 'lol', 'nice', 'ty', '👍', 'sounds good', 'agreed', '+1 from me'];

interface Gen {
  text: string;
  author: string | null;
  channel: string;
  at: number;
  /** 0 original, 1 exact copy, 2 near copy, 3 chatter */
  kind: number;
  /** exact copy: index of the copied message; near copy: index of the message it was edited from */
  source: number;
}

// The long tail of chat: names of things, identifiers, typos, other languages. Pseudo-words from
// syllables, 20k of them, so a message carries a few rare terms as real messages do.
const SYLLABLES = 'ka lo mi ne ru sa ti vo ze an el is on ur ba de fi go hu ja ke li mo nu pa qi ro su te'.split(' ');
const TAIL = Array.from({ length: 20_000 }, (_, i) => {
  let w = '';
  for (let x = i + 1, k = 0; k < 2 || x > 0; k++, x = Math.floor(x / SYLLABLES.length)) w += SYLLABLES[x % SYLLABLES.length];
  return w;
});

/** Word pick: Zipf-like over the common words (function words, hot topics), 25% from the long tail. */
function pickWord(r: () => number): string {
  const x = r();
  if (x < 0.25) return TAIL[Math.floor(TAIL.length * Math.pow(r(), 1.5))]!;
  const y = r();
  return WORDS[Math.floor(WORDS.length * y * y)]!;
}

function sentence(r: () => number): string {
  const len = 8 + Math.floor(r() * 10);
  const words: string[] = [];
  for (let i = 0; i < len; i++) words.push(pickWord(r));
  if (r() < 0.3) words.push(`v${1 + Math.floor(r() * 5)}.${Math.floor(r() * 20)}`);
  if (r() < 0.1) words.push(`https://example.com/issues/${Math.floor(r() * 10000)}?utm_source=chat`);
  return words.join(' ');
}

function freshText(r: () => number): string {
  const opener = OPENERS[Math.floor(r() * OPENERS.length)]!;
  const parts = [sentence(r), sentence(r)];
  if (r() < 0.5) parts.push(sentence(r));
  let t = (opener ? opener + ' ' : '') + parts.join('. ');
  if (t.length > 260) t = t.slice(0, t.lastIndexOf(' ', 260));
  return t;
}

/** A few words changed: 1-3 substitutions, sometimes an insertion or a deletion. */
function editText(text: string, r: () => number): string {
  const words = text.split(' ');
  const edits = 1 + Math.floor(r() * 3);
  for (let e = 0; e < edits; e++) {
    const i = Math.floor(r() * words.length);
    const op = r();
    if (op < 0.7) words[i] = pickWord(r);
    else if (op < 0.85) words.splice(i, 0, pickWord(r));
    else if (words.length > 10) words.splice(i, 1);
  }
  return words.join(' ');
}

const CHANNELS = Array.from({ length: 40 }, (_, i) => `chan-${i}`);

/** Streams the N messages in time order, BATCH at a time; keeps only what later copies need. */
class Generator {
  readonly r: () => number;
  readonly kind: Uint8Array;
  readonly source: Int32Array;
  private at = Date.UTC(2026, 0, 5);
  private readonly gapMs: number;
  private i = 0;
  // Recent messages that copies can come from (text, author, channel, at), as a ring.
  private readonly ringText: string[] = [];
  private readonly ringIdx: Int32Array;
  private readonly ringChannel: string[] = [];
  private readonly ringAuthor: Array<string | null> = [];
  private readonly ringAt: Float64Array;
  private readonly ringSize = 1 << 17;

  constructor(
    readonly n: number,
    seed: number,
  ) {
    this.r = rng(seed);
    this.kind = new Uint8Array(n);
    this.source = new Int32Array(n).fill(-1);
    this.gapMs = SPAN_MS / n;
    this.ringIdx = new Int32Array(this.ringSize).fill(-1);
    this.ringAt = new Float64Array(this.ringSize);
  }

  done(): boolean {
    return this.i >= this.n;
  }

  next(count: number): Gen[] {
    const out: Gen[] = [];
    const r = this.r;
    while (out.length < count && this.i < this.n) {
      const i = this.i++;
      this.at += -Math.log(1 - r()) * this.gapMs;
      const p = r();
      let g: Gen;
      const author = `user${Math.floor(20000 * r() * r())}`;
      const channel = CHANNELS[Math.floor(CHANNELS.length * r() * r())]!;
      if (p < 0.05 && i > 50) g = this.exactCopy(i) ?? this.fresh(author, channel);
      else if (p < 0.15 && i > 1000) g = this.nearCopy(author, channel);
      else if (p < 0.2) g = { text: CHATTER[Math.floor(r() * CHATTER.length)]!, author, channel, at: this.at, kind: 3, source: -1 };
      else g = this.fresh(author, channel);
      this.kind[i] = g.kind;
      this.source[i] = g.source;
      if (g.kind !== 3) {
        const slot = i & (this.ringSize - 1);
        this.ringText[slot] = g.text;
        this.ringIdx[slot] = i;
        this.ringChannel[slot] = g.channel;
        this.ringAuthor[slot] = g.author;
        this.ringAt[slot] = g.at;
      }
      out.push(g);
    }
    return out;
  }

  private fresh(author: string, channel: string): Gen {
    return { text: freshText(this.r), author, channel, at: this.at, kind: 0, source: -1 };
  }

  /** Same text a few minutes later, in another channel (cross-post or bridge relay) or pasted twice. */
  private exactCopy(i: number): Gen | null {
    const r = this.r;
    for (let tries = 0; tries < 8; tries++) {
      const back = 1 + Math.floor(r() * 30);
      const slot = (i - back) & (this.ringSize - 1);
      const j = this.ringIdx[slot]!;
      if (j !== i - back || this.at - this.ringAt[slot]! > 10 * 60_000) continue;
      const text = this.ringText[slot]!;
      const channel = this.ringChannel[slot]!;
      const author = this.ringAuthor[slot]!;
      const style = r();
      if (style < 0.4) {
        // Bridge relay: the bot posts "[irc] <nick> text" in the bridged room.
        return { text: `[irc] <${author ?? 'someone'}> ${text}`, author: null, channel: channel + '-bridged', at: this.at, kind: 1, source: j };
      }
      if (style < 0.85) {
        // Cross-post by the same person, with the usual small differences in case and spacing.
        const other = CHANNELS[Math.floor(r() * CHANNELS.length)]!;
        const varied = r() < 0.5 ? text.toUpperCase().slice(0, 1) + text.slice(1) + ' ' : `  ${text.replace(/ /g, '  ')}`;
        return { text: varied, author, channel: other === channel ? channel + '-x' : other, at: this.at, kind: 1, source: j };
      }
      return { text, author, channel, at: this.at, kind: 1, source: j }; // pasted twice
    }
    return null;
  }

  /** An earlier message (hours to weeks ago) said again with a few words changed. */
  private nearCopy(author: string, channel: string): Gen {
    const r = this.r;
    for (let tries = 0; tries < 8; tries++) {
      const slot = Math.floor(r() * this.ringSize);
      const j = this.ringIdx[slot]!;
      if (j < 0) continue;
      return { text: editText(this.ringText[slot]!, r), author, channel, at: this.at, kind: 2, source: j };
    }
    return this.fresh(author, channel);
  }
}

// ---------------------------------------------------------------- stateless work (worker or inline)

interface Prepared {
  keys: string[];
  /** count x numPerm signatures; a message with fewer than MIN_NEAR_SHINGLES shingles gets no check */
  sigs: Uint32Array;
  shingleCounts: Int32Array;
}

function makePreparer(shingle: number, numPerm: number): (texts: string[]) => Prepared {
  const hasher = new MinHasher(numPerm);
  const buf = new Uint32Array(512);
  return (texts) => {
    const keys: string[] = new Array<string>(texts.length);
    const sigs = new Uint32Array(texts.length * numPerm);
    const shingleCounts = new Int32Array(texts.length);
    for (let i = 0; i < texts.length; i++) {
      const key = contentKey(texts[i]!);
      keys[i] = key;
      // Shingle the normalised key: bridge prefixes, case and markup are gone already.
      const c = wordShingleHashes(key, shingle, buf);
      shingleCounts[i] = c;
      if (c >= MIN_NEAR_SHINGLES) hasher.signature(buf, c, sigs, i * numPerm);
    }
    return { keys, sigs, shingleCounts };
  };
}

if (!isMainThread && (workerData as { dedupeBench?: boolean } | null)?.dedupeBench) {
  const { shingle, numPerm } = workerData as { shingle: number; numPerm: number };
  const prepare = makePreparer(shingle, numPerm);
  parentPort!.on('message', (msg: { seq: number; texts: string[] }) => {
    const p = prepare(msg.texts);
    parentPort!.postMessage({ seq: msg.seq, ...p }, [p.sigs.buffer as ArrayBuffer, p.shingleCounts.buffer as ArrayBuffer]);
  });
}

// ---------------------------------------------------------------- main

/** Starts this file as a worker; under tsx (a .ts file) the worker registers tsx's loader first. */
function startWorker(data: unknown): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(fileURLToPath(self), { workerData: data });
  const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(self)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

export async function run(args: string[]): Promise<void> {
  const p = parseArgs(args);
  const numPerm = p.bands * p.rows;
  const t0 = performance.now();
  const gen = new Generator(p.n, p.seed);
  const copies = new CopyDetector({ windowMs: 15 * 60_000 });
  const near = new NearCopyDetector({ bands: p.bands, rows: p.rows, threshold: p.threshold, capacity: p.n });
  const exactFound = new Int32Array(p.n).fill(-1);
  const nearFound = new Int32Array(p.n).fill(-1);
  let genMs = 0;

  const consume = (batch: Gen[], base: number, prep: Prepared): void => {
    for (let k = 0; k < batch.length; k++) {
      const m = batch[k]!;
      const i = base + k;
      const id = String(i);
      const orig = copies.checkKey({ id, author: m.author, at: m.at, channel: m.channel }, prep.keys[k]!);
      if (orig !== null) {
        exactFound[i] = Number(orig);
        continue; // a copy is folded, not indexed again
      }
      if (prep.shingleCounts[k]! < MIN_NEAR_SHINGLES) continue;
      const hit = near.check(id, prep.sigs, k * numPerm);
      if (hit) nearFound[i] = Number(hit.id);
    }
  };

  const tRun = performance.now();
  if (p.workers <= 0) {
    const prepare = makePreparer(p.shingle, numPerm);
    let base = 0;
    while (!gen.done()) {
      const tg = performance.now();
      const batch = gen.next(BATCH);
      genMs += performance.now() - tg;
      consume(batch, base, prepare(batch.map((m) => m.text)));
      base += batch.length;
    }
  } else {
    // Pipeline: the main thread generates batch s+1 and consumes batch s while the worker prepares.
    const worker = startWorker({ dedupeBench: true, shingle: p.shingle, numPerm });
    const pending = new Map<number, (p: Prepared) => void>();
    worker.on('message', (msg: Prepared & { seq: number }) => {
      pending.get(msg.seq)?.(msg);
      pending.delete(msg.seq);
    });
    const submit = (seq: number, texts: string[]): Promise<Prepared> =>
      new Promise((resolve) => {
        pending.set(seq, resolve);
        worker.postMessage({ seq, texts });
      });
    const inflight: Array<{ batch: Gen[]; base: number; result: Promise<Prepared> }> = [];
    let seq = 0;
    let base = 0;
    const DEPTH = 3;
    while (!gen.done() || inflight.length > 0) {
      while (!gen.done() && inflight.length < DEPTH) {
        const tg = performance.now();
        const batch = gen.next(BATCH);
        genMs += performance.now() - tg;
        inflight.push({
          batch,
          base,
          result: submit(
            seq++,
            batch.map((m) => m.text),
          ),
        });
        base += batch.length;
      }
      const head = inflight.shift()!;
      consume(head.batch, head.base, await head.result);
    }
    await worker.terminate();
  }
  const runMs = performance.now() - tRun;

  // Score against the plants.
  let exactTp = 0;
  let exactDetected = 0;
  let exactPlanted = 0;
  let nearTp = 0;
  let nearDetected = 0;
  let nearPlanted = 0;
  // family: the original a message derives from by copies and edits; sameText: by exact copies only.
  const family = new Int32Array(p.n);
  const sameText = new Int32Array(p.n);
  for (let i = 0; i < p.n; i++) {
    const k = gen.kind[i]!;
    family[i] = k === 1 || k === 2 ? family[gen.source[i]!]! : i;
    sameText[i] = k === 1 ? sameText[gen.source[i]!]! : i;
    if (k === 1) exactPlanted++;
    if (k === 2) nearPlanted++;
    if (exactFound[i]! >= 0) {
      exactDetected++;
      if (k === 1 && sameText[exactFound[i]!] === sameText[i]) exactTp++;
    }
    if (nearFound[i]! >= 0) {
      nearDetected++;
      if (k === 2 && family[nearFound[i]!] === family[i]) nearTp++;
    }
  }
  const totalS = (performance.now() - t0) / 1000;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  const r3 = (x: number): string => x.toFixed(3);
  console.log(`dedupe.msgs_per_s: ${Math.round(p.n / ((runMs - genMs) / 1000))}`);
  console.log(`dedupe.total_s: ${totalS.toFixed(1)}`);
  console.log(`dedupe.peak_rss_mb: ${Math.round(rssMb)}`);
  console.log(`dedupe.exact.precision: ${r3(exactDetected ? exactTp / exactDetected : 0)}`);
  console.log(`dedupe.exact.recall: ${r3(exactPlanted ? exactTp / exactPlanted : 0)}`);
  console.log(`dedupe.near.precision: ${r3(nearDetected ? nearTp / nearDetected : 0)}`);
  console.log(`dedupe.near.recall: ${r3(nearPlanted ? nearTp / nearPlanted : 0)}`);
  console.error(
    `# n=${p.n} workers=${p.workers} shingle=${p.shingle} lsh=${p.bands}x${p.rows} threshold=${p.threshold}; ` +
      `generation ${(genMs / 1000).toFixed(1)} s on the main thread (excluded from msgs_per_s, included in total_s); ` +
      `planted exact ${exactPlanted}, near ${nearPlanted}; detected exact ${exactDetected}, near ${nearDetected}; ` +
      `LSH candidates verified per check ${(near.verified / Math.max(1, near.size())).toFixed(1)}; ` +
      `cpu ${(process.cpuUsage().user / 1e6).toFixed(1)} s user (both threads); load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`,
  );

  if (p.indexN > 0) benchIndexQuery(p.indexN, p.seed + 1);
}

/** Times NearDupIndex.query at indexN documents (the "reported before?" lookup clustering uses). */
function benchIndexQuery(indexN: number, seed: number): void {
  const gen = new Generator(indexN, seed);
  const index = createNearDupIndex({ capacity: indexN });
  const tAdd = performance.now();
  const queries: string[] = [];
  let base = 0;
  while (!gen.done()) {
    for (const m of gen.next(BATCH)) {
      index.add(String(base++), { text: m.text });
      if (base % 97 === 0 && queries.length < 1000) queries.push(m.text);
    }
  }
  const addS = (performance.now() - tAdd) / 1000;
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (const q of queries) {
    const t = performance.now();
    index.query({ text: q }, 10);
    times.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const mean = times.reduce((s, x) => s + x, 0) / times.length;
  console.log(`dedupe.index.docs: ${indexN}`);
  console.log(`dedupe.index.add_per_s: ${Math.round(indexN / addS)}`);
  console.log(`dedupe.index.query_ms_mean: ${mean.toFixed(3)}`);
  console.log(`dedupe.index.query_ms_p99: ${(times[Math.floor(times.length * 0.99)] ?? 0).toFixed(3)}`);
  // CPU time per query: what the query costs when the machine is not shared (wall time is what it took here).
  console.log(`dedupe.index.query_cpu_ms_mean: ${((cpu.user + cpu.system) / 1000 / times.length).toFixed(3)}`);
}
