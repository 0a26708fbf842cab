// Shared by the benchmarks: peak memory, timing, `name: value` output, and a Redis to use.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function figure(name: string, value: number | string): void {
  console.log(`${name}: ${typeof value === 'number' ? (Number.isInteger(value) ? value : value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 3)) : value}`);
}

/** Peak resident set size of a process in MiB (VmHWM), this process by default. */
export function peakRssMb(pid: number | 'self' = 'self'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux, or the process is gone
  }
  return process.memoryUsage().rss / 1024 / 1024;
}

export function arg(args: string[], name: string, fallback: number): number {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const v = args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1];
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} takes a number`);
  return n;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(p));
    });
  });
}

/** REDIS_URL when set; otherwise a private redis-server on a free loopback port. */
export async function benchRedis(): Promise<{ url: string; stop(): void }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: () => {} };
  let bin: string;
  try {
    bin = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('the BullMQ benchmark needs redis-server (apt-get install -y redis-server) or REDIS_URL');
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-bench-redis-'));
  const child: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/** How to start one of our worker entry points: compiled JS when built, else TypeScript via tsx. */
export function workerCommand(name: string): { cmd: string; args: string[] } {
  const js = new URL(`../workers/${name}.js`, import.meta.url);
  if (existsSync(js)) return { cmd: process.execPath, args: [js.pathname] };
  return { cmd: process.execPath, args: ['--import', 'tsx', new URL(`../workers/${name}.ts`, import.meta.url).pathname] };
}

/** A small deterministic PRNG (mulberry32, the one the classifier's training uses). */
export { mulberry32 as rng } from '../src/pipeline/classify/linear.js';
