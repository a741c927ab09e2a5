/**
 * The facts of reports whose message was analysed again (`spamdesk reanalyze`: after an upgrade, or
 * after a reporter declared their mail hosts). The listings, ISP alerts, cases and sender feedback
 * act on the facts, not on the stored analysis: without this, a re-trace that looks past a
 * reporter's forwarder would leave the forwarder listed as the origin until its listing expired.
 * Each report's facts are rebuilt from the new analysis, keeping what the analysis does not decide
 * (its campaign and the campaign's category, the historical mark, when it was reported; the
 * message's own category is read again as the live job reads it: the latest relabel, else its
 * classification); `saveFacts` moves the cases' tallies with them, and the listing service, which
 * reads the facts stored since its cursor, judges the new origin at its next pass and the old one at
 * its next full pass (an address none of whose listed reports names it any more leaves at once), and
 * indexes the reports' advertised domains again.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import type { ActionPolicy } from './action-policy.ts';
import { currentCategories } from '../campaigns/relabel.ts';
import type { ReportFactsRow } from '../db/actions-tables.ts';
import { lockCaseTargets } from './cases/case-rules.ts';
import { factsFrom, saveFacts } from './report-facts.ts';

const CHUNK = 200;

/** Rebuilds the facts of every report of these messages that has facts; returns how many. */
export async function refreshFacts(
  db: Kysely<Database>,
  analyses: readonly Analysis[],
  policy: ActionPolicy,
): Promise<number> {
  const bySha = new Map(analyses.map((a) => [a.sha256, a]));
  const shas = [...bySha.keys()];
  let n = 0;
  for (let i = 0; i < shas.length; i += CHUNK) {
    // Through `reports` (indexed by message): the facts table has no index on the message.
    const rows = await db
      .selectFrom('reports as r')
      .innerJoin('action_report_facts as f', 'f.report_id', 'r.id')
      .select([
        'f.report_id',
        'f.message_sha256',
        'f.received_at',
        'f.campaign_id',
        'f.category',
        'f.message_category',
        'f.historical',
        'f.sender_domain',
      ])
      .where('r.message_sha256', 'in', shas.slice(i, i + CHUNK))
      .orderBy('f.report_id')
      .execute();
    // The message's own category as the live actions job reads it: the latest relabel, else the classification.
    const current = await currentCategories(db, shas.slice(i, i + CHUNK));
    const rebuilt: { row: ReportFactsRow; oldSender: string | null }[] = [];
    for (const r of rows) {
      const analysis = bySha.get(r.message_sha256);
      if (analysis === undefined) continue;
      const row = factsFrom(
        {
          reportId: r.report_id,
          sha256: r.message_sha256,
          receivedAt: r.received_at,
          campaignId: r.campaign_id,
          category: r.category,
          messageCategory: current.get(r.message_sha256) ?? r.message_category,
          historical: Number(r.historical) === 1,
          analysis,
        },
        policy,
      );
      rebuilt.push({ row, oldSender: r.sender_domain });
    }
    // The case targets' locks, all at once and sorted, as the live actions job takes them before it
    // retallies (the old sender domain's too: its case loses the report): no deadlock with it.
    await lockCaseTargets(db, [
      ...rebuilt.map((b) => b.row),
      ...rebuilt.map((b) => ({ ...b.row, campaign_id: null, sender_domain: b.oldSender })),
    ]);
    for (const { row } of rebuilt) {
      await saveFacts(db, row);
      // The listing pass indexes a report's advertised domains once (`feed_domain_reports`); dropped
      // here, they are indexed again from the new facts at its next pass (their `created_at` moved).
      await db.deleteFrom('feed_domain_reports').where('report_id', '=', row.report_id).execute();
      n++;
    }
  }
  return n;
}
