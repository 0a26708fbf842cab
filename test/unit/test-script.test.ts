// The README's test command itself (scripts/test.js, `npm test`):
// - its closing line counts a suite whose hook threw and a file that could not load as failures (it said
//   "0 failed" while three suites had failed), and the run exits non-zero;
// - on a machine without the Debian packages the tests start, run by a user who cannot install them, it
//   stops before vitest with the exact apt-get command (as root with apt-get it installs them itself).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/factories.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('scripts/test.js', () => {
  it('counts failed suites and files in its closing line and exits non-zero', () => {
    const out = tempDir('gleaner-test-script-');
    const r = spawnSync(process.execPath, ['scripts/test.js', '--config', 'test/fixtures/runner/vitest.config.ts'], {
      cwd: ROOT,
      env: { ...process.env, GLEANER_SKIP_TEST_DEPS: '1', GLEANER_TEST_OUTPUT_DIR: out },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('tests: 2 passed, 2 failed, 1 skipped (3 suites failed)');
    expect(r.stdout).toMatch(/failed without a failing test: .*hook-fails\.fixture\.ts/);
    expect(r.stdout).toMatch(/failed without a failing test: .*import-fails\.fixture\.ts \(the fixture file fails while loading\)/);
    expect(r.status).toBe(1);
  }, 150_000);

  it.skipIf(process.getuid?.() !== 0)('without the packages and without root, stops with the exact apt-get command', () => {
    // A PATH with only sh, id and apt-get: none of the servers is found. Run as `nobody`: not allowed to install.
    const dir = tempDir('gleaner-test-path-');
    chmodSync(dir, 0o755);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const name of ['sh', 'id', 'apt-get']) symlinkSync(spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim(), join(bin, name));
    const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    const r = spawnSync(process.execPath, ['scripts/test.js'], {
      cwd: ROOT,
      uid: nobody,
      gid: nobody,
      env: { PATH: bin, HOME: '/tmp' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toContain('The tests need Debian packages that are not installed:');
    expect(r.stderr).toContain('  redis-server: Redis for the queue tests');
    // PostgreSQL, Dovecot, ngircd and Chromium are found at their Debian paths too, whatever the PATH.
    const pg = [14, 15, 16, 17].some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`) && existsSync(`/usr/lib/postgresql/${v}/bin/postgres`));
    const missing = [
      'redis-server',
      ...(pg ? [] : ['postgresql']),
      ...(existsSync('/usr/sbin/dovecot') ? [] : ['dovecot-imapd']),
      ...(existsSync('/usr/sbin/ngircd') ? [] : ['ngircd']),
      ...(existsSync('/usr/bin/chromium') ? [] : ['chromium']),
    ];
    expect(r.stderr).toContain(`  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}'`);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('tests: not run (missing Debian packages)');
    expect(r.status).toBe(1);
  });
});
