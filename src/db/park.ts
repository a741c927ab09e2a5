/**
 * Parking a message that a stage cannot handle (STYLE.md "Failures are results", IntelMQ's dump):
 * the stage writes it to `dead_letters` with its reason and goes on with the others, so one bad
 * message never holds the stage back. Staff see it on the dead-letters page (`src/web/dead-letters.ts`),
 * with the stage as its source and the report, message or job as its origin.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { newId, nowIso } from '../core/ids.ts';

/** Longest reason kept (a stack trace is cut). */
const MAX_REASON = 2000;

export interface Parked {
  /** The stage that parked it: `web-indexer`, `job:<kind>` (at most 32 characters). */
  source: string;
  /** What was parked: `report:<id>`, `job:<id> …`. */
  origin: string;
  reason: string;
}

/** Parks once: an open dead letter with the same source and origin is not written again. Returns true when written. */
export async function parkFailure(db: Kysely<Database>, p: Parked): Promise<boolean> {
  const source = p.source.slice(0, 32);
  const known = await db
    .selectFrom('dead_letters')
    .select('id')
    .where('source', '=', source)
    .where('origin', '=', p.origin)
    .where('retried_at', 'is', null)
    .executeTakeFirst();
  if (known) return false;
  await db
    .insertInto('dead_letters')
    .values({
      id: newId(),
      source,
      reason: p.reason.slice(0, MAX_REASON),
      origin: p.origin,
      payload: null,
      created_at: nowIso(),
      retried_at: null,
    })
    .execute();
  return true;
}

/** The message of an error, for a reason. */
export function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
