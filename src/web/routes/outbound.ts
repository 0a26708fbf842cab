// Trackers and webhooks on the web: a curator pushes a cluster to a tracker (one issue per cluster
// and tracker; pushing again updates it), and curators and admins see the webhook deliveries.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { idParam } from '../forms.js';
import { pageData, sendPage, type RouteOptions, type ZodTypeProvider } from '../page.js';
import { pushCluster } from '../../trackers/push.js';
import { listDeliveries } from '../../store/webhooks.js';

const DeliveriesQuery = z.object({
  webhook: z
    .string()
    .max(200)
    .optional()
    .transform((v) => v || undefined),
  status: z
    .enum(['', 'pending', 'delivered', 'failed'])
    .optional()
    .transform((v) => v || undefined),
});

/** A Fastify plugin: registered by src/web/app.ts inside the authenticated scope. */
export default async function outboundRoutes(fastify: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const f = fastify.withTypeProvider<ZodTypeProvider>();
  const { app } = deps;
  const curator = { config: { role: 'curator' as const } };

  f.post('/clusters/:id/push', { ...curator, schema: { params: idParam, body: z.object({ tracker: z.string().min(1).max(200) }) } }, async (req, reply) => {
    const { id } = req.params;
    await pushCluster({ ...app.ctx, now: deps.now }, id, req.body.tracker);
    return reply.redirect(`/clusters/${id}?done=pushed`, 303);
  });

  f.get('/webhooks', { ...curator, schema: { querystring: DeliveriesQuery } }, async (req, reply) => {
    const q = req.query;
    const rows = await listDeliveries(app.db, { webhook: q.webhook, status: q.status, limit: 200 });
    const hooks = app.config.webhooks.map((w) => ({ name: w.name, url: w.url, events: w.events }));
    return sendPage(reply, 'webhooks', pageData(req, 'webhooks', 'Webhook deliveries', { q, hooks, rows: rows.map(({ body: _body, ...r }) => r) }));
  });
}
