/**
 * The analyst workbench: dashboard (volumes by category and channel, top campaigns, networks,
 * countries, advertised domains, with a date range and a CSV of every table), the searchable
 * report list with keyset paging, and campaign pages.
 */
import type { FastifyInstance } from 'fastify';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { AppError } from '../../core/errors.ts';
import { authorize, can, reportScope } from '../../core/policy.ts';
import { CATEGORIES } from '../../analysis/classify/categories.ts';
import { CHANNELS } from '../../evidence/report-writer.ts';
import { html, type SafeHtml } from '../html.ts';
import {
  CSRF_FIELD,
  csrfField,
  fmtTime,
  formatNumber,
  layout,
  pageContext,
  sendPage,
  verifyCsrf,
  type PageCtx,
} from '../page.ts';
import { labelOf } from '../i18n.ts';
import { categoryLabel, channelLabel, chartBlock, percent, rangeForm, rangeQuery, topTable } from '../components.ts';
import { holdReasonLabel } from './held-pages.ts';
import { campaignHold, countHeldCampaigns } from '../../actions/held-campaigns.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { relabelCampaign } from '../../campaigns/relabel.ts';
import { indexReports } from '../indexer.ts';
import {
  PAGE_SIZE,
  dailySeries,
  decodeCursor,
  encodeCursor,
  listReports,
  rangeOf,
  toChart,
  toCsv,
  topValues,
  totalReports,
  valueSeries,
  type ListFilters,
} from '../queries.ts';
import { countryName } from '../countries.ts';
import { campaignLabels } from '../../campaigns/label.ts';
import { asLabel } from '../../analysis/ports/as-names.ts';
import { campaignFacts, loadCampaign } from '../foreign.ts';
import type { ReportIndexRow } from '../../db/web-tables.ts';
import type { RollupDim } from '../indexer.ts';

const CHART_SCRIPTS = ['/static/vendor/chartjs/chart.umd.min.js', '/static/app/charts.js'];
const TABLES: Record<string, { dim: RollupDim; header: string }> = {
  campaigns: { dim: 'campaign', header: 'campaign' },
  networks: { dim: 'asn', header: 'asn' },
  countries: { dim: 'country', header: 'country' },
  domains: { dim: 'domain', header: 'domain' },
};
/** Most rows one CSV export of the report list carries. */
export const MAX_CSV_ROWS = 100_000;

/**
 * The report table shared by the list, campaign and network pages (`subject` rewrites what is shown, e.g. redacted).
 */
export function reportTable(
  ctx: PageCtx,
  rows: ReportIndexRow[],
  link: (id: string) => string | null,
  subjectOf: (r: ReportIndexRow) => string | null = (r) => r.subject,
  /** Readable campaign labels by id (`campaigns/label.ts`); the id's tail otherwise. */
  labels: ReadonlyMap<string, string> = new Map(),
): SafeHtml {
  const { t } = ctx;
  if (rows.length === 0) return html`<p class="empty">${t('list.empty')}</p>`;
  return html`<div class="table-scroll"><table class="reports">
<thead><tr><th scope="col">${t('col.received')}</th><th scope="col">${t('col.subject')}</th><th \
scope="col">${t('col.sender')}</th><th scope="col">${t('col.origin')}</th><th scope="col">${t('col.category')}</th><th \
scope="col">${t('col.campaign')}</th><th scope="col">${t('col.channel')}</th></tr></thead>
<tbody>${rows.map((r) => {
    const href = link(r.report_id);
    const shown = subjectOf(r);
    const subject = shown && shown.trim() !== '' ? shown : `(${r.report_id})`;
    return html`<tr data-report-id="${r.report_id}">
<td class="nowrap">${fmtTime(r.received_at, ctx.locale)}</td>
<td translate="no">${href ? html`<a href="${href}">${subject}</a>` : subject}${
      r.false_report ? html` <span class="badge">${t('list.false')}</span>` : ''
    }</td>
<td translate="no">${r.sender ?? ''}</td>
<td translate="no">${r.origin_ip ?? ''}${
      r.origin_country
        ? html` <abbr title="${countryName(r.origin_country, ctx.locale)}">${r.origin_country}</abbr>`
        : ''
    }${r.origin_asn !== null ? html` ${asLabel(r.origin_asn)}` : ''}</td>
<td>${categoryLabel(ctx, r.category)}</td>
<td>${
      r.campaign_id
        ? href?.startsWith('/workbench/')
          ? html`<a href="/workbench/campaigns/${r.campaign_id}" translate="no">\
${labels.get(r.campaign_id) ?? r.campaign_id.slice(-8)}</a>`
          : html`<span translate="no">${labels.get(r.campaign_id) ?? r.campaign_id.slice(-8)}</span>`
        : ''
    }</td>
<td>${channelLabel(ctx, r.channel)}</td></tr>`;
  })}</tbody></table></div>`;
}

