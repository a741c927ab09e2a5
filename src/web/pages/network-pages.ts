/**
 * Network operators: the reports whose origin lies in their own networks (list with filters and
 * keyset paging, and a detail page), and the ISP alerts about their networks, which they can mark
 * handled. Rows are scoped by the policy module (`reportScope` → `networks`, `reportInScope`); a
 * report outside the scope answers 404 as if it did not exist. An operator never sees who
 * reported: no reporter fields, no raw source, no full URLs (they can carry recipient tokens), and
 * the subject and trace-back steps are redacted of the reporter's identity and the message's
 * recipients (src/evidence/redact.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize, can, reportInScope, reportScope } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import { identityOfReport, REDACTED_TEXT, recipientIdentityOf, Redactor, redactText } from '../../evidence/redact.ts';
import { identitiesByReport } from '../../actions/redaction.ts';
import type { ReportIndexRow } from '../../db/web-tables.ts';
import { CATEGORIES } from '../../analysis/classify/categories.ts';
import { listAlerts, markAlertHandled } from '../../actions/isp/isp-digests.ts';
import { html, raw } from '../html.ts';
import { csrfField, fmtTime, formatNumber, layout, pageContext, sendPage, verifyCsrf, type PageCtx } from '../page.ts';
import { labelOf } from '../i18n.ts';
import { narrative } from '../narrative.ts';
import { categoryLabel } from '../components.ts';
import { countryName } from '../countries.ts';
import { hasTable, loadAnalysis, loadCampaignOf, operatorIdsOfUser } from '../foreign.ts';
import { decodeCursor, encodeCursor, isDay, listReports, type ListFilters } from '../queries.ts';
import { reportTable } from './workbench-pages.ts';
import { asLabel } from '../../analysis/ports/as-names.ts';
import { authSection, section } from './report-detail-pages.ts';
import { scopeFacts } from './scoped-pages.ts';

const ALERT_STATES = ['open', 'handled'] as const;

/** Filters a network operator may use: dates, category, origin IP, one of its AS numbers. */
function networkFilters(q: Record<string, unknown>): ListFilters {
  const s = (k: string): string | undefined =>
    typeof q[k] === 'string' && String(q[k]).trim() !== '' ? String(q[k]).trim().slice(0, 100) : undefined;
  const from = s('from');
  const to = s('to');
  return {
    from: isDay(from) ? from : undefined,
    to: isDay(to) ? to : undefined,
    category: s('category'),
    ip: s('ip'),
    asn: s('asn'),
  };
}

function filterQuery(f: ListFilters): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (typeof v === 'string' && v !== '') p.set(k, v);
  return p.toString();
}

/** Operators whose alerts the caller sees, or null for staff (all). */
async function alertScope(req: FastifyRequest): Promise<string[] | null> {
  const p = req.principal;
  if (can(p, 'operator:manage') || can(p, 'case:manage')) return null;
  if (p.kind === 'anonymous' || p.userId === null) return [];
  const facts = await scopeFacts(req);
  return operatorIdsOfUser(req.server.ctx.db, p.userId, facts.networks);
}

/** Any e-mail address left in a text shown to an operator (recipients, personalised subjects). */
const ADDRESS_RE = /[^\s<>"'(),;:]+@[^\s<>"'(),;:]+\.[a-z]{2,}/gi;

/**
 * The subjects of a page of reports as an operator may see them: the reporter's identity (report
 * address, account e-mail and name, forwarder's name) redacted, then every address masked.
 */
async function redactedSubjects(app: FastifyInstance, rows: ReportIndexRow[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (rows.length === 0) return out;
  const identities = await identitiesByReport(
    app.ctx.db,
    rows.map((r) => r.report_id),
  );
  for (const row of rows) {
    const identity = identities.get(row.report_id) ?? { addresses: [], names: [], numbers: [] };
    out.set(row.report_id, redactText(row.subject ?? '', identity).replace(ADDRESS_RE, REDACTED_TEXT));
  }
  return out;
}

function noNetworks(ctx: PageCtx): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('network.title'),
    html`<h1>${t('network.title')}</h1><p class="notice">${t('network.none')}</p>`,
  );
}

