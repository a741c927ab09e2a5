/**
 * Classification and campaigns: campaigns with merge redirects, membership, MinHash
 * representatives, the LSH band index, strong links, story facts, classifications and relabels.
 * Every lookup the clustering path makes is by an indexed key (no scans).
 */
import type { Kysely } from 'kysely';
import { blobType } from '../dialect.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('campaigns')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('merged_into', 'varchar(32)')
    .addColumn('category', 'varchar(16)')
    .addColumn('first_seen_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('last_seen_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('message_count', 'integer', (c) => c.notNull())
    .addColumn('report_count', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('campaigns_merged_idx').on('campaigns').column('merged_into').execute();
  await db.schema.createIndex('campaigns_last_seen_idx').on('campaigns').column('last_seen_at').execute();

  await db.schema
    .createTable('campaign_messages')
    .addColumn('sha256', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('campaign_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('via', 'varchar(32)', (c) => c.notNull())
    .addColumn('similarity', 'real', (c) => c.notNull())
    .addColumn('joined_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('campaign_messages_campaign_idx').on('campaign_messages').column('campaign_id').execute();

  await db.schema
    .createTable('campaign_reps')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('campaign_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('signature', blobType(db), (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('campaign_bands')
    .addColumn('band_key', 'bigint', (c) => c.notNull())
    .addColumn('rep_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('campaign_id', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('campaign_bands_key_idx').on('campaign_bands').column('band_key').execute();

  await db.schema
    .createTable('campaign_links')
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('value', 'varchar(200)', (c) => c.notNull())
    .addColumn('campaign_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('campaign_links_pk', ['kind', 'value'])
    .execute();

  await db.schema
    .createTable('campaign_facts')
    .addColumn('campaign_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('value', 'varchar(256)', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('first_seen_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('last_seen_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('campaign_facts_pk', ['campaign_id', 'kind', 'value'])
    .execute();

  await db.schema
    .createTable('classifications')
    .addColumn('sha256', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('category', 'varchar(16)', (c) => c.notNull())
    .addColumn('confidence', 'real', (c) => c.notNull())
    .addColumn('reasons', 'text', (c) => c.notNull())
    .addColumn('model_version', 'varchar(64)', (c) => c.notNull())
    .addColumn('classified_at', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('relabels')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('report_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('message_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('category', 'varchar(16)', (c) => c.notNull())
    .addColumn('previous_category', 'varchar(16)')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('relabels_message_idx').on('relabels').columns(['message_sha256', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'relabels',
    'classifications',
    'campaign_facts',
    'campaign_links',
    'campaign_bands',
    'campaign_reps',
    'campaign_messages',
    'campaigns',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}
