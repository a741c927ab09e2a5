/** The integrated spam-reporting button's runtime (commands.html / commands.js). */
import { newIdempotencyKey } from '../../src/report-client.ts';
import { REPORT_FUNCTION } from './manifest.ts';
import { onSpamReport } from './report.ts';

Office.onReady(() => undefined);
Office.actions.associate(REPORT_FUNCTION, (event) => {
  void onSpamReport(event, { fetch: (input, init) => fetch(input, init), randomUUID: newIdempotencyKey });
});
