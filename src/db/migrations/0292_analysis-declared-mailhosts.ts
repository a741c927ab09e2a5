/**
 * Analysis area: the mail hosts a reporter (or, for an intake channel, the operator) declares as
 * their own (`src/analysis/stages/traceback/declared.ts`, `src/analysis/mailhost-store.ts`). Kept
 * apart from the learned ones, which a learning pass replaces wholesale.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('analysis_declared_mailhosts')
    .addColumn('reporter_key', 'varchar(100)', (c) => c.notNull())
    .addColumn('entry', 'varchar(260)', (c) => c.notNull())
    .addColumn('note', 'varchar(200)')
    .addColumn('declared_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('declared_by', 'varchar(300)', (c) => c.notNull())
    .addPrimaryKeyConstraint('analysis_declared_mailhosts_pk', ['reporter_key', 'entry'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('analysis_declared_mailhosts').execute();
}