function filtersOf(q: Record<string, unknown>): ListFilters {
  const s = (k: string): string | undefined =>
    typeof q[k] === 'string' && String(q[k]).trim() !== '' ? String(q[k]).slice(0, 500) : undefined;
  return {
    q: s('q'),
    sender: s('sender'),
    domain: s('domain'),
    url: s('url'),
    ip: s('ip'),
    campaign: s('campaign'),
    asn: s('asn'),
    category: s('category'),
    channel: s('channel'),
    from: s('from'),
    to: s('to'),
  };
}

function filterQuery(f: ListFilters): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (typeof v === 'string' && v !== '') p.set(k, v);
  return p.toString();
}

function searchForm(ctx: PageCtx, f: ListFilters): SafeHtml {
  const { t } = ctx;
  const input = (name: keyof ListFilters, label: string, type = 'search') =>
    html`<label>${label} <input type="${type}" name="${name}" value="${f[name] ?? ''}"></label>`;
  return html`<form class="filters search" method="get" action="/workbench/reports" role="search" \
aria-label="${t('list.search')}">
${input('q', t('list.q'))}${input('sender', t('list.sender'))}${input('domain', t('list.domain'))}\
${input('url', t('list.url'))}${input('ip', t('list.ip'))}${input('campaign', t('list.campaign'))}
<label>${t('list.category')} <select name="category"><option value="">${t('list.any')}</option><option value="-" \
${f.category === '-' ? 'selected' : ''}>${t('cat.unclassified')}</option>${CATEGORIES.map(
    (c) => html`<option value="${c}" ${f.category === c ? 'selected' : ''}>${categoryLabel(ctx, c)}</option>`,
  )}</select></label>
<label>${t('col.channel')} <select name="channel"><option value="">${t('list.any')}</option>${CHANNELS.map(
    (c) => html`<option value="${c}" ${f.channel === c ? 'selected' : ''}>${channelLabel(ctx, c)}</option>`,
  )}</select></label>
${input('from', t('filter.from'), 'date')}${input('to', t('filter.to'), 'date')}
<button type="submit" class="primary">${t('list.search')}</button> <a href="/workbench/reports">${t('filter.reset')}</a>
</form>`;
}

/** The read-only preview of a whole-campaign relabel (what would change), as a GET URL. */
function relabelPreviewUrl(
  id: string,
  category: string,
  opts: { includeLegitimate: boolean; includeRelabelled: boolean },
): string {
  const q = new URLSearchParams({ category });
  if (opts.includeLegitimate) q.set('legitimate', '1');
  if (opts.includeRelabelled) q.set('relabelled', '1');
  return `/workbench/campaigns/${encodeURIComponent(id)}/relabel?${q.toString()}`;
}

