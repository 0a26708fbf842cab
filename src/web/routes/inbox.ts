// The tag inbox: items waiting for a human decision. The page works with plain forms; inbox.js turns
// it into a keyboard-driven list that decides through the JSON API without reloading.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addTag, confirmItem, markNotFeedback, pendingInboxCount, removeTag, untaggedItems, type InboxItem } from '../../store/curation.js';
import { ownWords } from '../../pipeline/own-words.js';
import { pageData, safeNext, sendPage, type RouteOptions, type ZodTypeProvider, type WebDeps } from '../page.js';
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

/** Characters of the need's text shown before the fold. */
const LEAD_CHARS = 400;

/**
 * An inbox entry as the page shows it: the need's words first (quotes, signatures and footers left
 * out, whole sentences up to LEAD_CHARS), the whole message folded below when there is more.
 */
export function inboxView(i: InboxItem): InboxItem & { lead: string; folded: boolean; staff: boolean; bot: boolean } {
  const need = ownWords(i.text).replace(/\s+/g, ' ').trim();
  let lead = need;
  if (need.length > LEAD_CHARS) {
    const sentences = need.split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}"'`(])/u);
    lead = '';
    for (const s of sentences) {
      if (lead && lead.length + s.length + 1 > LEAD_CHARS) break;
      lead = lead ? `${lead} ${s}` : s;
    }
    if (lead.length > LEAD_CHARS * 1.5) lead = `${lead.slice(0, LEAD_CHARS).replace(/\s+\S*$/, '')}…`;
  }
  if (!lead) lead = i.text.trim().slice(0, LEAD_CHARS);
  const folded = lead.length < i.text.replace(/\s+/g, ' ').trim().length;
  return { ...i, lead, folded, staff: i.segment === 'staff', bot: i.segment === 'bot' };
}

/** A Fastify plugin: registered by src/web/app.ts inside the authenticated scope. */
export default async function inboxRoutes(fastify: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const f = fastify.withTypeProvider<ZodTypeProvider>();
  const { app } = deps;
  const curator = { config: { role: 'curator' as const } };

  f.get('/inbox', curator, async (req, reply) => {
    // Staff's and bots' items are rarely feedback: left out unless asked for (?show=all).
    const all =
      z
        .object({ show: z.enum(['all', 'people']).default('people') })
        .passthrough()
        .parse(req.query).show === 'all';
    const items = (await untaggedItems(app.db, INBOX_PAGE, 0, { staffAndBots: all })).map(inboxView);
    const pending = await pendingInboxCount(app.db, { staffAndBots: all });
    const hidden = all ? 0 : (await pendingInboxCount(app.db, { staffAndBots: true })) - pending;
    return sendPage(reply, 'inbox', pageData(req, 'inbox', 'Tag inbox', { items, pending, all, hidden, notice: notice(req.query), scripts: ['inbox.js'] }));
  });

  f.post('/items/:id/confirm', { ...curator, schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    await applyItemAction(deps, [id], 'confirm', req.user!.name);
    return reply.redirect(withDone(back(req.body, '/inbox'), 'confirmed'), 303);
  });

  f.post('/items/:id/not-feedback', { ...curator, schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    await applyItemAction(deps, [id], 'not-feedback', req.user!.name);
    return reply.redirect(withDone(back(req.body, '/inbox'), 'notfeedback'), 303);
  });

  f.post('/items/:id/tags', { ...curator, schema: { params: idParam, body: z.object({ tag: z.string().min(1).max(100) }) } }, async (req, reply) => {
    const { id } = req.params;
    const form = req.body;
    await addTag(app.db, id, form.tag, req.user!.name, deps.now());
    return reply.redirect(withDone(back(req.body, `/items/${id}`), 'tagged'), 303);
  });

  f.post('/items/:id/tags/remove', { ...curator, schema: { params: idParam, body: z.object({ tag: z.string().min(1).max(100) }) } }, async (req, reply) => {
    const { id } = req.params;
    const form = req.body;
    await removeTag(app.db, id, form.tag, req.user!.name, deps.now());
    return reply.redirect(withDone(back(req.body, `/items/${id}`), 'untagged'), 303);
  });

  f.post('/inbox/bulk', { ...curator, schema: { body: z.object({ items: intList, action: z.enum(['confirm', 'not-feedback']) }) } }, async (req, reply) => {
    const form = req.body;
    await applyItemAction(deps, form.items, form.action, req.user!.name);
    return reply.redirect(`/inbox?done=${form.action === 'confirm' ? 'confirmed' : 'notfeedback'}`, 303);
  });
}
