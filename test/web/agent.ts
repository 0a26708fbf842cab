// A logged-in client of a web app under fastify.inject: cookies, the session CSRF token, form posts.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

export interface Agent {
  cookies: Record<string, string>;
  csrf: string;
}

export function cookiesOf(res: LightMyRequestResponse, into: Record<string, string> = {}): Record<string, string> {
  for (const c of res.cookies) {
    if (c.value === '' || (c.maxAge !== undefined && c.maxAge <= 0) || (c.expires && c.expires.getTime() < Date.now())) delete into[c.name];
    else into[c.name] = c.value;
  }
  return into;
}

export function formCsrf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no _csrf field in the page');
  return m[1]!;
}

export interface LoginOptions {
  ip?: string;
  /** Sent as X-Forwarded-For (believed only from a trusted proxy). */
  forwardedFor?: string;
  next?: string;
}

/** GET /login for its CSRF cookie and field, then POST the form. */
export async function loginAs(web: FastifyInstance, name: string, password: string, o: LoginOptions = {}): Promise<{ res: LightMyRequestResponse; agent: Agent }> {
  const ip = o.ip ?? '10.0.0.1';
  const headers = o.forwardedFor ? { 'x-forwarded-for': o.forwardedFor } : {};
  const page = await web.inject({ method: 'GET', url: '/login', remoteAddress: ip, headers });
  const cookies = cookiesOf(page);
  const res = await web.inject({ method: 'POST', url: '/login', remoteAddress: ip, headers, cookies, payload: { username: name, password, _csrf: formCsrf(page.body), next: o.next ?? '/clusters' } });
  cookiesOf(res, cookies);
  let csrf = '';
  if (res.statusCode === 303 && cookies.gleaner_session) {
    const me = await web.inject({ method: 'GET', url: '/api/me', cookies });
    csrf = me.json<{ csrf: string }>().csrf;
  }
  return { res, agent: { cookies, csrf } };
}

export const get = (web: FastifyInstance, a: Agent | null, url: string) => web.inject({ method: 'GET', url, cookies: a?.cookies ?? {} });
export const post = (web: FastifyInstance, a: Agent, url: string, payload: Record<string, unknown> = {}) =>
  web.inject({ method: 'POST', url, cookies: a.cookies, payload: { _csrf: a.csrf, ...payload } });
export const postJson = (web: FastifyInstance, a: Agent, url: string, body: unknown) =>
  web.inject({ method: 'POST', url, cookies: a.cookies, headers: { 'content-type': 'application/json', 'x-csrf-token': a.csrf }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