export async function workbenchRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  app.get<{ Querystring: { from?: string; to?: string } }>('/workbench', async (req, reply) => {
    authorize(req.principal, 'workbench:use');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const range = rangeOf(req.query.from, req.query.to, 30);
    const [cat, chan, campaigns, networks, countries, domains, total] = await Promise.all([
      dailySeries(db, 'category', range),
      dailySeries(db, 'channel', range),
      topValues(db, 'campaign', range),
      topValues(db, 'asn', range),
      topValues(db, 'country', range),
      topValues(db, 'domain', range),
      totalReports(db, range),
    ]);
    const held = await countHeldCampaigns(db, policyFor(app.ctx.config));
    const qs = rangeQuery(range);
    const csv = (table: string) => `/workbench/export.csv?table=${table}&${qs}`;
    const labels = await campaignLabels(
      db,
      campaigns.map((c) => c.value),
    );
    return sendPage(
      reply,
      layout(
        ctx,
        t('dash.title'),
        html`<h1>${t('dash.title')}</h1>
${rangeForm(ctx, '/workbench', range)}
<p>${t('stats.total', { n: total })}</p>
${
  held > 0
    ? html`<p class="notice" role="status" data-testid="dash-held"><a href="/workbench/held">\
${t('dash.held', { n: formatNumber(ctx, held) })}</a></p>`
    : ''
}
<div class="grid2">
${chartBlock(
  ctx,
  'dash-category',
  t('dash.volume.category'),
  toChart(cat, range, (v) => categoryLabel(ctx, v)),
  'stacked',
  csv('category'),
)}
${chartBlock(
  ctx,
  'dash-channel',
  t('dash.volume.channel'),
  toChart(chan, range, (v) => channelLabel(ctx, v)),
  'line',
  csv('channel'),
)}
</div>
<div class="grid2">
${topTable(
  ctx,
  t('dash.campaigns'),
  t('col.campaign'),
  campaigns.map((c) => ({
    value: html`<a href="/workbench/campaigns/${c.value}?${qs}" title="${c.value}">\
${labels.get(c.value) ?? c.value}</a>`,
    n: c.n,
  })),
  csv('campaigns'),
)}
${topTable(
  ctx,
  t('dash.networks'),
  t('col.network'),
  networks.map((c) => ({
    value: html`<a href="/workbench/reports?asn=${c.value}">\
${/^\d+$/.test(c.value) ? asLabel(Number(c.value)) : c.value}</a>`,
    n: c.n,
  })),
  csv('networks'),
)}
${topTable(
  ctx,
  t('dash.countries'),
  t('col.country'),
  countries.map((c) => ({ value: `${countryName(c.value, ctx.locale)} (${c.value})`, n: c.n })),
  csv('countries'),
)}
${topTable(
  ctx,
  t('dash.domains'),
  t('col.domain'),
  domains.map((c) => ({
    value: html`<a href="/workbench/reports?domain=${encodeURIComponent(c.value)}">${c.value}</a>`,
    n: c.n,
  })),
  csv('domains'),
)}
</div>`,
        { scripts: CHART_SCRIPTS, wide: true },
      ),
    );
  });

  app.get<{ Querystring: { from?: string; to?: string; table?: string } }>(
    '/workbench/export.csv',
    async (req, reply) => {
      authorize(req.principal, 'workbench:use');
      const range = rangeOf(req.query.from, req.query.to, 30);
      const table = req.query.table ?? 'category';
      let csv: string;
      if (table === 'category' || table === 'channel') {
        csv = toCsv(
          ['day', table, 'reports'],
          (await dailySeries(db, table, range)).map((p) => [p.day, p.value, p.n]),
        );
      } else {
        const def = TABLES[table];
        if (!def)
          throw new AppError(
            'BAD_REQUEST',
            `Unknown table ${JSON.stringify(table)}; use category, channel, ${Object.keys(TABLES).join(', ')}.`,
          );
        csv = toCsv(
          [def.header, 'reports'],
          (await topValues(db, def.dim, range, 10_000)).map((r) => [r.value, r.n]),
        );
      }
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'export.workbench',
        subject: `table:${table}`,
        ip: req.ip,
        detail: { from: range.from, to: range.to, bytes: csv.length },
      });
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="spamdesk-${table}-${range.from}-${range.to}.csv"`)
        .send(csv);
    },
  );

  app.get<{ Querystring: Record<string, string | undefined> }>('/workbench/reports', async (req, reply) => {
    authorize(req.principal, 'workbench:use');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const f = filtersOf(req.query);
    const cursor = decodeCursor(req.query.before);
    const page = await listReports(db, reportScope(req.principal, { networks: [], authorityId: null }), f, cursor);
    const fq = filterQuery(f);
    const labels = await campaignLabels(
      db,
      page.rows.flatMap((r) => (r.campaign_id ? [r.campaign_id] : [])),
    );
    return sendPage(
      reply,
      layout(
        ctx,
        t('list.title'),
        html`<h1>${t('list.title')}</h1>
${searchForm(ctx, f)}
<p><a class="csv" href="/workbench/reports.csv?${fq}">${t('csv')}</a></p>
${reportTable(ctx, page.rows, (id) => `/workbench/reports/${id}`, undefined, labels)}
<nav class="pager" aria-label="${t('trc.pages')}">${
          cursor ? html`<a href="/workbench/reports?${fq}">${t('list.first')}</a>` : ''
        } \
