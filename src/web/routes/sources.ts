// Sources (admin): status, last pull, cursors, channel coverage, gaps, errors, quarantined input.
import type { FastifyInstance } from 'fastify';
import { listSources } from '../../store/web/sources.js';
import { pageData, sendPage, type RouteOptions } from '../page.js';

/** A Fastify plugin: registered by src/web/app.ts inside the authenticated scope. */
export default async function sourceRoutes(f: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  f.get('/sources', { config: { role: 'admin' } }, async (req, reply) => {
    const { sources, unattributedQuarantine } = await listSources(deps.app.db);
    return sendPage(reply, 'sources', pageData(req, 'sources', 'Sources', { sources, unattributedQuarantine }));
  });
}
