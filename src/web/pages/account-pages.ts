/**
 * Sign-in, sign-out, reporter registration, and the account page: one's own reports, API tokens
 * for the mail-client add-on (shown once, stored hashed, revocable), one's declared mail hosts,
 * password change.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize, can, reportScope } from '../../core/policy.ts';
import { createToken, revokeToken } from '../../db/tokens.ts';
import { html } from '../html.ts';
import {
  CSRF_FIELD,
  cookieSecure,
  csrfField,
  fmtTime,
  layout,
  pageContext,
  sendPage,
  verifyCsrf,
  type PageCtx,
} from '../page.ts';
import { requestSession } from '../session-auth.ts';
import {
  SESSION_COOKIE,
  accountsDb,
  attemptLogin,
  checkCurrentPassword,
  createAccount,
  createSession,
  destroySession,
  destroyUserSessions,
  isValidEmail,
  normaliseEmail,
  setPassword,
} from '../../db/accounts.ts';
import { MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS } from '../../core/passwords.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { PASSWORD_PAGE } from '../first-sign-in.ts';
import { listReports } from '../queries.ts';
import { categoryLabel, channelLabel } from '../components.ts';
import { mailhostsView, ownMailhostKey } from '../../analysis/mailhost-routes.ts';
import { declareFromForm, frequentOrigins, mailhostsSection } from './account-mailhosts.ts';

type Body = Record<string, unknown>;
const field = (b: unknown, k: string): string =>
  b && typeof b === 'object' && typeof (b as Body)[k] === 'string' ? String((b as Body)[k]) : '';

/** Longest `next` kept; anything longer falls back to the default page. */
const MAX_NEXT_CHARS = 500;

/**
 * A same-origin path to go back to after signing in, or null (then the default page). Browsers
 * strip tab, CR and LF from URLs and read `\` as `/` (WHATWG URL, "special" schemes), so
 * `/%09/evil.example` or `/\evil.example` would become the network-path reference
 * `//evil.example`; a CR/LF would split the Location header. So: only printable ASCII (non-ASCII
 * must arrive percent-encoded), one leading `/` not followed by `/` or `\`, and the path must
 * resolve against a placeholder origin to that same origin.
 */
export function safeNext(v: unknown): string | null {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NEXT_CHARS) return null;
  if (!/^\/(?![/\\])[\x21-\x7e]*$/.test(v) || v.includes('\\')) return null;
  // Encoded controls and slashes that a later decode could turn into the same tricks.
  if (/%(?:0[0-9a-f]|1[0-9a-f]|7f|5c)/i.test(v) || /^\/%2f/i.test(v)) return null;
  try {
    const base = 'http://same-origin.invalid';
    const u = new URL(v, base);
    return u.origin === base ? v : null;
  } catch {
    return null;
  }
}

function loginPage(ctx: PageCtx, opts: { email?: string; error?: string; next?: string | null }): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('login.title'),
    html`<h1>${t('login.title')}</h1>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="/login" class="stack narrow">
  ${csrfField(ctx)}
  ${opts.next ? html`<input type="hidden" name="next" value="${opts.next}">` : ''}
  <label for="email">${t('login.email')}</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${opts.email ?? ''}">
  <label for="password">${t('login.password')}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit" class="primary">${t('login.submit')}</button>
</form>
<p>${t('login.noaccount')} <a href="/register">${t('nav.register')}</a></p>`,
  );
}

function registerPage(ctx: PageCtx, opts: { email?: string; error?: string }): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('register.title'),
    html`<h1>${t('register.title')}</h1><p class="lead">${t('register.lead')}</p>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="/register" class="stack narrow">
  ${csrfField(ctx)}
  <label for="email">${t('login.email')}</label>
  <input id="email" name="email" type="email" autocomplete="email" required value="${opts.email ?? ''}">
  <label for="password">${t('login.password')}</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required \
minlength="${MIN_PASSWORD_CHARS}" aria-describedby="pw-help">
  <p class="help" id="pw-help">${t('register.password.help')}</p>
  <button type="submit" class="primary">${t('register.submit')}</button>
</form>`,
  );
}

/** Where an account lands after signing in. */
function homeOf(role: string): string {
  return role === 'admin' || role === 'analyst' ? '/workbench' : '/account';
}