${
  page.next
    ? html`<a rel="next" href="/workbench/reports?${fq}${fq ? '&' : ''}before=${encodeCursor(page.next)}">\
${t('list.next')}</a>`
    : ''
}</nav>`,
        { wide: true },
      ),
    );
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/workbench/reports.csv', async (req, reply) => {
    authorize(req.principal, 'workbench:use');
    const f = filtersOf(req.query);
    const scope = reportScope(req.principal, { networks: [], authorityId: null });
    const rows: (string | number | null)[][] = [];
    let cursor = null;
    while (rows.length < MAX_CSV_ROWS) {
      const page = await listReports(db, scope, f, cursor, 1000);
      for (const r of page.rows)
        rows.push([
          r.report_id,
          r.received_at,
          r.channel,
          r.subject,
          r.sender,
          r.origin_ip,
          r.origin_country,
          r.origin_asn,
          r.category,
          r.campaign_id,
          r.false_report,
        ]);
      if (!page.next) break;
      cursor = page.next;
    }
    const csv = toCsv(
      [
        'report_id',
        'received_at',
        'channel',
        'subject',
        'sender',
        'origin_ip',
        'origin_country',
        'origin_asn',
        'category',
        'campaign_id',
        'false_report',
      ],
      rows,
    );
    await writeAudit(db, {
      actor: principalLabel(req.principal),
      action: 'export.reports',
      subject: 'reports.csv',
      ip: req.ip,
      detail: { filters: f, rows: rows.length },
    });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="spamdesk-reports.csv"')
      .send(csv);
  });

  /**
   * A whole campaign relabelled from its page: first what would change (a GET, read-only, so the page can be
   * reloaded, linked and shown in another language), then, confirmed by a CSRF-checked POST, the change. A POST
   * without `confirm` (an older form) is sent to the preview.
   */
  app.get<{ Params: { id: string }; Querystring: { category?: string; legitimate?: string; relabelled?: string } }>(
    '/workbench/campaigns/:id/relabel',
    async (req, reply) => {
      authorize(req.principal, 'report:relabel');
      const id = req.params.id.slice(0, 64);
      const category = typeof req.query.category === 'string' ? req.query.category : '';
      const opts = { includeLegitimate: req.query.legitimate === '1', includeRelabelled: req.query.relabelled === '1' };
      const r = await relabelCampaign(db, id, category, principalLabel(req.principal), { ...opts, dryRun: true });
      const ctx = pageContext(req, reply);
      const { t } = ctx;
      const label = (await campaignLabels(db, [r.campaignId])).get(r.campaignId) ?? r.campaignId;
      const n = r.change.reduce((sum, c) => sum + c.messages, 0);
      const title = t('campaign.relabel.confirm.title', { id: label, category: categoryLabel(ctx, r.category) });
      return sendPage(
        reply,
        layout(
          ctx,
          title,
          html`<h1>${title}</h1>
${
  n === 0
    ? html`<p class="empty" data-testid="campaign-relabel-none">${t('campaign.relabel.confirm.none')}</p>`
    : html`<p>${t('campaign.relabel.confirm.change', { n: formatNumber(ctx, n) })}</p>\
<ul data-testid="campaign-relabel-plan">${r.change.map(
        (c) =>
          html`<li>${t('campaign.relabel.confirm.from', {
            n: formatNumber(ctx, c.messages),
            from: categoryLabel(ctx, c.from),
          })}</li>`,
      )}</ul>`
}
<p data-testid="campaign-relabel-kept">${t('campaign.relabel.confirm.kept', {
            legitimate: formatNumber(ctx, r.keptLegitimate),
            relabelled: formatNumber(ctx, r.keptRelabelled),
            unchanged: formatNumber(ctx, r.unchanged),
            without: formatNumber(ctx, r.withoutReport),
          })}</p>
