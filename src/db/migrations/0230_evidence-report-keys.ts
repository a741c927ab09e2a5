/**
 * The report keys that must stay unique across the whole instance, in a narrow table of their own:
 * the idempotency key (`dedup_key`) and the tracking-page secret (`tracking_token`). A partitioned
 * `reports` (PostgreSQL, 0231) cannot keep a unique constraint on a column outside its partition
 * key, so intake writes one `report_keys` row per report in the same transaction as the report, and
 * this table's constraints stop a concurrent twin. Rows already stored are copied here.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('report_keys')
    .addColumn('report_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('dedup_key', 'varchar(200)', (c) => c.unique())
    .addColumn('tracking_token', 'varchar(64)', (c) => c.notNull().unique())
    .execute();
  await sql`insert into report_keys (report_id, dedup_key, tracking_token)
    select id, dedup_key, tracking_token from reports`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('report_keys').execute();
}
