/**
 * Each job kind claims through its own index range (issue 17). The claim asks for the due jobs of
 * one kind, oldest due first; with `(state, run_at)` the engine walks every queued job in due order
 * and drops the other kinds', so a kind with nothing to do read the whole backlog of analysis jobs:
 * 5.7 ms per claim on SQLite in the e2e bench (7 s of the background process's 3,000 reports). On
 * `(kind, state, run_at)` an empty claim is one index probe. It also covers the job counts by kind
 * and state, so `(kind, state)` goes.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('jobs_kind_claim_idx').on('jobs').columns(['kind', 'state', 'run_at']).execute();
  await db.schema.dropIndex('jobs_kind_idx').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('jobs_kind_idx').on('jobs').columns(['kind', 'state']).execute();
  await db.schema.dropIndex('jobs_kind_claim_idx').execute();
}
