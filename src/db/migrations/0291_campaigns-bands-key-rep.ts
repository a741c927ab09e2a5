/**
 * The band look-up (`lookup` in src/campaigns/cluster.ts) reads at most 256 rows for a message's
 * band keys. With `LIMIT` and no order, PostgreSQL picks its plan from the estimated share of rows
 * that match: with no statistics yet (a new table, autovacuum off or behind an insert burst) it
 * guesses 0.5 % a key, and a sequential scan that "stops after 256 rows" looks cheaper than the
 * index, so it read the whole table for every message (scale bench, 2026-12-04: 2,930 sequential
 * scans of `campaign_bands`, 56.7 million rows read for 5,000 reports, 0 index scans), and the more
 * the table held, the more each report read. Ordered by `(band_key, rep_id)` with this index, the
 * look-up is an index range read per key that stops at the bound: without statistics the engine
 * still scans a table of a few thousand rows (and sorts its handful of matches), but past that it
 * takes the index, so the cost no longer grows with the table; and which 256 rows it keeps no longer
 * depends on the plan. The index also serves every look-up by `band_key` alone, so 0003's index goes.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('campaign_bands_key_rep_idx')
    .on('campaign_bands')
    .columns(['band_key', 'rep_id'])
    .execute();
  await db.schema.dropIndex('campaign_bands_key_idx').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('campaign_bands_key_idx').on('campaign_bands').column('band_key').execute();
  await db.schema.dropIndex('campaign_bands_key_rep_idx').execute();
}
