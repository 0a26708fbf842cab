// The tag inbox: items waiting for a human decision. The page works with plain forms; inbox.js turns
// it into a keyboard-driven list that decides through the JSON API without reloading.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addTag, confirmItem, markNotFeedback, removeTag, untaggedItems } from '../../store/curation.js';
import { pendingItemCount } from '../../store/web.js';
import { pageData, safeNext, sendPage, type WebDeps } from '../app.js';
import { idParam, intList, notice } from '../forms.js';

export const INBOX_PAGE = 50;

export type ItemAction = 'confirm' | 'not-feedback';

export async function applyItemAction(deps: WebDeps, ids: number[], action: ItemAction, actor: string): Promise<void> {
  const now = deps.now();
  for (const id of ids) {
    if (action === 'confirm') await confirmItem(deps.app.db, id, actor, now);
    else await markNotFeedback(deps.app.db, id, actor, now);
  }
}

const back = (body: unknown, fallback: string) => safeNext((body as { next?: unknown } | undefined)?.next, fallback);
const withDone = (url: string, code: string) => `${url}${url.includes('?') ? '&' : '?'}done=${code}`;

export function registerInboxRoutes(f: FastifyInstance, deps: WebDeps): void {
  const { app } = deps;
  const curator = { config: { role: 'curator' as const } };

  f.get('/inbox', curator, async (req, reply) => {
    const items = await untaggedItems(app.db, INBOX_PAGE, 0);
    const pending = await pendingItemCount(app.db);
    return sendPage(reply, 'inbox', pageData(req, 'inbox', 'Tag inbox', { items, pending, notice: notice(req.query), scripts: ['inbox.js'] }));
  });

  f.post('/items/:id/confirm', curator, async (req, reply) => {
    const { id } = idParam.parse(req.params);
    await applyItemAction(deps, [id], 'confirm', req.user!.name);
    return reply.redirect(withDone(back(req.body, '/inbox'), 'confirmed'), 303);
  });

  f.post('/items/:id/not-feedback', curator, async (req, reply) => {
    const { id } = idParam.parse(req.params);
    await applyItemAction(deps, [id], 'not-feedback', req.user!.name);
    return reply.redirect(withDone(back(req.body, '/inbox'), 'notfeedback'), 303);
  });

  f.post('/items/:id/tags', curator, async (req, reply) => {
    const { id } = idParam.parse(req.params);
    const form = z.object({ tag: z.string().min(1).max(100) }).parse(req.body);
    await addTag(app.db, id, form.tag, req.user!.name, deps.now());
    return reply.redirect(withDone(back(req.body, `/items/${id}`), 'tagged'), 303);
  });

  f.post('/items/:id/tags/remove', curator, async (req, reply) => {
    const { id } = idParam.parse(req.params);
    const form = z.object({ tag: z.string().min(1).max(100) }).parse(req.body);
    await removeTag(app.db, id, form.tag, req.user!.name, deps.now());
    return reply.redirect(withDone(back(req.body, `/items/${id}`), 'untagged'), 303);
  });

  f.post('/inbox/bulk', curator, async (req, reply) => {
    const form = z.object({ items: intList, action: z.enum(['confirm', 'not-feedback']) }).parse(req.body);
    await applyItemAction(deps, form.items, form.action, req.user!.name);
    return reply.redirect(`/inbox?done=${form.action === 'confirm' ? 'confirmed' : 'notfeedback'}`, 303);
  });
}
