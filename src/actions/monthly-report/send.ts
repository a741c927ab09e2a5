/**
 * Sends last month's report through the outbox to every active authority that asks for it
 * (`action_authorities.monthly_report`, an e-mail contact). Run by the actions service when the
 * outbox is idle (at most hourly): on the first day of a month it finds last month due; if the
 * platform was down that day it catches up later. Once per month per authority, whatever restarts
 * or concurrent processes do: the row in `action_monthly_report_sends` and the queued mail are
 * written in one transaction, and the row's primary key (authority, month) lets only one writer in.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { nowIso } from '../../core/ids.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { buildMessage, domainOf, newMessageId, type MimeNode } from '../formats/mime.ts';
import { enqueueMail } from '../outbox/outbox.ts';
import { previousMonth, type MonthlyReport } from './build.ts';
import { monthlyReport } from './snapshots.ts';
import { MONTHLY_LABELS, fill, type MonthlyLocale } from './labels.ts';
import { monthlyReportCsv, monthlyReportDocument } from './render.ts';
import { printPdf } from './pdf.ts';
import { isAppLanguage } from '../../core/languages.ts';

/** Regions whose authorities read French; others get English. */
const FRENCH_REGIONS = new Set(['FR', 'BE', 'LU', 'MC', 'CH']);

export function reportLocale(region: string): MonthlyLocale {
  return FRENCH_REGIONS.has(region) ? 'fr' : 'en';
}

/** The report's files: HTML, CSV, JSON, and the PDF when Chromium can print it. */
export async function monthlyReportFiles(
  r: MonthlyReport,
  locale: MonthlyLocale,
  instance: string,
  print: (html: string) => Promise<Buffer | null> = printPdf,
): Promise<{ html: string; csv: string; json: string; pdf: Buffer | null }> {
  const html = monthlyReportDocument(r, MONTHLY_LABELS[locale], { lang: locale, instance });
  return {
    html,
    csv: monthlyReportCsv(r),
    json: `${JSON.stringify(r, null, 2)}\n`,
    pdf: await print(html),
  };
}

function mailOf(
  r: MonthlyReport,
  files: Awaited<ReturnType<typeof monthlyReportFiles>>,
  locale: MonthlyLocale,
  from: string,
  to: string,
): { raw: Buffer; messageId: string } {
  const l = MONTHLY_LABELS[locale];
  const t = r.totals;
  const text = [
    `${l.title} ${r.month}`,
    '',
    `${l.reports}: ${t.reports}`,
    `${l.casesOpened}: ${t.casesOpened}`,
    `${l.referrals}: ${t.referrals}`,
    `${l.ispAlerts}: ${t.ispAlerts}`,
    `${l.median}: ${
      r.medianHoursToReferral === null
        ? l.medianNone
        : fill(l.medianValue, { hours: r.medianHoursToReferral, n: r.referredReports })
    }`,
    '',
    l.definitions,
    '',
  ].join('\r\n');
  const base = `spamdesk-monthly-${r.month}`;
  const parts: MimeNode[] = [
    { contentType: 'text/plain; charset=utf-8', encoding: 'base64', body: Buffer.from(text) },
    {
      contentType: 'text/html; charset=utf-8',
      encoding: 'base64',
      body: Buffer.from(files.html),
      filename: `${base}.html`,
    },
    {
      contentType: 'text/csv; charset=utf-8',
      encoding: 'base64',
      body: Buffer.from(files.csv),
      filename: `${base}.csv`,
    },
    { contentType: 'application/json', encoding: 'base64', body: Buffer.from(files.json), filename: `${base}.json` },
  ];
  if (files.pdf)
    parts.push({ contentType: 'application/pdf', encoding: 'base64', body: files.pdf, filename: `${base}.pdf` });
  const messageId = newMessageId(domainOf(from));
  const raw = buildMessage(
    { from, to: [to], subject: `${l.title} ${r.month}`, messageId },
    { contentType: 'multipart/mixed', parts },
  );
  return { raw, messageId };
}

/**
 * Queues last month's report (relative to `now`) for every authority that asks for it and has not
 * had it. Returns the authorities it was queued for.
 */
export async function sendMonthlyReports(
  db: Kysely<Database>,
  config: Config,
  opts: { now?: Date; logger?: Logger; print?: (html: string) => Promise<Buffer | null> } = {},
): Promise<{ month: string; queued: string[] }> {
  const now = opts.now ?? new Date();
  const month = previousMonth(now);
  const due = await db
    .selectFrom('action_authorities as a')
    .select(['a.id', 'a.name', 'a.contact', 'a.language'])
    .where('a.monthly_report', '=', 1)
    .where('a.active', '=', 1)
    .where('a.contact_kind', '=', 'email')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('action_monthly_report_sends as s')
            .select('s.authority_id')
            .whereRef('s.authority_id', '=', 'a.id')
            .where('s.month', '=', month),
        ),
      ),
    )
    .orderBy('a.id')
    .execute();
  if (due.length === 0) return { month, queued: [] };
  // The stored report when it is fresh or settled (snapshots.ts), so the page shows what was sent.
  const report = await monthlyReport(db, month, now);
  // Each authority reads the report in its registry entry's language, else the region's; each
  // language's files are built (and printed) once.
  const filesOf = new Map<MonthlyLocale, Promise<Awaited<ReturnType<typeof monthlyReportFiles>>>>();
  const queued: string[] = [];
  let printed = false;
  for (const a of due) {
    const locale: MonthlyLocale = isAppLanguage(a.language) ? a.language : reportLocale(config.region);
    let pending = filesOf.get(locale);
    if (!pending) {
      pending = monthlyReportFiles(report, locale, config.publicUrl ?? 'Spamdesk', opts.print);
      filesOf.set(locale, pending);
    }
    const files = await pending;
    printed ||= files.pdf !== null;
    const mail = mailOf(report, files, locale, config.outboxFrom, a.contact);
    try {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('action_monthly_report_sends')
          .values({ authority_id: a.id, month, outbox_id: null, created_at: nowIso() })
          .execute();
        const outboxId = await enqueueMail(trx, {
          purpose: 'monthly-report',
          subjectId: a.id,
          description: `Monthly report ${month} → ${a.name}`,
          maxAttempts: config.outboxMaxAttempts,
          messageId: mail.messageId,
          envelopeFrom: config.outboxFrom,
          to: a.contact,
          raw: mail.raw,
        });
        await trx
          .updateTable('action_monthly_report_sends')
          .set({ outbox_id: outboxId })
          .where('authority_id', '=', a.id)
          .where('month', '=', month)
          .execute();
      });
      queued.push(a.id);
    } catch (e) {
      // Another process queued it first: once per month per authority.
      if (isUniqueViolation(e)) continue;
      throw e;
    }
  }
  opts.logger?.info({ month, authorities: queued.length, pdf: printed }, 'monthly report queued');
  return { month, queued };
}