/** The page an account with a generated password is held on until it chooses its own. */
function passwordPage(ctx: PageCtx, opts: { error?: string }): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('account.password'),
    html`<h1>${t('account.password')}</h1>
${ctx.account?.mustChangePassword ? html`<p class="notice" role="alert">${t('account.password.must')}</p>` : ''}
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="${PASSWORD_PAGE}" class="stack narrow">${csrfField(ctx)}
  <label for="current">${t('account.password.current')}</label><input id="current" name="current" type="password" \
autocomplete="current-password" required>
  <label for="new">${t('account.password.new')}</label><input id="new" name="password" type="password" \
autocomplete="new-password" minlength="${MIN_PASSWORD_CHARS}" required aria-describedby="pw-help">
  <p class="help" id="pw-help">${t('register.password.help')}</p>
  <label for="confirm">${t('admin.password.confirm')}</label><input id="confirm" name="confirm" type="password" \
autocomplete="new-password" minlength="${MIN_PASSWORD_CHARS}" required>
  <button type="submit" class="primary">${t('account.password.submit')}</button>
</form>`,
  );
}

async function startSession(req: FastifyRequest, reply: FastifyReply, userId: string): Promise<void> {
  const { db, config } = req.server.ctx;
  const old = requestSession(req);
  if (old) await destroySession(db, old.session.idHash);
  const { secret } = await createSession(db, config, userId, {
    ip: req.ip,
    userAgent: req.headers['user-agent'] ?? null,
  });
  void reply.setCookie(SESSION_COOKIE, secret, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: cookieSecure(config),
    maxAge: config.webSessionHours * 3600,
  });
}

