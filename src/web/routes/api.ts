// The JSON API under /api/: the same data and the same permissions as the pages. A session cookie
// (with the X-CSRF-Token header on changes) or `Authorization: Bearer <API token>`.
import { clusterOutbound } from '../../trackers/links.js';
import { InputError, NotFoundError } from '../../errors.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addTag, pendingInboxCount, removeTag, untaggedItems } from '../../store/curation.js';
import { approveEdition, setEditionCuration } from '../../digest/workflow.js';
import { parseCuration, type Curation } from '../../digest/curation.js';
import { clusterCount, listItems } from '../../store/web/items.js';
import { getDigest, listDigests } from '../../store/web/digests.js';
import { itemDetail } from '../../store/web/clusters.js';
import { clusterDetail, listClusters, resolvePeriod } from '../clusters.js';
import { type RouteOptions, type ZodTypeProvider } from '../page.js';
import { idParam } from '../forms.js';
import { ListQuery, PeriodQuery, toClusterFilter, toFilter } from './clusters.js';
import { applyItemAction, inboxView } from './inbox.js';

const curator = { config: { role: 'curator' as const } };
const TagBody = z.object({ tag: z.string().min(1).max(100) });

/** A Fastify plugin: registered by src/web/app.ts inside the authenticated scope. */
export default async function apiRoutes(fastify: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const f = fastify.withTypeProvider<ZodTypeProvider>();
  const { app } = deps;

  f.get('/api/me', async (req) => ({ name: req.user!.name, role: req.user!.role, csrf: req.session?.csrfToken ?? null }));

  f.get('/api/clusters', { schema: { querystring: ListQuery } }, async (req) => {
    const q = req.query;
    const p = await resolvePeriod(app.db, q.period, q.week);
    const r = await listClusters(app.db, toClusterFilter(q), p, app.config.segments);
    const outbound = await clusterOutbound(
      app.db,
      r.rows.map((c) => c.id),
    );
    // The period is the one the figures are computed for (end exclusive), as in the digest's JSON.
    return {
      total: r.total,
      page: q.page,
      period: { start: new Date(p.start).toISOString(), end: new Date(p.end).toISOString(), week: p.week, onlyActive: p.onlyActive },
      clusters: r.rows.map((c) => ({ ...c, issues: outbound.get(c.id)?.issues ?? [], resolution: outbound.get(c.id)?.resolution ?? null })),
    };
  });

  f.get('/api/clusters/:id', { schema: { params: idParam, querystring: PeriodQuery } }, async (req) => {
    const { id } = req.params;
    const pq = req.query;
    const p = await resolvePeriod(app.db, pq.period, pq.week);
    const c = await clusterDetail(app.db, id, p, app.config.segments);
    if (!c) throw new NotFoundError(`cluster ${id}`);
    const o = (await clusterOutbound(app.db, [id])).get(id)!;
    return { ...c, issues: o.issues, resolution: o.resolution, trackerErrors: o.errors };
  });

  f.get(
    '/api/items',
    {
      schema: {
        querystring: z
          .object({
            status: z.enum(['pending', 'all']).default('all'),
            limit: z.coerce.number().int().min(1).max(200).default(50),
            offset: z.coerce.number().int().min(0).default(0),
            show: z.enum(['all', 'people']).default('people'),
          })
          .passthrough(),
      },
    },
    async (req) => {
      const q = req.query;
      if (q.status === 'pending') {
        const staffAndBots = q.show === 'all';
        return { total: await pendingInboxCount(app.db, { staffAndBots }), items: (await untaggedItems(app.db, q.limit, q.offset, { staffAndBots })).map(inboxView) };
      }
      const lq = ListQuery.parse(req.query);
      const r = await listItems(app.db, { ...toFilter(lq), limit: q.limit, offset: q.offset }, deps.weights);
      return { total: r.total, items: r.rows, haveClusters: (await clusterCount(app.db)) > 0 };
    },
  );

  f.get('/api/items/:id', { schema: { params: idParam } }, async (req) => {
    const { id } = req.params;
    const item = await itemDetail(app.db, id);
    if (!item) throw new NotFoundError(`feedback item ${id}`);
    return item;
  });

  f.post('/api/items/:id/tags', { ...curator, schema: { params: idParam, body: TagBody } }, async (req) => {
    const { id } = req.params;
    const { tag } = req.body;
    await addTag(app.db, id, tag, req.user!.name, deps.now());
    return { ok: true };
  });

  f.post('/api/items/:id/tags/remove', { ...curator, schema: { params: idParam, body: TagBody } }, async (req) => {
    const { id } = req.params;
    const { tag } = req.body;
    await removeTag(app.db, id, tag, req.user!.name, deps.now());
    return { ok: true };
  });

  f.delete('/api/items/:id/tags/:tag', curator, async (req) => {
    const { id, tag } = z.object({ id: z.coerce.number().int().positive(), tag: z.string().min(1).max(100) }).parse(req.params);
    await removeTag(app.db, id, tag, req.user!.name, deps.now());
    return { ok: true };
  });

  f.post('/api/items/:id/confirm', { ...curator, schema: { params: idParam } }, async (req) => {
    const { id } = req.params;
    await applyItemAction(deps, [id], 'confirm', req.user!.name);
    return { ok: true };
  });

  f.post('/api/items/:id/not-feedback', { ...curator, schema: { params: idParam } }, async (req) => {
    const { id } = req.params;
    await applyItemAction(deps, [id], 'not-feedback', req.user!.name);
    return { ok: true };
  });

  f.post('/api/items/bulk', { ...curator, schema: { body: z.object({ ids: z.array(z.number().int().positive()).min(1).max(500), action: z.enum(['confirm', 'not-feedback']) }) } }, async (req) => {
    const body = req.body;
    await applyItemAction(deps, body.ids, body.action, req.user!.name);
    return { ok: true, count: body.ids.length };
  });

  f.get('/api/digests', async () => listDigests(app.db));

  f.get('/api/digests/:id', { schema: { params: idParam } }, async (req) => {
    const { id } = req.params;
    const d = await getDigest(app.db, id);
    if (!d) throw new NotFoundError(`digest ${id}`);
    return { ...d, json: JSON.parse(d.json) as unknown, curation: d.curation ? (JSON.parse(d.curation) as unknown) : null };
  });

  f.post('/api/digests/:id/approve', { ...curator, schema: { params: idParam } }, async (req) => {
    const { id } = req.params;
    const d = await getDigest(app.db, id);
    if (!d) throw new NotFoundError(`digest ${id}`);
    if (d.status !== 'draft') throw new InputError('only a draft can be approved');
    const e = await approveEdition(app.ctx, id, req.user!.name);
    return { ok: true, status: e.status };
  });

  // Curation of a draft: hidden clusters, pinned order, edited titles, "why this matters now" notes.
  f.post('/api/digests/:id/curation', { ...curator, schema: { params: idParam } }, async (req) => {
    const { id } = req.params;
    const d = await getDigest(app.db, id);
    if (!d) throw new NotFoundError(`digest ${id}`);
    if (d.status !== 'draft') throw new InputError(`digest ${id} is ${d.status}; only a draft can be curated`);
    // The body is checked here so that a bad one is the client's error (400), not the server's.
    let curation: Curation;
    try {
      curation = parseCuration(req.body ?? {});
    } catch (err: unknown) {
      throw new InputError(`${(err as Error).message} (expected {"hidden": [ids], "order": [ids], "titles": {id: title}, "notes": {id: note}})`);
    }
    const e = await setEditionCuration(app.ctx, id, curation);
    return { ok: true, status: e.status };
  });
}
