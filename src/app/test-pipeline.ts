/**
 * Test support: runs every queued job of the pipeline (analysis, campaigns, actions) until none is
 * left, in the test's own process, as the workers would. Not part of the runtime.
 */
import type { AppContext } from '../evidence/context.ts';
import { claimJobs, completeJob } from '../workers/jobs.ts';
import { jobHandlers } from './pipeline.ts';

/** Runs every queued job until none is left; a job that fails throws its error. */
export async function drainPipeline(ctx: AppContext, worker = 'test-pipeline'): Promise<void> {
  const handlers = jobHandlers();
  try {
    for (let round = 0; round < 50; round++) {
      let n = 0;
      for (const h of handlers) {
        const jobs = await claimJobs(ctx.db, worker, [h.kind], 200);
        if (jobs.length === 0) continue;
        n += jobs.length;
        const errors = (await h.run(jobs, ctx)) ?? new Map<string, Error>();
        for (const j of jobs) {
          if (errors.has(j.id)) throw errors.get(j.id);
          await completeJob(ctx.db, j.id);
        }
      }
      if (n === 0) return;
    }
  } finally {
    // The analysis handler owns a worker pool: closed, or the test process never exits.
    for (const h of handlers) await h.close?.();
  }
}
