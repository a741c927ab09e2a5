/**
 * One report in the workbench: summary, headers, trace-back hop by hop, authentication, indicators,
 * findings, attachments (metadata and hashes only), the raw source and the safe rendered view
 * (see src/web/safe-view.ts); relabel and false-report marks. Every view of evidence is audited.
 */
import { advertisedUrls } from '../../analysis/advertised.ts';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import PostalMime from 'postal-mime';
import { AppError } from '../../core/errors.ts';
import { authorize, maySeeReporterIdentity } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { getMessageRaw } from '../../evidence/store.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { parseSmsEvidence } from '../../evidence/sms-format.ts';
import { CATEGORIES } from '../../analysis/classify/categories.ts';
import type { Analysis } from '../../analysis/analysis-schema.ts';
import { relabelReport } from '../../campaigns/relabel.ts';
import { campaignLabels } from '../../campaigns/label.ts';
import type { Report } from '../../db/tables.ts';
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
import { isMessageKey, labelOf } from '../i18n.ts';
import { hopNote, narrative } from '../narrative.ts';
import { categoryLabel, channelLabel } from '../components.ts';
import { countryName } from '../countries.ts';
import { hasTable, loadAnalysis, loadCampaignOf, loadClassification, relabelHistory } from '../foreign.ts';
import { indexReports, setFalseReportFlag } from '../indexer.ts';
import { SAFE_VIEW_CSP, SAFE_VIEW_SANDBOX, renderSafeView } from '../safe-view.ts';

type Body = Record<string, unknown>;
const field = (b: unknown, k: string): string =>
  b && typeof b === 'object' && typeof (b as Body)[k] === 'string' ? String((b as Body)[k]) : '';
const MAX_RAW_VIEW_BYTES = 2 * 1024 * 1024;

interface Fallback {
  headers: { name: string; value: string }[];
  attachments: { filename: string | null; type: string; size: number; sha256: string }[];
}

/** Headers and attachments parsed here when the analysis is not there yet. */
async function fallbackParse(raw: Buffer): Promise<Fallback> {
  try {
    const email = await PostalMime.parse(raw, {
      maxNestingDepth: 50,
      maxHeadersSize: 1024 * 1024,
      attachmentEncoding: 'arraybuffer',
    });
    return {
      headers: email.headerLines.slice(0, 300).map((h) => {
        const line = h.line.replace(/\r?\n[ \t]+/g, ' ');
        const c = line.indexOf(':');
        return {
          name: c > 0 ? line.slice(0, c) : h.key,
          value:
            c > 0
              ? line
                  .slice(c + 1)
                  .trim()
                  .slice(0, 4000)
              : line.slice(0, 4000),
        };
      }),
      attachments: email.attachments.slice(0, 100).map((a) => {
        const bytes = a.content instanceof ArrayBuffer ? Buffer.from(a.content) : Buffer.from(String(a.content));
        return {
          filename: a.filename,
          type: a.mimeType,
          size: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        };
      }),
    };
  } catch {
    return { headers: [], attachments: [] };
  }
}

export function section(id: string, title: string, body: SafeHtml | string): SafeHtml {
  return html`<section class="card" aria-labelledby="h-${id}"><h2 id="h-${id}">${title}</h2>${body}</section>`;
}

function headersTable(rows: { name: string; value: string }[]): SafeHtml {
  return html`<div class="table-scroll"><table class="headers" translate="no"><tbody>${rows.map(
    (h) => html`<tr><th scope="row">${h.name}</th><td class="mono">${h.value}</td></tr>`,
  )}</tbody></table></div>`;
}

/** A share (0–1) as a percentage for the reader (`Intl`: « 87 % » in French). */
function formatPercent(ctx: PageCtx, share: number): string {
  return new Intl.NumberFormat(ctx.locale === 'fr' ? 'fr-FR' : 'en-GB', { style: 'percent' }).format(share);
}

