/**
 * One case (`/cases/:id`): its target (a campaign by name), facts, reports per day, reports a page
 * at a time, indicators, origins, referrals with their delivery, history; and the analyst's
 * actions (annotate, add and remove reports, merge, close or reopen), each checked by role,
 * CSRF-protected and audited. An authority is sent to its own referral of the case.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize, can } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import {
  addReportsToCase,
  annotateCase,
  caseHistory,
  getCase,
  mergeCases,
  removeReportsFromCase,
  setCaseState,
} from '../../actions/cases/cases.ts';
import { caseFactsTally, caseReportsPage, caseTimeline, decodeReportCursor } from '../../actions/cases/case-view.ts';
import { listReferrals } from '../../actions/referrals/referrals.ts';
import { campaignLabels } from '../../campaigns/label.ts';
import { html, type SafeHtml } from '../html.ts';
import { layout, pageContext, sendPage, type PageCtx } from '../page.ts';
import type { Translate } from '../i18n.ts';
import { chartBlock, type ChartData } from '../components.ts';
import { daysOf } from '../queries.ts';
import {
  badForm,
  caseTitleHtml,
  caseTitleText,
  checkForm,
  field,
  idList,
  pageCaseScope,
  targetKindLabel,
  targetText,
} from './case-common.ts';
import { reportRefs } from './case-new-pages.ts';
import {
  actionsSection,
  factsBlock,
  historySection,
  indicatorsSection,
  originsSection,
  referralsSection,
  reportsSection,
  type ReportFacts,
} from './case-sections.ts';

const CHART_SCRIPTS = ['/static/vendor/chartjs/chart.umd.min.js', '/static/app/charts.js'];
/** Beyond this many days the timeline counts per month (a bar per day would be unreadable). */
const MAX_DAILY_BARS = 400;

/** Reports per day (or per month for a long case) as a bar chart's data, gaps filled with zero. */
export function timelineChart(points: { day: string; n: number }[], label: string): ChartData {
  if (points.length === 0) return { labels: [], datasets: [] };
  const days = daysOf({ from: points[0].day, to: points[points.length - 1].day }, MAX_DAILY_BARS + 1);
  const monthly = days.length > MAX_DAILY_BARS;
  const key = (d: string) => (monthly ? d.slice(0, 7) : d);
  const labels: string[] = [];
  if (monthly) {
    const first = points[0].day.slice(0, 7);
    const last = points[points.length - 1].day.slice(0, 7);
    for (let [y, m] = first.split('-').map(Number); `${y}-${String(m).padStart(2, '0')}` <= last; ) {
      labels.push(`${y}-${String(m).padStart(2, '0')}`);
      m++;
      if (m > 12) {
        m = 1;
        y++;
      }
    }
  } else labels.push(...days);
  const idx = new Map(labels.map((l, i) => [l, i]));
  const data = new Array<number>(labels.length).fill(0);
  for (const p of points) {
    const i = idx.get(key(p.day));
    if (i !== undefined) data[i] += p.n;
  }
  return { labels, datasets: [{ label, data }] };
}

/** Why a case waits for review: the reasons of its latest hold (gates, campaign split). */
function reviewReasons(history: { kind: string; detail: unknown }[]): string[] {
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i];
    if (e.kind !== 'state:needs_review' && e.kind !== 'held') continue;
    const d = (e.detail ?? {}) as Record<string, unknown>;
    if (Array.isArray(d.reasons)) return d.reasons.map(String);
    if (typeof d.reason === 'string') return [d.reason];
  }
  return [];
}

async function caseId(req: FastifyRequest<{ Params: { id: string } }>): Promise<string> {
  const id = req.params.id;
  if (!/^[0-9A-Za-z_-]{1,40}$/.test(id)) throw new AppError('NOT_FOUND', 'No such case.');
  await getCase(req.server.ctx.db, id);
  return id;
}

