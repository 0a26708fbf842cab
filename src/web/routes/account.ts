// The account page (API tokens of one's own) and, for admins, the users.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listApiTokens, listUsers, revokeApiToken, setUserRole, ROLES, type Role } from '../../store/web.js';
import { pageData, sendPage, type WebDeps } from '../app.js';
import { addUser, issueApiToken } from '../auth.js';
import { idParam, notice } from '../forms.js';

const RoleSchema = z.enum(ROLES as [Role, ...Role[]]);

export function registerAccountRoutes(f: FastifyInstance, deps: WebDeps): void {
  const { app } = deps;
  const admin = { config: { role: 'admin' as const } };

  f.get('/account', async (req, reply) => {
    const tokens = await listApiTokens(app.db, req.user!.id);
    return sendPage(reply, 'account', pageData(req, 'account', 'Your account', { tokens, notice: notice(req.query) }));
  });

  f.post('/account/tokens', async (req, reply) => {
    const form = z.object({ name: z.string().max(100).default('') }).parse(req.body);
    const { token } = await issueApiToken(app.db, req.user!.id, form.name, deps.now());
    const tokens = await listApiTokens(app.db, req.user!.id);
    // Shown once, in this response only.
    return sendPage(reply, 'account', pageData(req, 'account', 'Your account', { tokens, newToken: token }));
  });

  f.post('/account/tokens/:id/revoke', async (req, reply) => {
    const { id } = idParam.parse(req.params);
    await revokeApiToken(app.db, req.user!.id, id, deps.now());
    return reply.redirect('/account?done=token_revoked', 303);
  });

  f.get('/admin/users', admin, async (req, reply) => {
    const users = await listUsers(app.db);
    return sendPage(reply, 'users', pageData(req, 'users', 'Users', { users, roles: ROLES, notice: notice(req.query) }));
  });

  f.post('/admin/users', admin, async (req, reply) => {
    const form = z.object({ name: z.string().max(64), role: RoleSchema, password: z.string().max(1024) }).parse(req.body);
    await addUser(app.db, form.name, form.role, form.password, deps.now());
    return reply.redirect('/admin/users?done=user_added', 303);
  });

  f.post('/admin/users/:id/role', admin, async (req, reply) => {
    const { id } = idParam.parse(req.params);
    const form = z.object({ role: RoleSchema }).parse(req.body);
    await setUserRole(app.db, id, form.role);
    return reply.redirect('/admin/users?done=role_changed', 303);
  });
}