export async function networkRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  app.get<{ Querystring: Record<string, string | undefined> }>('/network', async (req, reply) => {
    authorize(req.principal, 'report:read-network');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const scope = reportScope(req.principal, await scopeFacts(req));
    if (scope.kind !== 'networks') return sendPage(reply, noNetworks(ctx));
    const f = networkFilters(req.query);
    const page = await listReports(db, scope, f, decodeCursor(req.query.before));
    const fq = filterQuery(f);
    const subjects = await redactedSubjects(app, page.rows);
    await writeAudit(db, {
      actor: principalLabel(req.principal),
      action: 'network.list',
      subject: `asns:${scope.asns.join(',')}`,
      ip: req.ip,
      detail: { reports: page.rows.map((r) => r.report_id) },
    });
    const openAlerts = (await hasTable(db, 'action_isp_alerts'))
      ? (await listAlerts(db, { operatorIds: (await alertScope(req)) ?? undefined, state: 'open', limit: 1000 })).length
      : 0;
    return sendPage(
      reply,
      layout(
        ctx,
        t('network.title'),
        html`<h1>${t('network.title')}</h1>\
<p>${t('network.asns')}${t('trd.colon')} ${scope.asns.map((a) => asLabel(a)).join(', ')} \
· <a \
href="/network/alerts">${t('network.alerts')}</a> (${t('network.alerts.count', { n: openAlerts })})</p>
<p class="muted">${t('network.privacy')}</p>
<form class="filters search" method="get" action="/network" aria-label="${t('list.search')}">
<label>${t('list.ip')} <input type="search" name="ip" value="${f.ip ?? ''}"></label>
<label>${t('col.network')} <select name="asn"><option value="">${t('list.any')}</option>${scope.asns.map(
          (a) => html`<option value="${a}" ${f.asn === String(a) ? 'selected' : ''}>${asLabel(a)}</option>`,
        )}</select></label>
<label>${t('list.category')} <select name="category"><option value="">${t('list.any')}</option>${CATEGORIES.map(
          (c) => html`<option value="${c}" ${f.category === c ? 'selected' : ''}>${categoryLabel(ctx, c)}</option>`,
        )}</select></label>
<label>${t('filter.from')} <input type="date" name="from" value="${f.from ?? ''}"></label>
<label>${t('filter.to')} <input type="date" name="to" value="${f.to ?? ''}"></label>
<button type="submit" class="primary">${t('list.search')}</button> <a href="/network">${t('filter.reset')}</a>
</form>
${reportTable(
  ctx,
  page.rows,
  (id) => `/network/reports/${id}`,
  (r) => subjects.get(r.report_id) ?? null,
)}
${
  page.next
    ? html`<p><a rel="next" href="/network?${fq}${fq ? '&' : ''}before=${encodeCursor(page.next)}">\
${t('list.next')}</a></p>`
    : ''
}`,
        { wide: true },
      ),
    );
  });

  app.get<{ Params: { id: string } }>('/network/reports/:id', async (req, reply) => {
    authorize(req.principal, 'report:read-network');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const scope = reportScope(req.principal, await scopeFacts(req));
    const id = req.params.id;
    const row = /^[0-9A-Za-z]{1,32}$/.test(id)
      ? await db.selectFrom('web_report_index').selectAll().where('report_id', '=', id).executeTakeFirst()
      : undefined;
    // Outside the caller's networks a report does not exist for them.
    if (!row || !reportInScope(scope, { reporterUserId: null, reporterTokenId: null, originAsn: row.origin_asn }))
      throw new AppError('NOT_FOUND', 'No such report in your networks.');
    const evidence = await getMessageRaw(db, row.message_sha256);
    const redactor = new Redactor(
      await identityOfReport(db, id, { mailServers: true }),
      evidence ? recipientIdentityOf(evidence) : undefined,
    );
    const redact = (s: string | null | undefined): string =>
      s ? redactor.string(s).replace(ADDRESS_RE, REDACTED_TEXT) : '';
    const [analysis, campaign] = await Promise.all([
      loadAnalysis(db, row.message_sha256),
      loadCampaignOf(db, row.message_sha256),
    ]);
    await writeAudit(db, {
      actor: principalLabel(req.principal),
      action: 'network.view-report',
      subject: `report:${id}`,
      ip: req.ip,
    });
    const o = analysis?.enrichment.origin ?? null;
    const domains = [
      ...new Set(
        (analysis?.indicators.urls ?? [])
          .filter((u) => u.role !== 'resource')
          .map((u) => u.registrableDomain)
          .filter((d): d is string => typeof d === 'string'),
      ),
    ].slice(0, 50);
    const campaignText = campaign
      ? t('network.campaign', {
          id: campaign.id.slice(-8),
          n: formatNumber(ctx, campaign.reportCount),
          first: fmtTime(campaign.firstSeenAt, ctx.locale),
          last: fmtTime(campaign.lastSeenAt, ctx.locale),
        })
      : '—';
    const body = html`<p class="crumbs"><a href="/network">${t('network.title')}</a></p>
<h1>${t('detail.title', { id })}</h1><p class="subject" translate="no">${redact(row.subject) || id}</p>
${section(
  'summary',
  t('detail.summary'),
  html`<dl class="facts">
<dt>${t('col.received')}</dt><dd>${fmtTime(row.received_at, ctx.locale)}</dd>
<dt>${t('detail.origin')}</dt><dd class="mono" translate="no" \
data-testid="origin">${row.origin_ip ?? '—'}${row.origin_asn !== null ? ` AS${row.origin_asn}` : ''}${
    o?.asName ? ` ${o.asName}` : ''
  }${row.origin_country ? ` · ${countryName(row.origin_country, ctx.locale)}` : ''}${o?.rdns ? ` · ${o.rdns}` : ''}</dd>
<dt>${t('col.category')}</dt><dd>${categoryLabel(ctx, row.category)}</dd>
<dt>${t('col.campaign')}</dt><dd>${campaignText}</dd>
<dt>${t('col.sender')}</dt><dd translate="no">${row.sender ?? '—'}</dd>
<dt>${t('list.domain')}</dt><dd translate="no">${domains.length > 0 ? domains.join(', ') : '—'}</dd>
</dl>`,
)}
${
  analysis && analysis.traceback.hops.length > 0
    ? section(
        'trace',
        t('detail.trace'),
        html`<ol class="hops">${analysis.traceback.hops.map(
          (h) =>
            html`<li \
class="${h.trusted ? 'trusted' : 'untrusted'}${analysis.traceback.origin?.hopIndex === h.index ? ' origin' : ''}"><div>\
<strong>#${h.index}</strong> <span translate="no">${h.fromHelo ?? ''} ${h.fromRdns ? html`(${h.fromRdns})` : ''} <span \
class="mono">${h.fromIp ?? ''}</span> → ${h.byHost ?? ''} ${
              h.protocol ? html`<span class="badge">${h.protocol}</span>` : ''
            }${h.tls ? html` <span class="badge">TLS</span>` : ''} <span class="muted">${h.date ?? ''}</span>\
</span></div>\
</li>`,
        )}</ol>${
          analysis.traceback.steps.length > 0
            ? html`<ol class="steps">${analysis.traceback.steps.map(
                (s) => html`<li>${narrative(ctx, redact(s))}</li>`,
              )}</ol>`
            : ''
        }`,
      )
    : section('trace', t('detail.trace'), html`<p class="empty">${t('detail.trace.none')}</p>`)
}
${analysis ? authSection(ctx, analysis) : ''}`;
    // The whole page once more: hop host names (the recipient's own mail host), authentication
    // results (its authserv-id) and anything else a message put there.
    return sendPage(reply, layout(ctx, t('detail.title', { id }), raw(redactor.string(body.value)), { wide: true }));
  });

  app.get<{ Querystring: { state?: string } }>('/network/alerts', async (req, reply) => {
    authorize(req.principal, 'isp-alert:read');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const state = (ALERT_STATES as readonly string[]).includes(req.query.state ?? '') ? req.query.state : 'open';
    const operatorIds = await alertScope(req);
    const alerts = (await hasTable(db, 'action_isp_alerts'))
      ? await listAlerts(db, { operatorIds: operatorIds ?? undefined, state, limit: 500 })
      : [];
    const mayHandle = can(req.principal, 'isp-alert:handle');
    const listHref = (ip: string) =>
      can(req.principal, 'workbench:use')
        ? `/workbench/reports?ip=${encodeURIComponent(ip)}`
        : `/network?ip=${encodeURIComponent(ip)}`;
    return sendPage(
      reply,
      layout(
        ctx,
        t('network.alerts'),
        html`<h1>${t('network.alerts')}</h1>
<p>${ALERT_STATES.map((s) =>
          s === state
            ? html`<strong>${t(s === 'open' ? 'network.alerts.tab.open' : 'network.alerts.tab.handled')}</strong>`
            : html`<a href="/network/alerts?state=${s}">${t(
                s === 'open' ? 'network.alerts.tab.open' : 'network.alerts.tab.handled',
              )}</a>`,
        )}</p>
${
  alerts.length === 0
    ? html`<p class="empty">${t('network.alerts.none')}</p>`
    : html`<div class="table-scroll"><table data-testid="alerts"><thead><tr><th scope="col">IP</th><th \
scope="col">${t('col.network')}</th><th scope="col">${t('network.alerts.seen')}</th><th scope="col" \
class="num">${t('col.reports')}</th><th scope="col" class="num">${t('network.alerts.campaigns')}</th><th \
scope="col">${t('col.state')}</th></tr></thead><tbody>
${alerts.map(
  (a) => html`<tr data-alert-id="${a.id}"><td class="mono" translate="no"><a href="${listHref(a.ip)}">${a.ip}</a></td>\
<td translate="no">${a.asn !== null ? asLabel(a.asn) : ''}</td>\
<td>${fmtTime(a.first_seen, ctx.locale)} – ${fmtTime(a.last_seen, ctx.locale)}</td><td \
class="num">${formatNumber(ctx, Number(a.report_count))}</td><td \
class="num">${formatNumber(ctx, Number(a.campaign_count))}</td>
<td>${
    a.state === 'open' && mayHandle
      ? html`<form method="post" action="/network/alerts/${a.id}/handled" class="inline">${csrfField(ctx)}<button \
type="submit">${t('network.alerts.handle')}</button></form>`
      : html`${labelOf(t, 'trc.alert', a.state)}${
          a.handled_by
            ? html` <span class="muted"><span translate="no">${a.handled_by}</span> · \
${fmtTime(a.handled_at, ctx.locale)}</span>`
            : ''
        }`
  }</td></tr>`,
)}</tbody></table></div>`
}`,
        { wide: true },
      ),
    );
  });

  app.post<{ Params: { id: string } }>('/network/alerts/:id/handled', async (req, reply) => {
    authorize(req.principal, 'isp-alert:handle');
    verifyCsrf(req, (req.body as Record<string, unknown> | undefined)?._csrf);
    const operatorIds = await alertScope(req);
    if (
      !(await hasTable(db, 'action_isp_alerts')) ||
      !(await markAlertHandled(db, req.params.id.slice(0, 40), principalLabel(req.principal), operatorIds))
    ) {
      throw new AppError('NOT_FOUND', 'No open alert with this id in your networks.');
    }
    return reply.redirect('/network/alerts', 303);
  });
}
