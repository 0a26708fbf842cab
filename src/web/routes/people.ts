// People: who said what, under which identities, and why those identities were linked; merge, unmerge.
import { NotFoundError } from '../../errors.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listPeople, mergePeople, personDetail, unmergeIdentity } from '../../store/web/people.js';
import { pageData, sendPage, type RouteOptions, type ZodTypeProvider } from '../page.js';
import { hasRole } from '../auth.js';
import { evidenceSentences } from '../evidence.js';
import { idParam, notice, optionalText } from '../forms.js';

/** A Fastify plugin: registered by src/web/app.ts inside the authenticated scope. */
export default async function peopleRoutes(fastify: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const f = fastify.withTypeProvider<ZodTypeProvider>();
  const { app } = deps;
  const curator = { config: { role: 'curator' as const } };

  f.get('/people', { schema: { querystring: z.object({ q: optionalText(200), page: z.coerce.number().int().min(1).max(10_000).default(1) }).passthrough() } }, async (req, reply) => {
    const q = req.query;
    const { rows, total } = await listPeople(app.db, q.q, 100, (q.page - 1) * 100);
    const pages = Math.max(1, Math.ceil(total / 100));
    const link = (p: number) => `/people?${new URLSearchParams({ ...(q.q ? { q: q.q } : {}), page: String(p) }).toString()}`;
    return sendPage(
      reply,
      'people',
      pageData(req, 'people', 'People', { rows, total, q: q.q ?? '', page: q.page, pages, prev: q.page > 1 ? link(q.page - 1) : null, next: q.page < pages ? link(q.page + 1) : null }),
    );
  });

  f.get('/people/:id', { schema: { params: idParam, querystring: z.object({ merge_q: optionalText(200) }).passthrough() } }, async (req, reply) => {
    const { id } = req.params;
    const q = req.query;
    const p = await personDetail(app.db, id);
    if (!p) throw new NotFoundError({ message: `There is no person ${id}; they may have been merged into someone else.` });
    const identities = p.identities.map((i) => ({ ...i, firstSeen: i.firstMessageAt ?? i.createdAt, hasMessages: i.firstMessageAt != null, evidenceText: evidenceSentences(i.evidence, i.createdAt) }));
    // Merging: the person to merge in is found by name (or identity), not typed as a number.
    const candidates = q.merge_q && hasRole(req.user, 'curator') ? (await listPeople(app.db, q.merge_q, 21)).rows.filter((c) => c.id !== id).slice(0, 20) : null;
    return sendPage(
      reply,
      'person',
      pageData(req, 'people', p.name, { p: { ...p, identities }, multiple: p.identities.length > 1, mergeQ: q.merge_q ?? '', searched: candidates != null, candidates, notice: notice(req.query) }),
    );
  });

  f.post('/people/:id/merge', { ...curator, schema: { params: idParam, body: z.object({ from: z.coerce.number().int().positive() }) } }, async (req, reply) => {
    const { id } = req.params;
    const form = req.body;
    await mergePeople(app.db, id, form.from, req.user!.name, deps.now());
    return reply.redirect(`/people/${id}?done=people_merged`, 303);
  });

  f.post('/identities/:id/unmerge', { ...curator, schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    const newId = await unmergeIdentity(app.db, id, req.user!.name, deps.now());
    return reply.redirect(`/people/${newId}?done=unmerged`, 303);
  });
}
