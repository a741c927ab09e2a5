/**
 * Public pages (no account needed): home, report a spam e-mail (paste or .eml upload), report an
 * SMS, the confirmation with the private tracking link, the tracking page, guidance, awareness
 * pages and public statistics.
 */
import { referralOutcomesOfReport } from '../../actions/referrals/referral-outcomes.ts';
import { outcomesSection } from './referral-outcome-view.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { errorMessageIn } from '../../core/error-texts.ts';
import { authorize } from '../../core/policy.ts';
import { assertEmailMessage } from '../../evidence/message-check.ts';
import { normaliseSender, smsReportInput } from '../../intake/sms/sms-intake.ts';
import type { ReportInput, StoredReport } from '../../evidence/report-writer.ts';
import { uploadError } from '../../intake/http/upload-errors.ts';
import { html, type SafeHtml } from '../html.ts';
import {
  CSRF_FIELD,
  csrfField,
  formatNumber,
  layout,
  pageContext,
  sendPage,
  verifyCsrf,
  fmtTime,
  type PageCtx,
} from '../page.ts';
import { requestSession } from '../session-auth.ts';
import { categoryLabel, channelLabel, chartBlock, rangeForm, rangeQuery } from '../components.ts';
import { dailySeries, rangeOf, toChart, toCsv, topValues, totalReports } from '../queries.ts';
import { hasAnalysis, loadCampaignOf, loadClassification, referralsOf } from '../foreign.ts';
import { countryName } from '../countries.ts';

/** Most files one form upload may carry. */
export const MAX_FORM_FILES = 20;
const MAX_NOTE = 4000;
const CONSENT = ['unknown', 'not-given', 'given'] as const;
type Consent = (typeof CONSENT)[number];

function anonymousLimit(app: FastifyInstance) {
  return {
    max: app.ctx.config.anonRateLimit,
    timeWindow: 60_000,
    keyGenerator: (req: FastifyRequest) => req.ip,
    allowList: (req: FastifyRequest) => req.principal.kind !== 'anonymous',
  };
}

interface ReportForm {
  source: string;
  note: string;
  consent: Consent;
  error?: string;
}

function reportFormPage(ctx: PageCtx, f: ReportForm): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('report.title'),
    html`<h1>${t('report.title')}</h1>
<p class="lead">${t('report.lead')} <a href="/guide">${t('report.guide.link')}</a></p>
${
  f.error
    ? html`<div class="error" role="alert"><strong>${t('report.error.title')}</strong><p>${f.error}</p></div>`
    : ''
}
<form method="post" action="/report" enctype="multipart/form-data" class="stack">
  ${csrfField(ctx)}
  <label for="source">${t('report.paste')}</label>
  <textarea id="source" name="source" rows="12" spellcheck="false" aria-describedby="source-help">${f.source}</textarea>
  <p class="help" id="source-help">${t('report.paste.help')}</p>
  <label for="files">${t('report.files')}</label>
  <input id="files" type="file" name="files" accept=".eml,message/rfc822" multiple aria-describedby="files-help">
  <p class="help" id="files-help">${t('report.files.help')}</p>
  <fieldset>
    <legend>${t('report.consent')}</legend>
    ${CONSENT.map(
      (c) =>
        html`<label class="radio"><input type="radio" name="consent" value="${c}" ${f.consent === c ? 'checked' : ''}> \
${t(c === 'unknown' ? 'report.consent.unknown' : c === 'not-given' ? 'report.consent.no' : 'report.consent.yes')}</labe\
l>`,
    )}
  </fieldset>
  <label for="note">${t('report.note')}</label>
  <textarea id="note" name="note" rows="3" maxlength="${MAX_NOTE}">${f.note}</textarea>
  <button type="submit" class="primary">${t('report.submit')}</button>
</form>`,
  );
}

interface SmsForm {
  sender: string;
  text: string;
  date: string;
  error?: string;
}

