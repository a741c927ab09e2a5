/**
 * Every quality evaluation `npm run eval` runs, in order (or those named: `npm run eval -- sms`).
 * An area adds one row. An evaluation prints its own tables (confusion matrix, precision/recall,
 * reference rows from peer tools) on stdout; it measures and reports, it never gates.
 */

/** One evaluation. */
export interface Eval {
  /** Short name used to select it on the command line. */
  name: string;
  /** One line: what is measured, on which data. */
  description: string;
  /** Runs the evaluation and prints its results. */
  run(): Promise<void>;
}

/** The registry. Rows are added by each area (one import and one line). */
export const EVALS: Eval[] = [];
