// `gleaner serve`, `gleaner user add|list|passwd|disable|enable|remove|role`, `gleaner token add|list|revoke`,
// and the web part of `gleaner demo`.
import { Argument, Command, Option } from 'commander';
import { openApp, type App } from '../app.js';
import { addUser, changePassword, issueApiToken, randomToken } from '../web/auth.js';
import { buildWebApp } from '../web/app.js';
import { isTrustedProxy } from '../config/index.js';
import { listAllApiTokens, listUsers, removeUser, revokeApiToken, setUserDisabled, setUserRole, userByName } from '../store/web/accounts.js';
import { ROLES, type Role } from '../store/web/tables.js';
import { startDigestTimer } from '../digest/workflow.js';
import { startOutboundTimers } from '../outbound-jobs.js';

interface GlobalOpts {
  config?: string;
  db?: string;
}

async function withWebApp<T>(program: Command, fn: (app: App) => Promise<T>): Promise<T> {
  const g = program.opts<GlobalOpts>();
  const app = await openApp({ config: g.config, db: g.db });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** Serves the web UI until SIGINT/SIGTERM, then closes the server with grace. */
export async function serveWeb(app: App, opts: { host: string; port: number; trustProxy?: string[] }): Promise<void> {
  const web = buildWebApp(app, { trustProxy: opts.trustProxy });
  try {
    await web.listen({ host: opts.host, port: opts.port });
  } catch (err: unknown) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${opts.port} on ${opts.host} is in use; choose another with --port`, { cause: err });
    throw err;
  }
  // When schedules do not outlive a process (no Redis), serve runs the weekly digest schedule itself
  // (with Redis, BullMQ's job scheduler registered by the workers does).
  const digestTimer = app.queue.durableSchedules ? null : startDigestTimer(app.ctx);
  const outboundTimers = app.queue.durableSchedules ? null : startOutboundTimers(app.ctx);
  const shown = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  console.log(`Gleaner web UI on http://${shown.includes(':') ? `[${shown}]` : shown}:${opts.port}/ (Ctrl-C stops it)`);
  await new Promise<void>((resolveStop) => {
    const stop = (sig: string) => {
      console.log(`\n${sig}: stopping the web server`);
      digestTimer?.stop();
      outboundTimers?.stop();
      void web.close().then(() => resolveStop());
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** For `gleaner demo`: a demo admin with a generated password, then the UI (127.0.0.1:8080 by default). */
export async function serveDemo(app: App, opts: { host?: string; port?: number } = {}): Promise<void> {
  const port = opts.port ?? 8080;
  const host = opts.host ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, not ${String(opts.port)}`);
  const password = randomToken(12);
  const name = (await userByName(app.db, 'demo'))
    ? `demo-${randomToken(3)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x')}`
    : 'demo';
  await addUser(app.db, name, 'admin', password, Date.now());
  console.log(`\nDemo account (admin): user ${name}, password ${password}`);
  await serveWeb(app, { host, port });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stdout.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let buf = '';
    const cleanup = () => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stdout.write('\n');
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          cleanup();
          resolve(buf);
          return;
        }
        if (ch === '\u0003') {
          cleanup();
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** `--port` as a number (commander hands over the text). */
export function portOption(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new Error(`--port must be a number 0..65535, not ${JSON.stringify(v)}`);
  return n;
}

function trustProxyOption(v: string): string[] {
  const list = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = list.filter((x) => !isTrustedProxy(x));
  if (!list.length || bad.length) throw new Error(`--trust-proxy takes proxy addresses or CIDR ranges separated by commas (e.g. 127.0.0.1,10.0.0.0/8), not ${JSON.stringify(bad[0] ?? v)}`);
  return list;
}

/** A new password: from stdin with --password-stdin, else typed twice at a terminal. */
async function newPassword(name: string, fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) return readStdin();
  if (!process.stdin.isTTY)
    throw new Error(`there is no terminal to type the password of ${name} in; pipe it in with --password-stdin (e.g. \`printf '%s\\n' "$PASSWORD" | gleaner user ... --password-stdin\`)`);
  const password = await promptHidden(`Password for ${name}: `);
  const again = await promptHidden('Again: ');
  if (again !== password) throw new Error('the two passwords differ');
  return password;
}

async function needUser(app: App, name: string): Promise<{ id: number; name: string; role: Role; disabled: boolean }> {
  const u = await userByName(app.db, name);
  if (!u) throw new Error(`no user named ${name} (\`gleaner user list\` shows them)`);
  return u;
}

export function registerWebCommands(program: Command): void {
  program
    .command('serve')
    .description('serve the web UI (clusters, tag inbox, people, sources, digests, JSON API)')
    .option('-p, --port <n>', 'port (default: web.port in the config, 8080)', portOption)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--trust-proxy <addresses>', 'reverse proxies whose X-Forwarded-For is believed, comma-separated (default: web.trustProxy in the config)', trustProxyOption)
    .action(async (opts: { port?: number; host: string; trustProxy?: string[] }) => {
      await withWebApp(program, async (app) => {
        const port = opts.port ?? app.config.web.port;
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, not ${String(opts.port)}`);
        if ((await listUsers(app.db)).length === 0) console.log('No users yet: create one with `gleaner user add NAME --role admin`.');
        await serveWeb(app, { host: opts.host, port, trustProxy: opts.trustProxy });
      });
    });

  const user = program.command('user').description('web UI accounts');
  user
    .command('add')
    .description('add a web UI account (password typed at a terminal, or from stdin with --password-stdin)')
    .argument('<name>')
    .addOption(new Option('--role <role>', 'what the account may do').choices([...ROLES]).makeOptionMandatory())
    .option('--password-stdin', 'read the password from stdin')
    .action(async (name: string, opts: { role: Role; passwordStdin?: boolean }) => {
      const password = await newPassword(name, opts.passwordStdin);
      await withWebApp(program, async (app) => {
        const u = await addUser(app.db, name, opts.role, password, Date.now());
        console.log(`added ${u.name} (${u.role})`);
      });
    });
  user
    .command('list')
    .description('list web UI accounts')
    .action(async () => {
      await withWebApp(program, async (app) => {
        for (const u of await listUsers(app.db)) console.log(`${u.name}\t${u.role}${u.disabled ? '\tdisabled' : ''}`);
      });
    });
  user
    .command('passwd')
    .description("set a user's password; their sessions and API tokens end at once")
    .argument('<name>')
    .option('--password-stdin', 'read the password from stdin')
    .action(async (name: string, opts: { passwordStdin?: boolean }) => {
      await withWebApp(program, async (app) => {
        const u = await needUser(app, name);
        await changePassword(app.db, u.id, await newPassword(name, opts.passwordStdin), Date.now());
        console.log(`password of ${u.name} changed; their sessions and API tokens ended`);
      });
    });
  user
    .command('disable')
    .description('disable a user: they cannot log in, their sessions and API tokens end at once')
    .argument('<name>')
    .action(async (name: string) => {
      await withWebApp(program, async (app) => {
        const u = await needUser(app, name);
        await setUserDisabled(app.db, u.id, true, Date.now());
        console.log(`disabled ${u.name}; their sessions and API tokens ended`);
      });
    });
  user
    .command('enable')
    .description('enable a disabled user again (their old API tokens stay revoked)')
    .argument('<name>')
    .action(async (name: string) => {
      await withWebApp(program, async (app) => {
        const u = await needUser(app, name);
        await setUserDisabled(app.db, u.id, false, Date.now());
        console.log(`enabled ${u.name}`);
      });
    });
  user
    .command('remove')
    .description('remove a user with their sessions and API tokens (what they did stays, under their name)')
    .argument('<name>')
    .action(async (name: string) => {
      await withWebApp(program, async (app) => {
        const u = await needUser(app, name);
        await removeUser(app.db, u.id);
        console.log(`removed ${u.name}`);
      });
    });
  user
    .command('role')
    .description("change a user's role")
    .argument('<name>')
    .addArgument(new Argument('<role>').choices([...ROLES]))
    .action(async (name: string, role: Role) => {
      await withWebApp(program, async (app) => {
        const u = await needUser(app, name);
        await setUserRole(app.db, u.id, role);
        console.log(`${u.name} is now ${role}`);
      });
    });

  const token = program.command('token').description('API tokens for the JSON API');
  token
    .command('add')
    .description('create an API token for a user (printed once; only its hash is stored)')
    .argument('<user>')
    .option('--name <name>', 'a label for the token', 'cli')
    .action(async (userName: string, opts: { name: string }) => {
      await withWebApp(program, async (app) => {
        const u = await userByName(app.db, userName);
        if (!u) throw new Error(`no user named ${userName}; add one with \`gleaner user add ${userName} --role viewer\``);
        const { token: t } = await issueApiToken(app.db, u.id, opts.name, Date.now());
        console.log(t);
      });
    });
  token
    .command('list')
    .description("list API tokens (every user's, or one user's): id, user, name, created, last used, state")
    .argument('[user]')
    .action(async (userName: string | undefined) => {
      await withWebApp(program, async (app) => {
        if (userName !== undefined) await needUser(app, userName);
        const iso = (t: number | null) => (t == null ? 'never' : new Date(t).toISOString().slice(0, 16).replace('T', ' '));
        for (const t of await listAllApiTokens(app.db)) {
          if (userName !== undefined && t.userName !== userName) continue;
          console.log(`${t.id}\t${t.userName}\t${t.name}\tcreated ${iso(t.createdAt)}\tlast used ${iso(t.lastUsedAt)}\t${t.revoked ? 'revoked' : 'active'}`);
        }
      });
    });
  token
    .command('revoke')
    .description('revoke an API token by its id (see `gleaner token list`)')
    .argument('<id>')
    .action(async (id: string) => {
      if (!/^\d+$/.test(id)) throw new Error(`a token id is a number (see \`gleaner token list\`), not ${JSON.stringify(id)}`);
      await withWebApp(program, async (app) => {
        await revokeApiToken(app.db, null, Number(id), Date.now());
        console.log(`revoked token ${id}`);
      });
    });
}
