/**
 * Accounts and API tokens for admins: list (keyset-paged), create (a one-time password, shown
 * once), an account's page (disable or enable, reset the password, change role and scope), and
 * tokens (create — shown once —, revoke). The services are those `spamdesk admin` and `spamdesk
 * token` call (`db/accounts.ts`, `db/tokens.ts`); every change is audited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { ROLES, isRole, type Role } from '../../core/roles.ts';
import {
  accountsDb,
  createAccount,
  normaliseEmail,
  resetPassword,
  setAccountDisabled,
  setAccountRole,
} from '../../db/accounts.ts';
import { createToken, revokeToken } from '../../db/tokens.ts';
import { html, type SafeHtml } from '../html.ts';
import { labelOf } from '../i18n.ts';
import { CSRF_FIELD, csrfField, fmtTime, layout, pageContext, sendPage, verifyCsrf, type PageCtx } from '../page.ts';
import {
  ADMIN_PAGE_SIZE,
  attempt,
  auditChange,
  crumbs,
  cursorOf,
  entryChange,
  field,
  flash,
  idParam,
  pageOf,
  pager,
  parseAsns,
  registryViews,
} from './admin-kit.ts';

interface Flash {
  error?: string;
  message?: string;
  /** A generated password or token secret, shown once. */
  secret?: { label: string; value: string };
}

function secretBox(f: Flash): SafeHtml | string {
  return f.secret
    ? html`<div class="notice" role="status"><p>${f.secret.label}</p><p><code class="secret" \
data-testid="secret">${f.secret.value}</code></p></div>`
    : '';
}

function roleOptions(ctx: PageCtx, selected: string): SafeHtml[] {
  return ROLES.map(
    (r) => html`<option value="${r}" ${r === selected ? 'selected' : ''}>${labelOf(ctx.t, 'trc.role', r)}</option>`,
  );
}

/** The scope fields of a role form (authority id, AS numbers). */
function scopeFields(ctx: PageCtx, v: { authority?: string | null; networks?: string }): SafeHtml {
  const { t } = ctx;
  return html`<label for="authority">${t('admin.users.authority')}</label><input id="authority" name="authority" \
maxlength="64" value="${v.authority ?? ''}">
<label for="networks">${t('admin.users.networks')}</label><input id="networks" name="networks" maxlength="500" \
value="${v.networks ?? ''}">`;
}

/** Role, authority and AS numbers of a submitted form, checked. */
function roleForm(body: unknown): { role: Role; authorityId: string | null; networks: number[] } {
  const role = field(body, 'role');
  if (!isRole(role)) throw new AppError('BAD_REQUEST', `Unknown role "${role}".`);
  const authorityId = field(body, 'authority').trim() || null;
  if (authorityId !== null && !/^[\w.:-]{1,64}$/.test(authorityId))
    throw new AppError('BAD_REQUEST', 'The authority id has letters, digits, dots, dashes or colons only.');
  return { role, authorityId, networks: parseAsns(field(body, 'networks')) };
}

