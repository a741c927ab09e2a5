/**
 * The sender registry for admins: legitimate senders in the feedback loop and their identities
 * (domains and sending IPs), each proved by a DNS TXT record before any complaint is fed back.
 * Registration, claims and proofs go through the actions area's `fbl/sender-feedback.ts`, as
 * `spamdesk sender` and the API do; the proof is looked up with the instance's DNS mode (live, or
 * nothing in `offline` mode, which then says so).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import type { DnsResolver } from '../../analysis/stage.ts';
import { liveDnsResolver } from '../../analysis/ports/dns-live.ts';
import { StaticZoneResolver } from '../../analysis/ports/dns-static-zone.ts';
import {
  TXT_PREFIX,
  addSenderIdentity,
  proofName,
  registerSender,
  setSenderLanguage,
  verifySenderIdentity,
} from '../../actions/fbl/sender-feedback.ts';
import { accountsDb, normaliseEmail } from '../../db/accounts.ts';
import { html } from '../html.ts';
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
  formLanguage,
  formOf,
  idParam,
  languageFact,
  languageField,
  languageForm,
  pageOf,
  pager,
  registryViews,
} from './admin-kit.ts';

export async function registrySenderRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app.ctx;
  const resolver: DnsResolver =
    config.dnsMode === 'offline' ? new StaticZoneResolver() : liveDnsResolver({ timeoutMs: config.dnsTimeoutMs });

  async function listPage(req: FastifyRequest, ctx: PageCtx, f: { error?: string }, form: Record<string, string> = {}) {
    const { t } = ctx;
    const after = cursorOf(req.query);
    let q = db
      .selectFrom('action_senders as s')
      .select([
        's.id',
        's.name',
        's.feedback_address',
        's.created_at',
        (eb) =>
          eb
            .selectFrom('action_sender_identities as i')
            .select((e) => e.fn.countAll<number>().as('n'))
            .whereRef('i.sender_id', '=', 's.id')
            .as('identities'),
      ])
      .orderBy('s.id', 'desc')
      .limit(ADMIN_PAGE_SIZE + 1);
    if (after) q = q.where('s.id', '<', after);
    const page = pageOf(await q.execute());
    return layout(
      ctx,
      t('registry.senders'),
      html`${crumbs(ctx)}<h1>${t('registry.senders')}</h1>${flash(f)}
<div class="table-scroll"><table data-testid="senders"><thead><tr><th scope="col">${t('col.name')}</th><th \
scope="col">${t('registry.feedback')}</th><th scope="col" class="num">${t('registry.identities')}</th><th \
scope="col">${t('col.created')}</th></tr></thead><tbody>
${page.rows.map(
  (s) => html`<tr><td translate="no"><a href="/admin/senders/${s.id}">${s.name}</a></td>\
<td class="mono">${s.feedback_address}</td>\
<td class="num">${Number(s.identities ?? 0)}</td><td>${fmtTime(s.created_at)}</td></tr>`,
)}</tbody></table></div>
${pager(ctx, '/admin/senders', page.next, after !== null)}
<section class="card"><h2>${t('registry.senders.add')}</h2>
<form method="post" action="/admin/senders" class="stack narrow">${csrfField(ctx)}
<label for="name">${t('col.name')}</label><input id="name" name="name" required maxlength="200" \
value="${form.name ?? ''}">
<label for="feedback">${t('registry.feedback')}</label><input id="feedback" name="feedback" type="email" required \
maxlength="320" value="${form.feedback ?? ''}">
<label for="account">${t('registry.account')}</label><input id="account" name="account" type="email" maxlength="320" \
value="${form.account ?? ''}">
${languageField(ctx, form.language)}
<button type="submit" class="primary">${t('registry.senders.add')}</button></form></section>`,
      { wide: true },
    );
  }

  async function senderPage(ctx: PageCtx, id: string, f: { error?: string; message?: string }) {
    const { t } = ctx;
    const s = await db.selectFrom('action_senders').selectAll().where('id', '=', id).executeTakeFirst();
    if (!s) throw new AppError('NOT_FOUND', 'No such sender.');
    const identities = await db
      .selectFrom('action_sender_identities')
      .selectAll()
      .where('sender_id', '=', id)
      .orderBy('id')
      .execute();
    return layout(
      ctx,
      s.name,
      html`${crumbs(ctx, [{ href: '/admin/senders', label: t('registry.senders') }])}\
<h1 translate="no">${s.name}</h1>${flash(f)}
<dl class="facts"><dt>${t('registry.feedback')}</dt><dd class="mono">${s.feedback_address}</dd>\
${languageFact(ctx, s.language)}<dt>${t('col.created')}</dt>\
<dd>${fmtTime(s.created_at)}</dd></dl>
${languageForm(ctx, `/admin/senders/${s.id}/language`, s.language, csrfField(ctx))}
<section class="card"><h2>${t('registry.identities')}</h2>
<div class="table-scroll"><table data-testid="identities"><thead><tr><th scope="col">${t('registry.identity')}</th><th \
scope="col">${t('registry.txt')}</th><th scope="col">${t('admin.state')}</th></tr></thead><tbody>${identities.map(
        (i) =>
          html`<tr><td>${i.kind}: <span class="mono">${i.value}</span></td><td class="mono">${proofName(
            i.kind === 'ip' ? 'ip' : 'domain',
            i.value,
          )} TXT "${TXT_PREFIX}${i.token}"</td><td>${
            i.verified_at
              ? `${t('registry.verified')} ${fmtTime(i.verified_at)}`
              : html`<form method="post" action="/admin/senders/identities/${i.id}/verify" class="inline">\
${csrfField(ctx)}<button type="submit">${t('registry.verify')}</button></form>`
          }</td></tr>`,
      )}</tbody></table></div>
<form method="post" action="/admin/senders/${s.id}/identities" class="row">${csrfField(ctx)}
<label for="kind">${t('registry.identity')}</label> <select id="kind" name="kind">\
<option value="domain">domain</option>\
<option value="ip">IP</option></select> <input id="value" name="value" required maxlength="300" \
aria-label="${t('registry.identity')}">
<button type="submit">${t('registry.claim')}</button></form></section>`,
    );
  }

  registryViews(app, '/admin/senders', {
    permission: 'operator:manage',
    list: (req, ctx) => listPage(req, ctx, {}),
    entry: (_req, ctx, id, f) => senderPage(ctx, id, f),
  });

  app.post('/admin/senders', async (req, reply) => {
    authorize(req.principal, 'operator:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const ctx = pageContext(req, reply);
    const form = formOf(req.body, ['name', 'feedback', 'account', 'language']);
    const r = await attempt(async () => {
      let userId: string | null = null;
      if (form.account.trim()) {
        const u = await accountsDb(db)
          .selectFrom('users')
          .select(['id', 'role'])
          .where('email', '=', normaliseEmail(form.account))
          .executeTakeFirst();
        if (u?.role !== 'sender') throw new AppError('BAD_REQUEST', `${form.account} is not a sender account.`);
        userId = u.id;
      }
      return registerSender(db, {
        name: form.name.trim(),
        feedbackAddress: form.feedback.trim(),
        userId,
        language: formLanguage(form.language),
      });
    });
    if (!r.ok) return sendPage(reply, await listPage(req, ctx, { error: r.error.message }, form), r.error.status);
    await auditChange(req, 'sender.create', `sender:${r.value.id}`, { name: r.value.name, language: r.value.language });
    return sendPage(reply, await senderPage(ctx, r.value.id, { message: ctx.t('registry.created') }), 201);
  });

  app.post<{ Params: { id: string } }>('/admin/senders/:id/identities', async (req, reply) => {
    authorize(req.principal, 'operator:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const id = idParam(req.params.id);
    const ctx = pageContext(req, reply);
    const r = await attempt(() => addSenderIdentity(db, id, field(req.body, 'kind'), field(req.body, 'value')));
    if (!r.ok) return sendPage(reply, await senderPage(ctx, id, { error: r.error.message }), r.error.status);
    await auditChange(req, 'sender.identity-claim', `sender:${id}`, { kind: r.value.kind, value: r.value.value });
    return sendPage(reply, await senderPage(ctx, id, { message: `${r.value.txtName} TXT "${r.value.txtValue}"` }), 201);
  });

  app.post<{ Params: { id: string } }>('/admin/senders/identities/:id/verify', async (req, reply) => {
    authorize(req.principal, 'operator:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const id = idParam(req.params.id);
    const ident = await db
      .selectFrom('action_sender_identities')
      .select('sender_id')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!ident) throw new AppError('NOT_FOUND', 'No such identity.');
    const res = await verifySenderIdentity(db, resolver, id);
    await auditChange(req, 'sender.identity-verify', `sender:${ident.sender_id}`, { identity: id, ...res });
    const ctx = pageContext(req, reply);
    const page = await senderPage(ctx, ident.sender_id, res.verified ? { message: res.reason } : { error: res.reason });
    return sendPage(reply, page);
  });

  entryChange(app, '/admin/senders/:id/language', {
    permission: 'operator:manage',
    subject: 'sender',
    back: '/admin/senders',
    page: (_req, ctx, id, f) => senderPage(ctx, id, f),
    run: async (id, body) => {
      const language = formLanguage(field(body, 'language'));
      await setSenderLanguage(db, id, language);
      return language;
    },
    audit: (_id, language) => ({ action: 'sender.language', detail: { language } }),
  });
}
