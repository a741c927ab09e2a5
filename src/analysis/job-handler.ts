/**
 * The `analyse-report` job (app/pipeline.ts): analyses newly stored reports in a pool of worker threads (a core
 * each but one by default, SPAMDESK_WORKERS: this thread runs every stage's SQL), reuses an analysis already
 * stored for the same evidence at the current ANALYSER_VERSION, and stores results and hands each report on
 * (`analysed`, the next pipeline job) in one transaction. The trace-back of each message gets the learned mail
 * hosts of its reporter and intake; the reports then count towards the next learning pass (`mailhost-store.ts`).
 */
import { LOCK_CLASS, lockNames } from '../db/xact-locks.ts';
import type { AppContext } from '../evidence/context.ts';
import type { Job } from '../db/tables.ts';
import { getMessageRaw } from '../evidence/store.ts';
import type { HandOn, JobWork, TypedJob } from '../workers/handlers.ts';
import type { Analysis } from './analysis-schema.ts';
import { idTime } from '../core/ids.ts';
import { AnalysisPool } from './pool.ts';
import { batchMailhosts, keysOfReports, noteReportsAndRelearn, reporterFactsOf } from './mailhost-store.ts';
import { analysedAtCurrentVersion, analysisRows, getLatestAnalyses, writeAnalysisRows } from './repository.ts';
import { rememberAnalysis } from './recent-analyses.ts';
import { reporterContextOf, type AnalysisChange } from './reanalyze.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { analysisSettingsFrom } from './settings.ts';
import type { Config } from '../core/config.ts';

/**
 * Reports per batch: one transaction stores their analyses and hands them on, and the batch waits for
 * its slowest message while the threads run dry. 256 against 64: 166 against 157 reports/s end to end,
 * the learning passes a quarter as often (bench/RESULTS.md 2026-12-04 06:20–07:10, issue 17).
 */
export const ANALYSIS_BATCH = 256;
/** Messages read from the store and handed to the pool ahead of each thread (its own two, and two waiting). */
const MESSAGES_AHEAD_PER_THREAD = 4;

/** A stored report and its evidence. */
export interface ReportRef {
  reportId: string;
  sha256: string;
}

/**
 * Work a later stage has done on each record in the analysis thread that made it, rather than on
 * this process's one thread that runs every stage's transactions (issue 17: the analysis threads
 * sit half idle while that thread is the limit). Its result only ever saves that stage the same
 * work: it must be what the stage would compute from the record itself.
 */
export interface AlongsideWork {
  /** The module whose `reduce(analysis, data)` each analysis thread runs (see `PoolOptions.reducer`). */
  module: URL;
  /** Its `data` from this process's settings (structured-cloneable). */
  data: (config: Config) => unknown;
  /** The operator files it reads (`PoolOptions.files`). */
  files?: (config: Config) => readonly (string | null | undefined)[];
  /** Takes each stored record's result, after the transaction that stored the record committed. */
  take: (analysis: Analysis, result: unknown) => void;
}

/**
 * What follows a retrace ({@link retrace}) in the areas above this layer, which it cannot import
 * (`app/pipeline.ts` wires them): in the transaction that stores the new analyses, the actions area
 * rebuilds their reports' facts (`src/actions/refresh-facts.ts`) and the campaigns area restates the
 * messages' story facts (`src/campaigns/restate.ts`, from the analysis stored before and the new);
 * after it committed, the workbench index takes the reports again.
 */
export interface Retraced {
  stored(trx: Kysely<Database>, changes: readonly AnalysisChange[], ctx: AppContext): Promise<void>;
  committed?(analyses: readonly Analysis[], ctx: AppContext): Promise<void>;
}

/** Messages traced again at once in the pool. */
const RETRACE_AT_ONCE = 16;

/**
 * Traces again the messages whose stored origin a learning pass found to be their reporter's own mail
 * host (`learnKey`): a new reporter's first reports are traced before their forwarder or secondary MX is
 * learned, and named it as the origin — an ISP alert about the reporter's own provider's relay on the
 * first day of a real stream (the listings evaluation, 2026-12-06). Each message with its first report's
 * reporter context, as `reanalyze` does; stored, and handed to `retraced`, in one transaction.
 */