export async function adminAccountRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const adb = accountsDb(db);

  async function usersPage(req: FastifyRequest, ctx: PageCtx, f: Flash, form: Record<string, string> = {}) {
    const { t } = ctx;
    const after = cursorOf(req.query);
    let q = adb
      .selectFrom('users')
      .select(['id', 'email', 'role', 'created_at', 'disabled_at', 'last_login_at', 'authority_id', 'networks'])
      .orderBy('id', 'desc')
      .limit(ADMIN_PAGE_SIZE + 1);
    if (after) q = q.where('id', '<', after);
    const page = pageOf(await q.execute());
    return layout(
      ctx,
      t('admin.users'),
      html`${crumbs(ctx)}<h1>${t('admin.users')}</h1>${flash(f)}${secretBox(f)}
<div class="table-scroll"><table data-testid="users"><thead><tr><th scope="col">${t('login.email')}</th><th \
scope="col">${t('col.role')}</th><th scope="col">${t('admin.scope')}</th><th scope="col">${t('col.created')}</th><th \
scope="col">${t('col.lastUsed')}</th><th scope="col">${t('admin.state')}</th></tr></thead><tbody>
${page.rows.map(
  (u) => html`<tr><td><a href="/admin/users/${u.id}">${u.email}</a></td>\
<td>${labelOf(t, 'trc.role', u.role)}</td><td translate="no">${u.authority_id ?? ''} \
${u.networks ? parseNetworksText(u.networks) : ''}</td><td>${fmtTime(u.created_at)}</td>\
<td>${fmtTime(u.last_login_at)}</td>\
<td>${u.disabled_at ? t('admin.users.disabled') : t('admin.active')}</td></tr>`,
)}</tbody></table></div>
${pager(ctx, '/admin/users', page.next, after !== null)}
<section class="card"><h2>${t('admin.users.create')}</h2>
<form method="post" action="/admin/users" class="stack narrow">${csrfField(ctx)}
<label for="email">${t('login.email')}</label><input id="email" name="email" type="email" required maxlength="320" \
value="${form.email ?? ''}">
<label for="role">${t('col.role')}</label><select id="role" name="role">\
${roleOptions(ctx, form.role ?? 'analyst')}</select>
${scopeFields(ctx, { authority: form.authority, networks: form.networks })}
<button type="submit" class="primary">${t('admin.users.create')}</button></form></section>`,
      { wide: true },
    );
  }

  async function userPage(ctx: PageCtx, id: string, f: Flash): Promise<string> {
    const { t } = ctx;
    const u = await adb.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!u) throw new AppError('NOT_FOUND', 'No such account.');
    const tokens = await db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'created_at', 'revoked_at', 'last_used_at'])
      .where('user_id', '=', id)
      .orderBy('id', 'desc')
      .execute();
    const action = (path: string, label: string, danger = false) =>
      html`<form method="post" action="/admin/users/${u.id}/${path}" class="inline">${csrfField(ctx)}<button \
type="submit" ${danger ? html`class="danger"` : ''}>${label}</button></form>`;
    return layout(
      ctx,
      u.email,
      html`${crumbs(ctx, [{ href: '/admin/users', label: t('admin.users') }])}\
<h1>${u.email}</h1>${flash(f)}${secretBox(f)}
<dl class="facts"><dt>${t('col.role')}</dt><dd data-testid="role">\
${labelOf(t, 'trc.role', u.role)}</dd><dt>${t('admin.scope')}</dt><dd>\
${u.authority_id ?? ''} ${u.networks ? parseNetworksText(u.networks) : ''}</dd><dt>${t('col.created')}</dt>\
<dd>${fmtTime(u.created_at)}</dd><dt>${t('col.lastUsed')}</dt><dd>${fmtTime(u.last_login_at)}</dd>\
<dt>${t('admin.state')}</dt>\
<dd>${u.disabled_at ? `${t('admin.users.disabled')} ${fmtTime(u.disabled_at)}` : t('admin.active')}\
${u.must_change_password === 1 ? html` · ${t('admin.users.mustChange')}` : ''}</dd></dl>
<p class="actions">${
        u.disabled_at ? action('enable', t('admin.users.enable')) : action('disable', t('admin.users.disable'), true)
      } \
${action('reset', t('admin.users.reset'))}</p>
<section class="card"><h2>${t('admin.users.changeRole')}</h2>
<form method="post" action="/admin/users/${u.id}/role" class="stack narrow">${csrfField(ctx)}
<label for="role">${t('col.role')}</label><select id="role" name="role">${roleOptions(ctx, u.role)}</select>
${scopeFields(ctx, { authority: u.authority_id, networks: u.networks ? parseNetworksText(u.networks) : '' })}
<button type="submit">${t('admin.users.changeRole')}</button></form></section>
<section class="card"><h2>${t('admin.tokens')}</h2>${
        tokens.length === 0
          ? html`<p>${t('account.tokens.none')}</p>`
          : tokenTable(
              ctx,
              tokens.map((tk) => ({ ...tk, email: null })),
            )
      }</section>`,
    );
  }

  function tokenTable(
    ctx: PageCtx,
    rows: {
      id: string;
      name: string | null;
      role: string;
      created_at: string;
      revoked_at: string | null;
      last_used_at: string | null;
      email: string | null;
    }[],
  ): SafeHtml {
    const { t } = ctx;
    return html`<div class="table-scroll"><table data-testid="tokens"><thead><tr><th scope="col">${t('col.name')}</th>\
<th scope="col">${t('col.role')}</th><th scope="col">${t('admin.tokens.owner')}</th>\
<th scope="col">${t('col.created')}</th>\
<th scope="col">${t('col.lastUsed')}</th><th scope="col">${t('col.action')}</th></tr></thead><tbody>
${rows.map(
  (tk) => html`<tr><td translate="no">${tk.name ?? tk.id}</td><td>${labelOf(t, 'trc.role', tk.role)}</td>\
<td translate="no">${tk.email ?? ''}</td>\
<td>${fmtTime(tk.created_at)}</td>\
<td>${fmtTime(tk.last_used_at)}</td><td>${
    tk.revoked_at
      ? `${t('account.tokens.revoked')} ${fmtTime(tk.revoked_at)}`
      : html`<form method="post" action="/admin/tokens/${tk.id}/revoke" class="inline">${csrfField(ctx)}<button \
type="submit">${t('account.tokens.revoke')}</button></form>`
  }</td></tr>`,
)}</tbody></table></div>`;
  }

  async function tokensPage(req: FastifyRequest, ctx: PageCtx, f: Flash, form: Record<string, string> = {}) {
    const { t } = ctx;
    const after = cursorOf(req.query);
    let q = db
      .selectFrom('api_tokens as k')
      .leftJoin('users as u', 'u.id', 'k.user_id')
      .select(['k.id', 'k.name', 'k.role', 'k.created_at', 'k.revoked_at', 'k.last_used_at', 'u.email'])
      .orderBy('k.id', 'desc')
      .limit(ADMIN_PAGE_SIZE + 1);
    if (after) q = q.where('k.id', '<', after);
    const page = pageOf(await q.execute());
    return layout(
      ctx,
      t('admin.tokens'),
      html`${crumbs(ctx)}<h1>${t('admin.tokens')}</h1>${flash(f)}${secretBox(f)}
${tokenTable(ctx, page.rows)}${pager(ctx, '/admin/tokens', page.next, after !== null)}
<section class="card"><h2>${t('admin.tokens.create')}</h2><p>${t('admin.tokens.lead')}</p>
<form method="post" action="/admin/tokens" class="stack narrow">${csrfField(ctx)}
<label for="name">${t('col.name')}</label><input id="name" name="name" required maxlength="80" \
value="${form.name ?? ''}">
<label for="role">${t('col.role')}</label><select id="role" name="role">\
${roleOptions(ctx, form.role ?? 'reporter')}</select>
<label for="owner">${t('admin.tokens.ownerEmail')}</label><input id="owner" name="owner" type="email" maxlength="320" \
value="${form.owner ?? ''}">
<button type="submit" class="primary">${t('admin.tokens.create')}</button></form></section>`,
      { wide: true },
    );
  }

  registryViews(app, '/admin/users', {
    permission: 'user:manage',
    list: (req, ctx) => usersPage(req, ctx, {}),
    entry: (_req, ctx, id, f) => userPage(ctx, id, f),
  });

  app.post('/admin/users', async (req, reply) => {
    authorize(req.principal, 'user:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const ctx = pageContext(req, reply);
    const form = {
      email: field(req.body, 'email'),
      role: field(req.body, 'role'),
      authority: field(req.body, 'authority'),
      networks: field(req.body, 'networks'),
    };
    const r = await attempt(async () => {
      const scope = roleForm(req.body);
      if (scope.role === 'authority' && !scope.authorityId)
        throw new AppError('BAD_REQUEST', 'An authority account needs the id of its authority.');
      if (scope.role === 'network_operator' && scope.networks.length === 0)
        throw new AppError('BAD_REQUEST', 'A network-operator account needs at least one AS number.');
      return createAccount(db, { email: form.email, ...scope });
    });
    if (!r.ok) return sendPage(reply, await usersPage(req, ctx, { error: r.error.message }, form), r.error.status);
    const email = normaliseEmail(form.email);
    await auditChange(req, 'account.create', `user:${r.value.id}`, { email, role: form.role });
    const secret = r.value.generatedPassword
      ? { label: ctx.t('admin.users.created'), value: r.value.generatedPassword }
      : undefined;
    return sendPage(reply, await userPage(ctx, r.value.id, { message: email, secret }), 201);
  });

  const change = {
    permission: 'user:manage',
    subject: 'user',
    back: '/admin/users',
    page: (_req: FastifyRequest, ctx: PageCtx, id: string, f: Flash) => userPage(ctx, id, f),
  } as const;
  for (const [path, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    entryChange(app, `/admin/users/:id/${path}`, {
      ...change,
      run: (id) => setAccountDisabled(db, id, disabled),
      // Only a change of state is audited (disabling a disabled account changes nothing).
      audit: (_id, changed) => (changed ? { action: `account.${path}` } : null),
    });
  }

  app.post<{ Params: { id: string } }>('/admin/users/:id/reset', async (req, reply) => {
    authorize(req.principal, 'user:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const id = idParam(req.params.id);
    const ctx = pageContext(req, reply);
    const password = await resetPassword(db, id);
    await auditChange(req, 'account.reset-password', `user:${id}`);
    return sendPage(
      reply,
      await userPage(ctx, id, { secret: { label: ctx.t('admin.users.resetDone'), value: password } }),
    );
  });

  entryChange(app, '/admin/users/:id/role', {
    ...change,
    run: async (id, body) => {
      const scope = roleForm(body);
      await setAccountRole(db, id, scope);
      return scope;
    },
    audit: (_id, s) => ({
      action: 'account.role',
      detail: { role: s.role, authorityId: s.authorityId, networks: s.networks },
    }),
  });

  app.get('/admin/tokens', async (req, reply) => {
    authorize(req.principal, 'token:manage');
    return sendPage(reply, await tokensPage(req, pageContext(req, reply), {}));
  });

  app.post('/admin/tokens', async (req, reply) => {
    authorize(req.principal, 'token:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const ctx = pageContext(req, reply);
    const form = { name: field(req.body, 'name'), role: field(req.body, 'role'), owner: field(req.body, 'owner') };
    const r = await attempt(async () => {
      const name = form.name.trim();
      if (name.length === 0 || name.length > 80)
        throw new AppError('BAD_REQUEST', 'A token needs a name (80 at most).');
      if (!isRole(form.role)) throw new AppError('BAD_REQUEST', `Unknown role "${form.role}".`);
      let userId: string | null = null;
      if (form.owner.trim()) {
        const u = await adb
          .selectFrom('users')
          .select(['id', 'role', 'disabled_at'])
          .where('email', '=', normaliseEmail(form.owner))
          .executeTakeFirst();
        if (!u || u.disabled_at) throw new AppError('BAD_REQUEST', `No active account ${form.owner}.`);
        // A token never carries more than its owner's role.
        if (u.role !== form.role)
          throw new AppError('BAD_REQUEST', `A token of ${form.owner} has that account's role (${u.role}).`);
        userId = u.id;
      }
      return createToken(db, { role: form.role, name, userId });
    });
    if (!r.ok) return sendPage(reply, await tokensPage(req, ctx, { error: r.error.message }, form), r.error.status);
    await auditChange(req, 'token.create', `token:${r.value.id}`, { role: r.value.role, name: r.value.name });
    const secret = { label: ctx.t('account.tokens.created'), value: r.value.secret };
    return sendPage(reply, await tokensPage(req, ctx, { secret }), 201);
  });

  app.post<{ Params: { id: string } }>('/admin/tokens/:id/revoke', async (req, reply) => {
    authorize(req.principal, 'token:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const id = idParam(req.params.id);
    if (!(await revokeToken(db, id))) throw new AppError('NOT_FOUND', 'No such live token.');
    await auditChange(req, 'token.revoke', `token:${id}`);
    return reply.redirect('/admin/tokens', 303);
  });
}

/** `[64500,64501]` → `AS64500, AS64501`. */
function parseNetworksText(json: string): string {
  try {
    const arr: unknown = JSON.parse(json);
    return Array.isArray(arr) ? arr.map((n) => `AS${String(n)}`).join(', ') : '';
  } catch {
    return '';
  }
}
