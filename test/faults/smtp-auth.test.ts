// Upstream servers that refuse Gleaner's credentials, and echo them back:
// - a real SMTP server (smtp-server) refusing AUTH with a reply that quotes the AUTH PLAIN string and the
//   password: the connection is closed at once (it stayed open until the server's timeout: `digest approve`
//   printed its result and hung about two minutes; a long-running process leaked a socket per attempt), and
//   the edition's stored and printed error carries neither the password nor its base64;
// - a Discord API answering 401 with the bot token quoted: the source's stored last error and failure event
//   (shown in every digest footer) carry neither the token nor its base64.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { openApp } from '../../src/app.js';
import { parseConfig, type SourceConfig } from '../../src/config/index.js';
import { teamByName } from '../../src/digest/edition.js';
import { sendEdition } from '../../src/digest/send.js';
import { approveEdition, prepareEdition } from '../../src/digest/workflow.js';
import { pullSource } from '../../src/runner/pull.js';
import { getEdition } from '../../src/store/digests.js';
import { tempDir } from '../support/factories.js';
import { appWith, configYaml, seed, TEAMS, WEEK } from '../digest/support.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PASSWORD = 'Tr0ub4dor&3-horse-battery';
const PLAIN = Buffer.from(`\0gleaner\0${PASSWORD}`).toString('base64');

let smtp: SMTPServer;
let port = 0;
/** Sessions the server has open now. */
const open = new Set<string>();
const closedWaiters: Array<() => void> = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(session, cb) {
      open.add(session.id);
      cb();
    },
    onClose(session) {
      open.delete(session.id);
      for (const w of closedWaiters.splice(0)) w();
    },
    onAuth(auth, _session, cb) {
      // A careless server quoting what it got back to the client.
      const plain = Buffer.from(`\0${auth.username}\0${auth.password ?? ''}`).toString('base64');
      cb(Object.assign(new Error(`Authentication failed for AUTH PLAIN ${plain} (user ${auth.username}, password ${auth.password ?? ''})`), { responseCode: 535 }));
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  port = (smtp.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

/** Resolves when the server has no open session, or rejects after `ms` (well under the 120 s socket timeout). */
async function allClosed(ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (open.size) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`${open.size} SMTP session(s) still open ${ms} ms after the attempt`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      closedWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

const yaml = (p: number) => configYaml(p, TEAMS).replace(/smtp: \{ host: 127\.0\.0\.1, port: \d+,/, `smtp: { host: 127.0.0.1, port: ${p}, user: gleaner, password: "${PASSWORD}",`);

describe('an SMTP server refusing the login', () => {
  const apps: App[] = [];
  afterEach(async () => {
    while (apps.length) await apps.pop()!.close();
  });

  it('closes the connection at once, and the stored error carries neither the password nor AUTH PLAIN', async () => {
    const app = await appWith(yaml(port));
    apps.push(app);
    expect(app.config.smtp?.password).toBe(PASSWORD);
    await seed(app.db);
    const draft = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
    await approveEdition(app.ctx, draft.id, 'carol', { send: false });
    for (let attempt = 0; attempt < 3; attempt++) {
      const o = await sendEdition(app.ctx, draft.id);
      expect(o).toMatchObject({ status: 'failed', retryable: false });
      await allClosed(10_000);
      const error = (o as { error: string }).error;
      expect(error).toMatch(/535/);
      expect(error).toContain('AUTH PLAIN ***');
      expect(error).not.toContain(PASSWORD);
      expect(error).not.toContain(PLAIN);
      const e = await getEdition(app.db, draft.id);
      expect(e!.lastError).toBe(error);
      // Failed for good (a refused login): put it back to approved for the next attempt.
      await app.db.updateTable('digests').set({ status: 'approved' }).where('id', '=', draft.id).execute();
    }
  });

  it('`gleaner digest approve` prints the failure and exits (it hung two minutes)', async () => {
    const dir = tempDir('gleaner-smtp-auth-');
    writeFileSync(join(dir, 'gleaner.yaml'), yaml(port));
    const app = await appWith(yaml(port), { dbPath: join(dir, 'gleaner.db') });
    await seed(app.db);
    await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
    await app.close();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        "const { main } = await import('./src/cli/main.ts'); await main(process.argv);",
        'gleaner',
        '-c',
        join(dir, 'gleaner.yaml'),
        '--db',
        join(dir, 'gleaner.db'),
        'digest',
        'approve',
        '--team',
        'product',
        '--week',
        '2026-W48',
        '--by',
        'carol',
      ],
      { cwd: ROOT, env: { ...process.env, GLEANER_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // Start-up through tsx takes seconds on a busy machine; the hang was the 120 s socket timeout.
    const code = await new Promise<number | string>((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running after 60 s');
      }, 60_000);
      child.on('exit', (c, sig) => {
        clearTimeout(t);
        resolve(c ?? String(sig));
      });
    });
    expect(code).toBe(1);
    expect(out).toMatch(/approved/);
    expect(out).toMatch(/535/);
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain(PLAIN);
    await allClosed(10_000);
  }, 90_000);
});

describe('a Discord API quoting the bot token in its 401', () => {
  let api: Server | null = null;
  afterAll(async () => {
    api?.closeAllConnections();
    await new Promise((r) => (api ? api.close(r) : r(undefined)));
  });

  it('the source fails with an error that carries neither the token nor its base64', async () => {
    const token = 'MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.mnopqrstuvwxyzABCDEFGH0123456789';
    api = createServer((req, res) => {
      req.resume();
      const auth = req.headers.authorization ?? '';
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `401: Unauthorized: ${auth} (${Buffer.from(auth).toString('base64')}) is not valid`, code: 0 }));
    });
    await new Promise<void>((r) => api!.listen(0, '127.0.0.1', r));
    const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api`;
    const cfg = { name: 'community-discord', platform: 'discord', enabled: true, token, guildId: '1', apiUrl, retries: 0 } as SourceConfig;
    const app = await openApp({ db: join(tempDir(), 'g.db'), redisUrl: null, configObject: parseConfig('{}') });
    try {
      const r = await pullSource(app, cfg, new AbortController().signal);
      expect(r.error).toMatch(/401|nauthori[sz]ed|token/i);
      const source = await app.db.selectFrom('sources').select(['last_error', 'status']).executeTakeFirstOrThrow();
      const events = await app.db.selectFrom('source_events').select('detail').execute();
      const shown = [r.error ?? '', source.last_error ?? '', ...events.map((e) => e.detail ?? '')];
      expect(source.status).toBe('error');
      expect(events.length).toBeGreaterThan(0);
      for (const text of shown) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(Buffer.from(token).toString('base64').slice(8, 40));
        expect(text).not.toContain(token.slice(0, 24));
      }
    } finally {
      await app.close();
    }
  });
});