function smsFormPage(ctx: PageCtx, f: SmsForm): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('sms.title'),
    html`<h1>${t('sms.title')}</h1>
<p class="lead">${t('sms.lead')}</p>
${
  f.error
    ? html`<div class="error" role="alert"><strong>${t('report.error.title')}</strong><p>${f.error}</p></div>`
    : ''
}
<form method="post" action="/report/sms" class="stack">
  ${csrfField(ctx)}
  <label for="sender">${t('sms.sender')}</label>
  <input id="sender" name="sender" required maxlength="64" autocomplete="off" inputmode="tel" value="${f.sender}">
  <label for="text">${t('sms.text')}</label>
  <textarea id="text" name="text" rows="6" required maxlength="20000">${f.text}</textarea>
  <label for="date">${t('sms.date')}</label>
  <input id="date" name="date" type="datetime-local" value="${f.date}">
  <button type="submit" class="primary">${t('sms.submit')}</button>
</form>`,
  );
}

function thanksPage(ctx: PageCtx, stored: StoredReport[], base: string): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('thanks.title'),
    html`<h1>${t('thanks.title')}</h1>
<p class="lead">${t('thanks.lead')}</p>
<p>${t('thanks.count', { n: stored.length })}</p>
<ul class="tracking">${stored.map(
      (r) =>
        html`<li><a href="/track/${r.trackingToken}" data-testid="tracking-link">${base}/track/${r.trackingToken}</a>\
${r.duplicate ? html` <span class="badge">${t('thanks.duplicate')}</span>` : ''}</li>`,
    )}</ul>
<p><a class="button" href="/report">${t('thanks.another')}</a></p>`,
  );
}

function textPage(ctx: PageCtx, title: string, body: SafeHtml): string {
  return layout(ctx, title, html`<article class="prose"><h1>${title}</h1>${body}</article>`);
}

