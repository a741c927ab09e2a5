/**
 * Domains a report's message names without advertising them (`src/analysis/advertised.ts`: addresses an
 * HTML part only writes in its text while its links go elsewhere — a phish's list of real banks, a
 * brand's legal footer). `action_report_facts.named_domains` holds them apart from
 * `advertised_domains`; the lists' domain index marks them (`feed_domain_reports.named`), so a
 * domain legitimate mail names still counts as legitimate evidence while spam that only names it
 * never lists it. Existing rows: null and 0, as before (every non-resource domain advertised) until
 * their facts are rebuilt.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('action_report_facts').addColumn('named_domains', 'text').execute();
  await db.schema
    .alterTable('feed_domain_reports')
    .addColumn('named', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('feed_domain_reports').dropColumn('named').execute();
  await db.schema.alterTable('action_report_facts').dropColumn('named_domains').execute();
}