function targetHtml(ctx: PageCtx, kind: string, value: string, names: ReadonlyMap<string, string>): SafeHtml {
  const text = targetText(ctx, kind, value, names);
  const label = html`<span class="muted">${targetKindLabel(ctx, kind)}</span> `;
  if (kind === 'campaign')
    return html`${label}<a href="/workbench/campaigns/${value}" data-testid="case-campaign">${text}</a> \
<span class="muted mono">${value}</span>`;
  if (kind === 'origin_network' && /^\d+$/.test(value))
    return html`${label}<a href="/workbench/reports?asn=${value}">${text}</a>`;
  return html`${label}<span class="mono">${text}</span>`;
}

export async function caseDetailRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  app.get<{ Params: { id: string }; Querystring: { cursor?: string; done?: string } }>(
    '/cases/:id',
    async (req, reply) => {
      authorize(req.principal, 'case:read');
      const scope = await pageCaseScope(req);
      const id = req.params.id.slice(0, 40);
      if (scope) {
        // An authority reads its referral of the case (redacted), never the analysts' workbench.
        const mine = await listReferrals(db, { caseId: id, authorityIds: scope });
        if (mine.length === 0) throw new AppError('NOT_FOUND', 'No such case.');
        return reply.redirect(`/referrals/${mine[0].id}`, 303);
      }
      const c = await getCase(db, await caseId(req));
      const ctx = pageContext(req, reply);
      const { t } = ctx;
      const cursor = decodeReportCursor(req.query.cursor) ? (req.query.cursor ?? null) : null;
      const [page, timeline, { indicators, origins }, history, referrals] = await Promise.all([
        caseReportsPage(db, c.id, cursor),
        caseTimeline(db, c.id),
        caseFactsTally(db, c.id),
        caseHistory(db, c.id),
        listReferrals(db, { caseId: c.id }),
      ]);
      const ids = page.rows.map((r) => r.report_id);
      const facts = new Map<string, ReportFacts>(
        ids.length === 0
          ? []
          : (
              await db
                .selectFrom('web_report_index')
                .select(['report_id', 'subject', 'sender', 'category', 'origin_ip'])
                .where('report_id', 'in', ids)
                .execute()
            ).map((r) => [r.report_id, r]),
      );
      const names = c.target_kind === 'campaign' ? await campaignLabels(db, [c.target_value]) : new Map();
      const mayManage = can(req.principal, 'case:manage');
      const live = c.state !== 'merged';
      const reasons = c.state === 'needs_review' ? reviewReasons(history) : [];
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'case.view',
        subject: `case:${c.id}`,
        ip: req.ip,
        detail: { via: 'web', reports: page.total },
      });
      const done = req.query.done && /^[a-z-]{1,20}$/.test(req.query.done) ? req.query.done : null;
      return sendPage(
        reply,
        layout(
          ctx,
          caseTitleText(ctx, c.title),
          html`<p class="crumbs"><a href="/cases">${t('cases.all')}</a>${
            c.state === 'needs_review'
              ? html` · <a href="/cases?state=needs_review">${t('case.state.needs_review')}</a>`
              : ''
          }</p>
<h1 data-testid="case-title">${caseTitleHtml(ctx, c.title)}</h1>
${done ? html`<p class="notice" role="status" data-testid="case-done">${doneText(ctx, done)}</p>` : ''}
${
  c.state === 'needs_review'
    ? html`<div class="notice" data-testid="case-review"><p>${t('case.review.why')}</p>${
        reasons.length > 0 ? html`<ul>${reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''
      }</div>`
    : ''
}
${factsBlock(ctx, c, targetHtml(ctx, c.target_kind, c.target_value, names), page.total)}
${chartBlock(ctx, 'case-timeline', t('case.timeline'), timelineChart(timeline, t('col.reports')), 'bar')}
${referralsSection(ctx, c, referrals, mayManage && live)}
${reportsSection(ctx, c, page, facts, cursor, mayManage && live)}
${indicatorsSection(ctx, indicators)}
${originsSection(ctx, origins)}
${mayManage && live ? actionsSection(ctx, c) : ''}
${historySection(ctx, history)}`,
          { scripts: CHART_SCRIPTS, wide: true },
        ),
      );
    },
  );

  const change = (
    path: string,
    action: string,
    run: (
      req: FastifyRequest<{ Params: { id: string } }>,
      id: string,
      actor: string,
      t: Translate,
    ) => Promise<Record<string, unknown>>,
  ) =>
    app.post<{ Params: { id: string } }>(`/cases/:id/${path}`, async (req, reply) => {
      authorize(req.principal, 'case:manage');
      checkForm(req);
      const id = await caseId(req);
      const actor = principalLabel(req.principal);
      const detail = await run(req, id, actor, pageContext(req, reply).t);
      await writeAudit(db, { actor, action: `case.${action}`, subject: `case:${id}`, ip: req.ip, detail });
      return reply.redirect(`/cases/${id}?done=${action}`, 303);
    });

  change('annotate', 'annotate', async (req, id, actor, t) => {
    const note = field(req.body, 'note').trim();
    if (note === '' || note.length > 10_000) throw badForm(t, 'case.err.note');
    await annotateCase(db, id, actor, note);
    return { chars: note.length };
  });

  change('reports', 'reports-add', async (req, id, actor, t) => {
    const ids = idList(field(req.body, 'reportIds'), t);
    if (ids.length === 0) throw badForm(t, 'case.err.noReports');
    const c = await getCase(db, id);
    if (c.state === 'merged') throw new AppError('CONFLICT', `Case ${id} was merged into ${c.merged_into}.`);
    const added = await db
      .transaction()
      .execute(async (trx) => addReportsToCase(trx, id, await reportRefs(trx, ids, t), actor));
    return { given: ids.length, added };
  });

  change('reports/remove', 'reports-remove', async (req, id, actor, t) => {
    const raw = (req.body as Record<string, unknown> | undefined)?.reportIds;
    const list = Array.isArray(raw)
      ? raw.filter((x): x is string => typeof x === 'string')
      : typeof raw === 'string'
        ? [raw]
        : [];
    const ids = idList(list.join(' '), t);
    if (ids.length === 0) throw badForm(t, 'case.err.noSelection');
    const note = field(req.body, 'note').trim().slice(0, 2000) || null;
    const removed = await db.transaction().execute((trx) => removeReportsFromCase(trx, id, ids, actor, note));
    return { removed, note };
  });

  change('merge', 'merge', async (req, id, actor, t) => {
    const ids = idList(field(req.body, 'caseIds'), t, 100).filter((x) => x !== id);
    if (ids.length === 0) throw badForm(t, 'case.err.noMerge');
    const moved = await db.transaction().execute((trx) => mergeCases(trx, id, ids, actor));
    return { merged: ids, moved };
  });

  change('close', 'close', async (req, id, actor) => {
    const note = field(req.body, 'note').trim().slice(0, 10_000);
    const c = await getCase(db, id);
    if (c.state === 'merged') throw new AppError('CONFLICT', `Case ${id} was merged into ${c.merged_into}.`);
    await setCaseState(db, id, 'closed', actor, note ? { note } : null);
    return { from: c.state, note: note || null };
  });

  change('reopen', 'reopen', async (_req, id, actor) => {
    const c = await getCase(db, id);
    if (c.state !== 'closed') throw new AppError('CONFLICT', 'Only a closed case can be reopened.');
    await setCaseState(db, id, 'open', actor);
    return { from: c.state };
  });
}

function doneText(ctx: PageCtx, done: string): string {
  const { t } = ctx;
  switch (done) {
    case 'opened':
      return t('case.done.opened');
    case 'existing':
      return t('case.done.existing');
    case 'referred':
      return t('case.done.referred');
    case 'annotate':
      return t('case.done.annotate');
    case 'reports-add':
      return t('case.done.reports-add');
    case 'reports-remove':
      return t('case.done.reports-remove');
    case 'merge':
      return t('case.done.merge');
    case 'close':
      return t('case.done.close');
    case 'reopen':
      return t('case.done.reopen');
    default:
      return '';
  }
}
