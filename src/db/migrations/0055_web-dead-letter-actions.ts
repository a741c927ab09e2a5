/**
 * Web application: what staff did with each intake dead letter (retried → the report it became,
 * retry refused again → why, dismissed), with who and when. `dead_letters.retried_at` (foundation)
 * is set on a successful retry; a dismissal lives only here, so the foundation's table keeps its
 * meaning.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('web_dead_letter_actions')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('dead_letter_id', 'varchar(32)', (c) => c.notNull())
    /** `retried` | `retry-refused` | `dismissed` */
    .addColumn('action', 'varchar(16)', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('at', 'varchar(32)', (c) => c.notNull())
    /** The report id (retried) or the reason (retry-refused). */
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('web_dla_letter_idx')
    .on('web_dead_letter_actions')
    .columns(['dead_letter_id', 'at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('web_dead_letter_actions').execute();
}
