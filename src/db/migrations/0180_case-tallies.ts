/**
 * A case's counts kept as reports join and leave it (issue 18): the case page of a case of 145,743
 * reports took 8.4 s to group its report facts into indicators and origins, 582 ms to count its
 * reports per day (`npm run bench -- cases`, 1,000,000 reports). `action_case_tallies` holds, per
 * case, one row per counted value — `total`, `day` (YYYY-MM-DD), `sender`, `advertised`, `asn`,
 * `country`, `ip` — with how many of its reports carry it; the ASN and IP rows also carry the
 * network's name (and the IP's AS and country) first seen. The `total` row marks a tally as built:
 * cases opened before this migration are tallied from their reports the first time they are read.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('action_case_tallies')
    .addColumn('case_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('reports', 'integer', (c) => c.notNull())
    .addColumn('asn', 'integer')
    .addColumn('as_name', 'text')
    .addColumn('country', 'varchar(8)')
    .addPrimaryKeyConstraint('action_case_tallies_pk', ['case_id', 'kind', 'value'])
    .execute();
  await db.schema
    .createIndex('action_case_tallies_top_idx')
    .on('action_case_tallies')
    .columns(['case_id', 'kind', 'reports'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('action_case_tallies_top_idx').execute();
  await db.schema.dropTable('action_case_tallies').execute();
}
