/**
 * Campaign labels read each campaign's 50 most frequent facts of a kind ordered by count, then by
 * value (`campaignLabels`, src/campaigns/label.ts). 0181's index `(campaign_id, kind, count)` gave
 * the count order but not the tie-break, so the engine still had to sort, and once its estimate for
 * a large campaign's range was off it preferred the primary key range and a top-N sort of every
 * value: in the PostgreSQL soak (bench/RESULTS.md, 2026-12-02 18:05) the labels of the 50 largest
 * campaigns went from 34 ms at 1,000,000 reports to 846 ms at 3,000,000. With the whole order in
 * the index each part of the label query is one range read of its first 50 entries, whatever the
 * campaign's size.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('campaign_facts_ranked_idx')
    .on('campaign_facts')
    .columns(['campaign_id', 'kind', 'count desc', 'value'])
    .execute();
  await db.schema.dropIndex('campaign_facts_top_idx').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('campaign_facts_top_idx')
    .on('campaign_facts')
    .columns(['campaign_id', 'kind', 'count'])
    .execute();
  await db.schema.dropIndex('campaign_facts_ranked_idx').execute();
}
