/**
 * SMS gateways retry a delivery they did not see acknowledged, with the same provider message id.
 * Each message id a gateway delivered is kept with the answer it got, so a retry is answered
 * again and never starts a second conversation (issue 12: a retried completing message used to be
 * stored later as a bogus report whose text was a phone number).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sms_gateway_messages')
    .addColumn('key', 'varchar(260)', (c) => c.primaryKey())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('sms_gateway_messages_created_idx')
    .on('sms_gateway_messages')
    .column('created_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sms_gateway_messages').execute();
}
