// The connector contract: every connector, run against its fake (or real local server), must pass it.
// A connector's test file calls `connectorContract('slack', harness)`.
import { describe, expect, it, afterEach } from 'vitest';
import type { Connector, Skip } from '../../src/model/index.js';
import { isSkip } from '../../src/model/index.js';
import { ConnectorError } from '../../connectors/types.js';

/** What a fake must let the contract do. */
export interface FakeControl {
  /** Adds `count` human messages to the (first) channel; with `sameTimestamp`, all share one timestamp. Returns their external ids. */
  addMessages(count: number, opts?: { sameTimestamp?: boolean }): Promise<string[]> | string[];
  /** The next history request answers 429 with this delay (seconds). */
  rateLimitNext(retryAfterSeconds: number): void;
  /** From now on every request is refused as unauthenticated (a revoked token). */
  revokeAuth(): void;
}

export interface ConnectorUnderTest {
  connector: Connector<unknown>;
  fake: FakeControl;
  /** The page size the fake serves, so tests can put equal timestamps across a page edge. */
  pageSize: number;
  stop(): Promise<void>;
}

export interface ConnectorHarness {
  /** A fresh fake (or server) and a connector pointed at it. `opts.fresh` makes a new connector on the same fake. */
  start(): Promise<ConnectorUnderTest>;
  /** A new connector instance for the same fake (a restart after a kill). */
  reconnect(under: ConnectorUnderTest): Promise<Connector<unknown>> | Connector<unknown>;
  /** Extra wait the platform's client adds to a Retry-After (ms); default 0. */
  retrySlackMs?: number;
}

async function collect(conn: Connector<unknown>, from: unknown, opts: { maxPages?: number; signal?: AbortSignal } = {}): Promise<{ ids: string[]; cursor: unknown; pages: number; skipped: Skip[] }> {
  const ids: string[] = [];
  const skipped: Skip[] = [];
  let cursor = from;
  let pages = 0;
  const ac = new AbortController();
  const signal = opts.signal ?? ac.signal;
  for await (const page of conn.history(from, signal)) {
    for (const raw of page.items) {
      const m = await conn.normalize(raw, { source: 'contract' });
      if (isSkip(m)) skipped.push(m);
      else ids.push(m.externalId);
    }
    cursor = page.cursor;
    pages++;
    if (opts.maxPages && pages >= opts.maxPages) {
      ac.abort();
      break;
    }
  }
  return { ids, cursor: JSON.parse(JSON.stringify(cursor ?? null)) as unknown, pages, skipped };
}

const uniq = (xs: string[]) => [...new Set(xs)];

export function connectorContract(name: string, harness: ConnectorHarness): void {
  describe(`connector contract: ${name}`, () => {
    let under: ConnectorUnderTest | undefined;
    afterEach(async () => {
      await under?.stop();
      under = undefined;
    });

    it('history from nothing returns every message once', async () => {
      under = await harness.start();
      const added = await under.fake.addMessages(under.pageSize * 2 + 3);
      const got = await collect(under.connector, undefined);
      for (const id of added) expect(got.ids).toContain(id);
      expect(got.ids.length).toBe(uniq(got.ids).length);
    });

    it('resuming from a saved cursor after a kill gives no gap and no duplicate', async () => {
      under = await harness.start();
      const added = await under.fake.addMessages(under.pageSize * 3 + 1);
      const first = await collect(under.connector, undefined, { maxPages: 1 });
      expect(first.pages).toBe(1);
      const restarted = await harness.reconnect(under);
      const rest = await collect(restarted, first.cursor);
      const all = [...first.ids, ...rest.ids];
      for (const id of added) expect(all).toContain(id);
      expect(all.filter((id) => added.includes(id)).length).toBe(added.length);
      // Catching up again from the final cursor brings nothing old, and new messages arrive once.
      const more = await under.fake.addMessages(2);
      const again = await collect(restarted, rest.cursor);
      expect(again.ids.filter((id) => added.includes(id))).toEqual([]);
      expect(again.ids.filter((id) => more.includes(id)).sort()).toEqual([...more].sort());
    });

    it('equal timestamps at a page edge are neither lost nor repeated', async () => {
      under = await harness.start();
      await under.fake.addMessages(under.pageSize - 2);
      const same = await under.fake.addMessages(5, { sameTimestamp: true });
      const got = await collect(under.connector, undefined);
      for (const id of same) expect(got.ids.filter((x) => x === id)).toHaveLength(1);
      // and across a resume at that edge
      const first = await collect(await harness.reconnect(under), undefined, { maxPages: 1 });
      const rest = await collect(await harness.reconnect(under), first.cursor);
      const all = [...first.ids, ...rest.ids];
      for (const id of same) expect(all.filter((x) => x === id)).toHaveLength(1);
    });

    it('a 429 waits the given delay and loses nothing', async () => {
      under = await harness.start();
      const added = await under.fake.addMessages(under.pageSize + 2);
      under.fake.rateLimitNext(1);
      const t0 = Date.now();
      const got = await collect(under.connector, undefined);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
      for (const id of added) expect(got.ids).toContain(id);
    });

    it('abort is honoured', async () => {
      under = await harness.start();
      await under.fake.addMessages(under.pageSize * 2);
      under.fake.rateLimitNext(30);
      const ac = new AbortController();
      const t0 = Date.now();
      setTimeout(() => ac.abort(), 200);
      await collect(under.connector, undefined, { signal: ac.signal }).catch(() => undefined);
      expect(Date.now() - t0).toBeLessThan(10_000);
    });

    it('an auth error stops the source with a clear ConnectorError', async () => {
      under = await harness.start();
      await under.fake.addMessages(3);
      under.fake.revokeAuth();
      const err = await collect(under.connector, undefined).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectorError);
      expect((err as ConnectorError).kind).toBe('auth');
      expect((err as ConnectorError).message).toMatch(/auth|token|credential|password/i);
    });
  });
}
