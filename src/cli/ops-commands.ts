// `gleaner metrics --port N`: a small standalone server for Prometheus: GET /metrics renders the text
// exposition from the store and the queue (src/ops/metrics.ts); GET /healthz answers ok. For
// installations that scrape workers' hosts rather than the web app.
import { createServer } from 'node:http';
import { Command, Option } from 'commander';
import { openApp } from '../app.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../ops/metrics.js';

interface GlobalOpts {
  config?: string;
  db?: string;
}

export function registerOpsCommands(program: Command): void {
  program
    .command('metrics')
    .description('serve Prometheus metrics (queue depths, job durations, messages per source, errors, last pull per source) on /metrics')
    .addOption(
      new Option('--port <n>', 'port to listen on').default('9464').argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port takes a port number, not ${v}`);
        return String(n);
      }),
    )
    .option('--host <host>', 'address to listen on (0.0.0.0 for a scraper on another machine)', '127.0.0.1')
    .action(async (opts: { port: string; host: string }) => {
      const g = program.opts<GlobalOpts>();
      const app = await openApp({ config: g.config, db: g.db });
      const server = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        if (req.method !== 'GET') {
          res.writeHead(405, { allow: 'GET' }).end();
          return;
        }
        if (path === '/healthz') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
          return;
        }
        if (path !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
          return;
        }
        renderMetrics(app).then(
          (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
          (err: unknown) => {
            app.log.error({ err: (err as Error).message }, 'metrics could not be rendered');
            res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${(err as Error).message}\n`);
          },
        );
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(err.code === 'EADDRINUSE' ? new Error(`port ${opts.port} on ${opts.host} is in use; choose another with --port`, { cause: err }) : err),
        );
        server.listen(Number(opts.port), opts.host, resolve);
      });
      console.log(`Gleaner metrics on http://${opts.host}:${opts.port}/metrics (Ctrl-C stops it)`);
      await new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await app.close();
    });
}
