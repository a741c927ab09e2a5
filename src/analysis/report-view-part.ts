/** Adds `analysis` to GET /api/v1/reports/:id: the latest analysis of the report's evidence. */
import type { ReportViewPart } from '../evidence/context.ts';
import { getLatestAnalysis } from './repository.ts';
import { reporterStatementOf, withReporterStatement } from './reporter.ts';
import { messageTimes } from './message-times.ts';

export const analysisViewPart: ReportViewPart = {
  name: 'analysis',
  async load(db, report) {
    const a = await getLatestAnalysis(db, report.message_sha256);
    return a ? withReporterStatement(a, reporterStatementOf(report)) : undefined;
  },
};

/**
 * Adds `times` beside the report's `receivedAt`: when the mail itself arrived (topmost Received,
 * else Date:) and when its origin sent it — for an imported archive, years before it was reported.
 */
export const timesViewPart: ReportViewPart = {
  name: 'times',
  async load(db, report) {
    const a = await getLatestAnalysis(db, report.message_sha256);
    return a ? messageTimes(a) : undefined;
  },
};
