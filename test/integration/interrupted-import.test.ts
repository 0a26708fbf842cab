// An in-process import killed (SIGKILL, a real child process) while storing, while tagging or while
// clustering, then run again, leaves the store as one uninterrupted import does: the follow-up work is
// recorded in the store with each batch, not only in jobs held in the killed process's memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tempDir } from '../support/factories.js';
import { writeFeedbackMbox } from '../support/feedback-mbox.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAILS = 4000;
const children: ChildProcess[] = [];
let dir: string;
let mbox: string;
let config: string;
let clean: Fingerprint;

function gleaner(db: string, ...args: string[]): ReturnType<typeof gleanerWith> {
  return gleanerWith({ REDIS_URL: '' }, db, ...args);
}

function gleanerWith(
  env: Record<string, string>,
  db: string,
  ...args: string[]
): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', '-c', config, '--db', db, ...args], {
    cwd: ROOT,
    env: { ...process.env, GLEANER_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, out, err })));
  return { child, done };
}

interface Fingerprint {
  messages: number;
  conversations: number;
  items: number;
  tags: number;
  clusters: number;
  placements: number;
  /** The clusters as sets of the items' message ids: which items share a cluster, whatever the ids. */
  partition: string;
  pending: number;
}

/**
 * The store equals a clean import's in everything stored and derived: messages, conversations, items, tags,
 * every item placed, nothing pending. The cut into clusters is compared loosely: past 200 recent items the
 * grouper places a batch against its neighbours' clusters, so where a run was stopped can move a few items
 * (issue 16 keeps order independence beyond that open). Exact partition equality holds for small windows.
 */
function expectSameAsClean(f: Fingerprint, clean: Fingerprint): void {
  const { clusters, partition, ...rest } = f;
  const { clusters: cleanClusters, partition: cleanPartition, ...cleanRest } = clean;
  expect(rest).toEqual(cleanRest);
  expect(f.placements).toBe(f.items);
  expect(Math.abs(clusters - cleanClusters), `clusters ${clusters} vs ${cleanClusters} (partition ${partition} vs ${cleanPartition})`).toBeLessThanOrEqual(Math.ceil(cleanClusters * 0.1));
}

function fingerprint(path: string): Fingerprint {
  const db = new SQLite(path, { readonly: true });
  try {
    const n = (q: string) => Number((db.prepare(q).get() as { n: number }).n);
    const rows = db.prepare('SELECT ci.cluster_id AS c, m.external_id AS e FROM cluster_items ci JOIN feedback_items f ON f.id = ci.item_id JOIN messages m ON m.id = f.message_id').all() as Array<{
      c: number;
      e: string;
    }>;
    const byCluster = new Map<number, string[]>();
    for (const r of rows) byCluster.set(r.c, [...(byCluster.get(r.c) ?? []), r.e]);
    const partition = [...byCluster.values()]
      .map((xs) => xs.sort().join(','))
      .sort()
      .join('\n');
    return {
      messages: n('SELECT count(*) AS n FROM messages'),
      conversations: n('SELECT count(*) AS n FROM conversations'),
      items: n('SELECT count(*) AS n FROM feedback_items'),
      tags: n('SELECT count(*) AS n FROM tags'),
      clusters: n('SELECT count(*) AS n FROM clusters'),
      placements: n('SELECT count(*) AS n FROM cluster_items'),
      partition: createHash('sha256').update(partition).digest('hex').slice(0, 16),
      pending: n('SELECT (SELECT count(*) FROM conversations WHERE enrich_pending > 0) + (SELECT count(*) FROM feedback_items WHERE cluster_pending = 1) AS n'),
    };
  } finally {
    db.close();
  }
}

/** A count read from the store a child is writing, or -1 while it does not exist yet. */
function peek(path: string, q: string): number {
  if (!existsSync(path)) return -1;
  let db: SQLite.Database | undefined;
  try {
    db = new SQLite(path, { readonly: true, fileMustExist: true });
    return Number((db.prepare(q).get() as { n: number }).n);
  } catch {
    return -1; // not migrated yet
  } finally {
    db?.close();
  }
}

