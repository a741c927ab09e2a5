/**
 * Campaigns: the LSH band index covers the representative id, (band_key, rep_id), so matching a
 * message's bands reads the index alone instead of one table row per hit (up to 256 hits per
 * message, at ingest and in `POST /api/v1/lookup`). The single-column index it replaces is dropped.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('campaign_bands_key_rep_idx').on('campaign_bands').columns(['band_key', 'rep_id']).execute();
  await db.schema.dropIndex('campaign_bands_key_idx').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('campaign_bands_key_idx').on('campaign_bands').column('band_key').execute();
  await db.schema.dropIndex('campaign_bands_key_rep_idx').execute();
}
