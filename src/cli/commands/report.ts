/**
 * `spamdesk report monthly --month 2026-11`: the regulator's monthly report (actions area,
 * `monthly-report/`) as HTML, CSV, JSON or PDF (PDF printed by Chromium where installed), to
 * standard output or a file; `--send` queues it now for the authorities that ask for it (the
 * scheduler does this on the first day of each month; once per month per authority either way).
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { configFrom, fail, withSettings } from '../options.ts';
import { closeContext, createContext } from '../../app/context.ts';
import { isAppError } from '../../core/errors.ts';
import { monthBounds, previousMonth } from '../../actions/monthly-report/build.ts';
import { monthlyReport, rebuildMonthlyReport } from '../../actions/monthly-report/snapshots.ts';
import { isMonthlyLocale } from '../../actions/monthly-report/labels.ts';
import { monthlyReportFiles, reportLocale, sendMonthlyReports } from '../../actions/monthly-report/send.ts';
import { closeTransports } from '../../actions/outbox/transports.ts';

const FORMATS = ['html', 'csv', 'json', 'pdf'] as const;
type Format = (typeof FORMATS)[number];
const isFormat = (v: string): v is Format => (FORMATS as readonly string[]).includes(v);

export function registerReport(program: Command): void {
  const report = program.command('report').description('Reports for the regulator.');
  withSettings(report.command('monthly').description("The regulator's monthly report of one month."))
    .option('--month <YYYY-MM>', 'the month (default: last month)')
    .option('--format <format>', FORMATS.join(' | '), 'html')
    .option('--lang <lang>', 'en | fr (default: from --region)')
    .option('--out <file>', 'write to this file instead of standard output')
    .option('--send', "queue last month's report for the authorities that ask for it (once per month each)")
    .option('--rebuild', 'build the report again from the reports now, and keep it as the one the web app shows')
    .action(
      async (
        o: { month?: string; format: string; lang?: string; out?: string; send?: boolean; rebuild?: boolean },
        cmd: Command,
      ) => {
        if (!isFormat(o.format)) fail(`--format must be one of ${FORMATS.join(', ')}`, 2);
        if (o.lang !== undefined && !isMonthlyLocale(o.lang)) fail('--lang must be en or fr', 2);
        const month = o.month ?? previousMonth(new Date());
        try {
          monthBounds(month);
        } catch (e) {
          fail(isAppError(e) ? e.message : String(e), 2);
        }
        const config = configFrom(cmd);
        const ctx = await createContext(config);
        try {
          if (o.send) {
            const r = await sendMonthlyReports(ctx.db, config, { logger: ctx.logger });
            process.stdout.write(`monthly report ${r.month}: queued for ${r.queued.length} authorit(ies)\n`);
            return;
          }
          const r = o.rebuild ? await rebuildMonthlyReport(ctx.db, month) : await monthlyReport(ctx.db, month);
          const lang = isMonthlyLocale(o.lang) ? o.lang : reportLocale(config.region);
          const files = await monthlyReportFiles(
            r,
            lang,
            config.publicUrl ?? 'Spamdesk',
            o.format === 'pdf' ? undefined : async () => null,
          );
          let body: Buffer;
          if (o.format === 'pdf') {
            if (!files.pdf) fail('no PDF: Chromium is not installed (apt-get install chromium)', 3);
            body = files.pdf;
          } else body = Buffer.from(o.format === 'html' ? files.html : o.format === 'csv' ? files.csv : files.json);
          if (o.out) {
            fs.writeFileSync(o.out, body);
            process.stderr.write(`monthly report ${month} (${o.format}, ${body.length} bytes) written to ${o.out}\n`);
          } else process.stdout.write(body);
        } catch (e) {
          if (isAppError(e)) fail(e.message);
          throw e;
        } finally {
          closeTransports();
          await closeContext(ctx);
        }
      },
    );
}
