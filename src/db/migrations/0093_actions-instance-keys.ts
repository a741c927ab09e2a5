/**
 * Actions area: the instance's signing keys live in the database, shared by every process
 * (Ed25519; the private key encrypted with the configured secret). One row per key ever used:
 * the current one holds `active_slot = 'current'` (unique, so two processes creating or rotating
 * at once cannot both win); retired ones keep their validity period and stay published, so
 * packages signed before a rotation still verify.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('action_instance_keys')
    .addColumn('fingerprint', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('algorithm', 'varchar(16)', (c) => c.notNull())
    .addColumn('public_key_pem', 'text', (c) => c.notNull())
    .addColumn('private_key_enc', 'text', (c) => c.notNull())
    .addColumn('active_slot', 'varchar(16)', (c) => c.unique())
    .addColumn('valid_from', 'varchar(32)', (c) => c.notNull())
    .addColumn('valid_until', 'varchar(32)')
    .addColumn('endorsement', 'text')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('action_instance_keys').execute();
}
