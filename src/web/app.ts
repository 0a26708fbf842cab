// The web UI: a Fastify app over the store. Pages are rendered on the server; a little vanilla JS
// (templates/web/static/) drives the tag inbox. Every route but /login, /healthz and /static/ needs
// a session (or, under /api/ and for /metrics, a bearer token); state changes need a CSRF token and a role.
// With Redis, the BullMQ dashboard is mounted at /admin/queues for admins (src/web/ops.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { ZodError } from 'zod';
import type { App } from '../app.js';
import { templatesDir } from '../paths.js';
import { GleanerError, httpStatus, NotFoundError } from '../errors.js';
import { getOrCreateSetting } from '../store/web/accounts.js';
import { hasRole, pruneAuthRecords, randomToken, safeEqual, sessionFor, userForBearer } from './auth.js';
import { CSP, SESSION_COOKIE, pageData, sendPage, wantsJson, zodValidator, type WebDeps } from './page.js';
import loginRoutes from './routes/login.js';
import clusterRoutes from './routes/clusters.js';
import inboxRoutes from './routes/inbox.js';
import peopleRoutes from './routes/people.js';
import sourceRoutes from './routes/sources.js';
import digestRoutes from './routes/digests.js';
import accountRoutes from './routes/account.js';
import apiRoutes from './routes/api.js';
import outboundRoutes from './routes/outbound.js';
import loopRoutes from './routes/loop.js';
import publicRoutes from './routes/public.js';
import opsRoutes, { isQueuesPath } from './ops.js';

export interface WebOptions {
  now?: () => number;
  /** Mark cookies Secure (default: when config web.baseUrl is https). */
  secureCookies?: boolean;
  /**
   * Reverse proxies whose X-Forwarded-For is believed (for request.ip and so the login limits): their
   * addresses or CIDR ranges (default: config web.trustProxy, none). Only what a trusted hop says counts.
   */
  trustProxy?: boolean | string[];
  logger?: boolean;
  /** How often expired sessions and old login attempts are pruned (default hourly; also once at start). */
  pruneIntervalMs?: number;
}

