/**
 * The blocklist's public pages and the analysts' delisting desk (feeds area, `src/feeds/lists/`):
 * - `GET /listings` explains the lists and their return codes and looks a value up;
 * - `GET /listings/:value` explains one listing — the list, the answer, the dates, why, the reports
 *   (when each came in and its category; never who reported nor what the message said) and the
 *   campaigns — and offers the removal form (`POST /listings/:value/delist`, CSRF-checked,
 *   rate-limited like the API);
 * - `GET /workbench/delistings` (analysts) pages through the requests, newest first, and
 *   `POST /workbench/delistings/:id` grants or refuses one (audited).
 */
import type { FastifyInstance } from 'fastify';
import { AppError, isAppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { RETURN_CODES } from '../../actions/listing-policy.ts';
import { explainListing, parseQuery, type PublicListing } from '../../feeds/lists/explain.ts';
import {
  decideDelisting,
  listDelistRequests,
  requestDelisting,
  validateDelistInput,
} from '../../feeds/lists/delisting.ts';
import { html, type SafeHtml } from '../html.ts';
import { CSRF_FIELD, csrfField, fmtTime, layout, pageContext, sendPage, verifyCsrf, type PageCtx } from '../page.ts';
import { categoryLabel } from '../components.ts';
import type { MessageKey } from '../i18n.ts';

const DESK_PAGE = 50;
const REQUEST_STATES = ['pending', 'granted', 'refused'] as const;

function codesTable(ctx: PageCtx): SafeHtml {
  const { t } = ctx;
  const rows: [string, MessageKey][] = [
    [RETURN_CODES.infected, 'listing.code.infected'],
    [RETURN_CODES.infrastructure, 'listing.code.infrastructure'],
    [RETURN_CODES['domain:spam'], 'listing.code.domain-spam'],
    [RETURN_CODES['domain:phishing'], 'listing.code.domain-phishing'],
    [RETURN_CODES['domain:malware'], 'listing.code.domain-malware'],
    [RETURN_CODES['domain:scam'], 'listing.code.domain-scam'],
  ];
  const zones = policyFor(ctx.config).listing.zones;
  return html`<h2>${t('listing.codes')}</h2>
<p class="muted">${t('listing.zones', { ip: zones.ip, domain: zones.domain })}</p>
<table><thead><tr><th>${t('listing.code')}</th><th>${t('listing.meaning')}</th></tr></thead><tbody>
${rows.map(([code, key]) => html`<tr><td class="mono">${code}</td><td>${t(key)}</td></tr>`)}
</tbody></table><p class="muted">${t('listing.code.test')}</p>`;
}

function searchForm(ctx: PageCtx, q: string): SafeHtml {
  const { t } = ctx;
  return html`<form class="filters search" method="get" action="/listings" role="search">
<label>${t('listing.query')} <input type="search" name="q" value="${q}" maxlength="253" required></label>
<button type="submit" class="primary">${t('listing.search')}</button></form>`;
}

function lookupPage(ctx: PageCtx, q: string, error: string | null): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('listing.title'),
    html`<h1>${t('listing.title')}</h1><p>${t('listing.intro')}</p>
${error ? html`<p class="notice" role="alert">${error}</p>` : ''}${searchForm(ctx, q)}${codesTable(ctx)}`,
  );
}

function listName(ctx: PageCtx, list: string | null): string {
  if (list === 'infected' || list === 'infrastructure' || list === 'domains') return ctx.t(`listing.list.${list}`);
  return list ?? '';
}

function facts(ctx: PageCtx, v: PublicListing): SafeHtml {
  const { t } = ctx;
  const row = (label: string, value: string | number) => html`<tr><th scope="row">${label}</th><td>${value}</td></tr>`;
  return html`<table class="facts"><tbody>
${v.listed ? row(t('listing.since'), fmtTime(v.listedAt)) : ''}
${v.listed ? row(t('listing.expires'), fmtTime(v.expiresAt)) : ''}
${row(t('listing.first-seen'), fmtTime(v.firstSeen))}
${row(t('listing.last-seen'), fmtTime(v.lastSeen))}
${row(t('listing.reports'), v.reportCount)}
${row(t('listing.campaigns'), v.campaignCount)}
${v.signals.length ? row(t('listing.signals'), v.signals.join(', ')) : ''}
</tbody></table>`;
}

