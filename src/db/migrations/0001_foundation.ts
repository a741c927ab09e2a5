/**
 * Foundation: evidence, reports, users, API tokens, jobs, dead letters, audit log.
 * Numbering: 0001 foundation, 0002 analysis, 0003 campaigns, 0004 intake channels,
 * 0005 web/accounts, 0006 actions; an area adds 00N1_, 00N2_… within its own decade if it needs more
 * (e.g. 0021_analysis-indexes) — files are applied in name order.
 */
import type { Kysely } from 'kysely';
import { blobType } from '../dialect.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  const blob = blobType(db);
  await db.schema
    .createTable('messages')
    .addColumn('sha256', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('codec', 'varchar(16)', (c) => c.notNull())
    .addColumn('content', blob, (c) => c.notNull())
    .addColumn('first_seen_at', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('email', 'varchar(320)', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('role', 'varchar(32)', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('disabled_at', 'varchar(32)')
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('role', 'varchar(32)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(32)', (c) => c.references('users.id'))
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('revoked_at', 'varchar(32)')
    .addColumn('last_used_at', 'varchar(32)')
    .execute();

  await db.schema
    .createTable('reports')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('message_sha256', 'varchar(64)', (c) => c.notNull().references('messages.sha256'))
    .addColumn('channel', 'varchar(16)', (c) => c.notNull())
    .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('reporter_user_id', 'varchar(32)', (c) => c.references('users.id'))
    .addColumn('reporter_token_id', 'varchar(32)', (c) => c.references('api_tokens.id'))
    .addColumn('reporter_address', 'text')
    .addColumn('client_ip', 'varchar(64)')
    .addColumn('note', 'text')
    .addColumn('quality', 'varchar(16)', (c) => c.notNull())
    .addColumn('dedup_key', 'varchar(200)', (c) => c.unique())
    .addColumn('context', 'text')
    .addColumn('tracking_token', 'varchar(64)', (c) => c.notNull().unique())
    .execute();
  await db.schema.createIndex('reports_message_idx').on('reports').column('message_sha256').execute();
  await db.schema.createIndex('reports_received_idx').on('reports').column('received_at').execute();
  await db.schema
    .createIndex('reports_reporter_idx')
    .on('reports')
    .columns(['reporter_user_id', 'received_at'])
    .execute();
  await db.schema.createIndex('reports_channel_idx').on('reports').columns(['channel', 'received_at']).execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('run_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_by', 'varchar(64)')
    .addColumn('locked_at', 'varchar(32)')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_claim_idx').on('jobs').columns(['state', 'run_at']).execute();
  await db.schema.createIndex('jobs_kind_idx').on('jobs').columns(['kind', 'state']).execute();

  await db.schema
    .createTable('dead_letters')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('source', 'varchar(32)', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('origin', 'text')
    .addColumn('payload', blob)
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('retried_at', 'varchar(32)')
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'varchar(64)', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('ip', 'varchar(64)')
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').column('at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['audit_log', 'dead_letters', 'jobs', 'reports', 'api_tokens', 'users', 'messages']) {
    await db.schema.dropTable(t).execute();
  }
}