const STATIC_FILES: Record<string, string> = {
  'app.css': 'text/css; charset=utf-8',
  'inbox.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

export function buildWebApp(app: App, opts: WebOptions = {}): FastifyInstance {
  const proxies = opts.trustProxy ?? app.config.web.trustProxy;
  const trustProxy = Array.isArray(proxies) ? (proxies.length ? proxies : false) : proxies;
  const f = Fastify({ logger: opts.logger ?? false, trustProxy, bodyLimit: 256 * 1024 });
  const deps: WebDeps = {
    app,
    now: opts.now ?? Date.now,
    secureCookies: opts.secureCookies ?? /^https:/i.test(app.config.web.baseUrl),
    weights: Object.fromEntries(Object.entries(app.config.segments).map(([k, v]) => [k, v.weight])),
  };
  const staticDir = join(templatesDir(), 'web', 'static');

  f.setValidatorCompiler(zodValidator);
  f.decorateRequest('user', null);
  f.decorateRequest('session', null);
  f.decorateRequest('authVia', null);
  f.decorateRequest('queuesDashboard', false);
  const queuesDashboard = app.queue.dashboardQueues() !== null;
  f.addHook('onRequest', async (req) => {
    req.queuesDashboard = queuesDashboard;
  });

  f.addHook('onSend', async (req, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'same-origin');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
    if (!reply.hasHeader('Content-Security-Policy')) {
      reply.header('Content-Security-Policy', CSP);
      reply.header('X-Frame-Options', 'DENY');
    }
    if (!req.url.startsWith('/static/') && !reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    return payload;
  });

  // Expired sessions and login attempts past the trail are deleted at start and then on a timer.
  let pruneTimer: NodeJS.Timeout | undefined;
  const prune = () =>
    pruneAuthRecords(app.db, deps.now()).then(
      (n) => (n.sessions || n.loginAttempts ? app.log.info(n, 'pruned expired sessions and old login attempts') : undefined),
      (err: unknown) => app.log.warn({ err }, 'pruning sessions and login attempts failed'),
    );
  f.addHook('onReady', async () => {
    await prune();
    pruneTimer = setInterval(() => void prune(), opts.pruneIntervalMs ?? 3600_000);
    pruneTimer.unref();
  });
  f.addHook('onClose', async () => clearInterval(pruneTimer));

  f.setErrorHandler(async (err: unknown, req, reply) => {
    // The status comes from the error's code (src/errors.ts), never from its message.
    let status = 500;
    let message = 'Something went wrong on the server.';
    if (err instanceof GleanerError) status = httpStatus(err);
    else if (err instanceof ZodError) [status, message] = [400, `invalid input: ${err.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ')}`];
    else if (err instanceof Error && typeof (err as { statusCode?: unknown }).statusCode === 'number' && (err as unknown as { statusCode: number }).statusCode < 500)
      status = (err as unknown as { statusCode: number }).statusCode; // Fastify's own (a body too large, bad JSON)
    if (status < 500 && err instanceof Error && !(err instanceof ZodError)) message = err.message;
    if (status >= 500) app.log.error({ err, url: req.url }, 'web request failed');
    if (wantsJson(req)) return reply.code(status).send({ error: message });
    return sendPage(reply, 'error', pageData(req, '', `Error ${status}`, { status, message }), status);
  });

  f.setNotFoundHandler(async (req, reply) => {
    if (wantsJson(req)) return reply.code(404).send({ error: 'not found' });
    return sendPage(reply, 'error', pageData(req, '', 'Not found', { status: 404, message: 'There is no page here.' }), 404);
  });

  f.register(async (scope) => {
    const secret = await getOrCreateSetting(app.db, 'web.cookie_secret', () => randomToken(48));
    await scope.register(cookie, { secret, hook: 'onRequest' });
    await scope.register(formbody);

    // Authentication, CSRF and roles, after the body is parsed and before the inputs are validated
    // (no one learns what a form takes before they may send it).
    scope.addHook('preValidation', async (req, reply) => {
      const config = req.routeOptions.config;
      const isApi = req.url.startsWith('/api/');
      const takesBearer = isApi || config.bearer === true;
      const auth = req.headers.authorization;
      if (auth && takesBearer) {
        const m = /^Bearer\s+(\S+)$/i.exec(auth);
        const user = m ? await userForBearer(app.db, m[1]!, deps.now()) : null;
        if (!user) return reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'invalid or revoked API token' });
        req.user = user;
        req.authVia = 'token';
      } else {
        const raw = req.cookies[SESSION_COOKIE];
        const unsigned = raw ? req.unsignCookie(raw) : null;
        if (unsigned?.valid && unsigned.value) {
          const s = await sessionFor(app.db, unsigned.value, deps.now());
          if (s) {
            req.session = s;
            req.user = s.user;
            req.authVia = 'session';
          }
        }
      }
      if (config.public) return;
      if (!req.user) {
        if (takesBearer) reply.header('WWW-Authenticate', 'Bearer');
        if (takesBearer || wantsJson(req)) return reply.code(401).send({ error: 'log in first, or send Authorization: Bearer <API token>' });
        const next = req.method === 'GET' ? `?next=${encodeURIComponent(req.url)}` : '';
        return reply.redirect(`/login${next}`, 303);
      }
      const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(req.method);
      // The queue dashboard's own fetch calls carry no CSRF token; src/web/ops.ts checks their origin instead.
      if (unsafe && req.authVia === 'session' && !isQueuesPath(req.url)) {
        const body = req.body as Record<string, unknown> | undefined;
        const sent = (typeof req.headers['x-csrf-token'] === 'string' ? req.headers['x-csrf-token'] : undefined) ?? (body && typeof body._csrf === 'string' ? body._csrf : undefined);
        if (!sent || !safeEqual(sent, req.session!.csrfToken))
          throw new GleanerError('forbidden', 'The form has expired or did not come from this site (CSRF check failed). Reload the page and try again.');
      }
      if (config.role && !hasRole(req.user, config.role)) throw new GleanerError('forbidden', `This needs the ${config.role} role; you are ${req.user.role}.`);
    });

    scope.get('/healthz', { config: { public: true } }, async () => ({ ok: true }));
    scope.get('/static/:file', { config: { public: true } }, async (req, reply) => {
      const file = (req.params as { file: string }).file;
      // Own keys only: "constructor" or "__proto__" are not files (they reached Object.prototype: a 500).
      const type = Object.hasOwn(STATIC_FILES, file) ? STATIC_FILES[file] : undefined;
      if (!type) throw new NotFoundError({ message: `There is no static file ${JSON.stringify(file.slice(0, 100))}.` });
      return reply
        .type(type)
        .header('Cache-Control', 'public, max-age=300')
        .send(readFileSync(join(staticDir, file)));
    });
    // Browsers ask for /favicon.ico on every page; the layout names the SVG, this answers the old habit.
    scope.get('/favicon.ico', { config: { public: true } }, async (_req, reply) =>
      reply
        .type('image/svg+xml')
        .header('Cache-Control', 'public, max-age=86400')
        .send(readFileSync(join(staticDir, 'favicon.svg'))),
    );
    scope.get('/', async (_req, reply) => reply.redirect('/clusters', 303));

    // The routes, one Fastify plugin per subject; each runs under the hooks above.
    for (const routes of [loginRoutes, clusterRoutes, inboxRoutes, peopleRoutes, sourceRoutes, digestRoutes, accountRoutes, apiRoutes, outboundRoutes, opsRoutes, loopRoutes, publicRoutes])
      await scope.register(routes, { deps });
  });
  return f;
}