function evidence(ctx: PageCtx, v: PublicListing): SafeHtml {
  const { t } = ctx;
  const why = v.reasons.length
    ? html`<h2>${t('listing.why')}</h2><ul>${v.reasons.map((r) => html`<li>${r}</li>`)}</ul>`
    : '';
  return html`${why}
<h2>${t('listing.reports')}</h2><p class="muted">${t('listing.reports.note')}</p>
<table><thead><tr><th>${t('listing.report')}</th><th>${t('listing.received')}</th><th>${t('listing.category')}</th>\
<th>${t('listing.campaign')}</th></tr></thead><tbody>
${v.reports.map(
  (r) => html`<tr><td class="mono">${r.id}</td><td class="nowrap">${fmtTime(r.receivedAt)}</td>\
<td>${categoryLabel(ctx, r.category)}</td><td class="mono">${r.campaignId ?? ''}</td></tr>`,
)}</tbody></table>
${
  v.campaigns.length
    ? html`<h2>${t('listing.campaigns')}</h2><table><thead><tr><th>${t('listing.campaign')}</th>\
<th>${t('listing.category')}</th><th class="num">${t('listing.messages')}</th><th>${t('listing.first-seen')}</th>\
<th>${t('listing.last-seen')}</th></tr></thead><tbody>${v.campaigns.map(
        (c) => html`<tr><td class="mono">${c.id}</td><td>${categoryLabel(ctx, c.category)}</td>\
<td class="num">${c.messages}</td><td>${fmtTime(c.firstSeen)}</td><td>${fmtTime(c.lastSeen)}</td></tr>`,
      )}</tbody></table>`
    : ''
}`;
}

function delistForm(ctx: PageCtx, v: PublicListing, form: { reason: string; contact: string }): SafeHtml {
  const { t } = ctx;
  if (v.pendingDelisting) return html`<p class="notice">${t('listing.delist.pending')}</p>`;
  return html`<h2>${t('listing.delist.title')}</h2><p>${t('listing.delist.intro')}</p>
<form method="post" action="/listings/${encodeURIComponent(v.value)}/delist">${csrfField(ctx)}
<p><label>${t('listing.delist.reason')}<br><textarea name="reason" rows="4" cols="70" minlength="10" maxlength="2000" \
required>${form.reason}</textarea></label></p>
<p><label>${t('listing.delist.contact')}<br><input type="email" name="contact" maxlength="320" value="${form.contact}">\
</label></p>
<button type="submit" class="primary">${t('listing.delist.submit')}</button></form>`;
}

function listingPage(
  ctx: PageCtx,
  v: PublicListing,
  notice: string | null,
  form = { reason: '', contact: '' },
  error: string | null = null,
): string {
  const { t } = ctx;
  const status = v.listed
    ? t('listing.listed', { value: v.value, list: listName(ctx, v.list), code: v.returnCode ?? '' })
    : t('listing.not-listed', { value: v.value });
  const past =
    v.state === 'delisted'
      ? t('listing.was-delisted', { date: fmtTime(v.delistedAt) })
      : v.state === 'expired'
        ? t('listing.was-expired', { date: fmtTime(v.lastSeen) })
        : '';
  return layout(
    ctx,
    t('listing.value', { value: v.value }),
    html`<h1>${t('listing.value', { value: v.value })}</h1>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${error ? html`<p class="notice" role="alert">${error}</p>` : ''}
<p><strong>${status}</strong>${past ? html` ${past}` : ''}</p>
${v.state === 'none' ? '' : html`${facts(ctx, v)}${evidence(ctx, v)}`}
${v.listed ? delistForm(ctx, v, form) : ''}
${searchForm(ctx, '')}${codesTable(ctx)}`,
  );
}

