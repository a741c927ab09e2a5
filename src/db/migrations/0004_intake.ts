/**
 * Intake channels: SMS reports waiting for their sender's number (the two-step 7726/33700
 * conversation of the SMS-gateway webhook). SMTP rate-limit state is kept in memory.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sms_pending')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    // One conversation per subscriber at a time.
    .addColumn('reporter_number', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('gateway_message_id', 'varchar(200)')
    .addColumn('token_id', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sms_pending_created_at').on('sms_pending').column('created_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sms_pending').execute();
}
