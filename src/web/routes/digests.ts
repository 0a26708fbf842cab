// Digests: drafts and the archive. The stored HTML is shown in a sandboxed iframe from a route with
// its own strict CSP (no scripts, no network but https images).
import { InputError, NotFoundError } from '../../errors.js';
import type { FastifyInstance } from 'fastify';
import { getDigest, listDigests } from '../../store/web/digests.js';
import { approveEdition, setEditionCuration } from '../../digest/workflow.js';
import { parseCuration } from '../../digest/curation.js';
import { pageData, sendPage, type RouteOptions, type ZodTypeProvider } from '../page.js';
import { idParam, notice } from '../forms.js';
import { parseWeek, weekLabel } from '../../pipeline/period.js';
import { listDigestPosts } from '../../store/outbound.js';

export const DIGEST_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'; sandbox";

/** A Fastify plugin: registered by src/web/app.ts inside the authenticated scope. */
export default async function digestRoutes(fastify: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const f = fastify.withTypeProvider<ZodTypeProvider>();
  const { app } = deps;

  f.get('/digests', async (req, reply) => {
    const { drafts, archive } = await listDigests(app.db);
    return sendPage(reply, 'digests', pageData(req, 'digests', 'Digests', { drafts, archive, notice: notice(req.query) }));
  });

  f.get('/digests/:id', { schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    const d = await getDigest(app.db, id);
    if (!d) throw new NotFoundError({ message: `There is no digest ${id}.` });
    const entries = curationRows(d.json, d.curation);
    // Each cluster of the edition opens on the web with the same figures: the edition's week, when it is one.
    const wk = weekLabel({ start: d.periodStart, end: d.periodEnd });
    const w = parseWeek(wk);
    const qs = w.start === d.periodStart && w.end === d.periodEnd ? `?week=${wk}` : '';
    const clusters = entries.flatMap((e) => {
      const m = /^cluster-(\d+)$/.exec(e.id);
      return m ? [{ href: `/clusters/${m[1]}${qs}`, title: e.originalTitle, why: e.why, hidden: e.hidden }] : [];
    });
    const posts = await listDigestPosts(app.db, id);
    return sendPage(reply, 'digest', pageData(req, 'digests', `Digest for ${d.team}`, { d, entries, clusters, posts, notice: notice(req.query) }));
  });

  f.get('/digests/:id/html', { schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    const d = await getDigest(app.db, id);
    if (!d) throw new NotFoundError({ message: `There is no digest ${id}.` });
    return reply.header('Content-Security-Policy', DIGEST_CSP).header('X-Frame-Options', 'SAMEORIGIN').type('text/html; charset=utf-8').send(d.html);
  });

  f.get('/digests/:id/text', { schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    const d = await getDigest(app.db, id);
    if (!d) throw new NotFoundError({ message: `There is no digest ${id}.` });
    return reply.type('text/plain; charset=utf-8').send(d.text);
  });

  // Curation of a draft: one row per entry with its position, hide, title and "why this matters now".
  f.post('/digests/:id/curation', { config: { role: 'curator' }, schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    const d = await getDigest(app.db, id);
    if (!d) throw new NotFoundError({ message: `There is no digest ${id}.` });
    if (d.status !== 'draft') throw new InputError('Only a draft can be curated.');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const field = (name: string) => {
      const v = body[name];
      return typeof v === 'string' ? v.trim() : '';
    };
    const rows = curationRows(d.json, null);
    const curation = { hidden: [] as string[], order: [] as string[], titles: {} as Record<string, string>, notes: {} as Record<string, string> };
    const positions: Array<[number, string]> = [];
    rows.forEach((r, i) => {
      if (field(`hide_${i}`)) curation.hidden.push(r.id);
      const pos = Number(field(`order_${i}`));
      if (field(`order_${i}`) && Number.isInteger(pos) && pos > 0) positions.push([pos, r.id]);
      const title = field(`title_${i}`);
      if (title && title !== r.originalTitle) curation.titles[r.id] = title;
      const note = field(`note_${i}`);
      if (note) curation.notes[r.id] = note;
    });
    curation.order = positions.sort((a, b) => a[0] - b[0]).map(([, cid]) => cid);
    try {
      await setEditionCuration(app.ctx, id, curation);
    } catch (err: unknown) {
      throw new InputError((err as Error).message);
    }
    return reply.redirect(`/digests/${id}?done=curated`, 303);
  });

  f.post('/digests/:id/approve', { config: { role: 'curator' }, schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    const d = await getDigest(app.db, id);
    if (!d) throw new NotFoundError({ message: `There is no digest ${id}.` });
    if (d.status !== 'draft') throw new InputError('Only a draft can be approved.');
    // Approval sends (a queued job with Redis, a background send in-process); exactly once per team and week.
    await approveEdition(app.ctx, id, req.user!.name);
    return reply.redirect(`/digests/${id}?done=approved`, 303);
  });
}

interface CurationRow {
  index: number;
  id: string;
  originalTitle: string;
  /** The entry's sentence as the digest computed it. */
  why: string | null;
  title: string;
  note: string;
  hidden: boolean;
  position: number | null;
}

/** The edition's entries with the curation applied so far, for the curation form. */
function curationRows(json: string, curationJson: string | null): CurationRow[] {
  let clusters: Array<{ id: string; title: string; why?: string | null }>;
  try {
    const parsed = JSON.parse(json) as { clusters?: Array<{ id: string; title: string; why?: string | null }> };
    clusters = Array.isArray(parsed.clusters) ? parsed.clusters : [];
  } catch {
    return [];
  }
  const c = curationJson ? parseCuration(curationJson) : parseCuration({});
  return clusters.map((cl, index) => ({
    index,
    id: cl.id,
    originalTitle: cl.title,
    why: typeof cl.why === 'string' ? cl.why : null,
    title: c.titles[cl.id] ?? cl.title,
    note: c.notes[cl.id] ?? '',
    hidden: c.hidden.includes(cl.id),
    position: c.order.includes(cl.id) ? c.order.indexOf(cl.id) + 1 : null,
  }));
}
