// Linking ahead on a helper thread (a bulk import hands the next batch over before storing the current
// one) threads chat lines exactly as linking on the storing thread does: on a fresh channel, and when
// the store already holds the channel's start (the helper has no state and is seeded from the store).
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { ensureSource } from '../../src/store/queries.js';
import { prefetchIngest, runIngest, type IngestPayload } from '../../src/stages/ingest.js';
import type { RawMessage } from '../../src/model/index.js';
import { stageRunner } from '../../src/runner/stage-runner.js';
import { tempDir } from '../support/factories.js';

const T0 = Date.UTC(2026, 9, 5, 9);
const NICKS = ['priya', 'sam', 'jberg', 'mo', 'lena', 'okafor', 'tess', 'ruiz'];
const TOPICS = [
  'the okta login loops after the upgrade',
  'csv export does nothing on big dashboards',
  'helm chart fails on kubernetes 1.30',
  'retention resets to seven days',
  'webhook retries flood the channel',
];

/** An IRC channel's lines: questions, answers addressed by nick, follow-ups; deterministic. */
function channelLines(n: number, channel: string, seed: number): RawMessage[] {
  let s = seed;
  const r = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out: RawMessage[] = [];
  let at = T0;
  for (let i = 0; i < n; i++) {
    // Busy stretches with quiet hours between them (a line never answers one hours older).
    at += i % 25 === 0 ? 4 * 3600_000 : 5_000 + Math.floor(r() * 60_000);
    const nick = NICKS[Math.floor(r() * NICKS.length)]!;
    const prev = out.length ? out[Math.max(0, out.length - 1 - Math.floor(r() * 6))]! : null;
    const roll = r();
    const text =
      prev && roll < 0.5
        ? `${prev.author.name}: ${roll < 0.25 ? 'did you try clearing the cache first' : 'which version are you on, can you paste the logs'}`
        : roll < 0.8
          ? `anyone else seeing ${TOPICS[Math.floor(r() * TOPICS.length)]}?`
          : `thanks, that fixed it ${i}`;
    out.push({ externalId: `${channel}-${i}`, channel, channelName: channel, author: { id: nick, name: nick }, text, sentAt: at });
  }
  return out;
}

/** Two channels interleaved in time, cut into batches of `size`. */
function batches(size: number, from = 0, to = 400): RawMessage[][] {
  const all = [...channelLines(400, '#lumen', 7).slice(from, to), ...channelLines(400, '#lumen-dev', 11).slice(from, to)].sort((a, b) => a.sentAt - b.sentAt);
  const out: RawMessage[][] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
  return out;
}

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function open(path: string): Promise<{ app: App; sourceId: number }> {
  const app = await openApp({ db: path, redisUrl: null, configObject: parseConfig('') });
  apps.push(app);
  return { app, sourceId: await ensureSource(app.db, 'irc', 'irc', T0) };
}

/** Stores the batches, each one step behind its successor's prefetch when `ahead`; linked on this thread only when not. */
async function store(app: App, sourceId: number, parts: RawMessage[][], ahead: boolean): Promise<void> {
  const payload = (messages: RawMessage[]): IngestPayload => ({ sourceId, platform: 'irc', messages, normalizerVersion: 1 });
  let behind: IngestPayload | null = null;
  for (const part of parts) {
    const p = payload(part);
    if (ahead) prefetchIngest(app.ctx, p);
    if (behind) await runIngest(app.ctx, behind, { linkAhead: ahead });
    behind = p;
  }
  if (behind) await runIngest(app.ctx, behind, { linkAhead: ahead });
}

/** Stores the batches as a connector's pull hands them over (src/runner/pull.ts): in turn, each while the next one comes. */
async function pull(app: App, sourceId: number, parts: RawMessage[][]): Promise<void> {
  const turns = stageRunner(app).turns();
  for (const messages of parts) await turns.put({ sourceId, platform: 'irc', messages, normalizerVersion: 1 } satisfies IngestPayload);
  await turns.end();
}

/** Conversations as sorted lists of external ids (independent of row ids). */
async function threads(app: App): Promise<string[]> {
  const rows = await app.db.selectFrom('messages').select(['external_id', 'conversation_id']).execute();
  const byConv = new Map<number, string[]>();
  for (const r of rows) byConv.set(r.conversation_id!, [...(byConv.get(r.conversation_id!) ?? []), r.external_id]);
  return [...byConv.values()].map((ids) => ids.sort().join(' ')).sort();
}