async function retrace(ctx: AppContext, p: AnalysisPool, shas: string[], retraced?: Retraced): Promise<void> {
  const context = await reporterContextOf(ctx.db, shas);
  const results: { analysis: Analysis; durationMs: number }[] = [];
  for (let i = 0; i < shas.length; i += RETRACE_AT_ONCE) {
    const batch = await Promise.all(
      shas.slice(i, i + RETRACE_AT_ONCE).map(async (sha) => {
        const raw = await getMessageRaw(ctx.db, sha);
        return raw ? p.analyse(raw, context.get(sha) ?? {}) : null;
      }),
    );
    for (const r of batch) if (r?.outcome === 'ok') results.push(r);
  }
  if (results.length === 0) return;
  results.sort((a, b) => (a.analysis.sha256 < b.analysis.sha256 ? -1 : a.analysis.sha256 > b.analysis.sha256 ? 1 : 0));
  const rows = results.map((r) => analysisRows(r.analysis, r.durationMs));
  await ctx.db.transaction().execute(async (trx) => {
    await lockNames(
      trx,
      LOCK_CLASS.analysisMessage,
      results.map((r) => r.analysis.sha256),
    );
    // What each message's story was counted from, read under its lock before it is overwritten.
    const before = await getLatestAnalyses(
      trx,
      results.map((r) => r.analysis.sha256),
    );
    for (const r of rows) await writeAnalysisRows(trx, r);
    await retraced?.stored(
      trx,
      results.map((r) => ({ before: before.get(r.analysis.sha256) ?? null, after: r.analysis })),
      ctx,
    );
  });
  for (const r of results) rememberAnalysis(r.analysis);
  await retraced?.committed?.(
    results.map((r) => r.analysis),
    ctx,
  );
  ctx.logger.info(
    { messages: results.length },
    'traced again: messages whose origin is a mail host newly learned for their reporter',
  );
}

/**
 * Creates the job's work; its worker threads start on the first batch and end on `close()`.
 * `analysed` hands each analysed report on; `alongside`, when given, runs in the threads on each
 * record made; `retraced`, with the records of messages traced again after a learning pass.
 */