/**
 * One classification reason as stored (`RULE · category · weight · evidence`): the rule code and
 * the evidence as written, the category in the reader's words.
 */
function classificationReason(ctx: PageCtx, reason: string): SafeHtml {
  const [rule, category, weight, ...evidence] = reason.split(' · ');
  if (category === undefined) return data(reason);
  return html`${data(rule, 'mono')} · ${categoryLabel(ctx, category)}${
    weight !== undefined ? html` · ${data(weight)}` : ''
  }${evidence.length > 0 ? html` · ${data(evidence.join(' · '))}` : ''}`;
}

/** Data shown as written in every language: hosts, addresses, header names, hashes. */
const data = (v: string | number | SafeHtml | null | undefined, cls = ''): SafeHtml =>
  v === null || v === undefined || v === '' ? html`` : html`<span translate="no" class="${cls}">${v}</span>`;

function traceSection(ctx: PageCtx, a: Analysis | null): SafeHtml {
  const { t } = ctx;
  if (!a || a.traceback.hops.length === 0)
    return section('trace', t('detail.trace'), html`<p class="empty">${t('detail.trace.none')}</p>`);
  const o = a.enrichment.origin;
  return section(
    'trace',
    t('detail.trace'),
    html`<ol class="hops">${a.traceback.hops.map(
      (h) => html`<li \
class="${h.trusted ? 'trusted' : 'untrusted'}${a.traceback.origin?.hopIndex === h.index ? ' origin' : ''}">
  <div><strong>#${h.index}</strong> ${data(h.fromHelo)} ${h.fromRdns ? html`(${data(h.fromRdns)})` : ''} \
${data(h.fromIp, 'mono')} → ${data(h.byHost)} ${
        h.protocol ? html`<span class="badge" translate="no">${h.protocol}</span>` : ''
      }\
${h.tls ? html` <span class="badge" translate="no">TLS</span>` : ''} \
<span class="muted" translate="no">${h.date ?? ''}</span></div>
  ${h.notes.length > 0 ? html`<ul class="notes">${h.notes.map((n) => html`<li>${hopNote(ctx, n)}</li>`)}</ul>` : ''}
  <details><summary>${t('trd.received')}</summary><pre class="mono">${h.raw}</pre></details></li>`,
    )}</ol>
${
  a.traceback.steps.length > 0
    ? html`<ol class="steps">${a.traceback.steps.map((s) => html`<li>${narrative(ctx, s)}</li>`)}</ol>`
    : ''
}
${
  a.traceback.origin
    ? html`<p><strong>${t('detail.origin')}${t('trd.colon')}</strong> ${data(a.traceback.origin.ip, 'mono')} — \
${narrative(ctx, a.traceback.origin.reason)}${
  o
    ? html` · ${o.asn !== null ? data(`AS${o.asn}`) : ''} ${data(o.asName)} ${
        o.country ? `· ${countryName(o.country, ctx.locale)}` : ''
      } ${o.rdns ? html`· ${data(o.rdns)}` : ''} ${
        o.abuseContacts.length > 0
          ? html`· ${t('trd.abuse')}${t('trd.colon')} ${data(o.abuseContacts.map((c) => c.address).join(', '))}`
          : ''
      }`
    : ''
}</p>`
    : ''
}`,
  );
}

/** RFC 8601 result keywords in the reader's words (the keyword itself in the tooltip-free data attribute). */
function verdict(ctx: PageCtx, r: string): SafeHtml {
  const key = `trd.verdict.${r}`;
  const label = isMessageKey(key) ? ctx.t(key) : r;
  return html`<span class="verdict v-${r}" data-verdict="${r}">${label}</span>`;
}

