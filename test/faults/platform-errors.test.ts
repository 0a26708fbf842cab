// The platform answers 500s and 429s for a while: a proxy in front of the Slack fake fails some of
// the history calls, then lets everything through. Pulls continue from the saved cursor until one
// ends cleanly; every message is stored exactly once.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openApp } from '../../src/app.js';
import { parseConfig, type SourceConfig } from '../../src/config/index.js';
import { pullSource } from '../../src/runner/pull.js';
import { FakeSlack } from '../fakes/slack.js';
import { tempDir } from '../support/factories.js';

const MESSAGES = 240;
let proxy: Server | null = null;
let fake: FakeSlack | null = null;

afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
  await fake?.stop();
});

/** Forwards to `target`; `fault(n, method)` may answer the n-th request itself. */
async function faultyProxy(
  target: string,
  fault: (n: number, method: string) => { status: number; headers?: Record<string, string> } | null,
): Promise<{ url: string; faults: Record<number, number> }> {
  const t = new URL(target);
  const faults: Record<number, number> = {};
  let n = 0;
  proxy = createServer((req, res) => {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const f = fault(++n, method);
    if (f) {
      faults[f.status] = (faults[f.status] ?? 0) + 1;
      req.resume();
      res.writeHead(f.status, { 'content-type': 'application/json', ...f.headers });
      res.end(JSON.stringify({ ok: false, error: f.status === 429 ? 'ratelimited' : 'internal_error' }));
      return;
    }
    const up = request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api/`, faults };
}

describe('platform answers 500s and 429s for a while', () => {
  it('the pull completes with every message once', async () => {
    fake = await FakeSlack.start();
    const ch = fake.addChannel({ name: 'help' });
    fake.addUser({ id: 'U1', name: 'priya', real_name: 'Priya' });
    fake.addUser({ id: 'U2', name: 'sam', real_name: 'Sam' });
    const t0 = Math.floor(Date.UTC(2024, 8, 1) / 1000);
    for (let i = 0; i < MESSAGES; i++) {
      const ts = `${t0 + i * 60}.000100`;
      if (i % 6 === 0 || i < 6) fake.post(ch.id, { user: `U${1 + (i % 2)}`, text: `question ${i.toString(36)} about exports`, ts });
      else fake.reply(ch.id, `${t0 + (i - (i % 6)) * 60}.000100`, { user: `U${1 + (i % 2)}`, text: `answer ${i.toString(36)}`, ts });
    }
    // History calls 2-4: 500s; 6: 429 (Retry-After 1 s); 9-10: 500s; 12: 429; all others pass.
    const plan = new Map<number, number>([
      [2, 500],
      [3, 500],
      [4, 500],
      [6, 429],
      [9, 500],
      [10, 500],
      [12, 429],
    ]);
    let historyCalls = 0;
    const { url, faults } = await faultyProxy(fake.url, (_n, method) => {
      if (!method.startsWith('conversations.')) return null;
      const status = plan.get(++historyCalls);
      const headers: Record<string, string> = status === 429 ? { 'retry-after': '1' } : {};
      return status ? { status, headers } : null;
    });

    const app = await openApp({ db: join(tempDir(), 'platform.db'), redisUrl: null, configObject: parseConfig('') });
    const cfg = { name: 'slack', platform: 'slack', enabled: true, token: fake.token, apiUrl: url, pageSize: 20, retries: 1, recheckHours: 0, threadWindowDays: 0 } as SourceConfig;
    const errors: string[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      const r = await pullSource(app, cfg, new AbortController().signal);
      if (!r.error) break;
      errors.push(r.error);
    }
    expect(faults[500]).toBeGreaterThan(0);
    expect(faults[429]).toBeGreaterThan(0);
    const sources = await app.db.selectFrom('sources').select(['last_error']).execute();
    expect(sources.map((s) => s.last_error)).toEqual([null]); // the last pull ended cleanly

    const rows = await app.db.selectFrom('messages').select(['external_id']).execute();
    expect(rows.length).toBe(MESSAGES);
    expect(new Set(rows.map((r) => r.external_id)).size).toBe(MESSAGES);
    const sizes = await app.db.selectFrom('conversations').select('message_count').execute();
    expect(sizes.reduce((a, s) => a + s.message_count, 0)).toBe(MESSAGES);
    await app.close();
  }, 120_000);
});
