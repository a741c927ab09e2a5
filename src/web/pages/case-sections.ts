/**
 * The sections of the case page: facts, timeline chart, reports (paged, with the removal form),
 * indicators and origins, referrals with their delivery, history, and the analyst's actions.
 */
import type { MessageKey } from '../locales/en.ts';
import { isMessageKey } from '../i18n.ts';
import type { CaseRow } from '../../db/actions-tables.ts';
import type { CaseIndicators, CaseOrigin, CaseReportRow, TopList } from '../../actions/cases/case-view.ts';
import type { ReferralView } from '../../actions/referrals/referrals.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, fmtTime, type PageCtx } from '../page.ts';
import { categoryLabel, channelLabel } from '../components.ts';
import { countryName } from '../countries.ts';
import { actorText, caseStateLabel, pager, referralStateLabel } from './case-common.ts';

/** Index facts of a report shown in the case's report table (subject, sender, category). */
export interface ReportFacts {
  subject: string | null;
  sender: string | null;
  category: string | null;
  origin_ip: string | null;
}

export function reportsSection(
  ctx: PageCtx,
  c: CaseRow,
  page: { rows: CaseReportRow[]; next: string | null; total: number },
  facts: ReadonlyMap<string, ReportFacts>,
  cursor: string | null,
  mayManage: boolean,
): SafeHtml {
  const { t } = ctx;
  const table = html`<div class="table-scroll"><table data-testid="case-reports"><thead><tr>\
${mayManage ? html`<th scope="col">${t('case.reports.select')}</th>` : ''}\
<th scope="col">${t('col.received')}</th><th scope="col">${t('col.subject')}</th>\
<th scope="col">${t('col.sender')}</th><th scope="col">${t('col.origin')}</th>\
<th scope="col">${t('col.category')}</th><th scope="col">${t('col.channel')}</th>\
</tr></thead><tbody>
${page.rows.map((r) => {
  const f = facts.get(r.report_id);
  const subject = f?.subject?.trim() ? f.subject : `(${r.report_id})`;
  return html`<tr data-report-id="${r.report_id}">${
    mayManage
      ? html`<td><input type="checkbox" name="reportIds" value="${r.report_id}" form="remove-reports" \
aria-label="${t('case.reports.selectOne', { subject })}"></td>`
      : ''
  }<td class="nowrap">${fmtTime(r.received_at)}</td><td><a href="/workbench/reports/${r.report_id}">${subject}</a></td>\
<td>${f?.sender ?? ''}</td><td class="mono">${f?.origin_ip ?? ''}</td>\
<td>${categoryLabel(ctx, f?.category ?? null)}</td>\
<td>${channelLabel(ctx, r.channel)}</td></tr>`;
})}</tbody></table></div>`;
  return html`<section class="card" id="reports"><h2>${t('case.reports.title', { n: page.total })}</h2>
${page.rows.length === 0 ? html`<p class="empty">${t('case.reports.none')}</p>` : table}
${pager(ctx, `/cases/${c.id}`, '', cursor, page.next)}
${
  mayManage && page.rows.length > 0
    ? html`<form id="remove-reports" class="row" method="post" action="/cases/${c.id}/reports/remove">${csrfField(ctx)}
<label>${t('case.reports.removeNote')} <input name="note" maxlength="2000"></label>
<button type="submit">${t('case.reports.remove')}</button></form>`
    : ''
}
</section>`;
}

function topBlock<T>(ctx: PageCtx, title: string, list: TopList<T>, row: (x: T) => SafeHtml): SafeHtml {
  return html`<div><h3>${title}</h3>${
    list.items.length === 0
      ? html`<p class="empty">${ctx.t('detail.none')}</p>`
      : html`<ul class="plain">${list.items.map((x) => html`<li>${row(x)}</li>`)}</ul>${
          list.total > list.items.length
            ? html`<p class="muted">${ctx.t('case.top.of', { n: list.items.length, total: list.total })}</p>`
            : ''
        }`
  }</div>`;
}

export function indicatorsSection(ctx: PageCtx, ind: CaseIndicators): SafeHtml {
  const { t } = ctx;
  const count = (n: number) => html` <span class="count">×${n}</span>`;
  return html`<section class="card" id="indicators"><h2>${t('case.indicators')}</h2><div class="grid3">
${topBlock(
  ctx,
  t('case.ind.senders'),
  ind.senderDomains,
  (x) => html`<span class="mono">${x.value}</span>${count(x.reports)}`,
)}
${topBlock(
  ctx,
  t('case.ind.advertised'),
  ind.advertisedDomains,
  (x) => html`<span class="mono">${x.value}</span>${count(x.reports)}`,
)}
${topBlock(
  ctx,
  t('case.ind.networks'),
  ind.networks,
  (x) => html`AS${x.asn}${x.asName ? html` <span class="muted">${x.asName}</span>` : ''}${count(x.reports)}`,
)}
${topBlock(
  ctx,
  t('case.ind.countries'),
  ind.countries,
  (x) => html`${countryName(x.value, ctx.locale)} (${x.value})${count(x.reports)}`,
)}
</div></section>`;
}