export async function accountRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app.ctx;
  const loginLimit = {
    max: config.webLoginAddressMaxFailures,
    timeWindow: 60_000,
    keyGenerator: (req: FastifyRequest) => req.ip,
  };

  app.get<{ Querystring: { next?: string } }>('/login', async (req, reply) => {
    const ctx = pageContext(req, reply);
    return sendPage(reply, loginPage(ctx, { next: safeNext(req.query.next) }));
  });

  app.post('/login', { config: { rateLimit: loginLimit } }, async (req, reply) => {
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const ctx = pageContext(req, reply);
    const email = field(req.body, 'email');
    const next = safeNext(field(req.body, 'next'));
    const res = await attemptLogin(db, config, email, field(req.body, 'password'), req.ip);
    if (!res.ok) {
      if (res.reason === 'invalid')
        return sendPage(reply, loginPage(ctx, { email, error: ctx.t('login.failed'), next }), 401);
      void reply.header('retry-after', String(res.retryAfterSeconds));
      return sendPage(reply, loginPage(ctx, { email, error: ctx.t('login.locked'), next }), 429);
    }
    await startSession(req, reply, res.userId);
    const user = await accountsDb(db)
      .selectFrom('users')
      .select(['role', 'must_change_password'])
      .where('id', '=', res.userId)
      .executeTakeFirstOrThrow();
    // A generated password (first admin, created or reset by an admin) is changed before anything else.
    if (user.must_change_password === 1) return reply.redirect(PASSWORD_PAGE, 303);
    return reply.redirect(next ?? homeOf(user.role), 303);
  });

  app.post('/logout', async (req, reply) => {
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const rs = requestSession(req);
    if (rs) await destroySession(db, rs.session.idHash);
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/', 303);
  });

  app.get('/register', async (req, reply) => sendPage(reply, registerPage(pageContext(req, reply), {})));

  app.post('/register', { config: { rateLimit: loginLimit } }, async (req, reply) => {
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const ctx = pageContext(req, reply);
    const email = normaliseEmail(field(req.body, 'email'));
    const password = field(req.body, 'password');
    if (!isValidEmail(email))
      return sendPage(reply, registerPage(ctx, { email, error: ctx.t('register.email.bad') }), 400);
    if (password.length < MIN_PASSWORD_CHARS)
      return sendPage(reply, registerPage(ctx, { email, error: ctx.t('register.weak') }), 400);
    try {
      const { id } = await createAccount(db, { email, password, role: 'reporter', locale: ctx.locale });
      await startSession(req, reply, id);
    } catch (e) {
      if (e instanceof AppError && e.code === 'CONFLICT')
        return sendPage(reply, registerPage(ctx, { email, error: ctx.t('register.exists') }), 409);
      throw e;
    }
    return reply.redirect('/account', 303);
  });

  app.get<{ Querystring: { created?: string } }>('/account', async (req, reply) => {
    authorize(req.principal, 'account:self');
    const rs = requestSession(req);
    if (!rs) throw new AppError('UNAUTHENTICATED');
    const ctx = pageContext(req, reply);
    return sendPage(reply, await accountPage(ctx, rs.account.id, { mustChange: rs.account.mustChangePassword }));
  });

  async function accountPage(
    ctx: PageCtx,
    userId: string,
    opts: {
      newToken?: string;
      message?: string;
      error?: string;
      mustChange?: boolean;
      /** The mail hosts as typed, kept in the form when they were refused. */
      mailhostsText?: string;
      mailhostsError?: string;
    },
  ): Promise<string> {
    const { t } = ctx;
    const key = ownMailhostKey(ctx.principal);
    const view = key === null ? null : await mailhostsView(db, key);
    const hosts =
      key === null || view === null
        ? null
        : { ...view, frequent: await frequentOrigins(db, key, [...view.learned, ...view.declared.map((d) => d.host)]) };
    const scope = reportScope(ctx.principal, { networks: [], authorityId: null });
    const own = can(ctx.principal, 'report:read-own')
      ? await listReports(db, scope.kind === 'all' ? { kind: 'own', userId, tokenId: null } : scope, {}, null, 100)
      : { rows: [], next: null };
    const tokens = await db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'created_at', 'revoked_at', 'last_used_at'])
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .execute();
    return layout(
      ctx,
      t('account.title'),
      html`<h1>${t('account.title')}</h1>
${opts.mustChange ? html`<p class="notice" role="alert">${t('account.password.must')}</p>` : ''}
${opts.message ? html`<p class="notice" role="status">${opts.message}</p>` : ''}
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<section class="card"><h2>${t('account.reports')}</h2>
${
  own.rows.length === 0
    ? html`<p>${t('account.reports.none')}</p>`
    : html`<div class="table-scroll"><table><thead><tr><th scope="col">${t('col.received')}</th><th \
scope="col">${t('col.subject')}</th><th scope="col">${t('col.channel')}</th><th scope="col">${t('col.category')}</th>\
</tr></thead><tbody>
${own.rows.map(
  (r) => html`<tr><td>${fmtTime(r.received_at, ctx.locale)}</td><td translate="no">${r.subject ?? ''}</td>\
<td>${channelLabel(ctx, r.channel)}</td><td>${categoryLabel(ctx, r.category)}</td></tr>`,
)}
</tbody></table></div>`
}</section>
<section class="card"><h2>${t('account.tokens')}</h2><p>${t('account.tokens.lead')}</p>
${
  opts.newToken
    ? html`<div class="notice" role="status"><p>${t('account.tokens.created')}</p><p><code class="secret" \
data-testid="new-token">${opts.newToken}</code></p></div>`
    : ''
}
${
  tokens.length === 0
    ? html`<p>${t('account.tokens.none')}</p>`
    : html`<table><thead><tr><th scope="col">${t('col.name')}</th><th scope="col">${t('col.created')}</th><th \
scope="col">${t('col.lastUsed')}</th><th scope="col">${t('col.action')}</th></tr></thead><tbody>
${tokens.map(
  (tk) =>
    html`<tr><td>${tk.name ?? tk.id}</td><td>${fmtTime(tk.created_at, ctx.locale)}</td>\
<td>${fmtTime(tk.last_used_at, ctx.locale)}</td><td>${
      tk.revoked_at
        ? t('account.tokens.revoked')
        : html`<form method="post" action="/account/tokens/${tk.id}/revoke" class="inline">${csrfField(ctx)}<button \
type="submit">${t('account.tokens.revoke')}</button></form>`
    }</td></tr>`,
)}</tbody></table>`
}
<form method="post" action="/account/tokens" class="row">${csrfField(ctx)}
  <label for="token-name">${t('account.tokens.name')}</label> <input id="token-name" name="name" maxlength="80" \
value="Thunderbird">
  <button type="submit">${t('account.tokens.create')}</button></form>
</section>
${hosts === null ? '' : mailhostsSection(ctx, hosts, { text: opts.mailhostsText, error: opts.mailhostsError })}
<section class="card"><h2>${t('account.password')}</h2>
<form method="post" action="/account/password" class="stack narrow">${csrfField(ctx)}
  <label for="current">${t('account.password.current')}</label><input id="current" name="current" type="password" \
autocomplete="current-password" required>
  <label for="new">${t('account.password.new')}</label><input id="new" name="password" type="password" \
autocomplete="new-password" minlength="${MIN_PASSWORD_CHARS}" required>
  <button type="submit">${t('account.password.submit')}</button>
</form></section>`,
    );
  }

  app.post('/account/tokens', async (req, reply) => {
    authorize(req.principal, 'account:self');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const rs = requestSession(req);
    if (!rs) throw new AppError('UNAUTHENTICATED');
    const name = field(req.body, 'name').trim().slice(0, 80) || 'add-on';
    // A token never carries more than its owner's role; reporters' tokens can only report and read their own.
    const tk = await createToken(db, { role: rs.account.role, name, userId: rs.account.id });
    const ctx = pageContext(req, reply);
    return sendPage(reply, await accountPage(ctx, rs.account.id, { newToken: tk.secret }), 201);
  });

  app.post<{ Params: { id: string } }>('/account/tokens/:id/revoke', async (req, reply) => {
    authorize(req.principal, 'account:self');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const rs = requestSession(req);
    if (!rs) throw new AppError('UNAUTHENTICATED');
    const tk = await db
      .selectFrom('api_tokens')
      .select(['id', 'user_id'])
      .where('id', '=', req.params.id)
      .executeTakeFirst();
    // Another user's token is reported as missing, so ids cannot be probed.
    if (!tk || tk.user_id !== rs.account.id) throw new AppError('NOT_FOUND', 'No such token.');
    await revokeToken(db, tk.id);
    return reply.redirect('/account', 303);
  });

  app.post('/account/mailhosts', async (req, reply) => {
    authorize(req.principal, 'account:self');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const rs = requestSession(req);
    if (!rs) throw new AppError('UNAUTHENTICATED');
    const key = ownMailhostKey(req.principal);
    if (key === null) throw new AppError('UNAUTHENTICATED');
    const text = field(req.body, 'mailhosts').slice(0, 20_000);
    const ctx = pageContext(req, reply);
    const refused = await declareFromForm(db, config, key, text, req.principal, req.ip);
    if (refused !== null)
      return sendPage(
        reply,
        await accountPage(ctx, rs.account.id, { mailhostsText: text, mailhostsError: refused }),
        400,
      );
    return sendPage(reply, await accountPage(ctx, rs.account.id, { message: ctx.t('account.mailhosts.saved') }));
  });

  app.get('/account/password', async (req, reply) => {
    authorize(req.principal, 'account:self');
    if (!requestSession(req)) throw new AppError('UNAUTHENTICATED');
    return sendPage(reply, passwordPage(pageContext(req, reply), {}));
  });

  app.post('/account/password', async (req, reply) => {
    authorize(req.principal, 'account:self');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const rs = requestSession(req);
    if (!rs) throw new AppError('UNAUTHENTICATED');
    const ctx = pageContext(req, reply);
    const forced = rs.account.mustChangePassword;
    // Where the form was: the page an account is held on, or its account page.
    const again = async (error: string) =>
      sendPage(
        reply,
        forced ? passwordPage(ctx, { error }) : await accountPage(ctx, rs.account.id, { error, mustChange: forced }),
        400,
      );
    const current = field(req.body, 'current');
    if (!(await checkCurrentPassword(db, rs.account.id, current))) return again(ctx.t('account.password.wrong'));
    const pw = field(req.body, 'password');
    if (pw.length < MIN_PASSWORD_CHARS || pw.length > MAX_PASSWORD_CHARS) return again(ctx.t('register.weak'));
    if (pw === current) return again(ctx.t('admin.password.same'));
    const confirm = field(req.body, 'confirm');
    if ((forced || confirm !== '') && confirm !== pw) return again(ctx.t('admin.password.mismatch'));
    await setPassword(db, rs.account.id, pw);
    await destroyUserSessions(db, rs.account.id, rs.session.idHash);
    await writeAudit(db, {
      actor: principalLabel(req.principal),
      action: 'account.password-change',
      subject: `user:${rs.account.id}`,
      ip: req.ip,
      detail: { generatedPasswordReplaced: forced },
    });
    if (forced) return reply.redirect(homeOf(rs.account.role), 303);
    return sendPage(reply, await accountPage(ctx, rs.account.id, { message: ctx.t('account.password.changed') }));
  });
}
