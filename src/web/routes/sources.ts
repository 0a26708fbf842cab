// Sources (admin): status, last pull, cursors, channel coverage, gaps, errors, quarantined input.
import type { FastifyInstance } from 'fastify';
import { listSources } from '../../store/web.js';
import { pageData, sendPage, type WebDeps } from '../app.js';

export function registerSourceRoutes(f: FastifyInstance, deps: WebDeps): void {
  f.get('/sources', { config: { role: 'admin' } }, async (req, reply) => {
    const { sources, unattributedQuarantine } = await listSources(deps.app.db);
    return sendPage(reply, 'sources', pageData(req, 'sources', 'Sources', { sources, unattributedQuarantine }));
  });
}