${
  n === 0
    ? ''
    : html`<form method="post" action="/workbench/campaigns/${r.campaignId}/relabel">${csrfField(ctx)}\
<input type="hidden" name="category" value="${r.category}"><input type="hidden" name="confirm" value="1">\
${opts.includeLegitimate ? html`<input type="hidden" name="legitimate" value="1">` : ''}\
${opts.includeRelabelled ? html`<input type="hidden" name="relabelled" value="1">` : ''}\
<button type="submit" data-testid="campaign-relabel-confirm">${t('campaign.relabel.confirm.submit', {
        n: formatNumber(ctx, n),
      })}</button></form>`
}
<p><a href="/workbench/campaigns/${r.campaignId}">${t('campaign.relabel.cancel')}</a></p>`,
        ),
      );
    },
  );

  app.post<{ Params: { id: string } }>('/workbench/campaigns/:id/relabel', async (req, reply) => {
    authorize(req.principal, 'report:relabel');
    const body = (req.body ?? {}) as Record<string, unknown>;
    verifyCsrf(req, typeof body[CSRF_FIELD] === 'string' ? body[CSRF_FIELD] : '');
    const id = req.params.id.slice(0, 64);
    const category = typeof body.category === 'string' ? body.category : '';
    const opts = { includeLegitimate: body.legitimate === '1', includeRelabelled: body.relabelled === '1' };
    if (body.confirm !== '1') return reply.redirect(relabelPreviewUrl(id, category, opts), 303);
    const r = await relabelCampaign(db, id, category, principalLabel(req.principal), { ...opts, ip: req.ip });
    for (let i = 0; i < r.reportIds.length; i += 500) await indexReports(db, r.reportIds.slice(i, i + 500));
    return reply.redirect(`/workbench/campaigns/${r.campaignId}?relabelled=${r.relabelled}`, 303);
  });

  app.get<{
    Params: { id: string };
    Querystring: { before?: string; from?: string; to?: string; relabelled?: string };
  }>('/workbench/campaigns/:id', async (req, reply) => {
    authorize(req.principal, 'workbench:use');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const id = req.params.id.slice(0, 64);
    const campaign = await loadCampaign(db, id);
    const page = await listReports(
      db,
      { kind: 'all' },
      { campaign: campaign?.id ?? id },
      decodeCursor(req.query.before),
      PAGE_SIZE,
    );
    if (!campaign && page.rows.length === 0) throw new AppError('NOT_FOUND', 'No such campaign.');
    const first = campaign?.firstSeenAt.slice(0, 10) ?? page.rows[page.rows.length - 1]?.received_at.slice(0, 10);
    const last = campaign?.lastSeenAt.slice(0, 10) ?? page.rows[0]?.received_at.slice(0, 10);
    const range = rangeOf(first, last, 30);
    const series = await valueSeries(db, 'campaign', campaign?.id ?? id, range);
    const facts = await campaignFacts(db, campaign?.id ?? id);
    const hold = campaign ? await campaignHold(db, policyFor(app.ctx.config), campaign.id) : null;
    const label = (await campaignLabels(db, [campaign?.id ?? id])).get(campaign?.id ?? id) ?? id;
    // Arriving from the dashboard: the count of its period, from the same roll-ups, beside the total.
    const period = req.query.from && req.query.to ? rangeOf(req.query.from, req.query.to, 30) : null;
    const inPeriod = period
      ? (await valueSeries(db, 'campaign', campaign?.id ?? id, period)).reduce((n, p) => n + Number(p.n), 0)
      : null;
    await writeAudit(db, {
      actor: principalLabel(req.principal),
      action: 'campaign.view',
      subject: `campaign:${campaign?.id ?? id}`,
      ip: req.ip,
    });
    const byKind = new Map<string, { value: string; count: number }[]>();
    for (const f of facts) {
      const list = byKind.get(f.kind) ?? [];
      if (list.length < 15) list.push(f);
      byKind.set(f.kind, list);
    }
    return sendPage(
      reply,
      layout(
        ctx,
        t('campaign.title', { id: label }),
        html`<h1>${t('campaign.title', { id: label })}</h1>\