export function originsSection(ctx: PageCtx, origins: TopList<CaseOrigin>): SafeHtml {
  const { t } = ctx;
  return html`<section class="card" id="origins"><h2>${t('case.origins')}</h2>${
    origins.items.length === 0
      ? html`<p class="empty">${t('detail.none')}</p>`
      : html`<div class="table-scroll"><table data-testid="case-origins"><thead><tr><th scope="col">IP</th>\
<th scope="col">${t('col.network')}</th><th scope="col">${t('case.col.country')}</th><th scope="col" class="num">\
${t('col.reports')}</th></tr></thead><tbody>${origins.items.map(
          (o) => html`<tr><td class="mono"><a href="/workbench/reports?ip=${encodeURIComponent(o.ip)}">${o.ip}</a></td>\
<td>${o.asn !== null ? html`AS${o.asn}${o.asName ? html` ${o.asName}` : ''}` : ''}</td><td>${
            o.country ? countryName(o.country, ctx.locale) : ''
          }</td><td class="num">${o.reports}</td></tr>`,
        )}</tbody></table></div>${
          origins.total > origins.items.length
            ? html`<p class="muted">${t('case.top.of', { n: origins.items.length, total: origins.total })}</p>`
            : ''
        }`
  }</section>`;
}

export function referralsSection(ctx: PageCtx, c: CaseRow, referrals: ReferralView[], mayRefer: boolean): SafeHtml {
  const { t } = ctx;
  return html`<section class="card" id="referrals"><h2>${t('case.referrals')}</h2>${
    referrals.length === 0
      ? html`<p class="empty">${t('case.referrals.none')}</p>`
      : html`<div class="table-scroll"><table data-testid="case-referrals"><thead><tr><th scope="col">\
${t('referral.col.authority')}</th><th scope="col">${t('col.state')}</th><th scope="col">${t('referral.col.delivery')}\
</th><th scope="col">${t('referral.col.referredAt')}</th><th scope="col">${t('referral.col.package')}</th></tr></thead>\
<tbody>${referrals.map(
          (r) => html`<tr data-referral-id="${r.id}"><td><a href="/referrals/${r.id}">${r.authority_name}</a></td>\
<td data-testid="referral-state">${referralStateLabel(ctx, r.state)}</td><td>${deliveryText(ctx, r)}</td>\
<td class="nowrap">${fmtTime(r.created_at)}</td><td class="mono" title="${r.package_sha256}">\
${r.package_sha256.slice(0, 12)}… (${kib(r.package_size)})</td></tr>`,
        )}</tbody></table></div>`
  }${
    mayRefer ? html`<p><a href="/cases/${c.id}/refer" data-testid="refer-link">${t('case.refer')}</a></p>` : ''
  }</section>`;
}

export function kib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

/** The outbox's view of a referral: tries, the last error, when the relay took it. */
export function deliveryText(ctx: PageCtx, r: ReferralView): SafeHtml {
  const d = r.delivery;
  if (d.state === null) return html`<span class="muted">${ctx.t('referral.delivery.unknown')}</span>`;
  if ((d.state === 'queued' || d.state === 'sending') && !d.attempts)
    return html`<span class="muted">${ctx.t('referral.delivery.waiting')}</span>`;
  return html`${d.sentAt ? ctx.t('referral.delivery.sent', { at: fmtTime(d.sentAt) }) : ''}${
    d.attempts ? html` <span class="muted">${ctx.t('referral.delivery.attempts', { n: d.attempts })}</span>` : ''
  }${d.lastError && !d.sentAt ? html` <span class="error">${d.lastError.slice(0, 200)}</span>` : ''}`;
}

const EVENT_KEYS: Record<string, MessageKey> = {
  opened: 'case.ev.opened',
  'reports-added': 'case.ev.reports-added',
  'reports-removed': 'case.ev.reports-removed',
  annotated: 'case.ev.annotated',
  merged: 'case.ev.merged',
  'merged-in': 'case.ev.merged-in',
  referred: 'case.ev.referred',
  acknowledged: 'case.ev.acknowledged',
  'more-requested': 'case.ev.more-requested',
  closed: 'case.ev.closed',
  held: 'case.ev.held',
  retargeted: 'case.ev.retargeted',
  'not-routed': 'case.ev.not-routed',
  'refer-requested': 'case.ev.refer-requested',
  'campaign-split': 'case.ev.campaign-split',
  'received-from-partner': 'case.ev.received-from-partner',
};

export function eventLabel(ctx: PageCtx, kind: string): string {
  if (kind.startsWith('state:')) return ctx.t('case.ev.state', { state: caseStateLabel(ctx, kind.slice(6)) });
  const k = EVENT_KEYS[kind];
  return k ? ctx.t(k) : kind;
}

