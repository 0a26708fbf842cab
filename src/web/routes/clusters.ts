// Clusters: the list (filters, search, sort; conversations with feedback until clusters exist), one
// cluster (sentence, reporters, timeline, conversations, tags) and its curation forms, one item.
import { clusterOutbound } from '../../trackers/links.js';
import { InputError, NotFoundError } from '../../errors.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { mergeClusters, moveItem, renameCluster, splitCluster, undoAutoMerge } from '../../store/curation.js';
import { autoMerges } from '../../store/clusters.js';
import { clusterChoices, clusterRecordView, itemDetail } from '../../store/web/clusters.js';
import { clusterCount, filterOptions, listItems, type ListFilter } from '../../store/web/items.js';
import { clusterDetail, listClusters, resolvePeriod, type ClusterListFilter, type WebPeriod } from '../clusters.js';
import { pageData, safeNext, sendPage, type RouteOptions, type ZodTypeProvider } from '../page.js';
import { checkbox, idParam, intList, notice, optionalText } from '../forms.js';
import { timelineChart } from '../render.js';
import { weekLabel, weekPeriod } from '../../pipeline/period.js';
import { loopView } from './loop.js';

const PERIODS: Record<string, number | null> = { '7': 7, '30': 30, '90': 90, '365': 365, all: null };
export const PAGE_SIZE = 50;

export const ListQuery = z.object({
  kind: optionalText(100),
  tag: optionalText(100),
  area: optionalText(100),
  channel: optionalText(200),
  platform: optionalText(50),
  segment: optionalText(100),
  trend: z
    .enum(['', 'new', 'rising', 'steady', 'falling', 'resurfaced'])
    .optional()
    .transform((v) => v || undefined),
  period: z.enum(['7', '30', '90', '365', 'all']).default('all'),
  /** An ISO week (the digest's period), e.g. 2026-W47; wins over `period`. */
  week: z
    .string()
    .regex(/^\d{4}-?W\d{1,2}$/i, 'an ISO week such as 2026-W47')
    .refine(isRealWeek, { message: 'no such ISO week (weeks run 01 to 52, or 53 in some years), e.g. 2026-W47' })
    .optional()
    .or(z.literal('').transform(() => undefined)),
  q: optionalText(200),
  sort: z.enum(['score', 'recent']).default('score'),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  done: z.string().optional(),
});
/** Whether the year has this week (W00, W54 and W53 of a 52-week year do not exist). */
function isRealWeek(s: string): boolean {
  const m = /^(\d{4})-?W(\d{1,2})$/i.exec(s);
  if (!m) return false;
  const week = Number(m[2]);
  return week >= 1 && week <= 53 && weekLabel(weekPeriod(Number(m[1]), week)) === `${m[1]}-W${String(week).padStart(2, '0')}`;
}

export type ListQuery = z.infer<typeof ListQuery>;

export const PeriodQuery = ListQuery.pick({ period: true, week: true });

export function toClusterFilter(q: ListQuery): ClusterListFilter {
  return {
    kind: q.kind,
    tag: q.tag,
    area: q.area,
    channel: q.channel,
    platform: q.platform,
    segment: q.segment,
    trend: q.trend,
    q: q.q,
    sort: q.sort,
    limit: PAGE_SIZE,
    offset: (q.page - 1) * PAGE_SIZE,
  };
}

/** `?period=..&week=..` for links that keep the period (to a cluster and back). */
export function periodQs(p: WebPeriod, q: { period: string }): string {
  return p.week ? `?week=${p.week}` : q.period !== 'all' ? `?period=${q.period}` : '';
}

export function toFilter(q: ListQuery): ListFilter {
  return { ...toClusterFilter(q), periodDays: PERIODS[q.period] ?? null };
}

function pageLink(q: ListQuery, page: number): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...q, page: String(page), done: undefined })) if (v !== undefined && v !== '') p.set(k, String(v));
  return `/clusters?${p.toString()}`;
}

