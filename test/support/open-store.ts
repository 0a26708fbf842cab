// A child process for test/integration/concurrent-migrate.test.ts: loads, says "ready", waits until the
// file `go` exists, then opens (and so migrates) the store at `path`, and says "opened".
import { existsSync } from 'node:fs';
import { openDb } from '../../src/store/db.js';

const [path, go] = process.argv.slice(2);
process.stdout.write('ready\n');
while (!existsSync(go!)) await new Promise((r) => setTimeout(r, 2));
try {
  const store = await openDb(path!);
  await store.close();
  process.stdout.write('opened\n');
} catch (err: unknown) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
}
