// A pull stores each page while it fetches the next (src/runner/pull.ts): the pages come out stored in
// order, with their cursor, and a pull that fails after reading some pages keeps them, so the next pull
// goes on after the last one stored.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApp, type App } from '../../src/app.js';
import { parseConfig, type SourceConfig } from '../../src/config/index.js';
import { definitions } from '../../connectors/index.js';
import { ConnectorError } from '../../connectors/types.js';
import { CURSOR_KEY, pullSource } from '../../src/runner/pull.js';
import { getCheckpoint } from '../../src/store/queries.js';
import type { RawMessage } from '../../src/model/index.js';
import { tempDir } from '../support/factories.js';

const T0 = Date.UTC(2026, 9, 5, 9);
const PAGES = 6;
const PER_PAGE = 25;

function page(p: number): RawMessage[] {
  return Array.from({ length: PER_PAGE }, (_, i) => {
    const n = p * PER_PAGE + i;
    return {
      externalId: `m${n}`,
      channel: '#help',
      channelName: '#help',
      author: { id: `u${n % 7}`, name: `user${n % 7}` },
      text: `line ${n} about the export`,
      sentAt: T0 + n * 60_000,
      threadId: `t${Math.floor(n / 5)}`,
    };
  });
}

const saved = definitions.irc;
const apps: App[] = [];
afterEach(async () => {
  definitions.irc = saved;
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** A connector whose history hands out pages from the cursor on, failing (a network error) before page `failAt` when given, each page after a short wait as a network fetch would. */
function fakeConnector(failAt: number | null): void {
  definitions.irc = {
    platform: 'irc',
    configSchema: z.object({}).passthrough(),
    secretKeys: [],
    create: () => ({
      platform: 'irc',
      capabilities: { history: true, live: false, edits: false, threads: true },
      async *history(from: unknown) {
        for (let p = typeof from === 'number' ? from + 1 : 0; p < PAGES; p++) {
          await new Promise((r) => setTimeout(r, 5));
          if (p === failAt) {
            failAt = null; // once
            throw new ConnectorError('net', 'connection reset', 'fake');
          }
          yield { items: page(p), cursor: p };
        }
      },
      normalize: (raw: unknown) => raw as RawMessage,
    }),
  };
}

describe('a pull stores its pages in turn', () => {
  it('stores every page in order with its cursor, and a failed pull keeps the pages it read', async () => {
    const app = await openApp({ db: join(tempDir(), 'turns.db'), redisUrl: null, configObject: parseConfig('') });
    apps.push(app);
    const cfg = { name: 'fake', platform: 'irc', enabled: true } as SourceConfig;
    fakeConnector(3);
    const first = await pullSource(app, cfg, new AbortController().signal);
    expect(first.error).toMatch(/connection reset/);
    expect(first.pages).toBe(3);
    const ids = async () => (await app.db.selectFrom('messages').select('external_id').execute()).map((r) => r.external_id).sort();
    // Pages 0-2 were read before the failure: all stored, and the cursor is page 2's.
    expect(await ids()).toEqual(
      [0, 1, 2]
        .flatMap(page)
        .map((m) => m.externalId)
        .sort(),
    );
    const source = await app.db.selectFrom('sources').select('id').where('name', '=', 'fake').executeTakeFirstOrThrow();
    expect(await getCheckpoint(app.db, source.id, CURSOR_KEY)).toBe('2');
    // The next pull goes on after page 2 and ends cleanly.
    const second = await pullSource(app, cfg, new AbortController().signal);
    expect(second.error).toBeNull();
    expect(second.pages).toBe(PAGES - 3);
    expect(await ids()).toEqual(
      Array.from({ length: PAGES }, (_, p) => page(p))
        .flat()
        .map((m) => m.externalId)
        .sort(),
    );
    expect(await getCheckpoint(app.db, source.id, CURSOR_KEY)).toBe(String(PAGES - 1));
    // Threads across page boundaries are whole (pages were stored in order).
    const convs = await app.db.selectFrom('messages').select(['conversation_id']).distinct().execute();
    expect(convs.length).toBe((PAGES * PER_PAGE) / 5);
  });
});
