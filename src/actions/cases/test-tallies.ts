/**
 * Test support for the kept case tallies: the stored rows and the grouping they must equal, each
 * as sorted `kind|value|reports|asn|as_name|country` lines that compare with deepEqual.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { computeCaseTally } from './case-tally.ts';

/** The tally rows kept for `caseId`. */
export async function storedTally(db: Kysely<Database>, caseId: string): Promise<string[]> {
  const rows = await db.selectFrom('action_case_tallies').selectAll().where('case_id', '=', caseId).execute();
  return rows
    .map((r) => `${r.kind}|${r.value}|${Number(r.reports)}|${r.asn ?? ''}|${r.as_name ?? ''}|${r.country ?? ''}`)
    .sort();
}

/** What grouping the case's reports now gives (rows counted down to zero left out). */
export async function referenceTally(db: Kysely<Database>, caseId: string): Promise<string[]> {
  const rows = [...(await computeCaseTally(db, caseId)).values()].filter((r) => r.reports > 0 || r.kind === 'total');
  return rows
    .map((r) => `${r.kind}|${r.value}|${r.reports}|${r.asn ?? ''}|${r.as_name ?? ''}|${r.country ?? ''}`)
    .sort();
}
