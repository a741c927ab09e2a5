/** `spamdesk show REPORT_ID` and `spamdesk reanalyze [--since ISO] [--reporter KEY] [--force]`. */
import type { Command } from 'commander';
import { cliActor, configFrom, fail, withSettings } from '../options.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { openDatabase } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { getLatestAnalysis } from '../../analysis/repository.ts';
import { reporterStatementOf, withReporterStatement } from '../../analysis/reporter.ts';
import { renderAnalysisText, safe } from '../../analysis/render-text.ts';
import { AnalysisPool } from '../../analysis/pool.ts';
import { analysisSettingsFrom } from '../../analysis/settings.ts';
import { reanalyze } from '../../analysis/reanalyze.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { reanalysedCommitted, reanalysedStored, type Reanalysed } from '../../app/reanalysed.ts';

export function registerAnalysis(program: Command): void {
  withSettings(
    program
      .command('show')
      .description('Show a report and its analysis: trace-back step by step, authentication, indicators, findings.')
      .argument('<report-id>'),
  )
    .option('--json', 'print the analysis as JSON')
    .action(async (reportId: string, o: { json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd);
      const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
      try {
        await migrateToLatest(db);
        const report = await db.selectFrom('reports').selectAll().where('id', '=', reportId).executeTakeFirst();
        if (!report) fail(`no report ${reportId}`);
        const stored = await getLatestAnalysis(db, report.message_sha256);
        await writeAudit(db, {
          actor: cliActor(),
          action: 'evidence.view-report',
          subject: `report:${report.id}`,
          detail: { via: 'cli show', sha256: report.message_sha256, json: o.json === true },
        });
        const analysis = stored ? withReporterStatement(stored, reporterStatementOf(report)) : null;
        if (o.json) {
          const report_ = { id: report.id, channel: report.channel, receivedAt: report.received_at, note: report.note };
          process.stdout.write(`${JSON.stringify({ report: report_, analysis }, null, 2)}\n`);
          return;
        }
        const header = [
          `Report ${report.id}  (${report.channel}, received ${report.received_at}, quality ${report.quality})`,
        ];
        if (report.note) header.push(`  reporter's note: ${safe(report.note, 500)}`);
        if (!analysis) {
          process.stdout.write(
            `${header.join('\n')}\n\nNot analysed yet: the analyse-report job is still queued (run \`spamdesk serve\`, \
or \`spamdesk reanalyze\`).\n`,
          );
          process.exitCode = 3;
          return;
        }
        process.stdout.write(renderAnalysisText(analysis, header));
      } finally {
        await db.destroy();
      }
    });

  withSettings(
    program.command('reanalyze').description('Re-run the analysis on stored evidence at the current analyser version.'),
  )
    .option('--since <iso>', 'only messages first seen at or after this ISO 8601 time')
    .option('--force', 're-run messages already analysed at the current version too')
    .option(
      '--reporter <key>',
      'only messages reported under this key: user:ID, token:ID or intake:CHANNEL (after declaring mail hosts); \
implies --force',
    )
    .action(async (o: { since?: string; force?: boolean; reporter?: string }, cmd: Command) => {
      const config = configFrom(cmd);
      if (o.reporter !== undefined && !/^(user|token|intake):[\w.-]{1,80}$/.test(o.reporter))
        fail(`--reporter: "${o.reporter}" is not a reporter key (user:ID, token:ID or intake:CHANNEL)`, 2);
      if (o.since !== undefined && Number.isNaN(Date.parse(o.since)))
        fail(`--since: "${o.since}" is not an ISO 8601 date`, 2);
      const since = o.since === undefined ? null : new Date(o.since).toISOString();
      const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
      const pool = new AnalysisPool({
        size: Math.max(1, config.workers),
        settings: analysisSettingsFrom(config),
        heapMb: config.analysisHeapMb,
      });
      const policy = policyFor(config);
      const tally: Reanalysed = { restated: 0, facts: 0, indexed: 0 };
      try {
        await migrateToLatest(db);
        const s = await reanalyze(db, pool, {
          since,
          // Re-tracing a reporter's messages after a declaration is the point: current ones too.
          force: o.force === true || o.reporter !== undefined,
          reporter: o.reporter ?? null,
          onProgress: (done, total) => process.stderr.write(`\ranalysed ${done}/${total}`),
          // What the campaigns, listings, alerts, cases and the workbench show follows the new analyses.
          onStored: (trx, changes) => reanalysedStored(trx, changes, policy, tally),
          onCommitted: (analyses) => reanalysedCommitted(db, analyses, tally),
        });
        process.stderr.write('\n');
        process.stdout.write(
          `re-analysed ${s.analysed} of ${s.total} message(s) at analyser ${s.version} in ${s.seconds.toFixed(1)} s ` +
            `(${(s.analysed / Math.max(s.seconds, 1e-9)).toFixed(0)} messages/s): ${s.skipped} already current, ` +
            `${s.errors} analysis error(s), ${s.timeouts} time-out(s), ${s.missing} missing evidence; the facts of ` +
            `${tally.facts} report(s) rebuilt from the new analyses, the campaign stories of ${tally.restated} ` +
            `message(s) restated, ${tally.indexed} report(s) indexed again\n`,
        );
      } finally {
        await pool.close();
        await db.destroy();
      }
    });
}
