/** Administration: the audit log (who viewed which evidence, when, from where) and accounts. */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { ROLES, isRole, principalLabel } from '../../core/roles.ts';
import { labelOf } from '../i18n.ts';
import { nowIso } from '../../core/ids.ts';
import { listAudit, writeAudit } from '../../evidence/audit.ts';
import { html } from '../html.ts';
import { CSRF_FIELD, csrfField, fmtTime, layout, pageContext, sendPage, verifyCsrf, type PageCtx } from '../page.ts';
import { accountsDb, createAccount, destroyUserSessions } from '../../db/accounts.ts';

type Body = Record<string, unknown>;
const field = (b: unknown, k: string): string =>
  b && typeof b === 'object' && typeof (b as Body)[k] === 'string' ? String((b as Body)[k]) : '';

export async function adminRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  async function usersPage(
    ctx: PageCtx,
    opts: { created?: { email: string; password: string | null }; error?: string },
  ): Promise<string> {
    const { t } = ctx;
    const users = await accountsDb(db)
      .selectFrom('users')
      .select(['id', 'email', 'role', 'created_at', 'disabled_at', 'last_login_at', 'authority_id', 'networks'])
      .orderBy('created_at')
      .limit(1000)
      .execute();
    return layout(
      ctx,
      t('admin.users'),
      html`<p class="crumbs"><a href="/admin">${t('admin.title')}</a></p><h1>${t('admin.users')}</h1>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
${
  opts.created
    ? html`<div class="notice" role="status"><p>${opts.created.email}</p>${
        opts.created.password
          ? html`<p>${t('admin.users.created')} <code class="secret">${opts.created.password}</code></p>`
          : ''
      }</div>`
    : ''
}
<div class="table-scroll"><table><thead><tr><th scope="col">${t('login.email')}</th><th \
scope="col">${t('col.role')}</th><th scope="col">${t('trc.scope')}</th><th scope="col">${t('col.created')}</th><th \
scope="col">${t('col.lastUsed')}</th><th scope="col">${t('col.action')}</th></tr></thead><tbody>
${users.map(
  (u) =>
    html`<tr><td translate="no">${u.email}</td><td>${labelOf(t, 'trc.role', u.role)}</td><td \
translate="no">${u.authority_id ?? ''} ${u.networks ?? ''}</td>\
<td>${fmtTime(u.created_at, ctx.locale)}</td><td>${fmtTime(u.last_login_at, ctx.locale)}</td><td>${
      u.disabled_at
        ? t('admin.users.disabled')
        : html`<form method="post" action="/admin/users/${u.id}/disable" class="inline">${csrfField(ctx)}<button \
type="submit">${t('admin.users.disable')}</button></form>`
    }</td></tr>`,
)}</tbody></table></div>
<section class="card"><h2>${t('admin.users.create')}</h2>
<form method="post" action="/admin/users" class="stack narrow">${csrfField(ctx)}
<label for="email">${t('login.email')}</label><input id="email" name="email" type="email" required>
<label for="role">${t('col.role')}</label><select id="role" name="role">${ROLES.map(
        (r) => html`<option value="${r}">${labelOf(t, 'trc.role', r)}</option>`,
      )}</select>
<label for="authority">${t('admin.users.authority')}</label><input id="authority" name="authority" maxlength="64">
<label for="networks">${t('admin.users.networks')}</label><input id="networks" name="networks" maxlength="500" \
inputmode="numeric">
<button type="submit" class="primary">${t('admin.users.create')}</button></form></section>`,
      { wide: true },
    );
  }

  app.get('/admin', async (req, reply) => {
    authorize(req.principal, 'user:manage');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    return sendPage(
      reply,
      layout(
        ctx,
        t('admin.title'),
        html`<h1>${t('admin.title')}</h1><ul><li><a href="/admin/audit">${t('admin.audit')}</a></li><li><a \
href="/admin/users">${t('admin.users')}</a></li></ul>`,
      ),
    );
  });

  app.get<{ Querystring: { before?: string } }>('/admin/audit', async (req, reply) => {
    authorize(req.principal, 'audit:read');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const before =
      typeof req.query.before === 'string' && /^\d{1,15}$/.test(req.query.before) ? req.query.before : undefined;
    const rows = await listAudit(db, { limit: 200, before });
    const last = rows[rows.length - 1];
    return sendPage(
      reply,
      layout(
        ctx,
        t('admin.audit'),
        html`<p class="crumbs"><a href="/admin">${t('admin.title')}</a></p><h1>${t('admin.audit')}</h1>
<div class="table-scroll"><table data-testid="audit"><thead><tr><th scope="col">#</th><th \
scope="col">${t('col.when')}</th><th scope="col">${t('col.who')}</th><th scope="col">${t('col.action')}</th><th \
scope="col">${t('trc.subject')}</th><th scope="col">IP</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr><td class="mono">${String(r.seq ?? '')}</td><td class="nowrap">${fmtTime(r.at, ctx.locale)}</td>\
<td translate="no">${r.actor}</td><td class="mono" translate="no">${r.action}</td><td class="mono" \
translate="no">${r.subject}</td><td \
class="mono">${r.ip ?? ''}</td></tr>`,
)}
</tbody></table></div>
${
  rows.length === 200 && last
    ? html`<p><a rel="next" href="/admin/audit?before=${String(last.seq ?? '')}">${t('list.next')}</a></p>`
    : ''
}`,
        { wide: true },
      ),
    );
  });

  app.get('/admin/users', async (req, reply) => {
    authorize(req.principal, 'user:manage');
    return sendPage(reply, await usersPage(pageContext(req, reply), {}));
  });

  app.post('/admin/users', async (req, reply) => {
    authorize(req.principal, 'user:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const ctx = pageContext(req, reply);
    const role = field(req.body, 'role');
    if (!isRole(role)) throw new AppError('BAD_REQUEST', `Unknown role ${role}.`);
    const networks = field(req.body, 'networks')
      .split(/[\s,;]+/)
      .map((s) => s.replace(/^AS/i, ''))
      .filter((s) => /^\d{1,10}$/.test(s))
      .map(Number);
    try {
      const email = field(req.body, 'email');
      const { generatedPassword } = await createAccount(db, {
        email,
        role,
        authorityId: field(req.body, 'authority').trim() || null,
        networks,
      });
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'account.create',
        subject: `user:${email}`,
        ip: req.ip,
        detail: { role },
      });
      return sendPage(reply, await usersPage(ctx, { created: { email, password: generatedPassword } }), 201);
    } catch (e) {
      if (e instanceof AppError && (e.code === 'CONFLICT' || e.code === 'BAD_REQUEST'))
        return sendPage(reply, await usersPage(ctx, { error: e.message }), e.status);
      throw e;
    }
  });

  app.post<{ Params: { id: string } }>('/admin/users/:id/disable', async (req, reply) => {
    authorize(req.principal, 'user:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const res = await db
      .updateTable('users')
      .set({ disabled_at: nowIso() })
      .where('id', '=', req.params.id)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new AppError('NOT_FOUND', 'No such active account.');
    await destroyUserSessions(db, req.params.id);
    await db
      .updateTable('api_tokens')
      .set({ revoked_at: nowIso() })
      .where('user_id', '=', req.params.id)
      .where('revoked_at', 'is', null)
      .execute();
    await writeAudit(db, {
      actor: principalLabel(req.principal),
      action: 'account.disable',
      subject: `user:${req.params.id}`,
      ip: req.ip,
    });
    return reply.redirect('/admin/users', 303);
  });
}
