/**
 * Campaign labels read each campaign's 50 most frequent subjects, senders and advertised domains
 * (`campaignLabels`, src/campaigns/label.ts): without this index each read sorted every value of
 * the kind for the campaign (a large campaign has thousands of subjects and domains); with it, one
 * range read backwards, the first 50 rows. One more index updated per fact counted.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('campaign_facts_top_idx')
    .on('campaign_facts')
    .columns(['campaign_id', 'kind', 'count'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('campaign_facts_top_idx').execute();
}
