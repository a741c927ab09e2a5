/**
 * Actions area: partner exchange. Partner platforms (another national anti-spam body, a CERT
 * abroad) are registered with their Ed25519 public key; the evidence packages they refer to this
 * instance are received, verified and recorded once (`action_received_packages`).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('action_partners')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('country', 'varchar(8)', (c) => c.notNull())
    .addColumn('public_key_pem', 'text', (c) => c.notNull())
    .addColumn('key_fingerprint', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('disabled_at', 'varchar(32)')
    .execute();
  await db.schema
    .createTable('action_received_packages')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('partner_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('package_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('package_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('remote_case_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('case_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('messages', 'integer', (c) => c.notNull())
    .addColumn('report_ids', 'text', (c) => c.notNull())
    .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('action_received_packages_key')
    .on('action_received_packages')
    .columns(['partner_id', 'package_id'])
    .unique()
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('action_received_packages').execute();
  await db.schema.dropTable('action_partners').execute();
}