<p class="mono muted" translate="no">${campaign?.id ?? id}</p>
<p><a href="/cases/new?campaign=${campaign?.id ?? id}" data-testid="campaign-open-case">\
${t('case.fromCampaign')}</a></p>
${
  /^\d{1,6}$/.test(req.query.relabelled ?? '')
    ? html`<p class="notice" role="status" data-testid="campaign-relabelled">${t('campaign.relabel.done', {
        n: formatNumber(ctx, Number(req.query.relabelled)),
      })}</p>`
    : ''
}
${
  hold
    ? html`<div class="notice" role="status" data-testid="campaign-held"><p>${t('held.notice')}</p>\
<ul>${hold.reasons.map(
        (r) => html`<li>${holdReasonLabel(ctx, r)}</li>`,
      )}</ul><p><a href="/workbench/held">${t('held.notice.more')}</a></p></div>`
    : ''
}
${
  campaign
    ? html`<dl class="facts"><dt>${t('col.category')}</dt><dd>${categoryLabel(ctx, campaign.category)}</dd>\
<dt>${t('col.reports')}</dt><dd data-testid="report-count">${formatNumber(ctx, campaign.reportCount)}${
        period && inPeriod !== null
          ? html` <span class="muted">(${t('admin.campaign.inPeriod', {
              n: formatNumber(ctx, inPeriod),
              from: period.from,
              to: period.to,
            })})</span>`
          : ''
      }</dd><dt>${t('campaign.messages')}</dt>\
<dd>${formatNumber(ctx, campaign.messageCount)}</dd><dt>${t('campaign.purity')}</dt>\
<dd>${percent(ctx, campaign.purity)}</dd><dt>${t('campaign.legitimateShare')}</dt>\
<dd>${percent(ctx, campaign.legitimateShare)}</dd><dt>${t('filter.from')}</dt>\
<dd>${fmtTime(campaign.firstSeenAt, ctx.locale)}</dd><dt>${t('filter.to')}</dt>\
<dd>${fmtTime(campaign.lastSeenAt, ctx.locale)}</dd></dl>`
    : html`<p class="notice">${t('campaign.unavailable')}</p>`
}
${chartBlock(
  ctx,
  'campaign-timeline',
  t('campaign.timeline'),
  toChart(
    series.map((s) => ({ day: s.day, value: t('col.reports'), n: Number(s.n) })),
    range,
    (v) => v,
  ),
  'bar',
)}
<section class="card"><h2>${t('campaign.indicators')}</h2>${
          byKind.size === 0
            ? html`<p class="empty">${t('detail.none')}</p>`
            : html`<div class="grid3">${[...byKind.entries()].map(
                ([kind, list]) =>
                  html`<div><h3>${labelOf(t, 'trc.kind', kind)}</h3><ul class="plain">${list.map(
                    (f) =>
                      html`<li>${factValue(ctx, kind, f.value)} <span \
class="count">×${formatNumber(ctx, f.count)}</span></li>`,
                  )}</ul></div>`,
              )}</div>`
        }</section>
${
  campaign && can(req.principal, 'report:relabel')
    ? html`<section class="card" aria-labelledby="h-campaign-relabel"><h2 id="h-campaign-relabel">\
${t('campaign.relabel')}</h2><p>${t('campaign.relabel.lead', { n: formatNumber(ctx, campaign.messageCount) })}</p>
<form method="get" action="/workbench/campaigns/${campaign.id}/relabel" class="row">
<label for="campaign-category">${t('col.category')}</label> \
<select id="campaign-category" name="category" required><option value="">${t('campaign.relabel.choose')}</option>\
${CATEGORIES.map((c) => html`<option value="${c}">${categoryLabel(ctx, c)}</option>`)}</select>
<label><input type="checkbox" name="legitimate" value="1"> ${t('campaign.relabel.legitimate')}</label>
<label><input type="checkbox" name="relabelled" value="1"> ${t('campaign.relabel.relabelled')}</label>
<button type="submit" data-testid="campaign-relabel-submit">${t('campaign.relabel.submit')}</button></form></section>`
    : ''
}
<section><h2>${t('campaign.members')} <a class="csv" href="/workbench/reports.csv?campaign=${campaign?.id ?? id}">\
${t('csv')}</a></h2>${reportTable(ctx, page.rows, (rid) => `/workbench/reports/${rid}`)}
${
  page.next
    ? html`<p><a rel="next" href="/workbench/campaigns/${id}?before=${encodeCursor(page.next)}">\
${t('list.next')}</a></p>`
    : ''
}</section>`,
        { scripts: CHART_SCRIPTS, wide: true },
      ),
    );
  });
}

/** A campaign fact for the reader: categories and countries in words, everything else as written. */
function factValue(ctx: PageCtx, kind: string, value: string): SafeHtml {
  if (kind === 'category') return html`${categoryLabel(ctx, value)}`;
  if (kind === 'country' && /^[A-Z]{2}$/.test(value))
    return html`${countryName(value, ctx.locale)} <span class="mono" translate="no">(${value})</span>`;
  if (kind === 'kind') return html`${labelOf(ctx.t, 'trc.msgkind', value)}`;
  return html`<span class="mono" translate="no">${value}</span>`;
}
