/**
 * Actions area: partners answer back (issue 22). A partner is registered with its base URL
 * (`action_partners.url`), where this instance sends its signed status messages and where the
 * partner's own referrals come from. Every status message sent or received is recorded once by
 * its message id (`action_exchange_messages`), so a replay changes nothing; a partner's request
 * for more (originals, further reports) waits for an analyst's decision (`action_exchange_requests`).
 */
import type { Kysely } from 'kysely';

const ts = 'varchar(32)';
const id = 'varchar(32)';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('action_partners').addColumn('url', 'text').execute();
  await db.schema
    .createTable('action_exchange_messages')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('partner_id', id, (c) => c.notNull())
    .addColumn('direction', 'varchar(8)', (c) => c.notNull())
    .addColumn('message_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('referral_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('case_id', id, (c) => c.notNull())
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('body_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('outbox_id', id)
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('action_exchange_messages_key')
    .on('action_exchange_messages')
    .columns(['partner_id', 'direction', 'message_id'])
    .unique()
    .execute();
  // One message per place in a referral's sequence: two applied at once cannot both take it.
  await db.schema
    .createIndex('action_exchange_messages_sequence')
    .on('action_exchange_messages')
    .columns(['referral_id', 'partner_id', 'direction', 'sequence'])
    .unique()
    .execute();
  await db.schema
    .createTable('action_exchange_requests')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('referral_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('case_id', id, (c) => c.notNull())
    .addColumn('partner_id', id, (c) => c.notNull())
    .addColumn('message_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('question', 'text', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', ts)
    .addColumn('decision_note', 'text')
    .addColumn('follow_up_referral_id', 'varchar(64)')
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('action_exchange_requests_state_idx')
    .on('action_exchange_requests')
    .columns(['state', 'created_at', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('action_exchange_requests').execute();
  await db.schema.dropTable('action_exchange_messages').execute();
  await db.schema.alterTable('action_partners').dropColumn('url').execute();
}
