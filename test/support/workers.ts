// Real worker processes for the scale and fault tests: spawned from the TypeScript entry points
// (workers/*.ts through tsx), killed at the end of the test file, waited on by condition (never by
// fixed sleeps).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export class WorkerProcesses {
  readonly children: ChildProcess[] = [];
  /** The last lines each worker wrote to stderr (its warnings and errors), for failure messages. */
  readonly logs = new Map<ChildProcess, string>();

  start(env: Record<string, string>, entry = 'workers/ingest.ts', args: string[] = []): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, GLEANER_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.logs.set(child, '');
    child.stderr?.on('data', (d: Buffer) => this.logs.set(child, ((this.logs.get(child) ?? '') + d.toString()).slice(-4000)));
    this.children.push(child);
    return child;
  }

  async kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** SIGTERM (graceful close), SIGKILL after 10 s. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
        await this.kill(c, 'SIGTERM');
        clearTimeout(timer);
      }),
    );
  }

  stderr(): string {
    return [...this.logs.values()].filter(Boolean).join('\n---\n');
  }
}

export async function until(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string, pollMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
