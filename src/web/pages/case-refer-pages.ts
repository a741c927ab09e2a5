/**
 * Referring a case: choose an authority, or route by competence (the policy's routes from the
 * case's category to the active authorities competent for it); then a preview of exactly what
 * each authority will receive — the package built by the same code, its redacted summary, its
 * files and the mail text — and a confirmation. Gates held the case for review? An analyst's
 * referral here is that review.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { getCase } from '../../actions/cases/cases.ts';
import { competencesFor, listAuthorities, routeCase } from '../../actions/cases/authorities.ts';
import { listReferrals, previewReferral, referCase, type ReferralPreview } from '../../actions/referrals/referrals.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, fmtTime, layout, pageContext, sendPage, type PageCtx } from '../page.ts';
import { categoryLabel } from '../components.ts';
import { badForm, caseTitleHtml, checkForm, fields, idList } from './case-common.ts';
import { kib } from './case-sections.ts';

/** Most authorities one referral form sends to (a policy routing to more is a misconfiguration). */
const MAX_AUTHORITIES = 20;

/** The mail as the authority reads it: its subject, then its text. */
function mailText(mail: { subject: string; text: string }): string {
  return `Subject: ${mail.subject}\n\n${mail.text.replace(/\r\n/g, '\n')}`;
}

function previewBlock(ctx: PageCtx, p: ReferralPreview): SafeHtml {
  const { t } = ctx;
  const s = p.summary;
  const list = (title: string, items: { value: string; count: number }[]) =>
    items.length === 0
      ? ''
      : html`<h4>${title}</h4><ul class="plain">${items
          .slice(0, 10)
          .map((i) => html`<li><span class="mono">${i.value}</span> <span class="count">×${i.count}</span></li>`)}${
          items.length > 10 ? html`<li class="muted">${t('case.top.of', { n: 10, total: items.length })}</li>` : ''
        }</ul>`;
  return html`<section class="card" data-testid="refer-preview" data-authority-id="${p.authority.id}">
<h2>${p.authority.name} <span class="muted">(${p.authority.country}, ${p.authority.competence})</span></h2>
<dl class="facts">
<dt>${t('referral.preview.channel')}</dt><dd>${
    p.authority.contact_kind === 'email'
      ? t('referral.preview.byMail', { to: p.authority.contact })
      : t('referral.preview.byWebhook', { url: p.authority.contact })
  }</dd>
<dt>${t('referral.preview.evidence')}</dt><dd data-testid="preview-evidence">${
    p.evidenceMode === 'original-and-redacted' ? t('referral.preview.originals') : t('referral.preview.redactedOnly')
  }</dd>
<dt>${t('referral.preview.messages')}</dt><dd>${t('referral.preview.messagesN', {
    n: p.messages,
    reports: s.volumes.reports,
  })}${p.omitted > 0 ? html` <strong class="error">${t('referral.preview.omitted', { n: p.omitted })}</strong>` : ''}\
</dd>
<dt>${t('referral.preview.period')}</dt>
<dd>${fmtTime(s.volumes.firstReportedAt)} – ${fmtTime(s.volumes.lastReportedAt)}</dd>
<dt>${t('referral.preview.size')}</dt><dd>${kib(p.packageSize)}</dd>
</dl>
<h3>${t('referral.preview.summary')}</h3>
<p><strong data-testid="preview-title" translate="no">\
${s.case.title}</strong> · ${categoryLabel(ctx, s.case.category)}</p>
<div class="grid3"><div>${list(t('case.ind.advertised'), s.indicators.domains)}</div>\
<div>${list(t('case.ind.senders'), s.indicators.senders)}</div>\
<div>${list(
    t('case.origins'),
    s.traceback.map((o) => ({ value: `${o.ip}${o.asn !== null ? ` AS${o.asn}` : ''}`, count: o.reports })),
  )}</div></div>
${p.mail ? html`<h3>${t('referral.preview.mail')}</h3><pre data-testid="preview-mail">${mailText(p.mail)}</pre>` : ''}
<details><summary>${t('referral.preview.files', { n: p.files.length })}</summary><ul class="plain mono">${p.files.map(
    (f) => html`<li>${f.path} (${kib(f.size)})</li>`,
  )}</ul></details>
<details><summary>${t('referral.preview.json')}</summary>
<pre data-testid="preview-json">${JSON.stringify(s, null, 2)}</pre></details>
</section>`;
}

