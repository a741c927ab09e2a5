/**
 * `campaign-report` {reportId, sha256}: enqueued by the analysis area when a report's analysis is
 * stored. Classifies and clusters the message, then enqueues `actions-report` in the same
 * transaction (see service.ts). A job whose report or evidence has gone (erased) completes
 * without effect.
 */
import { z } from 'zod';
import type { AppContext } from '../evidence/context.ts';
import type { JobHandler } from '../workers/handlers.ts';
import { createClassifier, type Classifier } from '../analysis/classify/classify.ts';
import { DEFAULT_MODEL_FILE, loadModel } from '../analysis/classify/model.ts';
import { loadScores } from '../analysis/classify/scores.ts';
import { analysisOf } from './analysis-source.ts';
import { processReport } from './service.ts';

export const CAMPAIGN_JOB = 'campaign-report';

const Payload = z.object({ reportId: z.string().min(1).max(64), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

/** The handler factory registered in `workers/handlers.ts`. */
export function campaignReportHandler(): JobHandler {
  let classifier: Classifier | null = null;
  const classifierFor = (ctx: AppContext): Classifier => {
    classifier ??= createClassifier({ model: loadModel(ctx.config.textModelFile ?? DEFAULT_MODEL_FILE), scores: loadScores(ctx.config.classifyScoresFile ?? null) });
    return classifier;
  };
  return {
    kind: CAMPAIGN_JOB,
    // Clustering is sequential per message; small batches keep the write transactions short.
    batchSize: 20,
    async run(jobs, ctx) {
      const errors = new Map<string, Error>();
      for (const job of jobs) {
        try {
          const parsed = Payload.safeParse(JSON.parse(job.payload));
          if (!parsed.success) throw new Error(`bad payload: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
          const { reportId, sha256 } = parsed.data;
          const report = await ctx.db.selectFrom('reports').select(['received_at']).where('id', '=', reportId).executeTakeFirst();
          if (!report) continue;
          const analysis = await analysisOf(ctx, sha256);
          if (!analysis) continue;
          const { verdict, placement } = await processReport(ctx.db, classifierFor(ctx), { reportId, sha256, seenAt: report.received_at }, analysis);
          ctx.logger.debug({ reportId, category: verdict.category, campaignId: placement.campaignId, via: placement.via }, 'report classified and clustered');
        } catch (e) {
          errors.set(job.id, e instanceof Error ? e : new Error(String(e)));
        }
      }
      return errors;
    },
  };
}
