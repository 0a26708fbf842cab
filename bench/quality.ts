// npm run bench -- quality: every quality figure on ../shared/data, one `name: value` line each.
// Each part lives in bench/quality/<part>.ts and prints its own lines.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const parts = ['threads', 'dups', 'kind', 'clusters'];

export async function run(args: string[]): Promise<void> {
  const only = args.filter((a) => !a.startsWith('-'));
  const here = dirname(fileURLToPath(import.meta.url));
  for (const part of parts) {
    if (only.length && !only.includes(part)) continue;
    // Compiled (dist/) or run from source with tsx.
    if (!existsSync(join(here, 'quality', `${part}.js`)) && !existsSync(join(here, 'quality', `${part}.ts`))) continue;
    const mod = (await import(`./quality/${part}.js`)) as { run(args: string[]): Promise<void> };
    await mod.run(args);
  }
}