export function analyseReportWork(
  analysed: HandOn<ReportRef>,
  alongside?: AlongsideWork,
  retraced?: Retraced,
): JobWork<ReportRef, AppContext> {
  let pool: AnalysisPool | null = null;
  const poolFor = (ctx: AppContext): AnalysisPool => {
    pool ??= new AnalysisPool({
      size: Math.max(1, ctx.config.workers),
      settings: analysisSettingsFrom(ctx.config),
      heapMb: ctx.config.analysisHeapMb,
      minThreads: ctx.config.analysisMinThreads,
      retireIdleMs: ctx.config.analysisIdleSeconds * 1000,
      ...(alongside
        ? {
            reducer: alongside.module,
            reducerData: alongside.data(ctx.config),
            files: alongside.files?.(ctx.config) ?? [],
          }
        : {}),
    });
    return pool;
  };
  return {
    batchSize: ANALYSIS_BATCH,
    async run(jobs: TypedJob<ReportRef>[], ctx: AppContext) {
      const errors = new Map<string, Error>();
      const work: { job: Job; p: ReportRef }[] = jobs.map((job) => ({ job, p: job.data }));
      const done = await analysedAtCurrentVersion(
        ctx.db,
        work.map((w) => w.p.sha256),
      );
      const todo = [...new Set(work.map((w) => w.p.sha256).filter((s) => !done.has(s)))];
      const results = new Map<string, { analysis: Analysis; durationMs: number; reduced?: unknown }>();
      const keys = await keysOfReports(
        ctx.db,
        work.map((w) => w.p.reportId),
      );
      const reporters = await reporterFactsOf(
        ctx.db,
        work.map((w) => w.p.reportId),
      );
      if (todo.length > 0) {
        const p = poolFor(ctx);
        const hostsOf = batchMailhosts(ctx.db);
        const firstOf = new Map<string, ReportRef>();
        for (const w of work) if (!firstOf.has(w.p.sha256)) firstOf.set(w.p.sha256, w.p);
        // Messages are read from the store as the threads take them, a few ahead of each thread, not the
        // whole batch at once: a batch of large messages holds a few of them in memory, not 256.
        let next = 0;
        const lane = async (): Promise<void> => {
          for (let sha256 = todo[next++]; sha256 !== undefined; sha256 = todo[next++]) {
            const raw = await getMessageRaw(ctx.db, sha256);
            if (!raw) continue;
            const first = firstOf.get(sha256);
            const mailhosts = first ? await hostsOf(keys.get(first.reportId) ?? []) : [];
            const facts = first ? reporters.get(first.reportId) : undefined;
            const recipientDomains = facts?.domains ?? [];
            const resentBy = facts?.resentBy;
            const r = await p.analyse(raw, {
              mailhosts,
              recipientDomains,
              ...(resentBy ? { resentBy } : {}),
              ...(alongside ? { reduce: 'alongside' as const } : {}),
            });
            ctx.metrics.analysisDuration.observe({ outcome: r.outcome }, r.durationMs / 1000);
            if (r.outcome !== 'ok') ctx.metrics.errors.inc({ kind: 'analysis' });
            results.set(sha256, r);
          }
        };
        await Promise.all(Array.from({ length: Math.min(todo.length, p.size * MESSAGES_AHEAD_PER_THREAD) }, lane));
      }
      for (const w of work) {
        if (!done.has(w.p.sha256) && !results.has(w.p.sha256))
          errors.set(w.job.id, new Error(`message ${w.p.sha256} not found in the evidence store`));
      }
      // Stored in message order, under each message's lock taken in that order first: two processes
      // whose batches hold the same message (two reports of it) take turns instead of deadlocking
      // over its rows (the issue's 64 `deadlock detected` on two processes). The rows (the records'
      // JSON) are made before the transaction: it holds SQLite's one write lock.
      const ordered = [...results.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const rows = ordered.map(([, r]) => analysisRows(r.analysis, r.durationMs));
      await ctx.db.transaction().execute(async (trx) => {
        await lockNames(
          trx,
          LOCK_CLASS.analysisMessage,
          ordered.map(([sha]) => sha),
        );
        for (const r of rows) await writeAnalysisRows(trx, r);
        // Handed on in intake order and due at intake time (the report id's ULID time), so the campaign
        // stage, which takes its jobs oldest due first, places reports in the order they arrived, not
        // in the order their analyses finished: a campaign is founded by the first message placed.
        for (const w of [...work].sort((a, b) =>
          a.p.reportId < b.p.reportId ? -1 : a.p.reportId > b.p.reportId ? 1 : 0,
        )) {
          if (errors.has(w.job.id)) continue;
          await analysed(trx, { reportId: w.p.reportId, sha256: w.p.sha256 }, idTime(w.p.reportId));
        }
      });
      // Committed: the later stages of this process take these records as they are (recent-analyses.ts).
      for (const [, r] of ordered) {
        rememberAnalysis(r.analysis);
        if (alongside && r.reduced !== undefined) alongside.take(r.analysis, r.reduced);
      }
      // Learning is an improvement, never a reason to fail the batch that was just stored.
      const stale = new Set<string>();
      await noteReportsAndRelearn(ctx.db, [...keys.values()], new Date(), stale).catch((e: unknown) => {
        ctx.logger.warn({ err: e }, 'learning mail hosts failed; the next batch tries again');
      });
      if (stale.size > 0)
        await retrace(ctx, poolFor(ctx), [...stale], retraced).catch((e: unknown) => {
          ctx.logger.warn({ err: e }, 'tracing again the messages of a newly learned mail host failed');
        });
      return errors;
    },
    async close() {
      await pool?.close();
      pool = null;
    },
  };
}
