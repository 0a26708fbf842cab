// Sources (admin): status, last pull, cursors, channel coverage, gaps, errors, quarantined input.
import type { FastifyInstance } from 'fastify';
import { listSources } from '../../store/web/sources.js';
import { trackerSummaries } from '../../store/trackers.js';
import { pageData, sendPage, type RouteOptions } from '../page.js';

/** A Fastify plugin: registered by src/web/app.ts inside the authenticated scope. */
export default async function sourceRoutes(f: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  f.get('/sources', { config: { role: 'admin' } }, async (req, reply) => {
    const { sources, unattributedQuarantine } = await listSources(deps.app.db);
    const sums = await trackerSummaries(deps.app.db);
    const trackers = deps.app.config.trackers.map((t) => ({
      name: t.name,
      type: t.type,
      target: t.repo ?? t.project ?? t.team ?? '',
      ...(sums.get(t.name) ?? { links: 0, open: 0, closed: 0, lastError: null, lastErrorCode: null }),
    }));
    return sendPage(reply, 'sources', pageData(req, 'sources', 'Sources', { sources, unattributedQuarantine, trackers }));
  });
}
