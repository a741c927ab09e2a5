/**
 * The authority's side of a referral: its referrals (open or closed, a page at a time) → one
 * referral (the case as referred, redacted; the package with its hash; the answers so far) →
 * the package download (audited) → acknowledge, ask for more, or close with a note. Staff see
 * every referral and may record an answer received another way. Another authority's referral
 * answers 404, as an unknown one does.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { caseHistory, getCase } from '../../actions/cases/cases.ts';
import {
  answerReferral,
  getReferral,
  getReferralPackage,
  listReferralPage,
  REFERRAL_ANSWERS,
  type ReferralAnswer,
  type ReferralView,
} from '../../actions/referrals/referrals.ts';
import { redactorForCase } from '../../actions/redaction.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, fmtTime, layout, pageContext, sendPage, type PageCtx } from '../page.ts';
import { categoryLabel } from '../components.ts';
import { actorText, badForm, checkForm, field, pageCaseScope, pager, referralStateLabel } from './case-common.ts';
import { deliveryText, eventLabel, kib } from './case-sections.ts';

const ID = /^[0-9A-Za-z_-]{1,40}$/;

/** The referral if the caller may see it (staff: any; an authority: its own), else 404. */
async function visibleReferral(req: FastifyRequest<{ Params: { id: string } }>): Promise<{
  referral: ReferralView;
  staff: boolean;
}> {
  const scope = await pageCaseScope(req);
  if (!ID.test(req.params.id)) throw new AppError('NOT_FOUND', 'No such referral.');
  const referral = await getReferral(req.server.ctx.db, req.params.id);
  if (scope && !scope.includes(referral.authority_id)) throw new AppError('NOT_FOUND', 'No such referral.');
  return { referral, staff: scope === null };
}

function answerLabel(ctx: PageCtx, a: ReferralAnswer): string {
  if (a === 'acknowledge') return ctx.t('referral.answer.acknowledge');
  if (a === 'request-more') return ctx.t('referral.answer.request-more');
  return ctx.t('referral.answer.close');
}

function answerForm(ctx: PageCtx, r: ReferralView): SafeHtml {
  const { t } = ctx;
  if (r.state === 'closed') return html`<p class="notice">${t('referral.closed')}</p>`;
  return html`<form class="stack" method="post" action="/referrals/${r.id}/answer" data-testid="answer-form">\
${csrfField(ctx)}
<fieldset><legend>${t('referral.answer')}</legend>${REFERRAL_ANSWERS.map(
    (
      a,
      i,
    ) => html`<label class="radio"><input type="radio" name="answer" value="${a}"${i === 0 ? html` checked` : ''}> \
${answerLabel(ctx, a)}</label>`,
  )}</fieldset>
<label>${t('referral.answer.note')} <textarea name="note" rows="4" maxlength="10000"></textarea></label>
<p class="muted">${t('referral.answer.public')}</p>
<button type="submit" class="primary">${t('referral.answer.send')}</button>
</form>`;
}

