/**
 * Web application: account fields (locale, lockout, scope of authority and network-operator users),
 * sessions (only a hash of the cookie secret is stored), login attempts (rate limiting and
 * lockout), false-report marks, and the report index + daily roll-ups that keep the workbench list
 * and the dashboards fast at millions of reports (see src/web/indexer.ts).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('locale', 'varchar(8)').execute();
  await db.schema
    .alterTable('users')
    .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('users').addColumn('locked_until', 'varchar(32)').execute();
  await db.schema.alterTable('users').addColumn('last_login_at', 'varchar(32)').execute();
  /** authorities.id (actions area) an authority user acts for. */
  await db.schema.alterTable('users').addColumn('authority_id', 'varchar(64)').execute();
  /** JSON array of AS numbers a network-operator user speaks for. */
  await db.schema.alterTable('users').addColumn('networks', 'text').execute();
  /** Set when the password was generated (first admin): the user is asked to change it. */
  await db.schema
    .alterTable('users')
    .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('web_sessions')
    .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull().references('users.id'))
    .addColumn('csrf_token', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('last_seen_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('ip', 'varchar(64)')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('web_sessions_user_idx').on('web_sessions').column('user_id').execute();

  await db.schema
    .createTable('web_login_attempts')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .addColumn('email', 'varchar(320)', (c) => c.notNull())
    .addColumn('ip', 'varchar(64)')
    .addColumn('ok', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('web_login_attempts_ip_idx').on('web_login_attempts').columns(['ip', 'at']).execute();

  await db.schema
    .createTable('web_report_marks')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('report_id', 'varchar(32)', (c) => c.notNull().references('reports.id'))
    /** `false-report` | `not-false-report` */
    .addColumn('mark', 'varchar(32)', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    .addColumn('note', 'text')
    .execute();
  await db.schema
    .createIndex('web_report_marks_report_idx')
    .on('web_report_marks')
    .columns(['report_id', 'at'])
    .execute();

  await db.schema
    .createTable('web_report_index')
    .addColumn('report_id', 'varchar(32)', (c) => c.primaryKey().references('reports.id'))
    .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('channel', 'varchar(16)', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('message_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('reporter_user_id', 'varchar(32)')
    .addColumn('subject', 'text')
    .addColumn('sender', 'text')
    .addColumn('sender_domain', 'varchar(255)')
    .addColumn('origin_ip', 'varchar(64)')
    .addColumn('origin_country', 'varchar(2)')
    .addColumn('origin_asn', 'integer')
    .addColumn('category', 'varchar(32)')
    .addColumn('campaign_id', 'varchar(64)')
    /** 0 indexed from the raw headers only, 1 analysed, 2 classified. */
    .addColumn('stage', 'integer', (c) => c.notNull())
    .addColumn('false_report', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  // Keyset paging walks (received_at, report_id) backwards; each filter has its own index.
  await db.schema
    .createIndex('web_ri_received_idx')
    .on('web_report_index')
    .columns(['received_at', 'report_id'])
    .execute();
  await db.schema
    .createIndex('web_ri_category_idx')
    .on('web_report_index')
    .columns(['category', 'received_at', 'report_id'])
    .execute();
  await db.schema
    .createIndex('web_ri_campaign_idx')
    .on('web_report_index')
    .columns(['campaign_id', 'received_at', 'report_id'])
    .execute();
  await db.schema
    .createIndex('web_ri_origin_idx')
    .on('web_report_index')
    .columns(['origin_ip', 'received_at'])
    .execute();
  await db.schema
    .createIndex('web_ri_asn_idx')
    .on('web_report_index')
    .columns(['origin_asn', 'received_at', 'report_id'])
    .execute();
  await db.schema
    .createIndex('web_ri_domain_idx')
    .on('web_report_index')
    .columns(['sender_domain', 'received_at'])
    .execute();
  await db.schema
    .createIndex('web_ri_reporter_idx')
    .on('web_report_index')
    .columns(['reporter_user_id', 'received_at', 'report_id'])
    .execute();
  await db.schema.createIndex('web_ri_stage_idx').on('web_report_index').columns(['stage', 'received_at']).execute();
  await db.schema
    .createIndex('web_ri_channel_idx')
    .on('web_report_index')
    .columns(['channel', 'received_at', 'report_id'])
    .execute();

  /** Searchable terms of a report: subject words, URLs, URL domains, e-mail addresses, IPs. */
  await db.schema
    .createTable('web_report_terms')
    .addColumn('term', 'varchar(255)', (c) => c.notNull())
    .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('report_id', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('web_report_terms_pk', ['term', 'received_at', 'report_id'])
    .execute();
  await db.schema.createIndex('web_rt_report_idx').on('web_report_terms').column('report_id').execute();

  /** Reports per day per dimension value (category, channel, country, asn, campaign, domain). */
  await db.schema
    .createTable('web_rollup_daily')
    .addColumn('dim', 'varchar(16)', (c) => c.notNull())
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('value', 'varchar(255)', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('web_rollup_daily_pk', ['dim', 'day', 'value'])
    .execute();

  /** Small key/value state (indexer watermark). */
  await db.schema
    .createTable('web_state')
    .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'web_state',
    'web_rollup_daily',
    'web_report_terms',
    'web_report_index',
    'web_report_marks',
    'web_login_attempts',
    'web_sessions',
  ]) {
    await db.schema.dropTable(t).execute();
  }
  for (const c of [
    'must_change_password',
    'networks',
    'authority_id',
    'last_login_at',
    'locked_until',
    'failed_logins',
    'locale',
  ]) {
    await db.schema.alterTable('users').dropColumn(c).execute();
  }
}
