/**
 * The regulator's monthly report as computed, one row per month (issue 18 item 7): the web page,
 * its downloads and the mail to the authorities read the stored report instead of grouping a
 * month of reports on every view (about 3 s for a month of 95,000 reports in SQLite).
 * `body` is the report's JSON; `generated_at` says when it was computed
 * (`actions/monthly-report/snapshots.ts` decides when it is computed again).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('action_monthly_reports')
    .addColumn('month', 'varchar(7)', (c) => c.primaryKey())
    .addColumn('generated_at', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('action_monthly_reports').execute();
}
