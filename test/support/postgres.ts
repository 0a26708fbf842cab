// A throwaway PostgreSQL server for the tests (initdb into a temp folder, fsync off, loopback only),
// and one fresh database per test file on it. GLEANER_TEST_PG_URL points the tests at an existing
// server instead (a role that may CREATE DATABASE).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { findBinary, freePort, stopProcess, type RunningServer } from './servers.js';

const PG_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/14/bin'];
const START_TIMEOUT_MS = 20_000;

/** root cannot run postgres: run it as the `postgres` OS user the Debian package creates. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('The tests run as root, and PostgreSQL refuses to run as root: create the postgres user (apt-get install -y postgresql does) or run the tests as another user');
  }
}

export interface StartingPostgres extends RunningServer {
  port: number;
  /** Resolves once the server accepts connections; rejects with the server's log when it cannot start. */
  ready: Promise<void>;
}

/**
 * Starts a server in the background: the URL is known at once, `ready` settles when it is up
 * (initdb takes 2 to 4 s here), so test files that never touch PostgreSQL do not wait for it.
 */
export async function startPostgres(): Promise<StartingPostgres> {
  const initdb = findBinary('initdb', 'postgresql', PG_DIRS);
  const postgres = findBinary('postgres', 'postgresql', PG_DIRS);
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  let log = '';
  const boot = async (): Promise<void> => {
    await run(initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], user);
    const args = [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ];
    child = spawn(postgres, args, { stdio: ['ignore', 'ignore', 'pipe'], ...user });
    child.stderr?.on('data', (d: Buffer) => {
      if (log.length < 20_000) log += d.toString();
    });
    await waitForPostgres(url, child);
  };
  const ready = boot().catch((err: unknown) => {
    throw new Error(`PostgreSQL for the tests did not start: ${(err as Error).message}\n${log}`, { cause: err });
  });
  ready.catch(() => undefined); // reported to whoever awaits it
  return {
    url,
    port,
    ready,
    stop: async () => {
      await ready.catch(() => undefined);
      if (child) await stopProcess(child, 'SIGINT'); // fast shutdown
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function run(bin: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], ...user });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${bin} exited with code ${code}: ${out}`))));
  });
}

async function waitForPostgres(url: string, child?: ChildProcess, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (err: unknown) {
      if (Date.now() > deadline) throw err;
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The server for the test run: GLEANER_TEST_PG_URL when set, else a fresh one. */
export async function testPostgres(): Promise<RunningServer & { ready: Promise<void> }> {
  const given = process.env.GLEANER_TEST_PG_URL;
  if (given) return { url: given, ready: Promise.resolve(), stop: async () => {} };
  return startPostgres();
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** `CREATE DATABASE test_<uuid>` on the server at `adminUrl`; `drop()` removes it (closing stray sessions). */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `test_${randomUUID().replace(/-/g, '')}`;
  try {
    await waitForPostgres(adminUrl, undefined, 30_000);
  } catch (err: unknown) {
    throw new Error(`the test PostgreSQL at ${adminUrl} is not reachable (${(err as Error).message}); see the test setup's output`, { cause: err });
  }
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Empties every table of the store (not the migration bookkeeping) and restarts ids: a clean slate between tests. */
export async function truncateAll(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      "SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely_migration%'",
    );
    if (rows.length) await client.query(`TRUNCATE ${rows.map((r) => r.name).join(', ')} RESTART IDENTITY CASCADE`);
  } finally {
    await client.end();
  }
}