export function authSection(ctx: PageCtx, a: Analysis): SafeHtml {
  const au = a.auth;
  const v = (r: string) => verdict(ctx, r);
  const spfExplanation = au.spf.explanation ? narrative(ctx, au.spf.explanation) : '';
  return section(
    'auth',
    ctx.t('detail.auth'),
    html`<table><tbody>
<tr><th scope="row">SPF</th><td>${v(au.spf.result)} ${data(au.spf.domain)} ${data(au.spf.clientIp)} \
${spfExplanation}</td></tr>
${
  au.dkim.length === 0
    ? html`<tr><th scope="row">DKIM</th><td>${v('none')}</td></tr>`
    : au.dkim.map(
        (d) => html`<tr>\
<th scope="row">DKIM</th><td>${v(d.result)} ${data(`d=${d.domain ?? ''} s=${d.selector ?? ''}`)} \
${d.aligned ? `(${ctx.t('trd.aligned')})` : ''} ${data(d.info)}</td></tr>`,
      )
}
<tr><th scope="row">DMARC</th><td>${v(au.dmarc.result)} ${data(au.dmarc.domain)} \
${au.dmarc.policy ? data(`p=${au.dmarc.policy}`) : ''} ${data(au.dmarc.info)}</td></tr>
<tr><th scope="row">ARC</th><td>${v(au.arc.result)} ${au.arc.instances > 0 ? data(`i=${au.arc.instances}`) : ''}\
</td></tr>
${
  au.receiver
    ? html`<tr><th scope="row" translate="no">Authentication-Results</th><td class="mono" \
translate="no">${au.receiver.authservId}: ${au.receiver.results.map((r) => `${r.method}=${r.result}`).join('; ')}\
</td></tr>`
    : ''
}
</tbody></table>`,
  );
}

function indicatorsSection(ctx: PageCtx, a: Analysis): SafeHtml {
  const { t } = ctx;
  const ind = a.indicators;
  // What the message sends its reader to (`advertised.ts`); a link outside it is only named in the text.
  const sends = new Set(advertisedUrls(a));
  const list = (items: (string | SafeHtml)[]) =>
    items.length === 0
      ? html`<p class="empty">${t('detail.none')}</p>`
      : html`<ul class="plain">${items.map((i) => html`<li class="mono">${i}</li>`)}</ul>`;
  const sourceLabel = (src: string) => {
    const key = `trd.source.${src}`;
    return isMessageKey(key) ? t(key) : src;
  };
  const mismatchLabel = (m: string) => {
    const key = `trd.mismatch.${m}`;
    return isMessageKey(key) ? t(key) : m;
  };
  return section(
    'indicators',
    t('detail.indicators'),
    html`<h3>${t('detail.urls')}</h3>${list(
      ind.urls
        .slice(0, 200)
        .map(
          (u) =>
            html`${data(u.url)}${u.shortener ? html` <span class="badge">${t('trd.shortener')}</span>` : ''}${
              u.role === 'resource'
                ? html` <span class="badge" title="${t('detail.resourceHint')}">${t('detail.resource')}</span>`
                : sends.has(u)
                  ? ''
                  : html` <span class="badge" title="${t('detail.namedHint')}">${t('detail.named')}</span>`
            } <span class="muted">${sourceLabel(u.source)}</span>`,
        ),
    )}
<h3>${t('detail.emails')}</h3>${list(ind.emails.slice(0, 200).map((e) => data(e)))}
<h3>${t('detail.phones')}</h3>${list(ind.phones.map((p) => data(`${p.e164} (${p.raw})`)))}
<h3>${t('detail.wallets')}</h3>${list(ind.wallets.map((w) => data(`${w.currency}: ${w.address}`)))}
<h3>${t('col.sender')}</h3><dl class="facts"><dt translate="no">From</dt><dd translate="no">${
      ind.sender.displayName ? `"${ind.sender.displayName}" ` : ''
    }${ind.sender.from ?? ''}</dd>
<dt translate="no">Reply-To</dt><dd translate="no">${ind.sender.replyTo ?? ''}</dd><dt \
translate="no">Return-Path</dt><dd translate="no">${ind.sender.returnPath ?? ''}</dd>
${
  ind.sender.mismatches.length > 0
    ? html`<dt>${t('trd.mismatches')}</dt><dd>${ind.sender.mismatches.map(mismatchLabel).join(', ')}</dd>`
    : ''
}\
${
  ind.sender.impersonatedBrand ? html`<dt>${t('trd.brand')}</dt><dd>${data(ind.sender.impersonatedBrand)}</dd>` : ''
}</dl>`,
  );
}