/** A Fastify plugin: registered by src/web/app.ts inside the authenticated scope. */
export default async function clusterRoutes(fastify: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const f = fastify.withTypeProvider<ZodTypeProvider>();
  const { app } = deps;
  const curator = { config: { role: 'curator' as const } };

  f.get('/clusters', { schema: { querystring: ListQuery } }, async (req, reply) => {
    const q = req.query;
    const options = await filterOptions(app.db);
    const haveClusters = (await clusterCount(app.db)) > 0;
    let rows: unknown[];
    let total: number;
    let period: { start: number | null; end: number; week: string | null; onlyActive: boolean };
    let linkQs = '';
    if (haveClusters) {
      const p = await resolvePeriod(app.db, q.period, q.week);
      const r = await listClusters(app.db, toClusterFilter(q), p, app.config.segments);
      [rows, total, period, linkQs] = [r.rows, r.total, p, periodQs(p, q)];
    } else {
      const r = await listItems(app.db, toFilter(q), deps.weights);
      [rows, total, period] = [r.rows, r.total, { start: r.periodStart, end: r.periodEnd, week: null, onlyActive: r.periodStart != null }];
    }
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    return sendPage(
      reply,
      'clusters',
      pageData(req, 'clusters', haveClusters ? 'Clusters' : 'Feedback', {
        q,
        options,
        haveClusters,
        rows,
        total,
        period,
        periodStart: period.start,
        periodEnd: period.end - 1,
        linkQs,
        page: q.page,
        pages,
        prev: q.page > 1 ? pageLink(q, q.page - 1) : null,
        next: q.page < pages ? pageLink(q, q.page + 1) : null,
        notice: notice(req.query),
      }),
    );
  });

  f.get('/clusters/:id', { schema: { params: idParam, querystring: PeriodQuery.passthrough() } }, async (req, reply) => {
    const { id } = req.params;
    const pq = req.query;
    const period = await resolvePeriod(app.db, pq.period, pq.week);
    const c = await clusterDetail(app.db, id, period, app.config.segments);
    if (!c) throw new NotFoundError({ message: `There is no cluster ${id}; it may have been merged into another.` });
    const others = await clusterChoices(app.db, id);
    // Automatic merges into this cluster (the grouping found two clusters voicing one need): each can be undone.
    const merges = (await autoMerges(app.db, id)).filter((m) => m.undoneAt === null).map((m) => ({ id: m.id, fromId: m.fromId, items: m.itemIds.length, score: m.score, at: m.at }));
    const outbound = (await clusterOutbound(app.db, [id])).get(id)!;
    const trackers = app.config.trackers.map((t) => ({ name: t.name, type: t.type, linked: outbound.issues.some((i) => i.tracker === t.name) }));
    const loop = await loopView(app.db, id);
    return sendPage(
      reply,
      'cluster',
      pageData(req, 'clusters', c.title, {
        c,
        outbound,
        trackers,
        period,
        backQs: periodQs(period, pq),
        chart: timelineChart(c.timeline),
        others,
        merges,
        loop,
        notice: notice(req.query),
        back: `/clusters/${id}`,
      }),
    );
  });

  f.post('/clusters/:id/rename', { ...curator, schema: { params: idParam, body: z.object({ title: z.string().max(1000), pin: checkbox }) } }, async (req, reply) => {
    const { id } = req.params;
    const form = req.body;
    await renameCluster(app.db, id, form.title, form.pin, deps.now());
    return reply.redirect(`/clusters/${id}?done=renamed`, 303);
  });

  f.post('/clusters/:id/pin', { ...curator, schema: { params: idParam, body: z.object({ pin: checkbox }) } }, async (req, reply) => {
    const { id } = req.params;
    const form = req.body;
    const c = await clusterRecordView(app.db, id);
    if (!c) throw new NotFoundError({ message: `There is no cluster ${id}.` });
    await renameCluster(app.db, id, c.title, form.pin, deps.now());
    return reply.redirect(`/clusters/${id}?done=${form.pin ? 'pinned' : 'unpinned'}`, 303);
  });

  f.post('/clusters/:id/merge', { ...curator, schema: { params: idParam, body: z.object({ from: z.coerce.number().int().positive() }) } }, async (req, reply) => {
    const { id } = req.params;
    const form = req.body;
    await mergeClusters(app.db, id, form.from, deps.now());
    return reply.redirect(`/clusters/${id}?done=merged`, 303);
  });

  f.post('/clusters/:id/split', { ...curator, schema: { params: idParam, body: z.object({ items: intList, title: optionalText(200) }) } }, async (req, reply) => {
    const { id } = req.params;
    const form = req.body;
    const newId = await splitCluster(app.db, id, form.items, form.title ?? null, deps.now());
    return reply.redirect(`/clusters/${newId}?done=split`, 303);
  });

  f.post(
    '/clusters/:id/merges/:merge/undo',
    { ...curator, schema: { params: z.object({ id: z.coerce.number().int().positive(), merge: z.coerce.number().int().positive() }) } },
    async (req, reply) => {
      const { id, merge } = req.params;
      const m = (await autoMerges(app.db, id)).find((x) => x.id === merge);
      if (!m) throw new NotFoundError({ message: `There is no automatic merge ${merge} into cluster ${id}.` });
      if (m.undoneAt !== null) throw new InputError(`The automatic merge ${merge} was undone already.`);
      const newId = await undoAutoMerge(app.db, merge, deps.now());
      return reply.redirect(`/clusters/${newId}?done=merge_undone`, 303);
    },
  );

  f.post('/items/:id/move', { ...curator, schema: { params: idParam, body: z.object({ to: z.coerce.number().int().positive(), next: z.string().max(2000).optional() }) } }, async (req, reply) => {
    const { id } = req.params;
    const form = req.body;
    await moveItem(app.db, id, form.to, deps.now());
    return reply.redirect(`${safeNext(form.next, `/clusters/${form.to}`)}?done=moved`, 303);
  });

  f.get('/items/:id', { schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    const item = await itemDetail(app.db, id);
    if (!item) throw new NotFoundError({ message: `There is no feedback item ${id}.` });
    const clusters = await clusterChoices(app.db, null);
    return sendPage(reply, 'item', pageData(req, 'clusters', item.title, { item, clusters, notice: notice(req.query), back: `/items/${id}` }));
  });
}
