/**
 * Background job handlers by kind. An area registers its handler here (one line); the runner
 * claims only kinds that have a handler.
 */
import type { AppContext } from '../evidence/context.ts';
import type { Job } from '../db/tables.ts';
import { actionsReferHandler, actionsReferUpdateHandler, actionsReportHandler } from '../actions/actions-jobs.ts';
import { analyseReportHandler } from '../analysis/job-handler.ts';
import { campaignReportHandler } from '../campaigns/job-handler.ts';

export interface JobHandler {
  kind: string;
  /** Jobs of this kind claimed per round. */
  batchSize?: number;
  /** Handles a batch; throw (or return per-job errors) to retry. */
  run(jobs: Job[], ctx: AppContext): Promise<Map<string, Error> | void>;
  /** Called once when the runner stops (worker threads, caches). */
  close?(): Promise<void>;
}

export const JOB_HANDLERS: (() => JobHandler)[] = [analyseReportHandler, actionsReportHandler, actionsReferHandler, actionsReferUpdateHandler, campaignReportHandler];
