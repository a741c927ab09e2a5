/**
 * Web roll-ups: the top-N tables read each block's values in descending order of count, only as
 * deep as needed (threshold algorithm, src/web/top-values.ts), from an index on
 * (dim, day, n, value). That index also covers the sums of the daily series, so it replaces the
 * covering index of 0053 (one index to update per roll-up delta, as before).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('web_rollup_top_idx')
    .on('web_rollup_daily')
    .columns(['dim', 'day', 'n', 'value'])
    .execute();
  await db.schema.dropIndex('web_rollup_cover_idx').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('web_rollup_cover_idx')
    .on('web_rollup_daily')
    .columns(['dim', 'day', 'value', 'n'])
    .execute();
  await db.schema.dropIndex('web_rollup_top_idx').execute();
}
