// Closing the loop on the cluster page: a curator marks the cluster resolved (reference and link), then
// edits, approves (which sends it) or dismisses each drafted reply. Every reply is sent once (its claim).
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { InputError, NotFoundError } from '../../errors.js';
import type { Database } from '../../store/schema.js';
import { decideReply, editReply, getReply, getResolution, listReplies } from '../../store/loop.js';
import { resolveCluster } from '../../loop/drafts.js';
import { sendReply } from '../../loop/send.js';
import type { RouteOptions, ZodTypeProvider } from '../page.js';
import { idParam, optionalText } from '../forms.js';

/** What the cluster page shows of the loop: the resolution and the replies with their state. */
export async function loopView(db: Kysely<Database>, clusterId: number) {
  const resolution = await getResolution(db, clusterId);
  const replies = (await listReplies(db, { clusterId })).map((r) => ({ ...r, editable: ['draft', 'approved', 'failed'].includes(r.status), target: summary(r.platform, r.target) }));
  return { resolution: resolution?.resolvedAt != null ? resolution : null, replies };
}

function summary(platform: string, target: string): string {
  const t = JSON.parse(target) as Record<string, string>;
  switch (platform) {
    case 'slack':
      return `Slack thread ${t.threadTs} in ${t.channel}`;
    case 'discord':
      return `Discord reply to message ${t.messageId}`;
    case 'matrix':
      return `Matrix reply to ${t.eventId} in ${t.roomId}`;
    case 'mail':
      return `mail to ${t.to}, in reply to ${t.inReplyTo}`;
    default:
      return platform;
  }
}

/** A Fastify plugin: registered by src/web/app.ts inside the authenticated scope. */
export default async function loopRoutes(fastify: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const f = fastify.withTypeProvider<ZodTypeProvider>();
  const { app } = deps;
  const curator = { config: { role: 'curator' as const } };
  const ctx = () => ({ ...app.ctx, now: deps.now });

  f.post('/clusters/:id/resolve', { ...curator, schema: { params: idParam, body: z.object({ reference: z.string().trim().min(1).max(500), url: optionalText(2000) }) } }, async (req, reply) => {
    const { id } = req.params;
    if (!(await getResolution(app.db, id))) throw new NotFoundError({ message: `There is no cluster ${id}.` });
    if (req.body.url && !/^https?:\/\/\S+$/i.test(req.body.url)) throw new InputError('The link must be an http(s) address.');
    await resolveCluster(ctx(), id, { by: req.user?.name ?? 'web', reference: req.body.reference, url: req.body.url ?? null });
    return reply.redirect(`/clusters/${id}?done=resolved#loop`, 303);
  });

  const replyBody = z.object({ text: z.string().trim().min(1).max(4000).optional(), action: z.enum(['save', 'approve', 'dismiss', 'send']) });
  f.post('/loop/:id', { ...curator, schema: { params: idParam, body: replyBody } }, async (req, reply) => {
    const r = await getReply(app.db, req.params.id);
    if (!r) throw new NotFoundError({ message: `There is no reply ${req.params.id}.` });
    const { text, action } = req.body;
    const by = req.user?.name ?? 'web';
    if (text !== undefined && text !== r.text && !(await editReply(app.db, r.id, text, deps.now()))) throw new InputError(`The reply is ${r.status}; it can no longer be edited.`);
    if (action === 'dismiss' && !(await decideReply(app.db, r.id, 'dismissed', by, deps.now()))) throw new InputError(`The reply is ${r.status}; only a draft can be dismissed.`);
    if (action === 'approve' || action === 'send') {
      if (r.status === 'draft') await decideReply(app.db, r.id, 'approved', by, deps.now());
      const o = await sendReply(ctx(), r.id);
      if (o.status === 'failed' || o.status === 'unknown') throw new InputError(`The reply was approved but not sent: ${o.error}`);
    }
    const done = action === 'save' ? 'reply_saved' : action === 'dismiss' ? 'reply_dismissed' : 'reply_sent';
    return reply.redirect(`/clusters/${r.clusterId}?done=${done}#loop`, 303);
  });
}
