// Helper threads of the stages (detection, linking ahead): the compiled worker file beside this module
// (dist), or its TypeScript source under tsx / vitest, which the thread loads through tsx's loader.
import { SHARE_ENV, Worker } from 'node:worker_threads';

/** The worker module `name` next to this file: `.js` when compiled, `.ts` under tsx or vitest. */
export function helperThreadFile(name: string): { url: string; ts: boolean } {
  const self = import.meta.url;
  const ts = self.endsWith('.ts');
  return { url: new URL(`./${name}.${ts ? 'ts' : 'js'}`, self).href, ts };
}

export function startHelperThread(name: string): Worker {
  const { url, ts } = helperThreadFile(name);
  if (!ts) return new Worker(new URL(url), { env: SHARE_ENV });
  // Under tsx or vitest the helper registers tsx's loader before importing the TypeScript source.
  const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(boot, { eval: true, env: SHARE_ENV });
}
