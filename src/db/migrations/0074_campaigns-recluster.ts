/**
 * `spamdesk campaigns recluster` (issue 12): re-clusters every stored message with the current
 * rules. Resumable: the old membership is kept until the run finishes (to tell each case what
 * became of its campaign), and the cursor moves in the same transaction as each batch.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('campaign_recluster')
    .addColumn('id', 'varchar(16)', (c) => c.primaryKey())
    .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('phase', 'varchar(16)', (c) => c.notNull())
    .addColumn('cursor_received_at', 'varchar(32)')
    .addColumn('cursor_report_id', 'varchar(32)')
    .addColumn('done', 'integer', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('finished_at', 'varchar(32)')
    .execute();
  await db.schema
    .createTable('campaign_recluster_old')
    .addColumn('sha256', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('campaign_id', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('campaign_recluster_old_campaign_idx')
    .on('campaign_recluster_old')
    .column('campaign_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('campaign_recluster_old').execute();
  await db.schema.dropTable('campaign_recluster').execute();
}