export async function referralPageRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  app.get<{ Querystring: { state?: string; cursor?: string } }>('/referrals', async (req, reply) => {
    authorize(req.principal, 'referral:answer');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const scope = await pageCaseScope(req);
    const state = req.query.state === 'closed' ? 'closed' : 'open';
    const cursor = ID.test(req.query.cursor ?? '') ? (req.query.cursor ?? null) : null;
    const page = await listReferralPage(
      db,
      { ...(scope ? { authorityIds: scope } : {}), closed: state === 'closed' },
      cursor,
    );
    const caseIds = [...new Set(page.referrals.map((r) => r.case_id))];
    const cases = new Map(
      caseIds.length === 0
        ? []
        : (
            await db.selectFrom('action_cases').select(['id', 'title', 'category']).where('id', 'in', caseIds).execute()
          ).map((c) => [c.id, c]),
    );
    const titles = new Map<string, string>();
    for (const [id, c] of cases) titles.set(id, scope ? (await redactorForCase(db, id)).string(c.title) : c.title);
    const tab = (s: 'open' | 'closed', label: string) =>
      s === state
        ? html`<li><strong aria-current="page">${label}</strong></li>`
        : html`<li><a href="/referrals?state=${s}">${label}</a></li>`;
    return sendPage(
      reply,
      layout(
        ctx,
        t('referral.list.title'),
        html`<h1>${t('referral.list.title')}</h1>
<ul class="tabs plain">${tab('open', t('referral.tab.open'))}${tab('closed', t('referral.tab.closed'))}</ul>
${
  page.referrals.length === 0
    ? html`<p class="empty">${t('referral.list.none')}</p>`
    : html`<div class="table-scroll"><table data-testid="referrals"><thead><tr><th scope="col">${t('col.title')}</th>\
<th scope="col">${t('referral.col.authority')}</th><th scope="col">${t('col.category')}</th><th scope="col">\
${t('col.state')}</th><th scope="col">${t('referral.col.referredAt')}</th></tr></thead><tbody>
${page.referrals.map(
  (r) => html`<tr data-referral-id="${r.id}"><td>\
<a href="/referrals/${r.id}">${titles.get(r.case_id) ?? r.case_id}</a></td>\
<td>${r.authority_name}</td><td>${categoryLabel(ctx, cases.get(r.case_id)?.category ?? null)}</td>\
<td>${referralStateLabel(ctx, r.state)}</td><td class="nowrap">${fmtTime(r.created_at)}</td></tr>`,
)}</tbody></table></div>`
}
${pager(ctx, '/referrals', `state=${state}`, cursor, page.next)}`,
        { wide: true },
      ),
    );
  });

  app.get<{ Params: { id: string } }>('/referrals/:id', async (req, reply) => {
    authorize(req.principal, 'referral:answer');
    const { referral: r, staff } = await visibleReferral(req);
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const c = await getCase(db, r.case_id);
    const counts = await db
      .selectFrom('action_case_reports as cr')
      .innerJoin('reports as rp', 'rp.id', 'cr.report_id')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.min('rp.received_at').as('first'),
        eb.fn.max('rp.received_at').as('last'),
      ])
      .where('cr.case_id', '=', c.id)
      .executeTakeFirst();
    // The answers to this referral (and when it was sent), from the case history.
    const events = (await caseHistory(db, c.id)).filter((e) => {
      const d = (e.detail ?? {}) as Record<string, unknown>;
      return d.referralId === r.id;
    });
    const redactor = staff ? null : await redactorForCase(db, c.id);
    const clean = (s: string) => (redactor ? redactor.string(s) : s);
    await writeAudit(db, {
      actor: principalLabel(req.principal),
      action: 'referral.view',
      subject: `referral:${r.id}`,
      ip: req.ip,
    });
    const title = clean(c.title);
    return sendPage(
      reply,
      layout(
        ctx,
        title,
        html`<p class="crumbs"><a href="/referrals">${t('referral.list.title')}</a>${
          staff ? html` · <a href="/cases/${c.id}">${t('referral.caseLink')}</a>` : ''
        }</p>
<h1 data-testid="referral-title">${title}</h1>
<dl class="facts" data-testid="referral-facts">
<dt>${t('referral.col.authority')}</dt><dd>${r.authority_name}</dd>
<dt>${t('col.state')}</dt><dd data-testid="referral-state">${referralStateLabel(ctx, r.state)}</dd>
<dt>${t('referral.col.delivery')}</dt><dd>${deliveryText(ctx, r)}</dd>
<dt>${t('referral.col.referredAt')}</dt><dd>${fmtTime(r.created_at)}</dd>
<dt>${t('col.category')}</dt><dd>${categoryLabel(ctx, c.category)}</dd>
<dt>${t('referral.case')}</dt><dd class="mono">${c.id}</dd>
<dt>${t('col.reports')}</dt><dd>${Number(counts?.n ?? 0)} · ${fmtTime(String(counts?.first ?? ''))} – \
${fmtTime(String(counts?.last ?? ''))}</dd>
</dl>
<section class="card"><h2>${t('referral.package')}</h2>
<p><a href="/referrals/${r.id}/package" download data-testid="package-link">${t('referral.download')}</a> \
(${kib(r.package_size)})</p>
<p class="muted">SHA-256 <span class="mono" data-testid="package-sha">${r.package_sha256}</span></p>
<p class="muted">${t('referral.package.verify')}</p></section>
<section class="card"><h2>${t('referral.answers')}</h2>${
          events.length === 0
            ? html`<p class="empty">${t('referral.answers.none')}</p>`
            : html`<ol class="plain" data-testid="referral-answers">${events.map((e) => {
                const note = (e.detail as Record<string, unknown> | null)?.note;
                return html`<li><span class="nowrap">${fmtTime(e.at)}</span> · \
<strong>${eventLabel(ctx, e.kind)}</strong>\
${staff ? html` · <span class="muted">${actorText(ctx, e.actor)}</span>` : ''}${
  typeof note === 'string' && note ? html`<blockquote>${clean(note)}</blockquote>` : ''
}</li>`;
              })}</ol>`
        }</section>
${answerForm(ctx, r)}`,
      ),
    );
  });

  app.get<{ Params: { id: string } }>('/referrals/:id/package', async (req, reply) => {
    authorize(req.principal, 'referral:answer');
    const { referral } = await visibleReferral(req);
    const r = await getReferralPackage(db, referral.id);
    await writeAudit(db, {
      actor: principalLabel(req.principal),
      action: 'referral.download',
      subject: `referral:${r.id}`,
      ip: req.ip,
      detail: { sha256: r.package_sha256, via: 'web' },
    });
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="case-${r.case_id}-${r.id}.zip"`)
      .header('digest', `sha-256=${Buffer.from(r.package_sha256, 'hex').toString('base64')}`)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .send(r.package);
  });

  app.post<{ Params: { id: string } }>('/referrals/:id/answer', async (req, reply) => {
    authorize(req.principal, 'referral:answer');
    checkForm(req);
    const { t } = pageContext(req, reply);
    const { referral } = await visibleReferral(req);
    const answer = field(req.body, 'answer');
    if (!(REFERRAL_ANSWERS as readonly string[]).includes(answer)) throw badForm(t, 'referral.err.answer');
    const note = field(req.body, 'note').trim();
    if (note.length > 10_000) throw badForm(t, 'referral.err.noteLength');
    if (answer === 'request-more' && note === '') throw badForm(t, 'referral.err.whatMore');
    const actor = principalLabel(req.principal);
    await answerReferral(db, referral.id, answer as ReferralAnswer, actor, note || null);
    await writeAudit(db, {
      actor,
      action: 'referral.answer',
      subject: `referral:${referral.id}`,
      ip: req.ip,
      detail: { answer, caseId: referral.case_id, note: note ? note.length : 0 },
    });
    return reply.redirect(`/referrals/${referral.id}`, 303);
  });
}
