// What the tracker fakes (GitLab, Jira, Linear) share: a loopback HTTP server on port 0 that records
// every request, checks the token, and answers faults on demand (a 500 the next N times, a revoked token).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  status: number;
  body: string;
}

export type Send = (status: number, data: unknown, headers?: Record<string, string>) => void;

export abstract class FakeTrackerServer {
  readonly requests: Recorded[] = [];
  revoked = false;
  private failures: Array<{ status: number; match: RegExp }> = [];
  server!: Server;
  url = '';

  protected async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.dispatch(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  /** The next `times` requests whose path matches answer `status` (a 500 by default). */
  failNext(times = 1, match: RegExp = /./, status = 500): void {
    for (let i = 0; i < times; i++) this.failures.push({ status, match });
  }

  revokeAuth(): void {
    this.revoked = true;
  }

  /** Requests that created or changed something (not reads). */
  writes(): Recorded[] {
    return this.requests.filter((r) => r.method !== 'GET' && r.status < 300 && this.isWrite(r));
  }

  protected isWrite(_r: Recorded): boolean {
    return true;
  }

  protected abstract authorized(req: IncomingMessage): boolean;
  protected abstract unauthorized(send: Send): void;
  protected abstract handle(req: IncomingMessage, url: URL, body: string, send: Send): void;

  private dispatch(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', this.url);
    const send: Send = (status, data, headers = {}) => {
      this.requests.push({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, status, body });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(data === undefined ? undefined : JSON.stringify(data));
    };
    if (this.revoked || !this.authorized(req)) return this.unauthorized(send);
    const fi = this.failures.findIndex((f) => f.match.test(url.pathname));
    if (fi >= 0) {
      const f = this.failures.splice(fi, 1)[0]!;
      return send(f.status, { message: `${f.status} Internal Server Error` });
    }
    try {
      this.handle(req, url, body, send);
    } catch (err: unknown) {
      send(500, { message: (err as Error).message });
    }
  }
}
