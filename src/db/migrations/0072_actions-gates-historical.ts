/**
 * Actions act only on sound evidence (issue 12):
 * - `reports.historical`: a report from a bulk import of old mail (never triggers an automatic
 *   referral, an ISP alert or sender feedback);
 * - per report facts: the message's own category (not only its campaign's), whether it passed
 *   SPF or DKIM aligned with its From domain, its historical flag, when the message arrived (the
 *   believed topmost Received, else Date:) and when its origin sent it (the Received line that
 *   names the origin) — ISP alerts need the latter to find a subscriber behind a dynamic address;
 * - a referral remembers its outbox entry, so its state is its delivery's;
 * - the workbench index keeps the arrival time, by which statistics are counted.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('reports')
    .addColumn('historical', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('action_report_facts').addColumn('message_category', 'varchar(16)').execute();
  await db.schema
    .alterTable('action_report_facts')
    .addColumn('authenticated', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('action_report_facts')
    .addColumn('historical', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('action_report_facts').addColumn('arrived_at', 'varchar(32)').execute();
  await db.schema.alterTable('action_report_facts').addColumn('origin_sent_at', 'varchar(32)').execute();
  await db.schema
    .createIndex('action_report_facts_campaign_arrived_idx')
    .on('action_report_facts')
    .columns(['campaign_id', 'arrived_at'])
    .execute();
  await db.schema.alterTable('action_referrals').addColumn('outbox_id', 'varchar(32)').execute();
  await db.schema.alterTable('web_report_index').addColumn('arrived_at', 'varchar(32)').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('web_report_index').dropColumn('arrived_at').execute();
  await db.schema.alterTable('action_referrals').dropColumn('outbox_id').execute();
  await db.schema.dropIndex('action_report_facts_campaign_arrived_idx').execute();
  for (const c of ['origin_sent_at', 'arrived_at', 'historical', 'authenticated', 'message_category'])
    await db.schema.alterTable('action_report_facts').dropColumn(c).execute();
  await db.schema.alterTable('reports').dropColumn('historical').execute();
}