function findingsSection(ctx: PageCtx, a: Analysis): SafeHtml {
  const { t } = ctx;
  const c = a.compliance;
  const optOut = (s: string) => {
    const key = `trd.optout.${s}`;
    return isMessageKey(key) ? t(key) : s;
  };
  const consent = (s: string) => {
    const key = `trd.consent.${s}`;
    return isMessageKey(key) ? t(key) : s;
  };
  return section(
    'findings',
    t('detail.findings'),
    html`<dl class="facts"><dt>${t('trd.identity')}</dt><dd>${
      c.senderConcealed ? t('trd.identity.concealed') : t('trd.identity.clear')
    }</dd>
<dt>${t('trd.optout')}</dt><dd>${optOut(c.optOut.status)}${c.optOut.oneClick ? ` (${t('trd.oneclick')})` : ''}</dd>
<dt>${t('trd.consent')}</dt><dd>${consent(c.consent.stated)}${
      c.consent.statement ? html` — ${data(c.consent.statement)}` : ''
    }</dd></dl>
${
  a.findings.length === 0
    ? ''
    : html`<table><thead><tr><th scope="col">${t('trd.code')}</th><th scope="col">${t('trd.severity')}</th><th \
scope="col">${t('trd.message')}</th><th scope="col">${t('trd.evidence')}</th></tr></thead><tbody>${a.findings.map(
        (f) =>
          html`<tr><td class="mono" translate="no">${f.code}</td><td><span class="sev sev-${f.severity}" \
data-severity="${f.severity}">${labelOf(t, 'trd.sev', f.severity)}</span></td><td>${narrative(ctx, f.message)}</td><td \
class="mono" translate="no">${[f.evidence.header, f.evidence.rule, f.evidence.value].filter(Boolean).join(' · ')}\
</td></tr>`,
      )}</tbody></table>`
}
${
  a.error
    ? html`<p class="error"><span translate="no">${a.error.code}</span>${t('trd.colon')} \
${narrative(ctx, a.error.message)}</p>`
    : ''
}`,
  );
}

function attachmentsSection(
  ctx: PageCtx,
  rows: { filename: string | null; type: string; sniffed?: string | null; size: number; sha256: string }[],
): SafeHtml {
  const { t } = ctx;
  return section(
    'attachments',
    t('detail.attachments'),
    rows.length === 0
      ? html`<p class="empty">${t('detail.attachments.none')}</p>`
      : html`<div class="table-scroll"><table><thead><tr><th scope="col">${t('trd.file')}</th><th \
scope="col">${t('trd.type')}</th><th scope="col" class="num">${t('detail.size')}</th><th \
scope="col">SHA-256</th></tr></thead><tbody>${rows.map(
          (r) =>
            html`<tr><td translate="no">${r.filename ?? ''}</td><td translate="no">${r.type}${
              r.sniffed && r.sniffed !== r.type ? html` <span class="badge">${r.sniffed}</span>` : ''
            }</td><td class="num">${formatNumber(ctx, r.size)}</td><td class="mono" \
translate="no">${r.sha256}</td></tr>`,
        )}</tbody></table></div>`,
  );
}

async function loadReport(req: FastifyRequest<{ Params: { id: string } }>): Promise<Report> {
  const id = req.params.id;
  if (!/^[0-9A-Za-z]{1,32}$/.test(id)) throw new AppError('NOT_FOUND', 'No such report.');
  const report = await req.server.ctx.db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!report) throw new AppError('NOT_FOUND', 'No such report.');
  return report;
}

