// `gleaner serve`, `gleaner user add|list`, `gleaner token add`, and the web part of `gleaner demo`.
import { Command, Option } from 'commander';
import { openApp, type App } from '../app.js';
import { addUser, issueApiToken, randomToken } from '../web/auth.js';
import { buildWebApp } from '../web/app.js';
import { listUsers, ROLES, userByName, type Role } from '../store/web.js';
import { startDigestTimer } from '../digest/workflow.js';

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
export async function serveWeb(app: App, opts: { host: string; port: number }): Promise<void> {
  const web = buildWebApp(app);
  try {
    await web.listen({ host: opts.host, port: opts.port });
  } catch (err: unknown) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${opts.port} on ${opts.host} is in use; choose another with --port`, { cause: err });
    throw err;
  }
  // Without Redis, serve runs the weekly digest schedule itself (with Redis, BullMQ's job scheduler does).
  const digestTimer = app.queue.kind === 'inprocess' ? startDigestTimer(app.ctx) : null;
  const shown = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  console.log(`Gleaner web UI on http://${shown.includes(':') ? `[${shown}]` : shown}:${opts.port}/ (Ctrl-C stops it)`);
  await new Promise<void>((resolveStop) => {
    const stop = (sig: string) => {
      console.log(`\n${sig}: stopping the web server`);
      digestTimer?.stop();
      void web.close().then(() => resolveStop());
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** For `gleaner demo`: a demo admin with a generated password, then the UI on 127.0.0.1:8080. */
export async function serveDemo(app: App, port = 8080): Promise<void> {
  const password = randomToken(12);
  const name = (await userByName(app.db, 'demo')) ? `demo-${randomToken(3).toLowerCase().replace(/[^a-z0-9]/g, 'x')}` : 'demo';
  await addUser(app.db, name, 'admin', password, Date.now());
  console.log(`\nDemo account (admin): user ${name}, password ${password}`);
  await serveWeb(app, { host: '127.0.0.1', port });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
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

export function registerWebCommands(program: Command): void {
  program
    .command('serve')
    .description('serve the web UI (clusters, tag inbox, people, sources, digests, JSON API)')
    .option('-p, --port <n>', 'port (default: web.port in the config, 8080)', (v) => Number(v))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (opts: { port?: number; host: string }) => {
      await withWebApp(program, async (app) => {
        const port = opts.port ?? app.config.web.port;
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, not ${String(opts.port)}`);
        if ((await listUsers(app.db)).length === 0) console.log('No users yet: create one with `gleaner user add NAME --role admin`.');
        await serveWeb(app, { host: opts.host, port });
      });
    });

  const user = program.command('user').description('web UI accounts');
  user
    .command('add')
    .description('add a web UI account (password from a prompt on a terminal, or from stdin)')
    .argument('<name>')
    .addOption(new Option('--role <role>', 'what the account may do').choices([...ROLES]).makeOptionMandatory())
    .option('--password-stdin', 'read the password from stdin')
    .action(async (name: string, opts: { role: Role; passwordStdin?: boolean }) => {
      let password: string;
      if (opts.passwordStdin || !process.stdin.isTTY) password = await readStdin();
      else {
        password = await promptHidden(`Password for ${name}: `);
        const again = await promptHidden('Again: ');
        if (again !== password) throw new Error('the two passwords differ');
      }
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

  program
    .command('token')
    .description('API tokens for the JSON API')
    .command('add')
    .description('create an API token for a user (printed once; only its hash is stored)')
    .argument('<user>')
    .option('--name <name>', 'a label for the token', 'cli')
    .action(async (userName: string, opts: { name: string }) => {
      await withWebApp(program, async (app) => {
        const u = await userByName(app.db, userName);
        if (!u) throw new Error(`no user named ${userName}; add one with \`gleaner user add ${userName} --role viewer\``);
        const { token } = await issueApiToken(app.db, u.id, opts.name, Date.now());
        console.log(token);
      });
    });
}
