/**
 * The partner registry for admins: sister platforms whose signed referrals this instance accepts,
 * each known by its Ed25519 public key and the key's SHA-256 fingerprint (to confirm out of band,
 * by phone or letter, before registering). Registration goes through `registerPartner`, as
 * `spamdesk partner add` and the API do; enabling and disabling through `setPartnerEnabled`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorize } from '../../core/policy.ts';
import { registerPartner, setPartnerEnabled } from '../../actions/exchange/partners.ts';
import { AppError } from '../../core/errors.ts';
import { html } from '../html.ts';
import { CSRF_FIELD, csrfField, fmtTime, layout, pageContext, sendPage, verifyCsrf, type PageCtx } from '../page.ts';
import {
  ADMIN_PAGE_SIZE,
  attempt,
  auditChange,
  checked,
  crumbs,
  cursorOf,
  entryChange,
  field,
  flash,
  formOf,
  pageOf,
  pager,
  registryViews,
} from './admin-kit.ts';

/** A fingerprint in groups of four, as read aloud over the phone. */
export function groupedFingerprint(hex: string): string {
  return hex.replace(/(.{4})(?=.)/g, '$1 ');
}

export async function registryPartnerRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  async function listPage(req: FastifyRequest, ctx: PageCtx, f: { error?: string }, form: Record<string, string> = {}) {
    const { t } = ctx;
    const after = cursorOf(req.query);
    let q = db
      .selectFrom('action_partners')
      .select(['id', 'name', 'country', 'key_fingerprint', 'created_at', 'disabled_at'])
      .orderBy('id', 'desc')
      .limit(ADMIN_PAGE_SIZE + 1);
    if (after) q = q.where('id', '<', after);
    const page = pageOf(await q.execute());
    return layout(
      ctx,
      t('registry.partners'),
      html`${crumbs(ctx)}<h1>${t('registry.partners')}</h1>${flash(f)}
<div class="table-scroll"><table data-testid="partners"><thead><tr><th scope="col">${t('col.name')}</th><th \
scope="col">${t('col.country')}</th><th scope="col">${t('registry.fingerprint')}</th><th \
scope="col">${t('admin.state')}</th></tr></thead><tbody>
${page.rows.map(
  (p) => html`<tr><td translate="no"><a href="/admin/partners/${p.id}">${p.name}</a></td><td>${p.country}</td>\
<td class="mono">${groupedFingerprint(p.key_fingerprint).slice(0, 39)}…</td><td>${
    p.disabled_at ? t('admin.users.disabled') : t('admin.active')
  }</td></tr>`,
)}</tbody></table></div>
${pager(ctx, '/admin/partners', page.next, after !== null)}
<section class="card"><h2>${t('registry.partners.add')}</h2><p>${t('registry.partners.help')}</p>
<form method="post" action="/admin/partners" class="stack narrow">${csrfField(ctx)}
<label for="name">${t('col.name')}</label><input id="name" name="name" required maxlength="200" \
value="${form.name ?? ''}">
<label for="country">${t('registry.countryCode')}</label><input id="country" name="country" required maxlength="2" \
value="${form.country ?? ''}">
<label for="key">${t('registry.publicKey')}</label><textarea id="key" name="publicKeyPem" required rows="4" \
maxlength="10000" class="mono">${form.publicKeyPem ?? ''}</textarea>
<button type="submit" class="primary">${t('registry.partners.add')}</button></form></section>`,
      { wide: true },
    );
  }

  async function partnerPage(ctx: PageCtx, id: string, f: { error?: string; message?: string }) {
    const { t } = ctx;
    const p = await db.selectFrom('action_partners').selectAll().where('id', '=', id).executeTakeFirst();
    if (!p) throw new AppError('NOT_FOUND', 'No such partner.');
    return layout(
      ctx,
      p.name,
      html`${crumbs(ctx, [{ href: '/admin/partners', label: t('registry.partners') }])}\
<h1 translate="no">${p.name}</h1>${flash(f)}
<dl class="facts"><dt>${t('col.country')}</dt><dd>${p.country}</dd><dt>${t('registry.fingerprint')}</dt><dd \
class="mono" data-testid="fingerprint">${groupedFingerprint(p.key_fingerprint)}</dd><dt>${t('col.created')}</dt>\
<dd>${fmtTime(p.created_at)}</dd><dt>${t('admin.state')}</dt><dd>${
        p.disabled_at ? `${t('admin.users.disabled')} ${fmtTime(p.disabled_at)}` : t('admin.active')
      }</dd></dl>
<details><summary>${t('registry.publicKey')}</summary><pre class="mono">${p.public_key_pem}</pre></details>
<form method="post" action="/admin/partners/${p.id}/enabled" class="inline">${csrfField(ctx)}<input type="hidden" \
name="on" value="${p.disabled_at ? '1' : ''}"><button type="submit">${
        p.disabled_at ? t('admin.users.enable') : t('admin.users.disable')
      }</button></form>`,
    );
  }

  registryViews(app, '/admin/partners', {
    permission: 'authority:manage',
    list: (req, ctx) => listPage(req, ctx, {}),
    entry: (_req, ctx, id, f) => partnerPage(ctx, id, f),
  });

  app.post('/admin/partners', async (req, reply) => {
    authorize(req.principal, 'authority:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const ctx = pageContext(req, reply);
    const form = formOf(req.body, ['name', 'country', 'publicKeyPem']);
    const r = await attempt(() =>
      registerPartner(db, { name: form.name, country: form.country, publicKeyPem: form.publicKeyPem }),
    );
    if (!r.ok) return sendPage(reply, await listPage(req, ctx, { error: r.error.message }, form), r.error.status);
    await auditChange(req, 'partner.create', `partner:${r.value.id}`, {
      name: r.value.name,
      fingerprint: r.value.key_fingerprint,
    });
    return sendPage(reply, await partnerPage(ctx, r.value.id, { message: ctx.t('registry.created') }), 201);
  });

  entryChange(app, '/admin/partners/:id/enabled', {
    permission: 'authority:manage',
    subject: 'partner',
    back: '/admin/partners',
    page: (_req, ctx, id, f) => partnerPage(ctx, id, f),
    run: async (id, body) => {
      const on = checked(body, 'on');
      await setPartnerEnabled(db, id, on);
      return on;
    },
    audit: (_id, on) => ({ action: on ? 'partner.enable' : 'partner.disable' }),
  });
}
