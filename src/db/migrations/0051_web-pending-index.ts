/**
 * Web index: the indexer walks reports still waiting for analysis or classification by report id
 * (creation time), so index (stage, report_id) instead of (stage, received_at).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('web_ri_stage_idx').execute();
  await db.schema.createIndex('web_ri_stage_id_idx').on('web_report_index').columns(['stage', 'report_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('web_ri_stage_id_idx').execute();
  await db.schema.createIndex('web_ri_stage_idx').on('web_report_index').columns(['stage', 'received_at']).execute();
}
