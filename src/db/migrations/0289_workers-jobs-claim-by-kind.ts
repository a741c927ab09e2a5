/**
 * Each job kind looks for its due jobs through its own index range (issue 17). The claim and the
 * look before it (`workers/lease-queue.ts`) ask for the due jobs of one kind, oldest due first; on
 * `(state, run_at)` the engine walks every queued job in due order and drops the other kinds', so a
 * kind with nothing to do read the whole backlog of analysis jobs. On `(kind, state, run_at)` it is
 * one index probe. (In the e2e bench claims took 5.7 ms each on SQLite, 1,251 of them for 3,000
 * reports; most of that was the claim's UPDATE, which the look before it now skips when nothing is
 * due.) The index also covers the job counts by kind and state, so `(kind, state)` goes.
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
