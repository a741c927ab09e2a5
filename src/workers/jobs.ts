/**
 * A durable job queue in the database. Jobs are enqueued in the same transaction as the data they
 * are about (a report and its analysis job commit together) and claimed atomically by
 * `UPDATE … WHERE id IN (SELECT … [FOR UPDATE SKIP LOCKED]) RETURNING *`, so several processes on
 * several machines can share one PostgreSQL, and a crashed worker's lease expires.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Job } from '../db/tables.ts';
import { supportsSkipLocked } from '../db/dialect.ts';
import { newId, nowIso } from '../core/ids.ts';

/** A job that fails this many times goes to state `dead` (visible, retryable by hand). */
export const MAX_JOB_ATTEMPTS = 5;
/** A `running` job whose lease is older than this is considered abandoned and requeued. */
export const JOB_LEASE_MS = 5 * 60 * 1000;

export async function enqueueJob(db: Kysely<Database>, kind: string, payload: unknown, runAt: Date = new Date()): Promise<string> {
  const id = newId();
  const now = nowIso();
  await db
    .insertInto('jobs')
    .values({ id, kind, payload: JSON.stringify(payload), state: 'queued', run_at: runAt.toISOString(), attempts: 0, locked_by: null, locked_at: null, last_error: null, created_at: now, updated_at: now })
    .execute();
  return id;
}

/** Claims up to `limit` due jobs of the given kinds for `workerId`. */
export async function claimJobs(db: Kysely<Database>, workerId: string, kinds: readonly string[], limit: number): Promise<Job[]> {
  if (kinds.length === 0) return [];
  const now = nowIso();
  let due = db
    .selectFrom('jobs')
    .select('id')
    .where('state', '=', 'queued')
    .where('run_at', '<=', now)
    .where('kind', 'in', kinds)
    .orderBy('run_at')
    .limit(limit);
  if (supportsSkipLocked(db)) due = due.forUpdate().skipLocked();
  return db
    .updateTable('jobs')
    .set({ state: 'running', locked_by: workerId, locked_at: now, updated_at: now, attempts: (eb) => eb('attempts', '+', 1) })
    .where('id', 'in', due)
    .returningAll()
    .execute();
}

/** A finished job leaves the table: nobody needs it, and the claim index stays small. */
export async function completeJob(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('jobs').where('id', '=', id).execute();
}

/** Records a failure; retries with exponential backoff, then parks the job as `dead`. */
export async function failJob(db: Kysely<Database>, job: Job, error: string): Promise<'retry' | 'dead'> {
  const dead = job.attempts >= MAX_JOB_ATTEMPTS;
  const delayMs = Math.min(60 * 60 * 1000, 1000 * 2 ** job.attempts);
  await db
    .updateTable('jobs')
    .set({
      state: dead ? 'dead' : 'queued',
      run_at: new Date(Date.now() + delayMs).toISOString(),
      last_error: error.slice(0, 4000),
      locked_by: null,
      locked_at: null,
      updated_at: nowIso(),
    })
    .where('id', '=', job.id)
    .execute();
  return dead ? 'dead' : 'retry';
}

/** Puts abandoned `running` jobs back in the queue. Returns how many. */
export async function requeueStaleJobs(db: Kysely<Database>, leaseMs = JOB_LEASE_MS): Promise<number> {
  const cutoff = new Date(Date.now() - leaseMs).toISOString();
  const res = await db
    .updateTable('jobs')
    .set({ state: 'queued', locked_by: null, locked_at: null, updated_at: nowIso() })
    .where('state', '=', 'running')
    .where('locked_at', '<', cutoff)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Job counts by kind and state (for /metrics and `spamdesk stats`). */
export async function jobCounts(db: Kysely<Database>): Promise<{ kind: string; state: string; n: number }[]> {
  const rows = await db
    .selectFrom('jobs')
    .select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['kind', 'state'])
    .execute();
  return rows.map((r) => ({ kind: r.kind, state: r.state, n: Number(r.n) }));
}
