// Operations in the web app: /metrics (Prometheus text, any API token or an admin session) and, when
// the app runs on Redis, the BullMQ dashboard (bull-board) at /admin/queues for admins only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../ops/metrics.js';
import { hasRole } from './auth.js';
import type { RouteOptions, WebDeps } from './page.js';

export const QUEUES_PREFIX = '/admin/queues';

/**
 * The dashboard is a React app with inline style attributes and a <base href>: it gets its own policy,
 * on its prefix only (still no inline or foreign script, no framing; its web fonts are not fetched).
 */
export const QUEUES_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

export function isQueuesPath(url: string): boolean {
  const path = url.split('?')[0]!;
  return path === QUEUES_PREFIX || path.startsWith(`${QUEUES_PREFIX}/`);
}

/**
 * The dashboard's own requests (retry, clean, pause: fetch calls without our CSRF token) are let
 * through only from this origin: the session cookie is SameSite=Lax, and the browser's Origin (or
 * Sec-Fetch-Site) must name this site.
 */
export function sameOrigin(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin';
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** A Fastify plugin: /metrics, and the queue dashboard when the queue is BullMQ. */
export default async function opsRoutes(f: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { app } = deps;
  // Authentication is done by the app's hook (a bearer token is read here as under /api/); a session needs the admin role.
  f.get('/metrics', { config: { bearer: true } }, async (req, reply) => {
    if (req.authVia === 'session' && !hasRole(req.user, 'admin'))
      return reply.code(403).type('text/plain; charset=utf-8').send(`/metrics needs an API token or an admin session; you are ${req.user!.role}.\n`);
    return reply.type(METRICS_CONTENT_TYPE).send(await renderMetrics(app));
  });
  await registerQueueDashboard(f, deps);
}

/** Mounts bull-board at /admin/queues when the queue is BullMQ; returns whether it did. */
async function registerQueueDashboard(f: FastifyInstance, deps: WebDeps): Promise<boolean> {
  const queues = deps.app.queue.dashboardQueues();
  if (!queues) return false;
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUES_PREFIX);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter, options: { uiConfig: { boardTitle: 'Gleaner queues' } } });
  await f.register(async (admin) => {
    // Runs after the app's authentication hook: no session was already sent to the login page.
    admin.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
      if (!hasRole(req.user, 'admin'))
        return reply
          .code(403)
          .type('text/plain; charset=utf-8')
          .send(`The queue dashboard is for admins; you are ${req.user?.role ?? 'not logged in'}.\n`);
      if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method) && !sameOrigin(req))
        return reply.code(403).type('text/plain; charset=utf-8').send('Changes to the queues must come from the dashboard page of this site.\n');
    });
    admin.addHook('onSend', async (_req, reply, payload) => {
      reply.header('Content-Security-Policy', QUEUES_CSP);
      reply.header('X-Frame-Options', 'DENY');
      return payload;
    });
    await admin.register(serverAdapter.registerPlugin(), { prefix: QUEUES_PREFIX });
  });
  return true;
}
