// Several processes opening one new SQLite file at the same moment: each migrates it or waits for the
// one that does; none fails with "table sources already exists" (issue 18, item 9).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/factories.js';
import { migrations } from '../../src/store/migrations/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PROCESSES = 6;
const ROUNDS = 3;

function openIn(path: string, go: string): { ready: Promise<void>; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/open-store.ts', path, go], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready')) ready();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
  return { ready: Promise.race([isReady, done.then(() => undefined)]), done };
}

describe('concurrent first start on SQLite', () => {
  it(`${PROCESSES} processes opening a new file at once all succeed, and it is migrated once`, async () => {
    const dir = tempDir('gleaner-concurrent-migrate-');
    for (let round = 0; round < ROUNDS; round++) {
      const path = join(dir, `store-${round}.db`);
      // Every child starts its migration at the same moment, once all have loaded.
      const go = join(dir, `go-${round}`);
      const children = Array.from({ length: PROCESSES }, () => openIn(path, go));
      await Promise.all(children.map((c) => c.ready));
      writeFileSync(go, '');
      const results = await Promise.all(children.map((c) => c.done));
      for (const r of results) expect({ code: r.code, err: r.err.trim() }).toEqual({ code: 0, err: '' });
      const db = new SQLite(path, { readonly: true });
      const names = (db.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name);
      db.close();
      expect(names).toEqual(Object.keys(migrations).sort());
    }
  }, 180_000);
});
