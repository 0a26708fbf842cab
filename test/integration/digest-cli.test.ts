// `gleaner digest` papercuts (issue 18): on an empty store it says nothing was imported and how to
// import, writing nothing; --week given with --from/--to is refused rather than silently winning.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/factories.js';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

async function gleaner(dir: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const config = join(dir, 'gleaner.yaml');
  writeFileSync(config, '');
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', '-c', config, '--db', join(dir, 'g.db'), ...args], {
      cwd: ROOT,
      env: { ...process.env, GLEANER_LOG_LEVEL: 'warn', REDIS_URL: '' },
      timeout: 120_000,
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (err: unknown) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

describe('gleaner digest', () => {
  it('on an empty store: says nothing was imported and how to import, writes no digest', async () => {
    const dir = tempDir('gleaner-digest-empty-');
    const out = join(dir, 'digest');
    const r = await gleaner(dir, 'digest', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toContain('nothing has been imported into');
    expect(r.err).toContain('gleaner import <files or folders>');
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it('--week with --from/--to is refused', async () => {
    const dir = tempDir('gleaner-digest-mix-');
    const out = join(dir, 'digest');
    const r = await gleaner(dir, 'digest', '--week', '2024-W10', '--from', '2024-03-04', '--to', '2024-03-10', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toContain('--week and --from/--to both say which period');
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
