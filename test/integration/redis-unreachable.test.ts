// `import` with a REDIS_URL nobody answers on fails within a bounded time, naming the URL with its
// password redacted (issue 18, item 12); it used to wait for ever with no output.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/factories.js';

const ROOT = join(import.meta.dirname, '..', '..');
const sockets: Socket[] = [];
const servers: Server[] = [];

async function listen(onConnection: (s: Socket) => void): Promise<number> {
  const server = createServer((s) => {
    sockets.push(s);
    onConnection(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on: listened on, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function runImport(redisUrl: string): Promise<{ code: number | null; out: string; err: string }> {
  const dir = tempDir('gleaner-redis-down-');
  const mbox = join(dir, 'one.mbox');
  writeFileSync(mbox, 'From a@example.org Mon Jan  8 10:00:00 2024\nFrom: A <a@example.org>\nSubject: hi\nDate: Mon, 08 Jan 2024 10:00:00 +0000\nMessage-ID: <x1@example.org>\n\nhello\n\n');
  writeFileSync(join(dir, 'gleaner.yaml'), '');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', '-c', join(dir, 'gleaner.yaml'), '--db', join(dir, 'g.db'), 'import', mbox], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redisUrl, GLEANER_REDIS_CONNECT_TIMEOUT_MS: '2000', GLEANER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
  // Bounded: a hang is a failure, not a test that never ends.
  const hung = new Promise<never>((_, reject) =>
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`import still running after 90 s; stderr so far: ${err}`));
    }, 90_000).unref(),
  );
  return Promise.race([exited, hung]);
}

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe('import with an unreachable REDIS_URL', () => {
  it('a refused connection: fails naming the URL, password redacted', async () => {
    const port = await closedPort();
    const r = await runImport(`redis://gleaner:s3cret-pw@127.0.0.1:${port}`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot reach Redis at redis://gleaner:***@127.0.0.1:${port} within 2 s`);
    expect(r.err + r.out).not.toContain('s3cret-pw');
  }, 120_000);

  it('a server that accepts and never answers: fails too', async () => {
    const port = await listen(() => undefined);
    const r = await runImport(`redis://:only-a-password@127.0.0.1:${port}/0`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot reach Redis at redis://:***@127.0.0.1:${port}/0 within 2 s`);
    expect(r.err + r.out).not.toContain('only-a-password');
  }, 120_000);
});
