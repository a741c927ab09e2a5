/**
 * Whether PostgreSQL keeps its planner statistics current by itself. With autovacuum off nothing is
 * analysed as tables grow: plans chosen for an empty table stay (the band look-up once read its whole
 * table per report that way, migration 0291) and index-only scans stop being index-only. A process
 * that writes says so once at start, with what to do (docs/operations.md, "Autovacuum").
 */
import { sql } from 'kysely';
import type { DB } from './dialect.ts';

/** The warning for an operator, or null when autovacuum is on (or the engine is SQLite). */
export async function autovacuumWarning(db: DB, dialect: 'sqlite' | 'postgres'): Promise<string | null> {
  if (dialect !== 'postgres') return null;
  const r = await sql<{ autovacuum: string }>`show autovacuum`.execute(db);
  if (r.rows[0]?.autovacuum !== 'off') return null;
  return (
    'PostgreSQL autovacuum is off: nothing is analysed as the tables grow, so plans and the visibility map go ' +
    'stale. Turn it on (autovacuum = on) or run VACUUM ANALYZE on a schedule; see docs/operations.md, "Autovacuum".'
  );
}