/** An event's detail as short key/value pairs (lists shortened, nested objects as JSON). */
function detailEntries(detail: unknown): [string, string][] {
  if (!detail || typeof detail !== 'object') return [];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(detail as Record<string, unknown>)) {
    if (v === null || v === undefined || v === '') continue;
    const text = Array.isArray(v)
      ? v
          .slice(0, 10)
          .map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
          .join(', ') + (v.length > 10 ? ` … (${v.length})` : '')
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);
    out.push([k, text.slice(0, 2000)]);
  }
  return out;
}

/**
 * An event's detail for the reader: each key by its catalogue label (`case.detail.<key>`), machine
 * values in words (a category, a channel, yes/no), everything else as data (`translate="no"`).
 */
function detailLines(ctx: PageCtx, detail: unknown): SafeHtml[] {
  const { t } = ctx;
  return detailEntries(detail).map(([k, v]) => {
    const key = `case.detail.${k}`;
    const label = isMessageKey(key) ? t(key) : k;
    const words =
      k === 'category'
        ? categoryLabel(ctx, v)
        : k === 'via'
          ? channelLabel(ctx, v)
          : v === 'true' || v === 'false'
            ? t(v === 'true' ? 'registry.yes' : 'registry.no')
            : null;
    return words === null
      ? html`<li>${label}${t('case.detail.colon')}<span translate="no">${v}</span></li>`
      : html`<li>${label}${t('case.detail.colon')}${words}</li>`;
  });
}

export function historySection(
  ctx: PageCtx,
  history: { id: string; at: string; actor: string; kind: string; detail: unknown }[],
): SafeHtml {
  const { t } = ctx;
  return html`<section class="card" id="history"><h2>${t('case.history')}</h2>
<ol class="plain" data-testid="case-history">\
${history.map(
  (e) =>
    html`<li data-kind="${e.kind}"><span class="nowrap">${fmtTime(e.at)}</span> · <strong>${eventLabel(
      ctx,
      e.kind,
    )}</strong> · <span class="muted">${actorText(ctx, e.actor)}</span>${
      detailEntries(e.detail).length > 0 ? html`<ul class="plain muted">${detailLines(ctx, e.detail)}</ul>` : ''
    }</li>`,
)}</ol></section>`;
}

export function actionsSection(ctx: PageCtx, c: CaseRow): SafeHtml {
  const { t } = ctx;
  const form = (action: string, testid: string, body: SafeHtml) =>
    html`<form class="stack" method="post" action="/cases/${c.id}/${action}" data-testid="${testid}">\
${csrfField(ctx)}${body}</form>`;
  const closed = c.state === 'closed';
  return html`<section class="card" id="actions"><h2>${t('case.actions')}</h2><div class="grid3">
<div>${form(
    'annotate',
    'annotate-form',
    html`<label>${t('case.annotate.note')} <textarea name="note" rows="3" required maxlength="10000"></textarea></label>
<button type="submit">${t('case.annotate')}</button>`,
  )}</div>
<div>${form(
    'reports',
    'add-reports-form',
    html`<label>${t('case.field.reportIds')} <textarea name="reportIds" rows="3" required></textarea></label>
<button type="submit">${t('case.reports.add')}</button>`,
  )}</div>
<div>${form(
    'merge',
    'merge-form',
    html`<label>${t('case.merge.ids')} <input name="caseIds" required maxlength="2000"></label>
<button type="submit">${t('case.merge')}</button>`,
  )}</div>
<div>${
    closed
      ? form('reopen', 'reopen-form', html`<button type="submit">${t('case.reopen')}</button>`)
      : form(
          'close',
          'close-form',
          html`<label>${t('case.close.note')} <textarea name="note" rows="2" maxlength="10000"></textarea></label>
<button type="submit">${t('case.close')}</button>`,
        )
  }</div>
</div></section>`;
}

/** The case's facts at the top of its page. */
export function factsBlock(ctx: PageCtx, c: CaseRow, target: SafeHtml, reports: number): SafeHtml {
  const { t } = ctx;
  return html`<dl class="facts" data-testid="case-facts">
<dt>${t('col.state')}</dt><dd data-testid="case-state">${caseStateLabel(ctx, c.state)}</dd>
<dt>${t('case.col.target')}</dt><dd>${target}</dd>
<dt>${t('col.category')}</dt><dd>${categoryLabel(ctx, c.category)}</dd>
<dt>${t('col.reports')}</dt><dd>${reports}</dd>
<dt>${t('case.col.openedBy')}</dt><dd>${actorText(ctx, c.opened_by)} · ${fmtTime(c.created_at)}</dd>
<dt>${t('case.col.updated')}</dt><dd>${fmtTime(c.updated_at)}</dd>
${
  c.merged_into
    ? html`<dt>${t('case.mergedInto')}</dt><dd><a href="/cases/${c.merged_into}">${c.merged_into}</a></dd>`
    : ''
}
</dl>`;
}
