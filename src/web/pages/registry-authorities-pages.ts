/**
 * The authorities registry for admins: list (keyset-paged), register (the actions area's
 * `createAuthority`, the service `spamdesk authority add` and the API call, so the same checks
 * apply: e-mail or HTTPS contact, legal basis before a partner receives originals), an authority's
 * page (its accounts, its referrals), activate or deactivate, and whether it receives the monthly
 * report by mail. Every change is audited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { COMPETENCES } from '../../actions/action-policy.ts';
import {
  createAuthority,
  getAuthority,
  setAuthorityActive,
  setAuthorityLanguage,
  setAuthorityMonthlyReport,
} from '../../actions/cases/authorities.ts';
import { accountsDb, normaliseEmail } from '../../db/accounts.ts';
import { html } from '../html.ts';
import { labelOf, type MessageKey } from '../i18n.ts';
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
  languageForm,
  pageOf,
  pager,
  registryViews,
  selectOptions,
} from './admin-kit.ts';

const CONTACT_KINDS = ['email', 'webhook', 'partner'] as const;
const EVIDENCE_MODES = ['original-and-redacted', 'redacted-only'] as const;

/** The translated name of a competence. */
export function competenceLabel(ctx: PageCtx, c: string): string {
  const key = `registry.competence.${c}`;
  return (COMPETENCES as readonly string[]).includes(c) ? ctx.t(key as MessageKey) : c;
}

