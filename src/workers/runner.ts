/**
 * The worker loop: claims due jobs of the kinds that have a handler, runs them, retries failures
 * with backoff, parks the hopeless as `dead`. Wakes at once when a report commits; otherwise polls.
 */
import os from 'node:os';
import { claimJobs, completeJob, failJob, requeueStaleJobs } from './jobs.ts';
import type { JobHandler, WorkerContext } from './handlers.ts';
import { createIdleWait } from './idle-wait.ts';

const IDLE_POLL_MS = 1000;
const STALE_CHECK_MS = 60_000;

export interface WorkerRunner {
  /** Resolves once the current round has finished and handlers are closed. */
  stop(): Promise<void>;
  /** Runs until no due job is left (tests, CLI). */
  drain(): Promise<number>;
}

/** Runs the given handlers (`jobHandlers()` of `app/pipeline.ts` in the platform) until stopped. */
export function startWorkers<C extends WorkerContext>(ctx: C, handlers: JobHandler<C>[]): WorkerRunner {
  const workerId = `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const byKind = new Map(handlers.map((h) => [h.kind, h]));
  let stopping = false;
  const idle = createIdleWait();
  let lastStaleCheck = 0;
  const log = ctx.logger.child({ component: 'workers' });

  const onReports = () => idle.wake();
  ctx.onReports.add(onReports);

  async function round(): Promise<number> {
    if (Date.now() - lastStaleCheck > STALE_CHECK_MS) {
      lastStaleCheck = Date.now();
      const n = await requeueStaleJobs(ctx.db);
      if (n > 0) log.warn({ n }, 'requeued abandoned jobs');
    }
    let done = 0;
    for (const h of byKind.values()) {
      const jobs = await claimJobs(ctx.db, workerId, [h.kind], h.batchSize ?? 50);
      if (jobs.length === 0) continue;
      let errors: Map<string, Error> | void;
      try {
        errors = await h.run(jobs, ctx);
      } catch (e) {
        errors = new Map(jobs.map((j) => [j.id, e instanceof Error ? e : new Error(String(e))]));
      }
      for (const j of jobs) {
        const err = errors?.get(j.id);
        if (err) {
          ctx.metrics.errors.inc({ kind: `job_${h.kind}` });
          const outcome = await failJob(ctx.db, j, err.stack ?? err.message);
          log.warn({ job: j.id, kind: j.kind, attempts: j.attempts, outcome, err: err.message }, 'job failed');
        } else {
          await completeJob(ctx.db, j.id);
        }
      }
      done += jobs.length;
    }
    return done;
  }

  const loop = (async () => {
    while (!stopping) {
      let n = 0;
      try {
        n = await round();
      } catch (e) {
        log.error({ err: e }, 'worker round failed');
      }
      if (n === 0 && !stopping) await idle.wait(IDLE_POLL_MS);
    }
  })();

  return {
    async stop() {
      stopping = true;
      idle.wake();
      ctx.onReports.delete(onReports);
      await loop;
      for (const h of handlers) await h.close?.();
    },
    async drain() {
      let total = 0;
      for (;;) {
        const n = await round();
        total += n;
        if (n === 0) return total;
      }
    },
  };
}
