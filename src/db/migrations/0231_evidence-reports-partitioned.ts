/**
 * PostgreSQL: `reports` becomes a table partitioned by month of id (db/partitions.ts); the table
 * as it was becomes its first partition, so no row is copied. A fresh install starts partitioned
 * the same way. On a populated database run `spamdesk db partition --prepare` first: it validates
 * the CHECK this step otherwise validates here, under the lock (docs/operations.md). SQLite keeps
 * one table.
 */
import type { Kysely } from 'kysely';
import { convertToPartitioned } from '../partitions.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await convertToPartitioned(db);
}

export async function down(): Promise<void> {
  throw new Error('0231: a partitioned reports table is not turned back into one table');
}
