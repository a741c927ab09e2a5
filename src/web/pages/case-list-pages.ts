/**
 * The case list (`/cases`): tabs by state (with the "needs review" queue the gates fill), filters
 * on target, category, opening rule, authority and period, keyset paging; and opening a case by
 * hand (`/cases/new`) about a campaign or a selection of reports.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { TARGET_KINDS } from '../../actions/action-policy.ts';
import { CASE_STATES } from '../../actions/cases/cases.ts';
import { CaseFilter, caseFilterChoices, caseStateCounts, listCasePage } from '../../actions/cases/case-list.ts';
import { listAuthorities } from '../../actions/cases/authorities.ts';
import { redactorForCase } from '../../actions/redaction.ts';
import { campaignLabels } from '../../campaigns/label.ts';
import { html, type SafeHtml } from '../html.ts';
import { fmtTime, layout, pageContext, sendPage, type PageCtx } from '../page.ts';
import { categoryLabel } from '../components.ts';
import {
  actorText,
  caseStateLabel,
  caseTitleHtml,
  pageCaseScope,
  pager,
  queryOf,
  targetKindLabel,
  targetText,
} from './case-common.ts';
import { caseNewRoutes } from './case-new-pages.ts';

/** Filters as they came in the query string (blank: any); a bad value is a 400 with the reason. */
function filtersOf(query: Record<string, string | undefined>): CaseFilter {
  const p = CaseFilter.safeParse(query);
  if (!p.success)
    throw new AppError('BAD_REQUEST', p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return p.data;
}

function filterForm(
  ctx: PageCtx,
  f: CaseFilter,
  choices: { rules: string[]; categories: string[]; authorities: { id: string; name: string }[] | null },
): SafeHtml {
  const { t } = ctx;
  const opt = (value: string, label: string, selected: string | undefined) =>
    html`<option value="${value}"${selected === value ? html` selected` : ''}>${label}</option>`;
  return html`<form class="filters" method="get" action="/cases" data-testid="case-filters">
  ${f.state ? html`<input type="hidden" name="state" value="${f.state}">` : ''}
  <label>${t('case.filter.targetKind')} <select name="targetKind">${opt('', t('case.filter.any'), f.targetKind ?? '')}\
${TARGET_KINDS.map((k) => opt(k, targetKindLabel(ctx, k), f.targetKind))}</select></label>
  <label>${t('case.filter.target')} <input name="target" value="${f.target ?? ''}" maxlength="300"></label>
  <label>${t('col.category')} <select name="category">${opt('', t('case.filter.any'), f.category ?? '')}\
${choices.categories.map((c) => opt(c, categoryLabel(ctx, c), f.category))}</select></label>
  <label>${t('case.filter.rule')} <select name="rule">${opt('', t('case.filter.any'), f.rule ?? '')}\
${opt('manual', t('case.filter.manual'), f.rule)}${choices.rules.map(
  (r) => html`<option value="${r}" translate="no"${f.rule === r ? html` selected` : ''}>${r}</option>`,
)}</select></label>
  ${
    choices.authorities
      ? html`<label>${t('case.filter.authority')} <select name="authority">${opt(
          '',
          t('case.filter.any'),
          f.authority ?? '',
        )}${choices.authorities.map((a) => opt(a.id, a.name, f.authority))}</select></label>`
      : ''
  }
  <label>${t('filter.from')} <input type="date" name="from" value="${f.from ?? ''}"></label>
  <label>${t('filter.to')} <input type="date" name="to" value="${f.to ?? ''}"></label>
  <button type="submit">${t('filter.apply')}</button>
  <a href="/cases${f.state ? `?state=${f.state}` : ''}">${t('filter.reset')}</a>
</form>`;
}

function stateTabs(ctx: PageCtx, f: CaseFilter, counts: Record<string, number>): SafeHtml {
  const { state: _s, ...rest } = f;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const tab = (state: string | undefined, label: string, n: number) => {
    const q = queryOf({ ...rest, state });
    const text = html`${label} <span class="badge">${n}</span>`;
    return f.state === state
      ? html`<li><strong aria-current="page">${text}</strong></li>`
      : html`<li><a href="/cases${q ? `?${q}` : ''}">${text}</a></li>`;
  };
  const all = tab(undefined, ctx.t('case.tab.all'), total);
  return html`<ul class="tabs plain" data-testid="case-tabs">${all}${CASE_STATES.map((s) =>
    tab(s, caseStateLabel(ctx, s), counts[s] ?? 0),
  )}</ul>`;
}

export async function caseListRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  app.get<{ Querystring: Record<string, string | undefined> }>('/cases', async (req, reply) => {
    authorize(req.principal, 'case:read');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const scope = await pageCaseScope(req);
    const f = filtersOf(req.query);
    const cursor = /^[0-9A-Za-z_-]{1,40}$/.test(req.query.cursor ?? '') ? (req.query.cursor ?? null) : null;
    const page = await listCasePage(db, f, { cursor, authorityIds: scope });
    const counts = await caseStateCounts(db, scope);
    const staff = scope === null;
    const choices = {
      ...(staff ? await caseFilterChoices(db) : { rules: [], categories: [] }),
      authorities: staff ? (await listAuthorities(db)).map((a) => ({ id: a.id, name: a.name })) : null,
    };
    const names = await campaignLabels(
      db,
      page.cases.filter((c) => c.target_kind === 'campaign').map((c) => c.target_value),
    );
    // Authorities read titles and targets redacted of the case's reporters (free text).
    const rows = staff
      ? page.cases
      : await Promise.all(page.cases.map(async (c) => (await redactorForCase(db, c.id)).json(c)));
    const title = staff ? t('cases.all') : t('cases.title');
    const q = queryOf({ ...f });
    return sendPage(
      reply,
      layout(
        ctx,
        title,
        html`<h1>${title}</h1>
${
  can(req.principal, 'case:manage')
    ? html`<p><a class="button" href="/cases/new" data-testid="case-new-link">${t('case.new')}</a></p>`
    : html`<p><a href="/referrals">${t('referral.list.title')}</a></p>`
}
${stateTabs(ctx, f, counts)}
${
  (counts.needs_review ?? 0) > 0 && f.state !== 'needs_review' && staff
    ? html`<p class="notice">\
<a href="/cases?state=needs_review">${t('case.review.waiting', { n: counts.needs_review ?? 0 })}</a></p>`
    : ''
}
${staff ? filterForm(ctx, f, choices) : ''}
${
  rows.length === 0
    ? html`<p class="empty">${t('cases.none')}</p>`
    : html`<div class="table-scroll"><table data-testid="cases"><thead><tr><th scope="col">${t('col.title')}</th>\
<th scope="col">${t('case.col.target')}</th><th scope="col">${t('col.category')}</th><th scope="col">${t('col.state')}\
</th><th scope="col" class="num">${t('col.reports')}</th><th scope="col">${t('col.created')}</th>\
<th scope="col">${t('case.col.openedBy')}</th></tr></thead><tbody>
${rows.map(
  (c) => html`<tr data-case-id="${c.id}"><td><a href="/cases/${c.id}">${caseTitleHtml(ctx, c.title)}</a></td>\
<td><span class="muted">${targetKindLabel(ctx, c.target_kind)}</span> <span translate="no">${targetText(
    ctx,
    c.target_kind,
    c.target_value,
    names,
  )}</span></td><td>${categoryLabel(ctx, c.category)}</td><td>${caseStateLabel(ctx, c.state)}</td>\
<td class="num">${c.report_count}</td><td class="nowrap">${fmtTime(c.created_at)}</td>\
<td>${staff ? actorText(ctx, c.opened_by) : ''}</td></tr>`,
)}</tbody></table></div>`
}
${pager(ctx, '/cases', q, cursor, page.next)}`,
        { wide: true },
      ),
    );
  });

  await caseNewRoutes(app);
}