export async function registryAuthorityRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  async function listPage(
    req: FastifyRequest,
    ctx: PageCtx,
    f: { error?: string },
    form: Record<string, string> = {},
  ): Promise<string> {
    const { t } = ctx;
    const after = cursorOf(req.query);
    let q = db
      .selectFrom('action_authorities')
      .select(['id', 'name', 'country', 'competence', 'contact_kind', 'contact', 'active', 'monthly_report'])
      .orderBy('id', 'desc')
      .limit(ADMIN_PAGE_SIZE + 1);
    if (after) q = q.where('id', '<', after);
    const page = pageOf(await q.execute());
    return layout(
      ctx,
      t('registry.authorities'),
      html`${crumbs(ctx)}<h1>${t('registry.authorities')}</h1>${flash(f)}
<div class="table-scroll"><table data-testid="authorities"><thead><tr><th scope="col">${t('col.name')}</th><th \
scope="col">${t('col.country')}</th><th scope="col">${t('registry.competence')}</th><th \
scope="col">${t('registry.contact')}</th><th scope="col">${t('admin.state')}</th><th \
scope="col">${t('registry.monthly')}</th></tr></thead><tbody>
${page.rows.map(
  (a) => html`<tr><td translate="no"><a href="/admin/authorities/${a.id}">${a.name}</a></td><td>${a.country}</td>\
<td>${competenceLabel(ctx, a.competence)}</td><td>${labelOf(t, 'trc.contact', a.contact_kind)} · \
<span class="mono" translate="no">${a.contact}</span></td>\
<td>${a.active ? t('admin.active') : t('registry.inactive')}</td>\
<td>${a.monthly_report ? t('registry.yes') : ''}</td></tr>`,
)}</tbody></table></div>
${pager(ctx, '/admin/authorities', page.next, after !== null)}
<section class="card"><h2>${t('registry.authorities.add')}</h2>
<form method="post" action="/admin/authorities" class="stack narrow">${csrfField(ctx)}
<label for="name">${t('col.name')}</label><input id="name" name="name" required maxlength="200" \
value="${form.name ?? ''}">
<label for="country">${t('registry.countryCode')}</label><input id="country" name="country" required maxlength="2" \
pattern="[A-Za-z]{2}" value="${form.country ?? ''}">
<label for="competence">${t('registry.competence')}</label><select id="competence" name="competence">${selectOptions(
        COMPETENCES,
        form.competence ?? 'data_protection',
        (c) => competenceLabel(ctx, c),
      )}</select>
<label for="contactKind">${t('registry.contactKind')}</label>\
<select id="contactKind" name="contactKind">${selectOptions(CONTACT_KINDS, form.contactKind ?? 'email', (k) =>
        labelOf(t, 'trc.contact', k),
      )}</select>
<label for="contact">${t('registry.contact')}</label><input id="contact" name="contact" required maxlength="2000" \
value="${form.contact ?? ''}" aria-describedby="contact-help">\
<p class="help" id="contact-help">${t('registry.contact.help')}</p>
<label for="evidenceMode">${t('registry.evidenceMode')}</label><select id="evidenceMode" name="evidenceMode">\
<option value="">${t('registry.default')}</option>${selectOptions(EVIDENCE_MODES, form.evidenceMode ?? '', (m) =>
        labelOf(t, 'trc.evidence', m),
      )}</select>
<label for="legalBasis">${t('registry.legalBasis')}</label><textarea id="legalBasis" name="legalBasis" \
maxlength="2000" \
rows="2">${form.legalBasis ?? ''}</textarea>
<label for="account">${t('registry.account')}</label><input id="account" name="account" type="email" maxlength="320" \
value="${form.account ?? ''}">
${languageField(ctx, form.language)}
<label class="check"><input type="checkbox" name="monthlyReport" value="1" ${form.monthlyReport ? 'checked' : ''}> \
${t('registry.monthly.ask')}</label>
<button type="submit" class="primary">${t('registry.authorities.add')}</button></form></section>`,
      { wide: true },
    );
  }

  async function authorityPage(ctx: PageCtx, id: string, f: { error?: string; message?: string }): Promise<string> {
    const { t } = ctx;
    const a = await getAuthority(db, id);
    const accounts = await accountsDb(db)
      .selectFrom('users')
      .select(['id', 'email', 'disabled_at'])
      .where((eb) => eb.or([eb('authority_id', '=', a.id), ...(a.user_id ? [eb('id', '=', a.user_id)] : [])]))
      .orderBy('id')
      .execute();
    const referrals = await db
      .selectFrom('action_referrals')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('authority_id', '=', a.id)
      .groupBy('state')
      .execute();
    const toggle = (path: string, value: boolean, label: string) =>
      html`<form method="post" action="/admin/authorities/${a.id}/${path}" class="inline">${csrfField(ctx)}<input \
type="hidden" name="on" value="${value ? '1' : ''}"><button type="submit">${label}</button></form>`;
    return layout(
      ctx,
      a.name,
      html`${crumbs(ctx, [{ href: '/admin/authorities', label: t('registry.authorities') }])}\
<h1 translate="no">${a.name}</h1>${flash(f)}
<dl class="facts"><dt>${t('col.country')}</dt><dd>${a.country}</dd><dt>${t('registry.competence')}</dt>\
<dd>${competenceLabel(ctx, a.competence)}</dd><dt>${t('registry.contact')}</dt>\
<dd>${labelOf(t, 'trc.contact', a.contact_kind)} · \
<span class="mono" translate="no">${a.contact}</span></dd><dt>${t('registry.evidenceMode')}</dt>\
<dd>${labelOf(t, 'trc.evidence', a.evidence_mode)}</dd><dt>${t('registry.legalBasis')}</dt>\
<dd>${a.legal_basis ?? ''}</dd><dt>${t('admin.state')}</dt><dd data-testid="state">${
        a.active ? t('admin.active') : t('registry.inactive')
      }</dd><dt>${t('registry.monthly')}</dt>\
<dd data-testid="monthly">${a.monthly_report ? t('registry.yes') : t('registry.no')}</dd>\
${languageFact(ctx, a.language)}\
<dt>${t('col.created')}</dt><dd>${fmtTime(a.created_at)}</dd><dt>${t('registry.referrals')}</dt><dd>${
        referrals.length === 0
          ? '0'
          : referrals.map((r) => `${labelOf(t, 'referral.state', r.state)} (${Number(r.n)})`).join(' · ')
      }</dd></dl>
<p class="actions">${
        a.active ? toggle('active', false, t('registry.deactivate')) : toggle('active', true, t('registry.activate'))
      } ${
        a.monthly_report
          ? toggle('monthly-report', false, t('registry.monthly.stop'))
          : toggle('monthly-report', true, t('registry.monthly.start'))
      }</p>
${languageForm(ctx, `/admin/authorities/${a.id}/language`, a.language, csrfField(ctx))}
<section class="card"><h2>${t('registry.accounts')}</h2>${
        accounts.length === 0
          ? html`<p>${t('registry.accounts.none')}</p>`
          : html`<ul>${accounts.map(
              (u) =>
                html`<li><a href="/admin/users/${u.id}">${u.email}</a>${
                  u.disabled_at ? ` (${t('admin.users.disabled')})` : ''
                }</li>`,
            )}</ul>`
      }<p><a href="/admin/users">${t('registry.accounts.create')}</a></p></section>`,
    );
  }

  registryViews(app, '/admin/authorities', {
    permission: 'authority:manage',
    list: (req, ctx) => listPage(req, ctx, {}),
    entry: (_req, ctx, id, f) => authorityPage(ctx, id, f),
  });

  app.post('/admin/authorities', async (req, reply) => {
    authorize(req.principal, 'authority:manage');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const ctx = pageContext(req, reply);
    const keys = [
      'name',
      'country',
      'competence',
      'contactKind',
      'contact',
      'evidenceMode',
      'legalBasis',
      'account',
      'language',
    ];
    const form = formOf(req.body, keys);
    if (checked(req.body, 'monthlyReport')) form.monthlyReport = '1';
    const r = await attempt(async () => {
      let userId: string | null = null;
      if (form.account.trim()) {
        const u = await accountsDb(db)
          .selectFrom('users')
          .select(['id', 'role'])
          .where('email', '=', normaliseEmail(form.account))
          .executeTakeFirst();
        if (u?.role !== 'authority') throw new AppError('BAD_REQUEST', `${form.account} is not an authority account.`);
        userId = u.id;
      }
      return createAuthority(db, {
        name: form.name.trim(),
        country: form.country.trim().toUpperCase(),
        competence: form.competence as (typeof COMPETENCES)[number],
        contactKind: form.contactKind as (typeof CONTACT_KINDS)[number],
        contact: form.contact.trim(),
        evidenceMode: form.evidenceMode ? (form.evidenceMode as (typeof EVIDENCE_MODES)[number]) : undefined,
        legalBasis: form.legalBasis.trim() || null,
        userId,
        monthlyReport: form.monthlyReport === '1',
        // Validated by AuthorityInput: anything but en, fr or empty is refused with the field named.
        language: formLanguage(form.language),
      });
    });
    if (!r.ok) return sendPage(reply, await listPage(req, ctx, { error: r.error.message }, form), r.error.status);
    await auditChange(req, 'authority.create', `authority:${r.value.id}`, {
      name: r.value.name,
      competence: r.value.competence,
      contactKind: r.value.contact_kind,
    });
    return sendPage(reply, await authorityPage(ctx, r.value.id, { message: ctx.t('registry.created') }), 201);
  });

  for (const [path, set, action] of [
    ['active', setAuthorityActive, (on: boolean) => (on ? 'authority.activate' : 'authority.deactivate')],
    ['monthly-report', setAuthorityMonthlyReport, () => 'authority.monthly-report'],
  ] as const) {
    entryChange(app, `/admin/authorities/:id/${path}`, {
      permission: 'authority:manage',
      subject: 'authority',
      back: '/admin/authorities',
      page: (_req, ctx, id, f) => authorityPage(ctx, id, f),
      run: async (id, body) => {
        const on = checked(body, 'on');
        await set(db, id, on);
        return on;
      },
      audit: (_id, on) => ({ action: action(on), detail: { on } }),
    });
  }

  entryChange(app, '/admin/authorities/:id/language', {
    permission: 'authority:manage',
    subject: 'authority',
    back: '/admin/authorities',
    page: (_req, ctx, id, f) => authorityPage(ctx, id, f),
    run: async (id, body) => {
      const language = formLanguage(field(body, 'language'));
      await setAuthorityLanguage(db, id, language);
      return language;
    },
    audit: (_id, language) => ({ action: 'authority.language', detail: { language } }),
  });
}