export async function caseReferRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  app.get<{ Params: { id: string }; Querystring: { authority?: string; route?: string } }>(
    '/cases/:id/refer',
    async (req, reply) => {
      authorize(req.principal, 'case:manage');
      const ctx = pageContext(req, reply);
      const { t } = ctx;
      if (!/^[0-9A-Za-z_-]{1,40}$/.test(req.params.id)) throw new AppError('NOT_FOUND', 'No such case.');
      const c = await getCase(db, req.params.id);
      if (c.state === 'merged')
        throw new AppError('CONFLICT', `Case ${c.id} was merged into ${c.merged_into}; refer that one.`);
      const policy = policyFor(app.ctx.config);
      const authorities = (await listAuthorities(db)).filter((a) => a.active);
      const already = new Set((await listReferrals(db, { caseId: c.id })).map((r) => r.authority_id));
      const routed = (await routeCase(db, c.category, policy)).filter((a) => !already.has(a.id));
      let chosen: string[] = [];
      if (req.query.route === '1') chosen = routed.map((a) => a.id);
      else if (req.query.authority) chosen = idList(req.query.authority, t, MAX_AUTHORITIES);
      if (req.query.route === '1' && chosen.length === 0)
        throw new AppError('CONFLICT', t('referral.route.none', { category: c.category ?? '—' }));
      const previews = await Promise.all(chosen.map((a) => previewReferral(app.ctx, c.id, a)));
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'case.refer-preview',
        subject: `case:${c.id}`,
        ip: req.ip,
        detail: { authorities: chosen },
      });
      const competences = competencesFor(c.category, policy);
      return sendPage(
        reply,
        layout(
          ctx,
          t('case.refer'),
          html`<p class="crumbs"><a href="/cases">${t('cases.all')}</a> · \
<a href="/cases/${c.id}">${caseTitleHtml(ctx, c.title)}</a></p>
<h1>${t('case.refer')}</h1>
<form class="stack" method="get" action="/cases/${c.id}/refer" data-testid="refer-choose">
<fieldset><legend>${t('referral.choose')}</legend>
<label class="radio"><input type="radio" name="route" value="1"${req.query.route === '1' ? html` checked` : ''}> \
${
  routed.length > 0
    ? t('referral.route.to', { names: routed.map((a) => a.name).join(', ') })
    : t('referral.route.none', { category: c.category ?? '—' })
} <span class="muted">(${competences.join(', ') || '—'})</span></label>
${authorities.map(
  (a) =>
    html`<label class="radio"><input type="radio" name="authority" value="${a.id}"${
      req.query.authority === a.id ? html` checked` : ''
    }> ${a.name} <span class="muted">(${a.country}, ${a.competence}${
      already.has(a.id) ? `, ${t('referral.already')}` : ''
    })</span></label>`,
)}
</fieldset>
<button type="submit">${t('referral.preview')}</button>
</form>
${
  previews.length > 0
    ? html`${previews.map((p) => previewBlock(ctx, p))}
<form class="stack" method="post" action="/cases/${c.id}/refer" data-testid="refer-confirm">${csrfField(ctx)}
${chosen.map((a) => html`<input type="hidden" name="authorityIds" value="${a}">`)}
<button type="submit" class="primary">${t('referral.send', { n: chosen.length })}</button></form>`
    : ''
}`,
          { wide: true },
        ),
      );
    },
  );

  app.post<{ Params: { id: string } }>('/cases/:id/refer', async (req, reply) => {
    authorize(req.principal, 'case:manage');
    checkForm(req);
    const { t } = pageContext(req, reply);
    if (!/^[0-9A-Za-z_-]{1,40}$/.test(req.params.id)) throw new AppError('NOT_FOUND', 'No such case.');
    const c = await getCase(db, req.params.id);
    const ids = idList(fields(req.body, 'authorityIds').join(' '), t, MAX_AUTHORITIES);
    if (ids.length === 0) throw badForm(t, 'case.err.noAuthority');
    const actor = principalLabel(req.principal);
    // Each referral is its own transaction (package, outbox entry, history, audit): one refused
    // authority (inactive since the preview) does not undo the others.
    const done: string[] = [];
    for (const a of ids) done.push((await referCase(app.ctx, c.id, a, actor)).referralId);
    await writeAudit(db, {
      actor,
      action: 'case.refer',
      subject: `case:${c.id}`,
      ip: req.ip,
      detail: { authorities: ids, referrals: done },
    });
    return reply.redirect(`/cases/${c.id}?done=referred`, 303);
  });
}