async function audit(req: FastifyRequest, action: string, report: Report): Promise<void> {
  await writeAudit(req.server.ctx.db, {
    actor: principalLabel(req.principal),
    action,
    subject: `report:${report.id}`,
    ip: req.ip,
    detail: { sha256: report.message_sha256 },
  });
}

export async function reportDetailRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;

  app.get<{ Params: { id: string } }>('/workbench/reports/:id', async (req, reply) => {
    authorize(req.principal, 'workbench:use');
    const report = await loadReport(req);
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const msg = await db
      .selectFrom('messages')
      .select(['kind', 'size'])
      .where('sha256', '=', report.message_sha256)
      .executeTakeFirstOrThrow();
    const raw = (await getMessageRaw(db, report.message_sha256)) ?? Buffer.alloc(0);
    await audit(req, 'evidence.view-report', report);
    const [analysis, cls, campaign, history, mark] = await Promise.all([
      loadAnalysis(db, report.message_sha256),
      loadClassification(db, report.id, report.message_sha256),
      loadCampaignOf(db, report.message_sha256),
      relabelHistory(db, report.message_sha256),
      db
        .selectFrom('web_report_marks')
        .selectAll()
        .where('report_id', '=', report.id)
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirst(),
    ]);
    const campaignLabel = campaign ? ((await campaignLabels(db, [campaign.id])).get(campaign.id) ?? campaign.id) : null;
    const sms = msg.kind === 'sms' ? parseSmsEvidence(raw) : null;
    const fb = !analysis && !sms ? await fallbackParse(raw) : null;
    const ctxJson = report.context ? (JSON.parse(report.context) as Record<string, unknown>) : {};
    const relabelOk = await hasTable(db, 'relabels');
    const subject =
      analysis?.parse.subject ??
      (sms ? sms.text.slice(0, 80) : fb?.headers.find((h) => h.name.toLowerCase() === 'subject')?.value) ??
      report.id;
    const attachments = analysis
      ? analysis.parse.attachments.map((a) => ({
          filename: a.filename,
          type: a.declaredType,
          sniffed: a.sniffedType,
          size: a.size,
          sha256: a.sha256,
        }))
      : (fb?.attachments ?? []);
    const body = html`<p class="crumbs"><a href="/workbench/reports">${t('list.title')}</a></p>
<h1>${t('detail.title', { id: report.id })}</h1><p class="subject" translate="no">${subject}</p>
${
  mark?.mark === 'false-report'
    ? html`<p class="notice" \
data-testid="false-mark">${t('detail.false.is', { who: mark.actor, when: fmtTime(mark.at, ctx.locale) })}</p>`
    : ''
}
${section(
  'summary',
  t('detail.summary'),
  html`<dl class="facts">
<dt>${t('col.received')}</dt><dd>${fmtTime(report.received_at, ctx.locale)}</dd>
<dt>${t('col.channel')}</dt><dd>${channelLabel(ctx, report.channel)}</dd>
<dt>${t('detail.quality')}</dt><dd>${labelOf(t, 'trd.quality', report.quality)}</dd>
<dt>${t('detail.sha256')}</dt><dd class="mono" translate="no">${report.message_sha256}</dd>
<dt>${t('detail.size')}</dt><dd>${t('trd.bytes', { n: formatNumber(ctx, Number(msg.size)) })}</dd>
<dt>${t('col.category')}</dt><dd data-testid="category">${categoryLabel(ctx, cls?.category ?? null)}\
${cls?.confidence != null ? ` (${formatPercent(ctx, cls.confidence)})` : ''}${
  cls && cls.reasons.length > 0
    ? html`<ul class="notes">${cls.reasons
        .slice(0, 10)
        .map((r) => html`<li>${classificationReason(ctx, r)}</li>`)}</ul>`
    : ''
}</dd>
<dt>${t('col.campaign')}</dt><dd>${
    campaign
      ? html`<a href="/workbench/campaigns/${campaign.id}" title="${campaign.id}" translate="no">${campaignLabel}</a> \
(${t('trd.reports', { n: formatNumber(ctx, campaign.reportCount) })})`
      : '—'
  }</dd>
<dt>${t('nav.cases')}</dt><dd><a href="/cases/new?reports=${report.id}" data-testid="report-open-case">\
${t('case.fromReport')}</a></dd>
<dt>${t('track.analysed')}</dt><dd data-testid="analysed">${
    analysis
      ? html`${t('yes')} <span class="muted">${analysis.analyserVersion} · \
${fmtTime(analysis.analysedAt, ctx.locale)}</span>`
      : t('detail.notanalysed')
  }</dd>
${
  typeof ctxJson.consent === 'string'
    ? html`<dt>${t('trd.consent')}</dt><dd>${labelOf(t, 'trd.consent', ctxJson.consent)}</dd>`
    : ''
}
${report.note ? html`<dt>${t('detail.note')}</dt><dd translate="no">${report.note}</dd>` : ''}
${
  maySeeReporterIdentity(req.principal)
    ? html`<dt>${t('detail.reporter')}</dt>\
<dd translate="no">${
        [report.reporter_user_id, report.reporter_address, report.client_ip].filter(Boolean).join(' · ') || '—'
      }</dd>`
    : ''
}
</dl>`,
)}
<div class="grid2">
<section class="card" aria-labelledby="h-relabel"><h2 id="h-relabel">${t('detail.relabel')}</h2>
${
  relabelOk
    ? html`<form method="post" action="/workbench/reports/${report.id}/relabel" class="row">${csrfField(ctx)}
<label for="category">${t('col.category')}</label> <select id="category" name="category">${CATEGORIES.map(
        (c) => html`<option value="${c}" ${cls?.category === c ? 'selected' : ''}>${categoryLabel(ctx, c)}</option>`,
      )}</select>
<button type="submit">${t('detail.relabel.submit')}</button></form>`
    : html`<p>${t('detail.relabel.unavailable')}</p>`
}
${
  history.length > 0
    ? html`<h3>${t('detail.history')}</h3><ul class="plain">${history.map(
        (h) => html`<li>${fmtTime(h.at, ctx.locale)} — ${data(h.actor)}${t('trd.colon')} ${categoryLabel(
          ctx,
          h.previous,
        )} → \
${categoryLabel(ctx, h.category)}</li>`,
      )}</ul>`
    : ''
}
</section>
<section class="card" aria-labelledby="h-false"><h2 id="h-false">${t('detail.false')}</h2>
<form method="post" action="/workbench/reports/${report.id}/false-report" class="row">${csrfField(ctx)}
<input type="hidden" name="mark" value="${mark?.mark === 'false-report' ? 'not-false-report' : 'false-report'}">
<button type="submit">${mark?.mark === 'false-report' ? t('detail.false.unmark') : t('detail.false.mark')}</button>\
</form>
</section>
</div>
${
  sms
    ? section(
        'sms',
        t('detail.sms'),
        html`<dl class="facts"><dt>${t('col.sender')}</dt><dd class="mono" translate="no">${sms.sender}</dd>\
<dt>${t('col.received')}</dt><dd>${sms.receivedAt ? fmtTime(sms.receivedAt, ctx.locale) : '—'}</dd></dl><pre \
class="sms">${sms.text}</pre>`,
      )
    : html`${section(
        'safe',
        t('detail.safe'),
        html`<p class="help">${t('detail.safe.help')}</p><iframe class="safe-view" \
src="/workbench/reports/${report.id}/safe-view" sandbox="${SAFE_VIEW_SANDBOX}" referrerpolicy="no-referrer" \
title="${t('detail.safe.title')}" data-testid="safe-view"></iframe>`,
      )}
${section('headers', t('detail.headers'), headersTable(analysis ? analysis.parse.headers : (fb?.headers ?? [])))}
${traceSection(ctx, analysis)}
${analysis ? authSection(ctx, analysis) : ''}
${analysis ? indicatorsSection(ctx, analysis) : ''}
${analysis ? findingsSection(ctx, analysis) : ''}
${attachmentsSection(ctx, attachments)}`
}
${section(
  'raw',
  t('detail.raw'),
  html`<p><a href="/workbench/reports/${report.id}/raw">${t('detail.raw.show')}</a> · \
<a href="/workbench/reports/${report.id}/raw.eml">${t('detail.raw.download')}</a></p>`,
)}`;
    return sendPage(reply, layout(ctx, t('detail.title', { id: report.id }), body, { wide: true }));
  });

  app.get<{ Params: { id: string } }>('/workbench/reports/:id/safe-view', async (req, reply) => {
    authorize(req.principal, 'workbench:use');
    const report = await loadReport(req);
    const raw = await getMessageRaw(db, report.message_sha256);
    if (!raw) throw new AppError('NOT_FOUND', 'No such message.');
    await audit(req, 'evidence.view-rendered', report);
    const ctx = pageContext(req, reply);
    const r = await renderSafeView(raw, ctx.locale);
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', SAFE_VIEW_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .header('x-spamdesk-removed-remote', String(r.removedRemote))
      .send(r.document);
  });

  app.get<{ Params: { id: string } }>('/workbench/reports/:id/raw', async (req, reply) => {
    authorize(req.principal, 'evidence:read-raw');
    const report = await loadReport(req);
    const raw = await getMessageRaw(db, report.message_sha256);
    if (!raw) throw new AppError('NOT_FOUND', 'No such message.');
    await audit(req, 'evidence.view-raw', report);
    // Shown as text, never interpreted: text/plain under a sandboxing CSP and nosniff.
    const shown =
      raw.length > MAX_RAW_VIEW_BYTES
        ? Buffer.concat([
            raw.subarray(0, MAX_RAW_VIEW_BYTES),
            Buffer.from(`\n\n[… ${raw.length - MAX_RAW_VIEW_BYTES} more bytes: download the .eml]\n`),
          ])
        : raw;
    return reply
      .type('text/plain; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .send(shown);
  });

  app.get<{ Params: { id: string } }>('/workbench/reports/:id/raw.eml', async (req, reply) => {
    authorize(req.principal, 'evidence:read-raw');
    const report = await loadReport(req);
    const raw = await getMessageRaw(db, report.message_sha256);
    if (!raw) throw new AppError('NOT_FOUND', 'No such message.');
    await audit(req, 'evidence.download', report);
    return reply
      .type('message/rfc822')
      .header(
        'content-disposition',
        `attachment; filename="${report.message_sha256}.${report.channel === 'sms' ? 'json' : 'eml'}"`,
      )
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('x-content-type-options', 'nosniff')
      .send(raw);
  });

  app.post<{ Params: { id: string } }>('/workbench/reports/:id/relabel', async (req, reply) => {
    authorize(req.principal, 'report:relabel');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const report = await loadReport(req);
    await relabelReport(db, report.id, field(req.body, 'category'), principalLabel(req.principal));
    await indexReports(db, [report.id]);
    return reply.redirect(`/workbench/reports/${report.id}`, 303);
  });

  app.post<{ Params: { id: string } }>('/workbench/reports/:id/false-report', async (req, reply) => {
    authorize(req.principal, 'report:mark-false');
    verifyCsrf(req, field(req.body, CSRF_FIELD));
    const report = await loadReport(req);
    const mark = field(req.body, 'mark') === 'not-false-report' ? 'not-false-report' : 'false-report';
    const actor = principalLabel(req.principal);
    await db
      .insertInto('web_report_marks')
      .values({
        id: newId(),
        report_id: report.id,
        mark,
        actor,
        at: nowIso(),
        note: field(req.body, 'note').slice(0, 2000) || null,
      })
      .execute();
    await writeAudit(db, { actor, action: `report.${mark}`, subject: `report:${report.id}`, ip: req.ip });
    await setFalseReportFlag(db, report.id, mark === 'false-report');
    return reply.redirect(`/workbench/reports/${report.id}`, 303);
  });
}