export async function listingRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app.ctx;

  app.get<{ Querystring: Record<string, string | undefined> }>('/listings', async (req, reply) => {
    const ctx = pageContext(req, reply);
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 300) : '';
    if (q === '') return sendPage(reply, lookupPage(ctx, '', null));
    if (!parseQuery(q)) return sendPage(reply, lookupPage(ctx, q, ctx.t('listing.bad-query')), 400);
    return reply.redirect(`/listings/${encodeURIComponent(q)}`, 303);
  });

  app.get<{ Params: { value: string }; Querystring: Record<string, string | undefined> }>(
    '/listings/:value',
    async (req, reply) => {
      const ctx = pageContext(req, reply);
      const v = await explainListing(db, req.params.value);
      if (!v) return sendPage(reply, lookupPage(ctx, req.params.value.slice(0, 300), ctx.t('listing.bad-query')), 400);
      const sent = req.query.delist;
      const notice =
        sent === 'granted' ? ctx.t('listing.delist.granted') : sent === 'pending' ? ctx.t('listing.delist.sent') : null;
      return sendPage(reply, listingPage(ctx, v, notice));
    },
  );

  app.post<{ Params: { value: string }; Body: Record<string, unknown> }>(
    '/listings/:value/delist',
    { bodyLimit: 16 * 1024 },
    async (req, reply) => {
      const body = req.body && typeof req.body === 'object' ? req.body : {};
      verifyCsrf(req, body[CSRF_FIELD]);
      const ctx = pageContext(req, reply);
      const v = await explainListing(db, req.params.value);
      if (!v) throw new AppError('BAD_REQUEST', ctx.t('listing.bad-query'));
      const form = {
        reason: typeof body.reason === 'string' ? body.reason.slice(0, 2000) : '',
        contact: typeof body.contact === 'string' ? body.contact.slice(0, 320) : '',
      };
      try {
        const input = validateDelistInput({ value: v.value, reason: form.reason, contact: form.contact });
        const out = await requestDelisting(db, policyFor(config), {
          ...input,
          clientIp: req.ip,
          actor: principalLabel(req.principal),
        });
        const state = out.request.state === 'granted' ? 'granted' : 'pending';
        return reply.redirect(`/listings/${encodeURIComponent(v.value)}?delist=${state}`, 303);
      } catch (e) {
        if (!isAppError(e) || e.status >= 500) throw e;
        return sendPage(reply, listingPage(ctx, v, null, form, e.message), e.status);
      }
    },
  );

  app.get<{ Querystring: Record<string, string | undefined> }>('/workbench/delistings', async (req, reply) => {
    authorize(req.principal, 'listing:manage');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const state = REQUEST_STATES.find((s) => s === req.query.state) ?? 'pending';
    const page = await listDelistRequests(db, { state, before: req.query.before ?? null, limit: DESK_PAGE });
    const tabs = REQUEST_STATES.map((s) =>
      s === state
        ? html`<strong>${t(`listing.state.${s}`)}</strong>`
        : html`<a href="/workbench/delistings?state=${s}">${t(`listing.state.${s}`)}</a>`,
    );
    const rows = page.rows.map(
      (r) => html`<tr><td><a href="/listings/${encodeURIComponent(r.value)}" class="mono">${r.value}</a></td>
<td>${r.reason}</td><td>${r.contact ?? ''}</td><td class="nowrap">${fmtTime(r.created_at)}</td>
<td>${
        r.state === 'pending'
          ? html`<form method="post" action="/workbench/delistings/${r.id}">${csrfField(ctx)}
<label>${t('listing.desk.note')} <input name="note" maxlength="2000"></label>
<button name="decision" value="grant" class="primary">${t('listing.desk.grant')}</button>
<button name="decision" value="refuse">${t('listing.desk.refuse')}</button></form>`
          : html`${t(`listing.state.${r.state === 'granted' ? 'granted' : 'refused'}`)} · ${r.decided_by ?? ''} · \
${fmtTime(r.decided_at)}${r.decision_note ? html` — ${r.decision_note}` : ''}`
      }</td></tr>`,
    );
    const table =
      page.rows.length === 0
        ? html`<p class="empty">${t('listing.desk.none')}</p>`
        : html`<div class="table-scroll"><table><thead><tr><th>${t('listing.desk.value')}</th>\
<th>${t('listing.desk.reason')}</th><th>${t('listing.desk.contact')}</th><th>${t('listing.desk.asked')}</th>\
<th>${t('listing.desk.decision')}</th></tr></thead><tbody>${rows}</tbody></table></div>`;
    const older = page.next
      ? html`<p class="pager"><a href="/workbench/delistings?state=${state}&amp;before=${page.next}">\
${t('listing.desk.older')}</a></p>`
      : '';
    const tabLine = tabs.map((x, i) => (i ? html` · ${x}` : x));
    return sendPage(
      reply,
      layout(
        ctx,
        t('listing.desk.title'),
        html`<h1>${t('listing.desk.title')}</h1>\
<p>${t('listing.desk.state')}${t('trd.colon')} ${tabLine}</p>${table}${older}`,
        { wide: true },
      ),
    );
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> }>(
    '/workbench/delistings/:id',
    { bodyLimit: 16 * 1024 },
    async (req, reply) => {
      authorize(req.principal, 'listing:manage');
      const body = req.body && typeof req.body === 'object' ? req.body : {};
      verifyCsrf(req, body[CSRF_FIELD]);
      const decision = body.decision;
      if (decision !== 'grant' && decision !== 'refuse') throw new AppError('BAD_REQUEST', 'decision: grant or refuse');
      const note = typeof body.note === 'string' ? body.note : '';
      await decideDelisting(db, req.params.id, decision, note, principalLabel(req.principal), req.ip);
      return reply.redirect('/workbench/delistings?state=pending', 303);
    },
  );
}
