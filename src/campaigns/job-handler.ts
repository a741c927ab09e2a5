/**
 * `campaign-report` {reportId, sha256} (app/pipeline.ts): a report whose analysis is stored.
 * Classifies and clusters the messages of a batch, then hands each on (`placed`), all in one
 * transaction (see service.ts `placeReports`). A job whose report or evidence has gone (erased)
 * completes without effect.
 */
import type { AppContext } from '../evidence/context.ts';
import type { HandOn, JobWork } from '../workers/handlers.ts';
import type { Classifier } from '../analysis/classify/classify.ts';
import { analysesOf } from './analysis-source.ts';
import { placeReports, prepareReport, type PlacedReport, type PreparedReport } from './service.ts';
import { classifierFrom, classifierSettings } from './thread-prepare.ts';
import { identitiesByReport } from '../evidence/redact.ts';

/** The work of the `campaign-report` job; `placed` hands each report on. */
export function campaignReportWork(
  placed: HandOn<PlacedReport>,
): JobWork<{ reportId: string; sha256: string }, AppContext> {
  let classifier: Classifier | null = null;
  const classifierFor = (ctx: AppContext): Classifier => {
    classifier ??= classifierFrom(classifierSettings(ctx.config));
    return classifier;
  };
  return {
    // Clustering is sequential per message; a batch is placed in one transaction (one commit on
    // SQLite), in claim order, so it gives what one transaction per report gave.
    batchSize: 50,
    async run(jobs, ctx) {
      const received = new Map<string, string>();
      const ids = [...new Set(jobs.map((j) => j.data.reportId))];
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await ctx.db
          .selectFrom('reports')
          .select(['id', 'received_at'])
          .where('id', 'in', ids.slice(i, i + 500))
          .execute();
        for (const r of rows) received.set(r.id, r.received_at);
      }
      // The reporters' identities (taken out of each fingerprint's facts), read for the batch at once.
      const identities = await identitiesByReport(ctx.db, [...received.keys()]);
      const analyses = await analysesOf(
        ctx,
        jobs.filter((j) => received.has(j.data.reportId)).map((j) => j.data.sha256),
      );
      const prepared: PreparedReport[] = [];
      // Placed in intake order (report ids are ULIDs): a claim's rows come back in no set order.
      const inOrder = [...jobs].sort((a, b) =>
        a.data.reportId < b.data.reportId ? -1 : a.data.reportId > b.data.reportId ? 1 : 0,
      );
      for (const job of inOrder) {
        const { reportId, sha256 } = job.data;
        const seenAt = received.get(reportId);
        const analysis = analyses.get(sha256);
        // The report or its evidence has gone (erased): nothing to place.
        if (seenAt === undefined || !analysis) continue;
        prepared.push(
          await prepareReport(
            ctx.db,
            classifierFor(ctx),
            { reportId, sha256, seenAt },
            analysis,
            identities.get(reportId),
          ),
        );
      }
      // Throws for the whole batch (nothing stored): the runner then runs each job on its own.
      const placements = await placeReports(ctx.db, prepared, placed, classifierFor(ctx));
      for (const [i, r] of prepared.entries()) {
        const { campaignId, via } = placements[i] ?? {};
        ctx.logger.debug(
          { reportId: r.reportId, category: r.verdict.category, campaignId, via },
          'report classified and clustered',
        );
      }
      return undefined;
    },
  };
}
