/** Page pieces shared by several pages: charts with their data table, tables with CSV links, filters. */
import { html, jsonScript, type HtmlValue, type SafeHtml } from './html.ts';
import { formatNumber, type PageCtx } from './page.ts';
import type { Range } from './queries.ts';

export interface ChartData {
  labels: string[];
  datasets: { label: string; data: number[] }[];
}

/**
 * A chart drawn by Chart.js from a JSON block (CSP forbids inline scripts), with the same numbers
 * in a data table for screen readers and for anyone without JavaScript.
 */
export function chartBlock(
  ctx: PageCtx,
  id: string,
  title: string,
  data: ChartData,
  kind: 'line' | 'bar' | 'stacked',
  csvHref?: string,
): SafeHtml {
  const empty = data.datasets.length === 0 || data.datasets.every((d) => d.data.every((n) => n === 0));
  return html`<figure class="chart" id="fig-${id}">
  <figcaption><h2>${title}</h2>${csvHref ? html` <a class="csv" href="${csvHref}">${ctx.t('csv')}</a>` : ''}</figcaptio\
n>
  ${
    empty
      ? html`<p class="empty">${ctx.t('chart.nodata')}</p>`
      : html`<div class="canvas-box"><canvas id="${id}" data-chart="${id}-data" data-kind="${kind}" role="img" \
aria-label="${title}"></canvas></div>
  ${jsonScript(`${id}-data`, data)}
  <details><summary>${ctx.t('chart.table')}</summary>${dataTable(ctx, data)}</details>`
  }
</figure>`;
}

function dataTable(ctx: PageCtx, data: ChartData): SafeHtml {
  const nonEmpty = data.labels.map((_, i) => i).filter((i) => data.datasets.some((d) => d.data[i] > 0));
  return html`<div class="table-scroll"><table>
<thead><tr><th scope="col">${ctx.t('col.day')}</th>${data.datasets.map(
    (d) => html`<th scope="col">${d.label}</th>`,
  )}</tr></thead>
<tbody>${nonEmpty.map(
    (i) =>
      html`<tr><th scope="row">${data.labels[i]}</th>${data.datasets.map(
        (d) => html`<td>${formatNumber(ctx, d.data[i])}</td>`,
      )}</tr>`,
  )}</tbody>
</table></div>`;
}

/** A "top N" table with a CSV link. */
export function topTable(
  ctx: PageCtx,
  title: string,
  valueHeader: string,
  rows: { value: HtmlValue; n: number }[],
  csvHref: string,
): SafeHtml {
  return html`<section class="card">
  <h2>${title} <a class="csv" href="${csvHref}">${ctx.t('csv')}</a></h2>
  ${
    rows.length === 0
      ? html`<p class="empty">${ctx.t('chart.nodata')}</p>`
      : html`<table><thead><tr><th scope="col">${valueHeader}</th><th scope="col" \
class="num">${ctx.t('col.reports')}</th></tr></thead>
  <tbody>${rows.map(
    (r) => html`<tr><td translate="no">${r.value}</td><td class="num">${formatNumber(ctx, r.n)}</td></tr>`,
  )}</tbody></table>`
  }
</section>`;
}

/** The date-range filter form (GET). */
export function rangeForm(ctx: PageCtx, action: string, r: Range): SafeHtml {
  return html`<form class="filters" method="get" action="${action}">
  <label>${ctx.t('filter.from')} <input type="date" name="from" value="${r.from}"></label>
  <label>${ctx.t('filter.to')} <input type="date" name="to" value="${r.to}"></label>
  <button type="submit">${ctx.t('filter.apply')}</button>
  <a href="${action}">${ctx.t('filter.reset')}</a>
</form>`;
}

/** Query string for a range. */
export function rangeQuery(r: Range): string {
  return `from=${encodeURIComponent(r.from)}&to=${encodeURIComponent(r.to)}`;
}

/** Translated name of a category (the raw value for one this version does not know). */
export function categoryLabel(ctx: PageCtx, v: string | null): string {
  if (v === null || v === '') return ctx.t('cat.unclassified');
  switch (v) {
    case 'phishing':
      return ctx.t('cat.phishing');
    case 'malware':
      return ctx.t('cat.malware');
    case 'scam':
      return ctx.t('cat.scam');
    case 'commercial':
      return ctx.t('cat.commercial');
    case 'legitimate':
      return ctx.t('cat.legitimate');
    case 'other':
      return ctx.t('cat.other');
    case 'consent':
      return ctx.t('cat.consent');
    default:
      return v;
  }
}

/** Translated name of an intake channel. */
export function channelLabel(ctx: PageCtx, v: string): string {
  switch (v) {
    case 'api':
      return ctx.t('ch.api');
    case 'web':
      return ctx.t('ch.web');
    case 'smtp':
      return ctx.t('ch.smtp');
    case 'addon':
      return ctx.t('ch.addon');
    case 'sms':
      return ctx.t('ch.sms');
    case 'arf':
      return ctx.t('ch.arf');
    case 'import':
      return ctx.t('ch.import');
    case 'partner':
      return ctx.t('ch.partner');
    default:
      return v;
  }
}

/** A share as a percentage with one decimal where it matters (99.5 %, not 100 %), in the reader's format. */
export function percent(ctx: PageCtx, x: number): string {
  const p = Math.round(x * 1000) / 1000;
  return new Intl.NumberFormat(ctx.locale === 'fr' ? 'fr-FR' : 'en-GB', {
    style: 'percent',
    maximumFractionDigits: 1,
  }).format(p);
}
