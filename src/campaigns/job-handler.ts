/**
 * `campaign-report` {reportId, sha256} (app/pipeline.ts): a report whose analysis is stored.
 * Classifies and clusters the message, then hands it on (`placed`) in the same transaction (see
 * service.ts). A job whose report or evidence has gone (erased) completes without effect.
 */
import type { AppContext } from '../evidence/context.ts';
import type { HandOn, JobWork } from '../workers/handlers.ts';
import { createClassifier, type Classifier } from '../analysis/classify/classify.ts';
import { DEFAULT_MODEL_FILE, loadModel } from '../analysis/classify/model.ts';
import { loadScores } from '../analysis/classify/scores.ts';
import { analysisOf } from './analysis-source.ts';
import { processReport, type PlacedReport } from './service.ts';

/** The work of the `campaign-report` job; `placed` hands each report on. */
export function campaignReportWork(
  placed: HandOn<PlacedReport>,
): JobWork<{ reportId: string; sha256: string }, AppContext> {
  let classifier: Classifier | null = null;
  const classifierFor = (ctx: AppContext): Classifier => {
    classifier ??= createClassifier({
      model: loadModel(ctx.config.textModelFile ?? DEFAULT_MODEL_FILE),
      scores: loadScores(ctx.config.classifyScoresFile ?? null),
      region: ctx.config.region,
      smsProfilesFile: ctx.config.smsProfilesFile ?? undefined,
    });
    return classifier;
  };
  return {
    // Clustering is sequential per message; small batches keep the write transactions short.
    batchSize: 20,
    async run(jobs, ctx) {
      const errors = new Map<string, Error>();
      for (const job of jobs) {
        try {
          const { reportId, sha256 } = job.data;
          const report = await ctx.db
            .selectFrom('reports')
            .select(['received_at'])
            .where('id', '=', reportId)
            .executeTakeFirst();
          if (!report) continue;
          const analysis = await analysisOf(ctx, sha256);
          if (!analysis) continue;
          const { verdict, placement } = await processReport(
            ctx.db,
            classifierFor(ctx),
            { reportId, sha256, seenAt: report.received_at },
            analysis,
            placed,
          );
          ctx.logger.debug(
            { reportId, category: verdict.category, campaignId: placement.campaignId, via: placement.via },
            'report classified and clustered',
          );
        } catch (e) {
          errors.set(job.id, e instanceof Error ? e : new Error(String(e)));
        }
      }
      return errors;
    },
  };
}
