/** Analysis: one row per (message, analyser version), and the indicators index for search. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('analyses')
    .addColumn('message_sha256', 'varchar(64)', (c) => c.notNull().references('messages.sha256'))
    .addColumn('version', 'varchar(32)', (c) => c.notNull())
    .addColumn('analysed_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('duration_ms', 'real', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('json', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('from_address', 'varchar(320)')
    .addColumn('from_domain', 'varchar(253)')
    .addColumn('origin_ip', 'varchar(64)')
    .addColumn('origin_asn', 'bigint')
    .addColumn('origin_country', 'varchar(2)')
    .addPrimaryKeyConstraint('analyses_pk', ['message_sha256', 'version'])
    .execute();
  await db.schema.createIndex('analyses_analysed_idx').on('analyses').column('analysed_at').execute();
  await db.schema.createIndex('analyses_from_domain_idx').on('analyses').column('from_domain').execute();
  await db.schema.createIndex('analyses_origin_ip_idx').on('analyses').column('origin_ip').execute();
  await db.schema.createIndex('analyses_origin_asn_idx').on('analyses').column('origin_asn').execute();
  await db.schema.createIndex('analyses_origin_country_idx').on('analyses').column('origin_country').execute();

  await db.schema
    .createTable('message_indicators')
    .addColumn('message_sha256', 'varchar(64)', (c) => c.notNull().references('messages.sha256'))
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('value', 'varchar(2048)', (c) => c.notNull())
    .addPrimaryKeyConstraint('message_indicators_pk', ['message_sha256', 'kind', 'value'])
    .execute();
  await db.schema
    .createIndex('message_indicators_value_idx')
    .on('message_indicators')
    .columns(['kind', 'value'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('message_indicators').execute();
  await db.schema.dropTable('analyses').execute();
}
