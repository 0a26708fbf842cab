// The account page (one's own password and API tokens) and, for admins, the users and every API token.
// A password change or a disable ends that user's sessions and API tokens at once; the store refuses a
// change that would leave no enabled admin.
import { GleanerError, InputError } from '../../errors.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listAllApiTokens, listApiTokens, listUsers, removeUser, revokeApiToken, setUserDisabled, setUserRole } from '../../store/web/accounts.js';
import { ROLES, type Role } from '../../store/web/tables.js';
import { SESSION_COOKIE, pageData, sendPage, type RouteOptions, type ZodTypeProvider } from '../page.js';
import { addUser, changePassword, checkPassword, checkPasswordRules, issueApiToken } from '../auth.js';
import { idParam, notice } from '../forms.js';

const RoleSchema = z.enum(ROLES as [Role, ...Role[]]);

/** A Fastify plugin: registered by src/web/app.ts inside the authenticated scope. */
export default async function accountRoutes(fastify: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const f = fastify.withTypeProvider<ZodTypeProvider>();
  const { app } = deps;
  const admin = { config: { role: 'admin' as const } };

  f.get('/account', async (req, reply) => {
    const tokens = await listApiTokens(app.db, req.user!.id);
    return sendPage(reply, 'account', pageData(req, 'account', 'Your account', { tokens, notice: notice(req.query) }));
  });

  f.post('/account/tokens', { schema: { body: z.object({ name: z.string().max(100).default('') }) } }, async (req, reply) => {
    const form = req.body;
    const { token } = await issueApiToken(app.db, req.user!.id, form.name, deps.now());
    const tokens = await listApiTokens(app.db, req.user!.id);
    // Shown once, in this response only.
    return sendPage(reply, 'account', pageData(req, 'account', 'Your account', { tokens, newToken: token }));
  });

  f.post('/account/tokens/:id/revoke', { schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    await revokeApiToken(app.db, req.user!.id, id, deps.now());
    return reply.redirect('/account?done=token_revoked', 303);
  });

  // One's own password: the current one first. Every session (this one too) and API token ends.
  f.post('/account/password', { schema: { body: z.object({ current: z.string().max(1024), password: z.string().max(1024), confirm: z.string().max(1024) }) } }, async (req, reply) => {
    const form = req.body;
    if (form.password !== form.confirm) throw new InputError('The new password and its repetition differ; the password was not changed.');
    checkPasswordRules(form.password);
    // The current password counts as a login attempt: the same limits.
    const me = await checkPassword(app.db, req.user!.name, form.current, req.ip, deps.now());
    if (!me.ok && me.reason === 'rate_limited') throw new GleanerError('rate_limited', `Too many wrong passwords. Try again in ${Math.ceil(me.retryAfterS / 60)} minutes.`);
    if (!me.ok) throw new InputError('The current password is not right; the password was not changed.');
    await changePassword(app.db, me.user.id, form.password, deps.now());
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login?done=password_changed', 303);
  });

  f.get('/admin/users', admin, async (req, reply) => {
    const users = (await listUsers(app.db)).map((u) => ({ ...u, isMe: u.id === req.user!.id }));
    const tokens = await listAllApiTokens(app.db);
    return sendPage(reply, 'users', pageData(req, 'users', 'Users', { users, tokens, roles: ROLES, notice: notice(req.query) }));
  });

  f.post('/admin/users', { ...admin, schema: { body: z.object({ name: z.string().max(64), role: RoleSchema, password: z.string().max(1024) }) } }, async (req, reply) => {
    const form = req.body;
    await addUser(app.db, form.name, form.role, form.password, deps.now());
    return reply.redirect('/admin/users?done=user_added', 303);
  });

  f.post('/admin/users/:id/role', { ...admin, schema: { params: idParam, body: z.object({ role: RoleSchema }) } }, async (req, reply) => {
    const { id } = req.params;
    const form = req.body;
    await setUserRole(app.db, id, form.role);
    return reply.redirect('/admin/users?done=role_changed', 303);
  });

  f.post('/admin/users/:id/password', { ...admin, schema: { params: idParam, body: z.object({ password: z.string().max(1024) }) } }, async (req, reply) => {
    const { id } = req.params;
    const form = req.body;
    await changePassword(app.db, id, form.password, deps.now());
    if (id === req.user!.id) {
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.redirect('/login?done=password_changed', 303);
    }
    return reply.redirect('/admin/users?done=password_set', 303);
  });

  f.post('/admin/users/:id/disable', { ...admin, schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    await setUserDisabled(app.db, id, true, deps.now());
    return reply.redirect(id === req.user!.id ? '/login' : '/admin/users?done=user_disabled', 303);
  });

  f.post('/admin/users/:id/enable', { ...admin, schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    await setUserDisabled(app.db, id, false, deps.now());
    return reply.redirect('/admin/users?done=user_enabled', 303);
  });

  f.post('/admin/users/:id/remove', { ...admin, schema: { params: idParam, body: z.object({ confirm: z.literal('1', { message: 'tick the box to confirm the removal' }) }) } }, async (req, reply) => {
    const { id } = req.params;
    await removeUser(app.db, id);
    return reply.redirect(id === req.user!.id ? '/login' : '/admin/users?done=user_removed', 303);
  });

  f.post('/admin/tokens/:id/revoke', { ...admin, schema: { params: idParam } }, async (req, reply) => {
    const { id } = req.params;
    await revokeApiToken(app.db, null, id, deps.now());
    return reply.redirect('/admin/users?done=token_revoked', 303);
  });
}
