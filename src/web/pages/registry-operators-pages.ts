/**
 * The network-operator registry for admins: operators (ISPs, hosts) with their abuse address,
 * format and opt-out, and the networks (AS numbers, shown with their names from the shipped
 * `@ip-location-db/asn` data) each answers for. Registration, updates and AS changes go through
 * the actions area's `isp/operators.ts`, as `spamdesk operator` and the API do; every change is
 * audited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { asLabel } from '../../analysis/ports/as-names.ts';
import { addOperatorAsn, registerOperator, removeOperatorAsn, updateOperator } from '../../actions/isp/operators.ts';
import { accountsDb, normaliseEmail } from '../../db/accounts.ts';
import { labelOf } from '../i18n.ts';
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
  formLanguage,
  formOf,
  languageFact,
  languageField,
  idParam,
  pageOf,
  pager,
  parseAsns,
  registryViews,
} from './admin-kit.ts';

const FORMATS = ['xarf', 'arf'] as const;
type Format = (typeof FORMATS)[number];
const isFormat = (v: string): v is Format => (FORMATS as readonly string[]).includes(v);

/** AS numbers shown per operator page (an operator's networks are paged too). */
const ASN_PAGE = 200;

export async function registryOperatorRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  /** The id of the network-operator account with this address, or null for none given. */
  async function operatorAccount(email: string): Promise<string | null> {
    if (!email.trim()) return null;
    const u = await accountsDb(db)
      .selectFrom('users')
      .select(['id', 'role'])
      .where('email', '=', normaliseEmail(email))
      .executeTakeFirst();
    if (u?.role !== 'network_operator')
      throw new AppError('BAD_REQUEST', `${email} is not a network-operator account.`);
    return u.id;
  }

  async function listPage(req: FastifyRequest, ctx: PageCtx, f: { error?: string }, form: Record<string, string> = {}) {
    const { t } = ctx;
    const after = cursorOf(req.query);
    let q = db
      .selectFrom('action_operators')
      .select(['id', 'name', 'abuse_address', 'format', 'opted_out'])
      .orderBy('id', 'desc')
      .limit(ADMIN_PAGE_SIZE + 1);
    if (after) q = q.where('id', '<', after);
    const page = pageOf(await q.execute());
    const ids = page.rows.map((o) => o.id);
    const asns =
      ids.length === 0
        ? []
        : await db
            .selectFrom('action_operator_asns')
            .select(['asn', 'operator_id'])
            .where('operator_id', 'in', ids)
            .orderBy('asn')
            .execute();
    const asnsOf = (id: string) => asns.filter((a) => a.operator_id === id).map((a) => Number(a.asn));
    return layout(
      ctx,
      t('registry.operators'),
      html`${crumbs(ctx)}<h1>${t('registry.operators')}</h1>${flash(f)}
<div class="table-scroll"><table data-testid="operators"><thead><tr><th scope="col">${t('col.name')}</th><th \
scope="col">${t('registry.networks')}</th><th scope="col">${t('registry.abuse')}</th><th \
scope="col">${t('registry.format')}</th><th scope="col">${t('admin.state')}</th></tr></thead><tbody>
${page.rows.map((o) => {
  const list = asnsOf(o.id);
  return html`<tr><td translate="no"><a href="/admin/operators/${o.id}">${o.name}</a></td><td>${list
    .slice(0, 5)
    .map((a) => asLabel(a))
    .join(', ')}${list.length > 5 ? ` (+${list.length - 5})` : ''}</td><td class="mono">${o.abuse_address}</td>\
<td>${labelOf(t, 'trc.format', o.format)}</td>\
<td>${o.opted_out ? t('registry.optedOut') : t('admin.active')}</td></tr>`;
})}</tbody></table></div>
${pager(ctx, '/admin/operators', page.next, after !== null)}
<section class="card"><h2>${t('registry.operators.add')}</h2>
<form method="post" action="/admin/operators" class="stack narrow">${csrfField(ctx)}
<label for="name">${t('col.name')}</label><input id="name" name="name" required maxlength="200" \
value="${form.name ?? ''}">
<label for="abuse">${t('registry.abuse')}</label><input id="abuse" name="abuse" type="email" required maxlength="320" \
value="${form.abuse ?? ''}">
<label for="asns">${t('registry.asns')}</label><input id="asns" name="asns" maxlength="2000" value="${form.asns ?? ''}">
<label for="format">${t('registry.format')}</label><select id="format" name="format">${FORMATS.map(
        (v) =>
          html`<option value="${v}" ${v === (form.format ?? 'xarf') ? 'selected' : ''}>\
${labelOf(t, 'trc.format', v)}</option>`,
      )}</select>
<label for="account">${t('registry.account')}</label><input id="account" name="account" type="email" maxlength="320" \
value="${form.account ?? ''}">
${languageField(ctx, form.language)}
<button type="submit" class="primary">${t('registry.operators.add')}</button></form></section>`,
      { wide: true },
    );
  }

  async function operatorPage(req: FastifyRequest, ctx: PageCtx, id: string, f: { error?: string; message?: string }) {
    const { t } = ctx;
    const o = await db.selectFrom('action_operators').selectAll().where('id', '=', id).executeTakeFirst();
    if (!o) throw new AppError('NOT_FOUND', 'No such operator.');
    const q = req.query && typeof req.query === 'object' ? (req.query as Record<string, unknown>) : {};
    const fromAsn = typeof q.asn_after === 'string' && /^\d{1,10}$/.test(q.asn_after) ? Number(q.asn_after) : null;
    let aq = db
      .selectFrom('action_operator_asns')
      .select('asn')
      .where('operator_id', '=', id)
      .orderBy('asn')
      .limit(ASN_PAGE + 1);
    if (fromAsn !== null) aq = aq.where('asn', '>', fromAsn);
    const rows = (await aq.execute()).map((a) => Number(a.asn));
    const asns = rows.slice(0, ASN_PAGE);
    const nextAsn = rows.length > ASN_PAGE ? asns[asns.length - 1] : null;
    const account = o.user_id
      ? await db.selectFrom('users').select(['id', 'email']).where('id', '=', o.user_id).executeTakeFirst()
      : undefined;
    const alerts = await db
      .selectFrom('action_isp_alerts')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('operator_id', '=', id)
      .groupBy('state')
      .execute();
    return layout(
      ctx,
      o.name,
      html`${crumbs(ctx, [{ href: '/admin/operators', label: t('registry.operators') }])}\
<h1 translate="no">${o.name}</h1>${flash(f)}
<dl class="facts"><dt>${t('registry.account')}</dt><dd>${
        account ? html`<a href="/admin/users/${account.id}">${account.email}</a>` : ''
      }</dd><dt>${t('registry.alerts')}</dt><dd>${
        alerts.length === 0
          ? '0'
          : alerts.map((a) => `${labelOf(t, 'trc.alert', a.state)} (${Number(a.n)})`).join(' · ')
      }</dd>${languageFact(ctx, o.language)}<dt>${t('col.created')}</dt><dd>${fmtTime(o.created_at)}</dd></dl>
<section class="card"><h2>${t('registry.settings')}</h2>
<form method="post" action="/admin/operators/${o.id}" class="stack narrow">${csrfField(ctx)}
<label for="abuse">${t('registry.abuse')}</label><input id="abuse" name="abuse" type="email" required maxlength="320" \
value="${o.abuse_address}">
<label for="format">${t('registry.format')}</label><select id="format" name="format">${FORMATS.map(
        (v) => html`<option value="${v}" ${v === o.format ? 'selected' : ''}>${labelOf(t, 'trc.format', v)}</option>`,
      )}</select>
<label class="check"><input type="checkbox" name="optedOut" value="1" ${o.opted_out ? 'checked' : ''}> \
${t('registry.optOut')}</label>
${languageField(ctx, o.language)}
<button type="submit">${t('registry.save')}</button></form></section>
<section class="card"><h2>${t('registry.networks')}</h2>
<table data-testid="asns"><tbody>${asns.map(
        (
          a,
        ) => html`<tr><td>${asLabel(a)}</td><td><form method="post" action="/admin/operators/${o.id}/asns/${a}/remove" \
class="inline">${csrfField(ctx)}<button type="submit">${t('registry.remove')}</button></form></td></tr>`,
      )}</tbody></table>
${
  nextAsn !== null
    ? html`<p><a rel="next" href="/admin/operators/${o.id}?asn_after=${nextAsn}">${t('list.next')}</a></p>`
    : ''
}
<form method="post" action="/admin/operators/${o.id}/asns" class="row">${csrfField(ctx)}
<label for="asns">${t('registry.asns')}</label> <input id="asns" name="asns" required maxlength="2000">
<button type="submit">${t('registry.asns.add')}</button></form></section>`,
    );
  }

  registryViews(app, '/admin/operators', {
    permission: 'operator:manage',
    list: (req, ctx) => listPage(req, ctx, {}),
    entry: operatorPage,
  });

  app.post('/admin/operators', async (req, reply) => {
    authorize(req.principal, 'operator:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const ctx = pageContext(req, reply);
    const form = formOf(req.body, ['name', 'abuse', 'asns', 'format', 'account', 'language']);
    const r = await attempt(async () => {
      if (!isFormat(form.format)) throw new AppError('BAD_REQUEST', 'format: xarf or arf.');
      return registerOperator(db, {
        name: form.name.trim(),
        abuseAddress: form.abuse.trim(),
        format: form.format,
        asns: parseAsns(form.asns),
        userId: await operatorAccount(form.account),
        language: formLanguage(form.language),
      });
    });
    if (!r.ok) return sendPage(reply, await listPage(req, ctx, { error: r.error.message }, form), r.error.status);
    await auditChange(req, 'operator.create', `operator:${r.value.id}`, {
      name: r.value.name,
      asns: form.asns,
      language: r.value.language,
    });
    return sendPage(reply, await operatorPage(req, ctx, r.value.id, { message: ctx.t('registry.created') }), 201);
  });

  const change = {
    permission: 'operator:manage',
    subject: 'operator',
    back: '/admin/operators',
    page: operatorPage,
  } as const;
  entryChange(app, '/admin/operators/:id', {
    ...change,
    run: async (id, body) => {
      const format = field(body, 'format');
      const patch = {
        abuseAddress: field(body, 'abuse').trim(),
        optedOut: checked(body, 'optedOut'),
        language: formLanguage(field(body, 'language')),
      };
      if (!isFormat(format)) throw new AppError('BAD_REQUEST', 'format: xarf or arf.');
      await updateOperator(db, id, { ...patch, format });
      return { ...patch, format };
    },
    audit: (_id, detail) => ({ action: 'operator.update', detail }),
  });

  entryChange(app, '/admin/operators/:id/asns', {
    ...change,
    run: async (id, body) => {
      const list = parseAsns(field(body, 'asns'));
      if (list.length === 0) throw new AppError('BAD_REQUEST', 'Give at least one AS number.');
      for (const asn of list) await addOperatorAsn(db, id, asn);
      return list;
    },
    audit: (_id, asns) => ({ action: 'operator.asn-add', detail: { asns } }),
  });

  app.post<{ Params: { id: string; asn: string } }>('/admin/operators/:id/asns/:asn/remove', async (req, reply) => {
    authorize(req.principal, 'operator:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const id = idParam(req.params.id);
    const [asn] = parseAsns(req.params.asn);
    if (asn === undefined) throw new AppError('NOT_FOUND', 'No such AS.');
    await removeOperatorAsn(db, id, asn);
    await auditChange(req, 'operator.asn-remove', `operator:${id}`, { asn });
    return reply.redirect(`/admin/operators/${id}`, 303);
  });
}
