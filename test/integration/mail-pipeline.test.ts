// The mail pipeline end to end on the real Apache archives in examples/: exact counts and threads,
// the same message from four archives stored once, re-import adds nothing, and the in-process and
// BullMQ modes store the same result.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openApp, startWorkers, type App } from '../../src/app.js';
import { importFiles } from '../../src/runner/import.js';
import { storeStats } from '../../src/store/queries.js';
import { QUEUE_NAMES } from '../../src/queue/port.js';
import { BullMqQueue } from '../../src/queue/bullmq.js';
import { parseConfig } from '../../src/config/index.js';
import { tempDir } from '../support/factories.js';

const apache = join(import.meta.dirname, '..', '..', 'examples', 'mail', 'apache');
const httpd = join(apache, 'httpd-users-2020-07.mbox');
const dups = join(apache, 'message-duplicates');

async function app(redisUrl: string | null, prefix?: string): Promise<App> {
  return openApp({ db: join(tempDir(), 'g.db'), redisUrl, queuePrefix: prefix, configObject: parseConfig('queue: {attempts: 3, backoffMs: 50}') });
}

/** What the store holds, independent of row ids: conversations as sorted lists of Message-IDs. */
async function snapshot(a: App): Promise<{ messages: string[]; threads: string[]; items: string[] }> {
  const rows = await a.db.selectFrom('messages').select(['external_id', 'conversation_id', 'copy_of']).where('copy_of', 'is', null).execute();
  const byConv = new Map<number, string[]>();
  for (const r of rows) byConv.set(r.conversation_id!, [...(byConv.get(r.conversation_id!) ?? []), r.external_id]);
  const items = await a.db.selectFrom('feedback_items as f').innerJoin('messages as m', 'm.id', 'f.message_id').select(['m.external_id', 'f.kind']).execute();
  return {
    messages: rows.map((r) => r.external_id).sort(),
    threads: [...byConv.values()].map((ids) => ids.sort().join(' ')).sort(),
    items: items.map((i) => `${i.external_id}=${i.kind}`).sort(),
  };
}

async function runInProcess(a: App, paths: string[]) {
  const s = await importFiles(a, paths, {});
  startWorkers(a, QUEUE_NAMES);
  await a.queue.idle({ timeoutMs: 120_000 });
  return s;
}

describe('mail pipeline', () => {
  it('imports httpd-users with its exact counts and threads, and a second import adds nothing', async () => {
    const a = await app(null);
    const first = await runInProcess(a, [httpd]);
    // One message was posted twice by its author 70 seconds apart (two Message-IDs, the same text):
    // the second is a copy, linked to the first and not counted.
    expect(first).toMatchObject({ files: 1, read: 108, new: 107, copies: 1, quarantined: 0 });
    const stats = await storeStats(a.db);
    expect(stats.messages).toBe(107);
    // 41 reference-connected threads; 3 replies whose parent is not in the month join by subject;
    // the repeated post's own thread holds only the copy.
    expect(stats.conversations).toBe(37);
    expect(stats.sources[0]).toMatchObject({ name: 'mail', platform: 'mail', channels: ['users.httpd.apache.org'] });
    const second = await runInProcess(a, [httpd]);
    expect(second).toMatchObject({ read: 108, new: 0, updated: 0, duplicates: 108 });
    expect((await storeStats(a.db)).messages).toBe(107);
    await a.close();
  });

  it('the same ten messages from four archives become ten', async () => {
    const a = await app(null);
    const s = await runInProcess(a, [dups]);
    expect(s).toMatchObject({ files: 4, read: 40, new: 10, duplicates: 30 });
    expect((await storeStats(a.db)).messages).toBe(10);
    await a.close();
    // Imported as four sources, they are copies of each other and still count once.
    const b = await app(null);
    for (const f of ['listsao_1', 'listsao_2', 'mailarchivesao', 'mboxvm']) {
      await importFiles(b, [join(dups, `maven_duplicates_2017_${f}.mbox`)], { source: `archive-${f}` });
    }
    const stats = await storeStats(b.db);
    expect(stats.messages).toBe(10);
    const copies = await b.db.selectFrom('messages').select('id').where('copy_of', 'is not', null).execute();
    expect(copies).toHaveLength(30);
    await b.close();
  });

  it('in-process and BullMQ store the same result for the same input', async () => {
    const inproc = await app(null);
    await runInProcess(inproc, [httpd, dups]);
    const expected = await snapshot(inproc);
    await inproc.close();

    const prefix = `test-${randomUUID()}`;
    const queued = await app(inject('redisUrl'), prefix);
    const s = await importFiles(queued, [httpd, dups], {});
    expect(s.enqueuedBatches).toBeGreaterThan(0);
    startWorkers(queued, QUEUE_NAMES);
    await queued.queue.idle({ timeoutMs: 120_000, queues: ['ingest', 'enrich'] });
    const got = await snapshot(queued);
    expect(got.messages).toEqual(expected.messages);
    expect(got.threads).toEqual(expected.threads);
    expect(got.items).toEqual(expected.items);
    await (queued.queue as BullMqQueue).obliterate();
    await queued.close();
  }, 180_000);
});
