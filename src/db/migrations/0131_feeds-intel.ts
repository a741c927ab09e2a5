/**
 * Feeds area, threat-intelligence exchange (issue 19): the collections STIX/TAXII and MISP publish,
 * who may read each, and the published objects themselves, one row per version.
 *
 * - `intel_collections`: a TAXII collection (also a MISP feed): its TLP level and what it holds.
 * - `intel_grants`: read access of one API token or one account (all its tokens) to a collection.
 * - `intel_objects`: every version of every STIX object published in a collection. `seq` orders
 *   a collection's versions as they were added (and `date_added` with it, strictly increasing), so
 *   TAXII paging is a range scan that never yields a version twice; `superseded_seq` is the seq
 *   of the version that replaced this one, so "the latest version as of a snapshot" needs no join.
 * - `intel_misp_events`: the current MISP event of each published campaign.
 * - `intel_state`: per collection, the last seq and date added (the row writers lock).
 *
 * One collection exists from the start (every abusive campaign, TLP:AMBER), so an instance
 * publishes as soon as an administrator grants a partner access to it.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('intel_collections')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('alias', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('tlp', 'varchar(8)', (c) => c.notNull())
    .addColumn('categories', 'text', (c) => c.notNull())
    .addColumn('kinds', 'text', (c) => c.notNull())
    .addColumn('min_reports', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('intel_grants')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('collection_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('token_id', 'varchar(32)')
    .addColumn('user_id', 'varchar(32)')
    .addColumn('granted_by', 'varchar(200)', (c) => c.notNull())
    .addColumn('granted_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('revoked_at', 'varchar(32)')
    .execute();
  await db.schema.createIndex('intel_grants_token_idx').on('intel_grants').columns(['token_id']).execute();
  await db.schema.createIndex('intel_grants_user_idx').on('intel_grants').columns(['user_id']).execute();
  await db.schema
    .createIndex('intel_grants_collection_idx')
    .on('intel_grants')
    .columns(['collection_id', 'id'])
    .execute();
  await db.schema
    .createTable('intel_objects')
    .addColumn('collection_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('object_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('type', 'varchar(40)', (c) => c.notNull())
    .addColumn('version', 'varchar(32)', (c) => c.notNull())
    .addColumn('created', 'varchar(32)', (c) => c.notNull())
    .addColumn('date_added', 'varchar(32)', (c) => c.notNull())
    .addColumn('content_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('revoked', 'integer', (c) => c.notNull())
    .addColumn('superseded_seq', 'integer')
    .addColumn('json', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('intel_objects_pk', ['collection_id', 'seq'])
    .addUniqueConstraint('intel_objects_version_uq', ['collection_id', 'object_id', 'version'])
    .execute();
  await db.schema
    .createIndex('intel_objects_object_idx')
    .on('intel_objects')
    .columns(['collection_id', 'object_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('intel_objects_added_idx')
    .on('intel_objects')
    .columns(['collection_id', 'date_added'])
    .execute();
  await db.schema
    .createTable('intel_misp_events')
    .addColumn('collection_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull())
    .addColumn('campaign_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('event_id', 'integer', (c) => c.notNull())
    .addColumn('content_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('draft_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('timestamp', 'integer', (c) => c.notNull())
    .addColumn('json', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('intel_misp_events_pk', ['collection_id', 'uuid'])
    .execute();
  await db.schema
    .createTable('intel_state')
    .addColumn('collection_id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('last_seq', 'integer', (c) => c.notNull())
    .addColumn('last_date_added', 'varchar(32)', (c) => c.notNull())
    .addColumn('built_at', 'varchar(32)')
    .execute();
  const now = new Date().toISOString();
  await (db as Kysely<{ intel_collections: Record<string, string | number> }>)
    .insertInto('intel_collections')
    .values({
      id: DEFAULT_COLLECTION_ID,
      alias: 'spam-campaigns',
      title: 'Spam and phishing campaigns',
      description:
        'Indicators of the abusive campaigns reported to this instance: origin addresses, advertised domains and ' +
        'URLs, authenticated sender addresses, phone numbers and wallets.',
      tlp: 'amber',
      categories: '[]',
      kinds: JSON.stringify(['ip', 'domain', 'url', 'email', 'phone', 'wallet']),
      min_reports: 1,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

/** The collection created with the schema. */
export const DEFAULT_COLLECTION_ID = '5f0c1e7a-2b4d-4c8e-9a61-7d3e2f1b0c45';

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['intel_state', 'intel_misp_events', 'intel_objects', 'intel_grants', 'intel_collections'])
    await db.schema.dropTable(t).execute();
}
