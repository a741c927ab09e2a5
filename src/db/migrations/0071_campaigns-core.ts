/**
 * Campaigns without chaining (issue 12): each campaign keeps its core — the founding message's
 * signature and kind — so that membership and merges are decided against the campaign itself,
 * never against one member; its purity (share of the majority category) and legitimate share,
 * which the actions gates read; and per strong link the number of distinct campaigns its value
 * was seen in (`spread`), so a value shared by unrelated messages stops linking.
 */
import { sql, type Kysely } from 'kysely';
import { blobType } from '../dialect.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('campaigns').addColumn('core_signature', blobType(db)).execute();
  await db.schema.alterTable('campaigns').addColumn('core_kind', 'varchar(8)').execute();
  await db.schema
    .alterTable('campaigns')
    .addColumn('purity', 'real', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .alterTable('campaigns')
    .addColumn('legitimate_share', 'real', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('campaign_links')
    .addColumn('spread', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  // Existing campaigns: the oldest representative is the core (ULIDs sort by creation), and the
  // purity comes from the category counts already kept. `spamdesk campaigns recluster` rebuilds all.
  await sql`update campaigns set core_signature = (select r.signature from campaign_reps r where r.campaign_id = \
campaigns.id order by r.id limit 1)`.execute(db);
  await sql`update campaigns set
      purity = coalesce((select 1.0 * max(f.count) / sum(f.count) from campaign_facts f where f.campaign_id = \
campaigns.id and f.kind = 'category'), 1),
      legitimate_share = coalesce((select 1.0 * sum(case when f.value = 'legitimate' then f.count else 0 end) / \
sum(f.count) from campaign_facts f where f.campaign_id = campaigns.id and f.kind = 'category'), 0)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const c of ['core_signature', 'core_kind', 'purity', 'legitimate_share'])
    await db.schema.alterTable('campaigns').dropColumn(c).execute();
  await db.schema.alterTable('campaign_links').dropColumn('spread').execute();
}
