// Login and logout. The login form carries a double-submit CSRF token (a signed cookie and a hidden
// field) because there is no session yet; attempts are rate-limited per IP and per user name.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LOGIN_CSRF_COOKIE, SESSION_COOKIE, pageData, safeNext, sendPage, type RouteOptions } from '../page.js';
import { login, logout, randomToken, safeEqual, SESSION_MAX_MS } from '../auth.js';
import { notice } from '../forms.js';

const LoginForm = z.object({ username: z.string().max(200), password: z.string().max(1024), _csrf: z.string().max(200).optional(), next: z.string().max(2000).optional() });

/** A Fastify plugin: registered by src/web/app.ts inside the authenticated scope. */
export default async function loginRoutes(f: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const { app } = deps;
  const cookieOpts = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: deps.secureCookies, signed: true };

  const showLogin = (req: FastifyRequest, reply: FastifyReply, status: number, extra: Record<string, unknown>) => {
    const token = randomToken();
    reply.setCookie(LOGIN_CSRF_COOKIE, token, { ...cookieOpts, maxAge: 3600 });
    const next = safeNext((req.query as { next?: unknown }).next ?? (req.body as { next?: unknown } | undefined)?.next, '/clusters');
    return sendPage(reply, 'login', { ...pageData(req, 'login', 'Log in'), loginCsrf: token, next, ...extra }, status);
  };

  f.get('/login', { config: { public: true } }, async (req, reply) => {
    if (req.user) return reply.redirect(safeNext((req.query as { next?: unknown }).next, '/clusters'), 303);
    return showLogin(req, reply, 200, { notice: notice(req.query) });
  });

  f.post('/login', { config: { public: true } }, async (req, reply) => {
    const form = LoginForm.parse(req.body ?? {});
    const raw = req.cookies[LOGIN_CSRF_COOKIE];
    const expected = raw ? req.unsignCookie(raw) : null;
    if (!expected?.valid || !expected.value || !form._csrf || !safeEqual(form._csrf, expected.value)) {
      return showLogin(req, reply, 403, { error: 'The login form expired. Please try again.', username: form.username });
    }
    const r = await login(app.db, form.username, form.password, req.ip, deps.now());
    if (!r.ok) {
      if (r.reason === 'rate_limited') {
        reply.header('Retry-After', String(r.retryAfterS));
        return showLogin(req, reply, 429, { error: `Too many failed attempts. Try again in ${Math.ceil(r.retryAfterS / 60)} minutes.`, username: form.username });
      }
      return showLogin(req, reply, 401, { error: 'Wrong user name or password.', username: form.username });
    }
    reply.clearCookie(LOGIN_CSRF_COOKIE, { path: '/' });
    reply.setCookie(SESSION_COOKIE, r.sessionId, { ...cookieOpts, maxAge: Math.floor(SESSION_MAX_MS / 1000) });
    app.log.info({ user: r.user.name }, 'web login');
    return reply.redirect(safeNext(form.next, '/clusters'), 303);
  });

  f.post('/logout', async (req, reply) => {
    const raw = req.cookies[SESSION_COOKIE];
    const unsigned = raw ? req.unsignCookie(raw) : null;
    if (unsigned?.valid && unsigned.value) await logout(app.db, unsigned.value);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login?done=logged_out', 303);
  });
}