export async function publicRoutes(app: FastifyInstance): Promise<void> {
  const { ctx: appCtx } = app;

  app.get('/', async (req, reply) => {
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const n = await totalReports(appCtx.db, rangeOf(undefined, undefined, 30));
    return sendPage(
      reply,
      layout(
        ctx,
        t('app.name'),
        html`<section class="hero"><h1>${t('home.title')}</h1><p class="lead">${t('home.lead')}</p>
<p class="ctas"><a class="button primary" href="/report">${t('home.cta.email')}</a> <a class="button" \
href="/report/sms">${t('home.cta.sms')}</a></p>
<p>${t('home.stats', { n })} <a href="/stats">${t('nav.stats')}</a></p></section>
<section class="grid3">
  <a class="card link" href="/rules"><h2>${t('nav.rules')}</h2><p>${t('home.learn')}</p></a>
  <a class="card link" href="/protect"><h2>${t('nav.protect')}</h2><p>${t('protect.1')}</p></a>
  <a class="card link" href="/complain"><h2>${t('nav.complain')}</h2><p>${t('complain.lead')}</p></a>
</section>`,
      ),
    );
  });

  app.get('/report', async (req, reply) => {
    const ctx = pageContext(req, reply);
    return sendPage(reply, reportFormPage(ctx, { source: '', note: '', consent: 'unknown' }));
  });

  app.post('/report', { config: { rateLimit: anonymousLimit(app) } }, async (req, reply) => {
    authorize(req.principal, 'report:submit');
    const ctx = pageContext(req, reply);
    const limit = appCtx.config.maxMessageBytes;
    const form: ReportForm = { source: '', note: '', consent: 'unknown' };
    const raws: { raw: Buffer; filename: string | null }[] = [];
    let csrfChecked = false;
    if (!req.isMultipart())
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'The report form is sent as multipart/form-data.');
    try {
      for await (const part of req.parts({
        limits: { fileSize: limit, files: MAX_FORM_FILES, fields: 10, fieldSize: limit },
      })) {
        if (!csrfChecked) {
          // The token is the form's first field: nothing is read before it is checked.
          verifyCsrf(req, part.type === 'field' && part.fieldname === CSRF_FIELD ? part.value : undefined);
          csrfChecked = true;
          continue;
        }
        if (part.type === 'file') {
          const buf = await part.toBuffer();
          if (part.file.truncated)
            throw new AppError('MESSAGE_TOO_LARGE', `${part.filename}: larger than ${limit} bytes.`);
          if (buf.length > 0) raws.push({ raw: buf, filename: part.filename || null });
        } else if (typeof part.value === 'string') {
          if (part.fieldname === 'source') form.source = part.value;
          else if (part.fieldname === 'note') form.note = part.value.slice(0, MAX_NOTE);
          else if (part.fieldname === 'consent' && (CONSENT as readonly string[]).includes(part.value))
            form.consent = part.value as Consent;
        }
      }
    } catch (e) {
      throw uploadError(e);
    }
    if (!csrfChecked) verifyCsrf(req, undefined);
    if (form.source.trim() !== '') raws.unshift({ raw: Buffer.from(form.source, 'utf8'), filename: null });
    if (raws.length === 0)
      return sendPage(reply, reportFormPage(ctx, { ...form, error: ctx.t('report.error.none') }), 400);
    for (const r of raws) {
      if (r.raw.length > limit)
        return sendPage(
          reply,
          reportFormPage(ctx, {
            ...form,
            error: ctx.t(r.filename ? 'report.error.large.file' : 'report.error.large', {
              file: r.filename ?? '',
              n: formatNumber(ctx, limit),
            }),
          }),
          413,
        );
      try {
        assertEmailMessage(r.raw);
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        return sendPage(
          reply,
          reportFormPage(ctx, {
            ...form,
            error: errorMessageIn(r.filename ? `${r.filename}: ${e.message}` : e.message, ctx.locale),
          }),
          e.status,
        );
      }
    }
    const userId = requestSession(req)?.account.id ?? null;
    const inputs: ReportInput[] = raws.map((r) => ({
      raw: r.raw,
      channel: 'web',
      note: form.note.trim() || null,
      reporterUserId: userId,
      clientIp: req.ip,
      context: {
        ...(r.filename ? { filename: r.filename } : {}),
        consent: form.consent,
        form: r.filename ? 'upload' : 'paste',
      },
    }));
    const stored = await appCtx.writer.submit(inputs);
    return sendPage(reply, thanksPage(ctx, stored, app.publicUrl()), 201);
  });

  app.get('/report/sms', async (req, reply) => {
    const ctx = pageContext(req, reply);
    return sendPage(reply, smsFormPage(ctx, { sender: '', text: '', date: '' }));
  });

  app.post<{ Body: Record<string, unknown> }>(
    '/report/sms',
    { config: { rateLimit: anonymousLimit(app) } },
    async (req, reply) => {
      authorize(req.principal, 'report:submit');
      const body = req.body && typeof req.body === 'object' ? req.body : {};
      verifyCsrf(req, body[CSRF_FIELD]);
      const ctx = pageContext(req, reply);
      const str = (k: string) => (typeof body[k] === 'string' ? String(body[k]) : '');
      const f: SmsForm = {
        sender: str('sender').trim().slice(0, 64),
        text: str('text').slice(0, 20_000),
        date: str('date').trim(),
      };
      if (f.sender === '') return sendPage(reply, smsFormPage(ctx, { ...f, error: ctx.t('sms.error.sender') }), 400);
      if (f.text.trim() === '') return sendPage(reply, smsFormPage(ctx, { ...f, error: ctx.t('sms.error.text') }), 400);
      let receivedAt: string | null = null;
      if (f.date !== '') {
        // datetime-local carries no zone; it is kept as UTC (the evidence records what was typed).
        const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(f.date) ? Date.parse(`${f.date}Z`) : NaN;
        if (Number.isNaN(ms)) return sendPage(reply, smsFormPage(ctx, { ...f, error: ctx.t('sms.error.date') }), 400);
        receivedAt = new Date(ms).toISOString();
      }
      // The SMS channel's own service builds the evidence (one SMS format, one normalisation).
      let sender: string;
      try {
        sender = normaliseSender(f.sender, appCtx.config.region);
      } catch (e) {
        if (e instanceof AppError)
          return sendPage(reply, smsFormPage(ctx, { ...f, error: ctx.t('sms.error.sender') }), 400);
        throw e;
      }
      const stored = await appCtx.writer.submit([
        smsReportInput({
          sender,
          text: f.text,
          receivedAt,
          reporterNumber: null,
          reporterUserId: requestSession(req)?.account.id ?? null,
          clientIp: req.ip,
          context: { form: 'web-sms', senderAsTyped: f.sender },
        }),
      ]);
      return sendPage(reply, thanksPage(ctx, stored, app.publicUrl()), 201);
    },
  );

  app.get<{ Params: { token: string } }>('/track/:token', async (req, reply) => {
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const token = req.params.token;
    const report =
      token.length >= 16 && token.length <= 64
        ? await appCtx.db
            .selectFrom('report_keys as k')
            .innerJoin('reports as r', 'r.id', 'k.report_id')
            .selectAll('r')
            .where('k.tracking_token', '=', token)
            .executeTakeFirst()
        : undefined;
    if (!report)
      return sendPage(
        reply,
        layout(ctx, t('track.title'), html`<h1>${t('track.title')}</h1><p role="alert">${t('track.notfound')}</p>`),
        404,
      );
    const analysed = await hasAnalysis(appCtx.db, report.message_sha256);
    const cls = await loadClassification(appCtx.db, report.id, report.message_sha256);
    const campaign = await loadCampaignOf(appCtx.db, report.message_sha256);
    const referred = await referralsOf(appCtx.db, report.id);
    const outcomes = await referralOutcomesOfReport(appCtx.db, report.id);
    const mark = await appCtx.db
      .selectFrom('web_report_marks')
      .select('mark')
      .where('report_id', '=', report.id)
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    const campaignText =
      campaign && campaign.reportCount > 1
        ? t('track.campaign.size', { n: campaign.reportCount })
        : t('track.campaign.none');
    return sendPage(
      reply,
      layout(
        ctx,
        t('track.title'),
        html`<h1>${t('track.title')}</h1>
<dl class="facts" data-testid="track">
  <dt>${t('track.received')}</dt><dd>${fmtTime(report.received_at, ctx.locale)}</dd>
  <dt>${t('track.channel')}</dt><dd>${channelLabel(ctx, report.channel)}</dd>
  <dt>${t('track.analysed')}</dt><dd data-testid="track-analysed">${analysed ? t('yes') : t('track.pending')}</dd>
  <dt>${t('track.category')}</dt><dd>${categoryLabel(ctx, cls?.category ?? null)}</dd>
  <dt>${t('track.campaign')}</dt><dd>${campaignText}</dd>
  <dt>${t('track.referred')}</dt><dd>${referred.length > 0 ? referred.join(', ') : t('track.referred.none')}</dd>
</dl>
${mark?.mark === 'false-report' ? html`<p class="notice">${t('track.false')}</p>` : ''}
${outcomesSection(ctx, outcomes)}`,
      ),
    );
  });

  app.get('/guide', async (req, reply) => {
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    return sendPage(
      reply,
      textPage(
        ctx,
        t('guide.title'),
        html`<p class="lead">${t('guide.lead')}</p>
<h2>Gmail</h2><p>${t('guide.gmail')}</p>
<h2>Outlook</h2><p>${t('guide.outlook')}</p>
<h2>Thunderbird</h2><p>${t('guide.thunderbird')}</p>
<h2>Apple Mail</h2><p>${t('guide.apple')}</p>
<h2>Yahoo Mail</h2><p>${t('guide.yahoo')}</p>
<p class="notice">${t('guide.phone')}</p>
<p class="notice">${t('guide.never')}</p>
<p><a class="button primary" href="/report">${t('nav.report')}</a></p>`,
      ),
    );
  });

  app.get('/rules', async (req, reply) => {
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    return sendPage(
      reply,
      textPage(
        ctx,
        t('rules.title'),
        html`<p class="lead">${t('rules.lead')}</p>
<h2>${t('rules.consent.title')}</h2><p>${t('rules.consent.body')}</p>
<h2>${t('rules.identity.title')}</h2><p>${t('rules.identity.body')}</p>
<h2>${t('rules.optout.title')}</h2><p>${t('rules.optout.body')}</p>
<p>${t('rules.more')}</p>`,
      ),
    );
  });

  app.get('/protect', async (req, reply) => {
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    return sendPage(
      reply,
      textPage(
        ctx,
        t('protect.title'),
        html`<ol>${(['protect.1', 'protect.2', 'protect.3', 'protect.4', 'protect.5', 'protect.6'] as const).map(
          (k) => html`<li>${t(k)}</li>`,
        )}</ol>`,
      ),
    );
  });

  app.get('/complain', async (req, reply) => {
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const kinds = [
      'complain.dpa',
      'complain.consumer',
      'complain.police',
      'complain.telecom',
      'complain.bank',
    ] as const;
    return sendPage(
      reply,
      textPage(
        ctx,
        t('complain.title'),
        html`<p class="lead">${t('complain.lead')}</p><ul>${kinds.map((k) => html`<li>${t(k)}</li>`)}</ul>`,
      ),
    );
  });

  app.get<{ Querystring: { from?: string; to?: string } }>('/stats', async (req, reply) => {
    authorize(req.principal, 'stats:read-public');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const range = rangeOf(req.query.from, req.query.to, 90);
    const [series, countries, total] = await Promise.all([
      dailySeries(appCtx.db, 'category', range),
      topValues(appCtx.db, 'country', range, 10),
      totalReports(appCtx.db, range),
    ]);
    const qs = rangeQuery(range);
    const countryChart = {
      labels: countries.map((c) => countryName(c.value, ctx.locale)),
      datasets: [{ label: t('col.reports'), data: countries.map((c) => c.n) }],
    };
    return sendPage(
      reply,
      layout(
        ctx,
        t('stats.title'),
        html`<h1>${t('stats.title')}</h1><p class="lead">${t('stats.lead')} ${t('stats.total', { n: total })}</p>
${rangeForm(ctx, '/stats', range)}
${chartBlock(
  ctx,
  'stats-category',
  t('stats.byCategory'),
  toChart(series, range, (v) => categoryLabel(ctx, v)),
  'stacked',
  `/stats.csv?table=category&${qs}`,
)}
${chartBlock(ctx, 'stats-countries', t('stats.countries'), countryChart, 'bar', `/stats.csv?table=countries&${qs}`)}`,
        { scripts: ['/static/vendor/chartjs/chart.umd.min.js', '/static/app/charts.js'] },
      ),
    );
  });

  app.get<{ Querystring: { from?: string; to?: string; table?: string } }>('/stats.csv', async (req, reply) => {
    authorize(req.principal, 'stats:read-public');
    const range = rangeOf(req.query.from, req.query.to, 90);
    let csv: string;
    if (req.query.table === 'countries') {
      csv = toCsv(
        ['country', 'reports'],
        (await topValues(appCtx.db, 'country', range, 250)).map((r) => [r.value, r.n]),
      );
    } else {
      csv = toCsv(
        ['day', 'category', 'reports'],
        (await dailySeries(appCtx.db, 'category', range)).map((p) => [p.day, p.value || 'unclassified', p.n]),
      );
    }
    return reply
      .type('text/csv; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="spamdesk-stats-${req.query.table === 'countries' ? 'countries' : 'category'}-\
${range.from}-${range.to}.csv"`,
      )
      .send(csv);
  });
}
