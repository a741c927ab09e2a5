/**
 * Analysis area: the reporters' (and intakes') learned mail hosts for the trace-back
 * (`src/analysis/mailhost-store.ts`): the addresses, and per key how many reports arrived since the
 * last learning pass.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('analysis_mailhosts')
    .addColumn('reporter_key', 'varchar(100)', (c) => c.notNull())
    .addColumn('ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('learned_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('analysis_mailhosts_pk', ['reporter_key', 'ip'])
    .execute();
  await db.schema
    .createTable('analysis_mailhost_keys')
    .addColumn('reporter_key', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('reports_since', 'integer', (c) => c.notNull())
    .addColumn('learned_at', 'varchar(32)')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('analysis_mailhost_keys').execute();
  await db.schema.dropTable('analysis_mailhosts').execute();
}
