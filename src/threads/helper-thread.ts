// Helper threads of the stages (detection, linking ahead): the compiled worker file beside this module
// (dist), or its TypeScript source under tsx / vitest, which the thread loads through tsx's loader.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SHARE_ENV, Worker } from 'node:worker_threads';

/** tsx's loader API as a URL (import.meta.resolve where there is one; vitest's transform has none). */
function tsxApi(): string {
  const meta = import.meta as ImportMeta & { resolve?: (s: string) => string };
  if (typeof meta.resolve === 'function') return meta.resolve('tsx/esm/api');
  // The package's ESM entry of that export, found through its package.json.
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  const exp = (JSON.parse(readFileSync(pkg, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default;
  return pathToFileURL(join(dirname(pkg), exp)).href;
}

/** The worker module `name` next to this file: `.js` when compiled, `.ts` under tsx or vitest. */
export function helperThreadFile(name: string): { url: string; ts: boolean } {
  const self = import.meta.url;
  const ts = self.endsWith('.ts');
  return { url: new URL(`./${name}.${ts ? 'ts' : 'js'}`, self).href, ts };
}

/** The path of the worker module `name`, and whether it is there (a build without it runs single-threaded). */
export function helperThreadPath(name: string): { path: string; present: boolean } {
  const path = fileURLToPath(helperThreadFile(name).url);
  return { path, present: existsSync(path) };
}

export function startHelperThread(name: string): Worker {
  const { url, ts } = helperThreadFile(name);
  if (!ts) return new Worker(new URL(url), { env: SHARE_ENV });
  // Under tsx or vitest the helper registers tsx's loader before importing the TypeScript source.
  // tsx is resolved here: an evaluated worker resolves bare names from the working directory.
  const boot = `import(${JSON.stringify(tsxApi())}).then((api) => { api.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(boot, { eval: true, env: SHARE_ENV });
}

/**
 * Stops a helper thread and waits for it to end. It is held (ref) first: the stages unref their idle
 * helpers, and an unref'd thread's exit would not keep the process waiting for the stop to finish.
 */
export async function stopHelperThread(worker: Worker): Promise<void> {
  worker.ref();
  await worker.terminate();
}
