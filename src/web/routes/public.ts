// The public editions, without login: /public/digests (the list), /public/digests/<id> (one edition,
// see src/digest/public.ts for what it leaves out) and /public/digests.atom. Only editions of teams
// with `public: true` that a curator approved are published; anything else is "not found".
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../errors.js';
import { getEdition, listEditions } from '../../store/digests.js';
import { isPublished, publicEditionOf, type PublicEdition } from '../../digest/public.js';
import { atomUrl, publicUrl, renderAtom, renderPublicHtml } from '../../digest/public-render.js';
import type { RouteOptions, ZodTypeProvider } from '../page.js';
import { idParam } from '../forms.js';

/** No script, no network but the page itself; links to the sources open elsewhere. */
const PUBLIC_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const FEED_SIZE = 20;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A Fastify plugin: registered by src/web/app.ts; every route here is public. */
export default async function publicRoutes(fastify: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const f = fastify.withTypeProvider<ZodTypeProvider>();
  const { app } = deps;
  const open = { config: { public: true } };

  async function published(limit: number): Promise<PublicEdition[]> {
    const rows = (await listEditions(app.db, { limit: 500 })).filter((e) => isPublished(app.config, e)).slice(0, limit);
    const out: PublicEdition[] = [];
    for (const r of rows) {
      const e = await getEdition(app.db, r.id);
      if (e) out.push(await publicEditionOf(app.db, app.config, e));
    }
    return out;
  }

  f.get('/public/digests', open, async (_req, reply) => {
    const list = await published(100);
    const base = app.config.web.baseUrl;
    const items = list.map((p) => `<li><a href="${esc(publicUrl(base, p.id))}">${esc(p.week)}${p.team === 'default' ? '' : ` · ${esc(p.team)}`}</a> (${p.entries.length})</li>`).join('');
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Community feedback</title><link rel="alternate" type="application/atom+xml" href="${esc(atomUrl(base))}"></head><body><h1>Community feedback</h1><p><a href="${esc(atomUrl(base))}">Atom feed</a></p><ul>${items || '<li>Nothing published yet.</li>'}</ul></body></html>`;
    return reply.header('Content-Security-Policy', PUBLIC_CSP).type('text/html; charset=utf-8').send(html);
  });

  f.get('/public/digests.atom', open, async (_req, reply) => {
    const xml = renderAtom(await published(FEED_SIZE), { baseUrl: app.config.web.baseUrl, now: deps.now() });
    return reply.type('application/atom+xml; charset=utf-8').send(xml);
  });

  f.get('/public/digests/:id', { ...open, schema: { params: idParam } }, async (req, reply) => {
    const e = await getEdition(app.db, req.params.id);
    if (!e || !isPublished(app.config, e)) throw new NotFoundError({ message: 'There is no public digest here.' });
    const html = renderPublicHtml(await publicEditionOf(app.db, app.config, e), { baseUrl: app.config.web.baseUrl });
    return reply.header('Content-Security-Policy', PUBLIC_CSP).type('text/html; charset=utf-8').send(html);
  });
}
