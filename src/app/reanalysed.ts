/**
 * What follows when stored messages are analysed again — a retrace in the `analyse-report` job once
 * a reporter's mail host is learned, `spamdesk reanalyze` after an upgrade or a declaration — in the
 * areas the analysis layer cannot import. In the transaction that stores the new analyses: the
 * campaigns' stories restated from the analysis stored before and the new (`campaigns/restate.ts`),
 * then the reports' facts rebuilt (`actions/refresh-facts.ts`; what the lists, ISP alerts, cases and
 * sender feedback act on) — in that order, the locks' class order (cluster keys, then case targets).
 * After it committed: the workbench index takes the reports again, and its roll-ups with them.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Analysis } from '../analysis/analysis-schema.ts';
import type { AnalysisChange } from '../analysis/reanalyze.ts';
import type { ActionPolicy } from '../actions/action-policy.ts';
import { refreshFacts } from '../actions/refresh-facts.ts';
import { restateCampaignFacts } from '../campaigns/restate.ts';
import { reindexMessages } from '../web/indexer.ts';

export interface Reanalysed {
  /** Messages whose campaign story moved. */
  restated: number;
  /** Reports whose facts were rebuilt. */
  facts: number;
  /** Reports indexed again. */
  indexed: number;
}

/** In the transaction that stored the new analyses; adds to `tally`. */
export async function reanalysedStored(
  trx: Kysely<Database>,
  changes: readonly AnalysisChange[],
  policy: ActionPolicy,
  tally?: Reanalysed,
): Promise<void> {
  const restated = await restateCampaignFacts(trx, changes);
  const facts = await refreshFacts(
    trx,
    changes.map((c) => c.after),
    policy,
  );
  if (tally) {
    tally.restated += restated;
    tally.facts += facts;
  }
}

/** After that transaction committed; adds to `tally`. */
export async function reanalysedCommitted(
  db: Kysely<Database>,
  analyses: readonly Analysis[],
  tally?: Reanalysed,
): Promise<void> {
  const indexed = await reindexMessages(
    db,
    analyses.map((a) => a.sha256),
  );
  if (tally) tally.indexed += indexed;
}
