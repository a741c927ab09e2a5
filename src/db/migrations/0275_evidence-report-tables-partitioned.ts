/**
 * PostgreSQL: the per-report tables that grow with reports (the report index, its search terms,
 * the action facts: db/partitions.ts REPORT_TABLES) become partitioned by month of report id like
 * `reports` (0231), each table as it was becoming its first partition, so no row is copied. On a
 * populated database run `spamdesk db partition --prepare` first: it validates online the CHECK
 * this step otherwise validates under the lock (docs/operations.md). SQLite keeps plain tables.
 */
import type { Kysely } from 'kysely';
import { convertReportTable, REPORT_TABLES } from '../partitions.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const spec of REPORT_TABLES) await convertReportTable(db, spec);
}

export async function down(): Promise<void> {
  throw new Error('0275: a partitioned per-report table is not turned back into one table');
}
