/**
 * Web roll-ups gain monthly rows (`<dim>:m`, day `YYYY-MM`) so top-N tables over long ranges read
 * ~12 rows per value instead of ~365; derived here from the daily rows already counted.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`insert into web_rollup_daily (dim, day, value, n)
    select dim || ':m', substr(day, 1, 7), value, sum(n) from web_rollup_daily
    where dim not like '%:m' group by dim, substr(day, 1, 7), value`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from web_rollup_daily where dim like '%:m'`.execute(db);
}
