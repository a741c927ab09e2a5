/**
 * The monthly report as people and programs read it: an HTML fragment (the web page puts it in its
 * layout), a self-contained HTML document (printed to PDF, attached to the mail; a CSP forbids
 * every script and remote load), CSV in long form (one `section,key,label,metric,value` row per
 * figure, so one file holds every table) and JSON (the report object itself). Every value comes
 * from reports, so every value is escaped.
 */
import { escapeHtml } from '../referrals/case-report-html.ts';
import { toCsv, type CsvValue } from '../formats/csv.ts';
import { asLabel } from '../../analysis/ports/as-names.ts';
import type { MonthlyReport } from './build.ts';
import { competenceWords, fill, type MonthlyLabels } from './labels.ts';

function table(l: MonthlyLabels, headers: string[], rows: (string | number)[][], testid: string): string {
  if (rows.length === 0) return `<p class="none">${escapeHtml(l.none)}</p>`;
  const head = headers
    .map(
      (h, i) => `<th scope="col"${i > 0 && typeof rows[0][i] === 'number' ? ' class="num"' : ''}>${escapeHtml(h)}</th>`,
    )
    .join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((c) => `<td${typeof c === 'number' ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<div class="table-scroll"><table data-testid="${testid}"><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></div>`;
}

function unknownAs(l: MonthlyLabels, key: string): string {
  return key === 'unknown' ? l.unknown : key;
}

/** The report's sections (headings h2 and below), for a page or a document. */
export function monthlyReportFragment(r: MonthlyReport, l: MonthlyLabels): string {
  const t = r.totals;
  const median =
    r.medianHoursToReferral === null
      ? l.medianNone
      : fill(l.medianValue, { hours: r.medianHoursToReferral, n: r.referredReports });
  const section = (title: string, body: string, id: string) =>
    `<section class="card" id="${id}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
  return [
    section(
      l.summary,
      `<dl class="facts" data-testid="summary">
<dt>${escapeHtml(l.reports)}</dt><dd data-testid="total-reports">${t.reports}</dd>
<dt>${escapeHtml(l.historical)}</dt><dd>${t.historical}</dd>
<dt>${escapeHtml(l.casesOpened)}</dt><dd>${t.casesOpened}</dd>
<dt>${escapeHtml(l.casesNotReferred)}</dt><dd>${r.casesNotReferred}</dd>
<dt>${escapeHtml(l.referrals)}</dt><dd>${t.referrals}</dd>
<dt>${escapeHtml(l.ispAlerts)}</dt><dd>${t.ispAlerts}</dd>
<dt>${escapeHtml(l.median)}</dt><dd data-testid="median">${escapeHtml(median)}</dd>
</dl><p class="help">${escapeHtml(l.definitions)}</p>`,
      'summary',
    ),
    section(
      l.byCategory,
      table(
        l,
        [l.colCategory, l.colReports],
        r.byCategory.map((x) => [unknownAs(l, x.key), x.n]),
        'by-category',
      ),
      'by-category',
    ),
    section(
      l.byChannel,
      table(
        l,
        [l.colChannel, l.colReports],
        r.byChannel.map((x) => [x.key, x.n]),
        'by-channel',
      ),
      'by-channel',
    ),
    section(
      l.byCountry,
      table(
        l,
        [l.colCountry, l.colReports],
        r.byCountry.map((x) => [unknownAs(l, x.key), x.n]),
        'by-country',
      ),
      'by-country',
    ),
    section(
      l.topCampaigns,
      table(
        l,
        ['#', l.colCampaign, l.colCategory, l.colReports],
        r.topCampaigns.map((c, i) => [String(i + 1), c.label, c.category ?? l.unknown, c.n]),
        'top-campaigns',
      ),
      'top-campaigns',
    ),
    section(
      l.topSenderDomains,
      table(
        l,
        ['#', l.colDomain, l.colReports],
        r.topSenderDomains.map((d, i) => [String(i + 1), d.key, d.n]),
        'top-sender-domains',
      ),
      'top-sender-domains',
    ),
    section(
      l.authorities,
      table(
        l,
        [l.colAuthority, l.colCompetence, l.colOpened, l.colReferred, l.colClosed],
        r.authorities.map((a) => [
          `${a.name} (${a.country})`,
          competenceWords(l, a.competence),
          a.opened,
          a.referred,
          a.closed,
        ]),
        'authorities',
      ),
      'authorities',
    ),
    section(
      l.operators,
      table(
        l,
        [l.colOperator, l.colNetworks, l.colAlerts, l.colReports, l.colHandled],
        r.operators.map((o) => [o.name, o.asns.map((a) => asLabel(a)).join(', '), o.alerts, o.reports, o.handled]),
        'operators',
      ),
      'operators',
    ),
  ].join('\n');
}

/** A self-contained document (for the PDF and the mail): no script, nothing remote. */
export function monthlyReportDocument(
  r: MonthlyReport,
  l: MonthlyLabels,
  opts: { lang: string; instance: string },
): string {
  const title = `${l.title} ${r.month} — ${opts.instance}`;
  const lastDay = new Date(Date.parse(r.to) - 1).toISOString().slice(0, 10);
  return `<!doctype html>
<html lang="${escapeHtml(opts.lang)}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>body{font:12px/1.4 system-ui,sans-serif;margin:1.5em;color:#111}h1{font-size:20px}h2{font-size:15px;\
margin:1.2em 0 .3em}table{border-collapse:collapse;width:100%;margin:.3em 0 1em}td,th{border:1px solid #bbb;\
padding:.15em .4em;text-align:left;vertical-align:top;word-break:break-word}th{background:#eee}.num{text-align:right}\
dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}dd{margin:0}.none,.help{color:#555}\
section{break-inside:avoid-page}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(fill(l.period, { from: r.from.slice(0, 10), to: lastDay }))} · \
${escapeHtml(fill(l.generated, { at: r.generatedAt.replace('T', ' ').slice(0, 16) }))}</p>
${monthlyReportFragment(r, l)}
</body></html>`;
}

/** Every figure as one CSV row: `section,key,label,metric,value` (machine names, stable across languages). */
export function monthlyReportCsv(r: MonthlyReport): string {
  const rows: CsvValue[][] = [];
  const t = r.totals;
  for (const [metric, value] of [
    ['reports', t.reports],
    ['historical', t.historical],
    ['cases_opened', t.casesOpened],
    ['cases_not_referred', r.casesNotReferred],
    ['referrals', t.referrals],
    ['isp_alerts', t.ispAlerts],
    ['median_hours_to_referral', r.medianHoursToReferral],
    ['referred_reports', r.referredReports],
  ] as const)
    rows.push(['summary', '', '', metric, value]);
  for (const x of r.byCategory) rows.push(['category', x.key, '', 'reports', x.n]);
  for (const x of r.byChannel) rows.push(['channel', x.key, '', 'reports', x.n]);
  for (const x of r.byCountry) rows.push(['country', x.key, '', 'reports', x.n]);
  for (const c of r.topCampaigns) rows.push(['campaign', c.id, c.label, 'reports', c.n]);
  for (const d of r.topSenderDomains) rows.push(['sender_domain', d.key, '', 'reports', d.n]);
  for (const a of r.authorities)
    for (const [metric, v] of [
      ['opened', a.opened],
      ['referred', a.referred],
      ['closed', a.closed],
    ] as const)
      rows.push(['authority', a.id, a.name, metric, v]);
  for (const o of r.operators)
    for (const [metric, v] of [
      ['alerts', o.alerts],
      ['reports', o.reports],
      ['handled', o.handled],
    ] as const)
      rows.push(['operator', o.id, o.name, metric, v]);
  return toCsv(['section', 'key', 'label', 'metric', 'value'], rows);
}
