// What every page and route shares: the request's decorations, the dependencies routes get, the
// page helpers (common page data, rendering, JSON or HTML), cookie names and the content policy.
// Route plugins import from here, never from app.ts (app.ts registers them: no cycles).
import type { FastifyReply, FastifyRequest, FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import type { z } from 'zod';
import type { App } from '../app.js';
import type { Role } from '../store/web/tables.js';
import type { User } from '../store/web/accounts.js';
import { hasRole, type ActiveSession } from './auth.js';
import { renderPage } from './render.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
    session: ActiveSession | null;
    authVia: 'session' | 'token' | null;
    /** Whether the BullMQ dashboard is mounted (the app runs on Redis). */
    queuesDashboard: boolean;
  }
  interface FastifyContextConfig {
    /** The least role a route needs (default: viewer). */
    role?: Role;
    /** Served without a session. */
    public?: boolean;
    /** Takes `Authorization: Bearer <API token>` outside /api/ too (/metrics). */
    bearer?: boolean;
  }
}

export interface WebDeps {
  app: App;
  now: () => number;
  secureCookies: boolean;
  /** Segment weights from the config, for scores. */
  weights: Record<string, number>;
}

export const SESSION_COOKIE = 'gleaner_session';
export const LOGIN_CSRF_COOKIE = 'gleaner_login_csrf';

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-src 'self'; frame-ancestors 'none'";

export function wantsJson(req: FastifyRequest): boolean {
  return req.url.startsWith('/api/') || (req.headers.accept ?? '').includes('application/json');
}

/** Common data for every page: who is logged in, what they may do, the CSRF token for forms. */
export function pageData(req: FastifyRequest, nav: string, title: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title,
    nav: { [nav]: true },
    user: req.user,
    csrf: req.session?.csrfToken ?? null,
    canCurate: hasRole(req.user, 'curator'),
    isAdmin: hasRole(req.user, 'admin'),
    queuesDashboard: req.queuesDashboard,
    ...extra,
  };
}

export function sendPage(reply: FastifyReply, name: string, data: Record<string, unknown>, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(renderPage(name, data));
}

export function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * A same-site path to go back to after a form, or the fallback. Characters outside ASCII are
 * percent-encoded: a Location header carries ASCII only (a raw "é" made the redirect fail with a 500).
 */
export function safeNext(next: unknown, fallback: string): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || hasControlChars(next)) return fallback;
  try {
    return next.replace(/[^\x20-\x7e]+/gu, (s) => encodeURIComponent(s));
  } catch {
    return fallback; // a lone surrogate cannot be encoded
  }
}

/** The options every route plugin is registered with. */
export interface RouteOptions {
  deps: WebDeps;
}

/**
 * Route inputs (params, querystring, body) are declared in each route's `schema` as zod schemas; this
 * type provider gives the handler their parsed types, and zodValidator (the app's validator compiler)
 * checks them before the handler runs: the handler gets the parsed value (coerced, trimmed, defaults
 * filled). A failure is the ZodError itself, which the error handler answers with a 400.
 */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

export const zodValidator: FastifySchemaCompiler<z.ZodType> = ({ schema, method, url, httpPart }) => {
  if (typeof (schema as Partial<z.ZodType>).safeParse !== 'function') throw new Error(`${method} ${url}: the ${httpPart ?? 'input'} schema is not a zod schema`);
  return (data) => {
    const r = schema.safeParse(data);
    return r.success ? { value: r.data } : { error: r.error };
  };
};
