/**
 * Cases workbench (issue 18): the case list filters by state, category, opening rule, period and
 * authority and pages by id (newest first); the tracking page and "remove a report" look a
 * report's cases up by report id; an authority's referral list pages by id within its authority.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('action_cases_state_id_idx').on('action_cases').columns(['state', 'id']).execute();
  await db.schema.createIndex('action_cases_category_id_idx').on('action_cases').columns(['category', 'id']).execute();
  await db.schema
    .createIndex('action_cases_opened_by_id_idx')
    .on('action_cases')
    .columns(['opened_by', 'id'])
    .execute();
  await db.schema.createIndex('action_cases_created_idx').on('action_cases').column('created_at').execute();
  await db.schema
    .createIndex('action_case_reports_report_idx')
    .on('action_case_reports')
    .columns(['report_id', 'case_id'])
    .execute();
  await db.schema
    .createIndex('action_referrals_authority_idx')
    .on('action_referrals')
    .columns(['authority_id', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const name of [
    'action_referrals_authority_idx',
    'action_case_reports_report_idx',
    'action_cases_created_idx',
    'action_cases_opened_by_id_idx',
    'action_cases_category_id_idx',
    'action_cases_state_id_idx',
  ])
    await db.schema.dropIndex(name).execute();
}