async function killWhen(child: ChildProcess, done: Promise<unknown>, cond: () => boolean, what: string): Promise<void> {
  let exited = false;
  void done.then(() => (exited = true));
  const deadline = Date.now() + 240_000;
  while (!cond()) {
    if (exited) throw new Error(`the import ended before ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await done;
}

beforeAll(async () => {
  dir = tempDir('gleaner-interrupted-');
  mbox = join(dir, 'users.mbox');
  config = join(dir, 'gleaner.yaml');
  writeFileSync(config, '');
  await writeFeedbackMbox(mbox, MAILS, 7);
  const db = join(dir, 'clean.db');
  const r = await gleaner(db, 'import', mbox).done;
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain(`new: ${MAILS}`);
  clean = fingerprint(db);
}, 300_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('an interrupted in-process import', () => {
  it('the clean import tagged and clustered everything', () => {
    expect(clean.messages).toBe(MAILS);
    expect(clean.items).toBeGreaterThan(1000);
    expect(clean.items).toBeLessThan(clean.conversations); // the social threads are not feedback
    expect(clean.clusters).toBeGreaterThan(1);
    expect(clean.placements).toBe(clean.items);
    expect(clean.pending).toBe(0);
  });

  const points = [
    { name: 'while storing', when: (db: string) => peek(db, 'SELECT count(*) AS n FROM messages') > 0 },
    { name: 'while tagging', when: (db: string) => peek(db, 'SELECT count(*) AS n FROM feedback_items') > 0 },
    { name: 'while clustering', when: (db: string) => peek(db, 'SELECT count(*) AS n FROM cluster_items') > 0 },
  ];
  for (const [i, p] of points.entries()) {
    it(`killed ${p.name}, imported again: the store equals a clean import's`, async () => {
      const db = join(dir, `killed-${i}.db`);
      const first = gleaner(db, 'import', mbox);
      await killWhen(first.child, first.done, () => p.when(db), p.name);
      const killed = fingerprint(db);
      // The kill left work undone, recorded as pending.
      expect(killed.pending > 0 || killed.messages < MAILS, JSON.stringify(killed)).toBe(true);
      expect(killed).not.toEqual(clean);

      const again = await gleaner(db, 'import', mbox).done;
      expect(again.code, again.err).toBe(0);
      expectSameAsClean(fingerprint(db), clean);
    }, 300_000);
  }

  it("killed while tagging, then `gleaner repair`: the store equals a clean import's", async () => {
    const db = join(dir, 'repaired.db');
    const first = gleaner(db, 'import', mbox);
    await killWhen(first.child, first.done, () => peek(db, 'SELECT count(*) AS n FROM feedback_items') > 0, 'tagging');
    expect(fingerprint(db).pending).toBeGreaterThan(0);
    const r = await gleaner(db, 'repair').done;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^pending: \d+ conversations to tag, \d+ items to place/m);
    expect(r.out).toMatch(/still pending: 0$/m);
    expectSameAsClean(fingerprint(db), clean);
  }, 300_000);

  it('killed while tagging, then a BullMQ worker: it queues the pending work and finishes it', async () => {
    const db = join(dir, 'worker.db');
    const first = gleaner(db, 'import', mbox);
    await killWhen(first.child, first.done, () => peek(db, 'SELECT count(*) AS n FROM feedback_items') > 0, 'tagging');
    expect(fingerprint(db).pending).toBeGreaterThan(0);
    const worker = gleanerWith({ REDIS_URL: inject('redisUrl'), GLEANER_QUEUE_PREFIX: `test-${randomUUID()}` }, db, 'worker');
    const deadline = Date.now() + 240_000;
    while (peek(db, 'SELECT (SELECT count(*) FROM conversations WHERE enrich_pending > 0) + (SELECT count(*) FROM feedback_items WHERE cluster_pending = 1) AS n') !== 0) {
      if (Date.now() > deadline) throw new Error('the worker did not finish the pending work');
      await new Promise((r) => setTimeout(r, 200));
    }
    worker.child.kill('SIGTERM');
    const stopped = await worker.done;
    expect(stopped.code, stopped.err).toBe(0);
    const f = fingerprint(db);
    // Tagging is per conversation: the same items and tags. Clustering ran in the jobs' order, not the
    // store's, so the clusters may be cut differently; every item is placed.
    expect({ messages: f.messages, conversations: f.conversations, items: f.items, tags: f.tags, pending: f.pending }).toEqual({
      messages: clean.messages,
      conversations: clean.conversations,
      items: clean.items,
      tags: clean.tags,
      pending: 0,
    });
    expect(f.placements).toBe(f.items);
  }, 300_000);
});
