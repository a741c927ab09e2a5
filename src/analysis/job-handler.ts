/**
 * The `analyse-report` job: analyses newly stored reports in a pool of worker threads (both cores
 * by default, SPAMDESK_WORKERS), reuses an analysis already stored for the same evidence at the
 * current ANALYSER_VERSION, and stores results together with the next pipeline job
 * (`campaign-report` {reportId, sha256}) in one transaction. The trace-back of each message gets
 * the learned mail hosts of its reporter and intake; the reports then count towards the next
 * learning pass (`mailhost-store.ts`).
 */
import type { AppContext } from '../core/context.ts';
import type { Job } from '../db/tables.ts';
import { getMessageRaw } from '../evidence/store.ts';
import type { JobHandler } from '../workers/handlers.ts';
import { enqueueJob } from '../workers/jobs.ts';
import type { Analysis } from './analysis-schema.ts';
import { AnalysisPool } from './pool.ts';
import { keysOfReports, mailhostsOf, noteReportsAndRelearn } from './mailhost-store.ts';
import { analysedAtCurrentVersion, storeAnalysis } from './repository.ts';
import { analysisSettingsFrom } from './settings.ts';

export const ANALYSE_JOB = 'analyse-report';
export const NEXT_JOB = 'campaign-report';

interface Payload {
  reportId: string;
  sha256: string;
}

function payloadOf(job: Job): Payload | null {
  try {
    const p: unknown = JSON.parse(job.payload);
    if (typeof p === 'object' && p !== null && 'reportId' in p && 'sha256' in p && typeof p.reportId === 'string' && typeof p.sha256 === 'string') {
      return { reportId: p.reportId, sha256: p.sha256 };
    }
  } catch {
    // falls through: a malformed payload is a per-job error below
  }
  return null;
}

/** Creates the handler; its worker threads start on the first batch and end on `close()`. */
export function analyseReportHandler(): JobHandler {
  let pool: AnalysisPool | null = null;
  return {
    kind: ANALYSE_JOB,
    batchSize: 64,
    async run(jobs, ctx: AppContext) {
      const errors = new Map<string, Error>();
      const work: { job: Job; p: Payload }[] = [];
      for (const job of jobs) {
        const p = payloadOf(job);
        if (p) work.push({ job, p });
        else errors.set(job.id, new Error(`malformed ${ANALYSE_JOB} payload: ${job.payload.slice(0, 200)}`));
      }
      const done = await analysedAtCurrentVersion(ctx.db, work.map((w) => w.p.sha256));
      const todo = [...new Set(work.map((w) => w.p.sha256).filter((s) => !done.has(s)))];
      const results = new Map<string, { analysis: Analysis; durationMs: number }>();
      const keys = await keysOfReports(ctx.db, work.map((w) => w.p.reportId));
      if (todo.length > 0) {
        pool ??= new AnalysisPool({ size: Math.max(1, ctx.config.workers), settings: analysisSettingsFrom(ctx.config) });
        const p = pool;
        await Promise.all(
          todo.map(async (sha256) => {
            const raw = await getMessageRaw(ctx.db, sha256);
            if (!raw) return;
            const first = work.find((w) => w.p.sha256 === sha256);
            const mailhosts = first ? await mailhostsOf(ctx.db, keys.get(first.p.reportId) ?? []) : [];
            const r = await p.analyse(raw, { mailhosts });
            ctx.metrics.analysisDuration.observe({ outcome: r.outcome }, r.durationMs / 1000);
            if (r.outcome !== 'ok') ctx.metrics.errors.inc({ kind: 'analysis' });
            results.set(sha256, r);
          }),
        );
      }
      for (const w of work) {
        if (!done.has(w.p.sha256) && !results.has(w.p.sha256)) errors.set(w.job.id, new Error(`message ${w.p.sha256} not found in the evidence store`));
      }
      await ctx.db.transaction().execute(async (trx) => {
        for (const r of results.values()) await storeAnalysis(trx, r.analysis, r.durationMs);
        for (const w of work) {
          if (errors.has(w.job.id)) continue;
          await enqueueJob(trx, NEXT_JOB, { reportId: w.p.reportId, sha256: w.p.sha256 });
        }
      });
      // Learning is an improvement, never a reason to fail the batch that was just stored.
      await noteReportsAndRelearn(ctx.db, [...keys.values()], new Date()).catch((e: unknown) => {
        ctx.logger.warn({ err: e }, 'learning mail hosts failed; the next batch tries again');
      });
      return errors;
    },
    async close() {
      await pool?.close();
      pool = null;
    },
  };
}
