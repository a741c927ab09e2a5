/**
 * Actions area: outbox, report facts, cases and history, authorities and referrals, network
 * operators, ISP alerts and digests, registered senders (see `src/db/actions-tables.ts`).
 */
import type { Kysely } from 'kysely';
import { blobType } from '../dialect.ts';

const ts = 'varchar(32)';
const id = 'varchar(32)';

export async function up(db: Kysely<unknown>): Promise<void> {
  const blob = blobType(db);
  await db.schema
    .createTable('action_outbox')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('channel', 'varchar(16)', (c) => c.notNull())
    .addColumn('idempotency_key', 'varchar(300)', (c) => c.notNull().unique())
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('envelope_from', 'text')
    .addColumn('headers', 'text')
    .addColumn('body', blob, (c) => c.notNull())
    .addColumn('body_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', ts, (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('locked_by', 'varchar(100)')
    .addColumn('locked_at', ts)
    .addColumn('purpose', 'varchar(32)', (c) => c.notNull())
    .addColumn('subject_id', id)
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('sent_at', ts)
    .execute();
  await db.schema
    .createIndex('action_outbox_due_idx')
    .on('action_outbox')
    .columns(['state', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('action_outbox_subject_idx')
    .on('action_outbox')
    .columns(['purpose', 'subject_id'])
    .execute();

  await db.schema
    .createTable('action_report_facts')
    .addColumn('report_id', id, (c) => c.primaryKey())
    .addColumn('message_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('campaign_id', 'varchar(64)')
    .addColumn('category', 'varchar(64)')
    .addColumn('received_at', ts, (c) => c.notNull())
    .addColumn('origin_ip', 'varchar(64)')
    .addColumn('origin_asn', 'bigint')
    .addColumn('origin_as_name', 'text')
    .addColumn('origin_country', 'varchar(8)')
    .addColumn('origin_rdns', 'text')
    .addColumn('origin_abuse', 'text')
    .addColumn('origin_port', 'integer')
    .addColumn('sender_domain', 'varchar(255)')
    .addColumn('advertised_domains', 'text')
    .addColumn('consent_denied', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('unauthenticated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('bot_signals', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('action_facts_campaign_idx')
    .on('action_report_facts')
    .columns(['campaign_id', 'received_at'])
    .execute();
  await db.schema
    .createIndex('action_facts_sender_idx')
    .on('action_report_facts')
    .columns(['sender_domain', 'received_at'])
    .execute();
  await db.schema
    .createIndex('action_facts_origin_idx')
    .on('action_report_facts')
    .columns(['origin_ip', 'received_at'])
    .execute();
  await db.schema.createIndex('action_facts_received_idx').on('action_report_facts').column('received_at').execute();

  await db.schema
    .createTable('action_cases')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('target_kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('target_value', 'varchar(300)', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('category', 'varchar(64)')
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('merged_into', id)
    .addColumn('opened_by', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('action_cases_target_idx')
    .on('action_cases')
    .columns(['target_kind', 'target_value', 'state'])
    .execute();

  await db.schema
    .createTable('action_case_reports')
    .addColumn('case_id', id, (c) => c.notNull().references('action_cases.id'))
    .addColumn('report_id', id, (c) => c.notNull())
    .addColumn('message_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('added_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('action_case_reports_pk', ['case_id', 'report_id'])
    .execute();

  await db.schema
    .createTable('action_case_events')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('case_id', id, (c) => c.notNull().references('action_cases.id'))
    .addColumn('at', ts, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('action_case_events_case_idx')
    .on('action_case_events')
    .columns(['case_id', 'at'])
    .execute();

  await db.schema
    .createTable('action_authorities')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('country', 'varchar(8)', (c) => c.notNull())
    .addColumn('competence', 'varchar(32)', (c) => c.notNull())
    .addColumn('contact_kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('evidence_mode', 'varchar(32)', (c) => c.notNull())
    .addColumn('user_id', id)
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('action_referrals')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('case_id', id, (c) => c.notNull().references('action_cases.id'))
    .addColumn('authority_id', id, (c) => c.notNull().references('action_authorities.id'))
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('package_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('package_size', 'bigint', (c) => c.notNull())
    .addColumn('package', blob, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('action_referrals_case_idx').on('action_referrals').column('case_id').execute();

  await db.schema
    .createTable('action_operators')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('abuse_address', 'text', (c) => c.notNull())
    .addColumn('format', 'varchar(8)', (c) => c.notNull())
    .addColumn('opted_out', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('user_id', id)
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('action_operator_asns')
    .addColumn('asn', 'bigint', (c) => c.primaryKey())
    .addColumn('operator_id', id, (c) => c.notNull().references('action_operators.id'))
    .execute();

  await db.schema
    .createTable('action_isp_alerts')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('operator_id', id, (c) => c.notNull().references('action_operators.id'))
    .addColumn('asn', 'bigint')
    .addColumn('ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('first_seen', ts, (c) => c.notNull())
    .addColumn('last_seen', ts, (c) => c.notNull())
    .addColumn('report_count', 'integer', (c) => c.notNull())
    .addColumn('campaign_count', 'integer', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('digest_id', id)
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('handled_at', ts)
    .addColumn('handled_by', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('action_isp_alerts_ip_idx')
    .on('action_isp_alerts')
    .columns(['ip', 'created_at'])
    .execute();
  await db.schema
    .createIndex('action_isp_alerts_operator_idx')
    .on('action_isp_alerts')
    .columns(['operator_id', 'state'])
    .execute();

  await db.schema
    .createTable('action_isp_digests')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('operator_id', id, (c) => c.notNull().references('action_operators.id'))
    .addColumn('format', 'varchar(8)', (c) => c.notNull())
    .addColumn('period_start', ts, (c) => c.notNull())
    .addColumn('period_end', ts, (c) => c.notNull())
    .addColumn('alert_count', 'integer', (c) => c.notNull())
    .addColumn('csv', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('action_senders')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('feedback_address', 'text', (c) => c.notNull())
    .addColumn('user_id', id)
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('action_sender_identities')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('sender_id', id, (c) => c.notNull().references('action_senders.id'))
    .addColumn('kind', 'varchar(8)', (c) => c.notNull())
    .addColumn('value', 'varchar(300)', (c) => c.notNull())
    .addColumn('token', 'varchar(100)', (c) => c.notNull())
    .addColumn('verified_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('action_sender_identities_value_idx')
    .on('action_sender_identities')
    .columns(['kind', 'value'])
    .execute();
  await db.schema
    .createTable('action_fbl_sent')
    .addColumn('report_id', id, (c) => c.notNull())
    .addColumn('identity_id', id, (c) => c.notNull())
    .addColumn('outbox_id', id, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('action_fbl_sent_pk', ['report_id', 'identity_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'action_fbl_sent',
    'action_sender_identities',
    'action_senders',
    'action_isp_digests',
    'action_isp_alerts',
    'action_operator_asns',
    'action_operators',
    'action_referrals',
    'action_authorities',
    'action_case_events',
    'action_case_reports',
    'action_cases',
    'action_report_facts',
    'action_outbox',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}
