/**
 * Administration and the regulator's monthly report (issue 18):
 * - `action_authorities.monthly_report`: 1 when the authority asks for the monthly report by mail;
 * - `action_monthly_report_sends`: one row per (authority, month) the report was queued for, so the
 *   scheduler sends it once per month per authority whatever restarts or concurrent processes do
 *   (the primary key is the guard: a second insert fails and nothing is queued twice);
 * - `campaigns (updated_at)`: the web indexer finds campaigns merged since its last pass by this
 *   index and moves their index rows and roll-ups to the surviving campaign, so a campaign's count
 *   on the dashboard is the count on its own page.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('action_authorities')
    .addColumn('monthly_report', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('action_monthly_report_sends')
    .addColumn('authority_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('month', 'varchar(7)', (c) => c.notNull())
    .addColumn('outbox_id', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('action_monthly_report_sends_pk', ['authority_id', 'month'])
    .execute();
  await db.schema.createIndex('campaigns_updated_idx').on('campaigns').column('updated_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('campaigns_updated_idx').execute();
  await db.schema.dropTable('action_monthly_report_sends').execute();
  await db.schema.alterTable('action_authorities').dropColumn('monthly_report').execute();
}
