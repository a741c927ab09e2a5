/**
 * Locks held until the end of the current transaction, on names rather than rows: a report's index
 * row (which may not exist yet), a clustering band key. Two transactions that lock overlapping
 * names run one after the other; each takes its names in one sorted order, so two of them can
 * never wait on each other in a circle (no deadlock between these locks).
 *
 * - PostgreSQL: `pg_advisory_xact_lock(class, hashtext(name))`, released at COMMIT/ROLLBACK. Two
 *   names may share a hash: they are then serialised together, which costs a wait, never a result.
 * - SQLite: nothing to do. Every writing transaction begins IMMEDIATE (`db/dialect.ts`), so writers
 *   already run one at a time, across processes too.
 *
 * Lock order for the whole code base (docs/operations.md): singleton session locks, then these
 * transaction locks by class in the order of {@link LOCK_CLASS} (each class's names sorted), then
 * rows, with shared counters (roll-ups) last and in key order.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { dialectOf } from './dialect.ts';

/** Lock classes (the first half of the advisory key), in the order a transaction may take them. */
export const LOCK_CLASS = {
  /**
   * A job kind claimed in intake order (`workers/jobs.ts` `claimJobsInOrder`): taken alone, in the
   * claim's own short transaction, so two processes never both see "no batch in flight" at once.
   */
  orderedClaim: 0x5cff,
  /** A message whose analysis is being stored (its sha256): two batches holding it store it in turn. */
  analysisMessage: 0x5d00,
  /** A message being placed in a campaign: its sha256, LSH band keys and strong-link values. */
  clusterKey: 0x5d02,
  /** A report's row of the workbench index and the roll-up deltas it implies. */
  indexReport: 0x5d03,
  /** A reporter key of the learned mail hosts (its counter and its learned set). */
  mailhostKey: 0x5d04,
  /**
   * A case target (`campaign:<surviving campaign id>`, `sender_domain:<domain>`): who looks for its
   * live case and opens one when none is found, so two processes never open two cases for it.
   */
  caseTarget: 0x5d05,
  /**
   * A case whose tally is being built in steps (`actions/cases/case-tally-backfill.ts`): a step and
   * the reports joining, leaving or re-analysed in that case meanwhile run one after the other.
   */
  caseTally: 0x5d06,
} as const;

/**
 * Takes the transaction locks of `names` (deduplicated, sorted) in `cls`. Call it inside a
 * transaction (`db` is the transaction), before reading what the names protect.
 */
export async function lockNames(db: Kysely<Database>, cls: number, names: Iterable<string>): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  const sorted = [...new Set(names)].sort();
  if (sorted.length === 0) return;
  // One statement, the names taken in the order of the sorted subquery (OFFSET 0 keeps PostgreSQL
  // from flattening it, so the volatile lock function runs row by row in that order).
  await sql`select pg_advisory_xact_lock(${cls}::int, hashtext(s.n))
            from (select n from unnest(${sorted}::text[]) as t(n) order by n offset 0) as s`.execute(db);
}