describe('linking chat lines ahead on a helper thread', () => {
  it('threads a fresh channel exactly as linking here does, taking every batch from the helper', async () => {
    const here = await open(join(tempDir(), 'here.db'));
    await store(here.app, here.sourceId, batches(60), false);
    const ahead = await open(join(tempDir(), 'ahead.db'));
    await store(ahead.app, ahead.sourceId, batches(60), true);
    const expected = await threads(here.app);
    // The disentangler did link lines into many conversations (else the comparison would prove nothing).
    expect(expected.filter((t) => t.includes(' ')).length).toBeGreaterThan(30);
    expect(await threads(ahead.app)).toEqual(expected);
    const stats = ahead.app.services.ingest.linkAheadStats();
    expect(stats.missed).toBe(0);
    expect(stats.taken).toBeGreaterThanOrEqual(batches(60).length);
    expect(here.app.services.ingest.linkAheadStats().taken).toBe(0);
  });

  it("links a pull's batches on the helper while the store reads them, exactly as linking here does", async () => {
    const here = await open(join(tempDir(), 'here.db'));
    await store(here.app, here.sourceId, batches(60, 0, 100), false);
    await store(here.app, here.sourceId, batches(60, 100, 400), false);
    const pulled = await open(join(tempDir(), 'pull.db'));
    // Resumed: the store holds the channels' start (linked here), the helper is seeded, then used.
    await store(pulled.app, pulled.sourceId, batches(60, 0, 100), false);
    await pull(pulled.app, pulled.sourceId, batches(60, 100, 400));
    expect(await threads(pulled.app)).toEqual(await threads(here.app));
    const stats = pulled.app.services.ingest.linkAheadStats();
    expect(stats.taken).toBeGreaterThan(stats.missed);
    expect(here.app.services.ingest.linkAheadStats().taken).toBe(0);
  });

  it('continues a channel the store already holds: the helper is seeded from the store and then used', async () => {
    const dir = tempDir();
    const results: string[][] = [];
    const stats: Array<{ taken: number; missed: number }> = [];
    for (const ahead of [false, true]) {
      const path = join(dir, `${ahead}.db`);
      // A first process stored the channels' start; a second one imports the rest.
      const first = await open(path);
      await store(first.app, first.sourceId, batches(60, 0, 200), false);
      await first.app.close();
      apps.splice(apps.indexOf(first.app), 1);
      const second = await open(path);
      await store(second.app, second.sourceId, batches(60, 200, 400), ahead);
      results.push(await threads(second.app));
      stats.push(second.app.services.ingest.linkAheadStats());
    }
    expect(results[1]).toEqual(results[0]);
    // Missed at the start (the helper knew nothing of the stored lines), taken after the seed.
    expect(stats[1]!.missed).toBeGreaterThan(0);
    expect(stats[1]!.taken).toBeGreaterThan(stats[1]!.missed);
  });

  it('links here when a batch turns out to hold messages already stored (the lines differ from what was linked ahead)', async () => {
    const here = await open(join(tempDir(), 'here.db'));
    const ahead = await open(join(tempDir(), 'ahead.db'));
    const parts = batches(60);
    // Half of the third batch is stored before the import runs: the helper linked lines the store will not add.
    for (const s of [here, ahead])
      await runIngest(s.app.ctx, { sourceId: s.sourceId, platform: 'irc', messages: parts[2]!.slice(0, 30), normalizerVersion: 1 } satisfies IngestPayload, { linkAhead: false });
    await store(here.app, here.sourceId, parts, false);
    await store(ahead.app, ahead.sourceId, parts, true);
    expect(await threads(ahead.app)).toEqual(await threads(here.app));
    expect(ahead.app.services.ingest.linkAheadStats().missed).toBeGreaterThan(0);
  });

  it("a pull's page that fails to store stops the pull there, after the pages before it are stored", async () => {
    const { app, sourceId } = await open(join(tempDir(), 'turns.db'));
    const parts = batches(60, 0, 100);
    const turns = stageRunner(app).turns();
    await turns.put({ sourceId, platform: 'irc', messages: parts[0]!, normalizerVersion: 1 });
    await turns.put({ sourceId, platform: 'irc', messages: parts[1]!, normalizerVersion: 1 });
    // Not a valid page: storing it fails while the caller goes on to the next page.
    await turns.put({ sourceId, platform: 'irc', messages: [{ text: 'no id, no author' }], normalizerVersion: 1 } as unknown as IngestPayload);
    await expect(turns.put({ sourceId, platform: 'irc', messages: parts[2]!, normalizerVersion: 1 })).rejects.toThrow(/payload/);
    await turns.end();
    const stored = await app.db.selectFrom('messages').select('external_id').execute();
    expect(stored.map((r) => r.external_id).sort()).toEqual([...parts[0]!, ...parts[1]!].map((m) => m.externalId).sort());
  });
});
