/**
 * Feeds area, lists (issue 19): listings with their evidence and expiry, delisting requests, the
 * domain → report index and the listing singleton's state. An index on the actions area's facts by
 * `created_at` lets the singleton read only what is new since its cursor.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('feed_listings')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(8)', (c) => c.notNull())
    .addColumn('value', 'varchar(255)', (c) => c.notNull())
    .addColumn('list', 'varchar(16)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('return_code', 'varchar(16)')
    .addColumn('category', 'varchar(32)')
    .addColumn('report_count', 'integer', (c) => c.notNull())
    .addColumn('campaign_count', 'integer', (c) => c.notNull())
    .addColumn('signals', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'varchar(32)', (c) => c.notNull())
    .addColumn('last_seen', 'varchar(32)', (c) => c.notNull())
    .addColumn('expires_at', 'varchar(32)')
    .addColumn('listed_at', 'varchar(32)')
    .addColumn('delisted_at', 'varchar(32)')
    .addColumn('delisted_by', 'varchar(255)')
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addUniqueConstraint('feed_listings_kind_value_uq', ['kind', 'value'])
    .execute();
  await db.schema
    .createIndex('feed_listings_state_idx')
    .on('feed_listings')
    .columns(['state', 'kind', 'value'])
    .execute();
  await db.schema
    .createIndex('feed_listings_expiry_idx')
    .on('feed_listings')
    .columns(['state', 'expires_at'])
    .execute();

  await db.schema
    .createTable('feed_delist_requests')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('listing_id', 'varchar(26)', (c) => c.notNull().references('feed_listings.id'))
    .addColumn('kind', 'varchar(8)', (c) => c.notNull())
    .addColumn('value', 'varchar(255)', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('contact', 'varchar(320)')
    .addColumn('client_ip', 'varchar(64)')
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('decided_by', 'varchar(255)')
    .addColumn('decided_at', 'varchar(32)')
    .addColumn('decision_note', 'text')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('feed_delist_state_idx')
    .on('feed_delist_requests')
    .columns(['state', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('feed_delist_client_idx')
    .on('feed_delist_requests')
    .columns(['client_ip', 'created_at'])
    .execute();
  await db.schema.createIndex('feed_delist_created_idx').on('feed_delist_requests').column('created_at').execute();
  await db.schema.createIndex('feed_delist_listing_idx').on('feed_delist_requests').column('listing_id').execute();

  await db.schema
    .createTable('feed_domain_reports')
    .addColumn('domain', 'varchar(255)', (c) => c.notNull())
    .addColumn('report_id', 'varchar(26)', (c) => c.notNull())
    .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('feed_domain_reports_pk', ['domain', 'report_id'])
    .execute();
  await db.schema
    .createIndex('feed_domain_reports_received_idx')
    .on('feed_domain_reports')
    .columns(['domain', 'received_at'])
    .execute();
  await db.schema.createIndex('feed_domain_reports_age_idx').on('feed_domain_reports').column('received_at').execute();

  await db.schema
    .createTable('feed_state')
    .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('changed_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('cursor', 'varchar(32)')
    .addColumn('full_pass_at', 'varchar(32)')
    .addColumn('lease_owner', 'varchar(64)')
    .addColumn('lease_until', 'varchar(32)')
    .execute();

  await db.schema.createIndex('action_facts_created_idx').on('action_report_facts').column('created_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('action_facts_created_idx').execute();
  await db.schema.dropTable('feed_state').execute();
  await db.schema.dropTable('feed_domain_reports').execute();
  await db.schema.dropTable('feed_delist_requests').execute();
  await db.schema.dropTable('feed_listings').execute();
}
