/**
 * Web roll-ups: a covering index (dim, day, value, n), so the top-N tables sum `n` from the index
 * without a table lookup per row (measured at 1,000,000 reports in SQLite: a year of top advertised
 * domains from ~185 ms to ~100 ms; `npm run bench -- web`).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('web_rollup_cover_idx')
    .on('web_rollup_daily')
    .columns(['dim', 'day', 'value', 'n'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('web_rollup_cover_idx').execute();
}
