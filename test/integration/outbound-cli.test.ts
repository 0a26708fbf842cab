// `gleaner push`, `gleaner trackers`, `gleaner sync` and `gleaner webhooks` as a user runs them: the
// issue's URL printed, a refused token shown coded (and not the token), deliveries listed, a ping sent.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeGithub } from '../fakes/github.js';
import { appWith, configYaml, seed } from '../digest/support.js';
import { tempDir } from '../support/factories.js';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function gleaner(dir: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', '-c', join(dir, 'gleaner.yaml'), '--db', join(dir, 'g.db'), ...args], {
      cwd: ROOT,
      env: { ...process.env, GLEANER_LOG_LEVEL: 'silent', REDIS_URL: '' },
      timeout: 120_000,
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e: unknown) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

let gh: FakeGithub;
let hook: Server;
let hookUrl = '';
const seen: string[] = [];
beforeAll(async () => {
  gh = await FakeGithub.start();
  hook = createServer((req, res) => {
    seen.push(String(req.headers['x-gleaner-event']));
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await gh.stop();
  hook.closeAllConnections();
  await new Promise((r) => hook.close(r));
});

it('push prints the URL, trackers shows a refused token coded, webhooks test and deliveries', async () => {
  const dir = tempDir('gleaner-outcli-');
  const tokenFile = join(dir, 'gh-token');
  writeFileSync(tokenFile, `${gh.token}\n`);
  const yaml = configYaml(
    1,
    `
trackers:
  - { name: gh, type: github, baseUrl: "${gh.url}", repo: driftwood/driftwood, token_FILE: "${tokenFile}", retries: 0 }
webhooks:
  - { name: bot, url: "${hookUrl}", secret: "whsec-cli-test-secret", events: [cluster.resolved] }
`,
  );
  writeFileSync(join(dir, 'gleaner.yaml'), yaml);
  const app = await appWith(yaml, { dbPath: join(dir, 'g.db') });
  const c = await seed(app.db);
  await app.close();

  const pushed = await gleaner(dir, 'push', String(c.csv), '--tracker', 'gh');
  expect(pushed.code).toBe(0);
  expect(pushed.out.trim()).toBe('https://github.com/driftwood/driftwood/issues/1');
  expect(pushed.err).toContain('created driftwood/driftwood#1');

  gh.closeIssue('driftwood/driftwood', 1, { commit: 'cafe0000beef1111' });
  const synced = await gleaner(dir, 'sync');
  expect(synced.out).toContain(`cluster ${c.csv} resolved (gh driftwood/driftwood#1: driftwood/driftwood@cafe000)`);
  expect(seen).toEqual(['cluster.resolved']);

  const token = gh.token;
  gh.revokeAuth();
  const refused = await gleaner(dir, 'push', String(c.dark), '--tracker', 'gh');
  expect(refused.code).toBe(1);
  expect(refused.err).toMatch(/tracker gh: the token was refused \(401\)/);
  const listed = await gleaner(dir, 'trackers');
  expect(listed.code).toBe(1);
  expect(listed.out).toMatch(/gh \(github driftwood\/driftwood\): 1 issues, 0 open, 1 closed\n {2}error \[tracker_auth\]: tracker gh: the token was refused \(401\)/);
  expect(listed.out + listed.err).not.toContain(token);

  const ping = await gleaner(dir, 'webhooks', 'test', 'bot');
  expect(ping.out).toMatch(/^ping [0-9a-f-]{36} delivered \(HTTP 200\)/);
  const deliveries = await gleaner(dir, 'webhooks', 'deliveries');
  expect(deliveries.out).toMatch(/bot ping delivered tries=1 http=200/);
  expect(deliveries.out).toMatch(/bot cluster\.resolved delivered tries=1 http=200/);
}, 180_000);
