/**
 * The regulator's monthly report in the web app (`/monthly-report?month=2026-11`): the report of
 * the actions area (`actions/monthly-report/`) in the page layout, in the visitor's language, with
 * its CSV, JSON and PDF (printed by Chromium where installed). For authorities (the regulator),
 * analysts and admins; every download is audited like the workbench exports.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { monthBounds, previousMonth } from '../../actions/monthly-report/build.ts';
import { monthlyReport } from '../../actions/monthly-report/snapshots.ts';
import { MONTHLY_LABELS } from '../../actions/monthly-report/labels.ts';
import { monthlyReportCsv, monthlyReportFragment } from '../../actions/monthly-report/render.ts';
import { monthlyReportFiles } from '../../actions/monthly-report/send.ts';
import { canPrintPdf } from '../../actions/monthly-report/pdf.ts';
import { html, raw } from '../html.ts';
import { layout, pageContext, sendPage } from '../page.ts';
import { auditChange } from './admin-kit.ts';

/** The month asked for (`?month=YYYY-MM`), last month by default; a malformed one is refused. */
function monthOf(req: FastifyRequest): string {
  const q = req.query && typeof req.query === 'object' ? (req.query as Record<string, unknown>) : {};
  const month = typeof q.month === 'string' && q.month !== '' ? q.month : previousMonth(new Date());
  monthBounds(month);
  return month;
}

export async function monthlyReportRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app.ctx;

  app.get('/monthly-report', async (req, reply) => {
    authorize(req.principal, 'monthly-report:read');
    const ctx = pageContext(req, reply);
    const { t } = ctx;
    const month = monthOf(req);
    const r = await monthlyReport(db, month);
    const l = MONTHLY_LABELS[ctx.locale];
    const q = `month=${month}`;
    return sendPage(
      reply,
      layout(
        ctx,
        `${t('monthly.title')} ${month}`,
        html`<h1>${t('monthly.title')} ${month}</h1>
<form class="filters" method="get" action="/monthly-report"><label>${t('monthly.month')} <input type="month" \
name="month" value="${month}" required pattern="[0-9]{4}-[0-9]{2}"></label> <button type="submit">${t('monthly.show')}\
</button></form>
<p class="downloads"><a href="/monthly-report.csv?${q}">CSV</a> · <a href="/monthly-report.json?${q}">JSON</a>${
          canPrintPdf()
            ? html` · <a href="/monthly-report.pdf?${q}&amp;lang=${ctx.locale}">PDF</a>`
            : html` · <span class="muted">${t('monthly.noPdf')}</span>`
        }</p>
${raw(monthlyReportFragment(r, l))}`,
        { wide: true },
      ),
    );
  });

  const download = async (req: FastifyRequest, reply: FastifyReply, format: 'csv' | 'json' | 'pdf') => {
    authorize(req.principal, 'monthly-report:read');
    const month = monthOf(req);
    const ctx = pageContext(req, reply);
    const r = await monthlyReport(db, month);
    let body: Buffer;
    let type: string;
    if (format === 'pdf') {
      const files = await monthlyReportFiles(r, ctx.locale, config.publicUrl ?? 'Spamdesk');
      if (!files.pdf) throw new AppError('NOT_FOUND', 'No PDF: Chromium is not installed on this server.');
      body = files.pdf;
      type = 'application/pdf';
    } else if (format === 'csv') {
      body = Buffer.from(monthlyReportCsv(r));
      type = 'text/csv; charset=utf-8';
    } else {
      body = Buffer.from(`${JSON.stringify(r, null, 2)}\n`);
      type = 'application/json; charset=utf-8';
    }
    await auditChange(req, 'export.monthly-report', `month:${month}`, { format, bytes: body.length });
    return reply
      .type(type)
      .header('content-disposition', `attachment; filename="spamdesk-monthly-${month}.${format}"`)
      .header('cache-control', 'no-store')
      .send(body);
  };
  app.get('/monthly-report.csv', (req, reply) => download(req, reply, 'csv'));
  app.get('/monthly-report.json', (req, reply) => download(req, reply, 'json'));
  app.get('/monthly-report.pdf', (req, reply) => download(req, reply, 'pdf'));
}
