/**
 * A durable job queue in the database. Jobs are enqueued in the same transaction as the data they
 * are about (a report and its analysis job commit together); claiming, leases, back-off, `dead`
 * and requeueing are the lease queue's (`lease-queue.ts`), shared with the outbox.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Job } from '../db/tables.ts';
import { newId, nowIso } from '../core/ids.ts';
import { createLeaseQueue } from './lease-queue.ts';
import { LOCK_CLASS, lockNames } from '../db/xact-locks.ts';

/** A job that fails this many times goes to state `dead` (visible, retryable by hand). */
export const MAX_JOB_ATTEMPTS = 5;
/**
 * The default lease of a claimed job (`SPAMDESK_JOB_LEASE_SECONDS`): the runner renews it while the
 * job runs, and a `running` job whose lease is older than this (its process died) is requeued.
 */
export const JOB_LEASE_MS = 60 * 1000;

export async function enqueueJob(
  db: Kysely<Database>,
  kind: string,
  payload: unknown,
  runAt: Date = new Date(),
): Promise<string> {
  const id = newId();
  const now = nowIso();
  await db
    .insertInto('jobs')
    .values({
      id,
      kind,
      payload: JSON.stringify(payload),
      state: 'queued',
      run_at: runAt.toISOString(),
      attempts: 0,
      locked_by: null,
      locked_at: null,
      last_error: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** The jobs table as a lease queue: a finished job is deleted, a failing one retried after 2 s, 4 s, … up to 1 h. */
export const JOB_QUEUE = createLeaseQueue<Job>({
  table: 'jobs',
  dueColumn: 'run_at',
  leasedState: 'running',
  filterColumn: 'kind',
  done: { kind: 'delete' },
  maxErrorChars: 4000,
  backoff: { baseMs: 2000, maxMs: 60 * 60 * 1000 },
});

/** Claims up to `limit` due jobs of the given kinds for `workerId`. */
export function claimJobs(
  db: Kysely<Database>,
  workerId: string,
  kinds: readonly string[],
  limit: number,
): Promise<Job[]> {
  return JOB_QUEUE.claim(db, workerId, limit, kinds);
}

/**
 * Claims up to `limit` due jobs of `kind` in the order they are due (for a report's job: its intake
 * time, see the analysis stage's hand-on), one batch at a time across every process, and only jobs
 * due before every `behind` job still waiting or running (one that has failed once no longer holds
 * the others back). So the work of `kind` sees its inputs in one order, the order they came in,
 * whatever order the `behind` stage finished them in and however many processes run: the campaign
 * stage founds each campaign with the report that came first, and the same stream gives the same
 * campaigns with one process or three. The price: one batch of `kind` in flight at a time, and a
 * job waits for the slowest earlier one of the stage before it (at most its time bound; a process
 * that dies holding a batch holds the kind until its lease runs out).
 */
export async function claimJobsInOrder(
  db: Kysely<Database>,
  workerId: string,
  kind: string,
  behind: string,
  limit: number,
): Promise<Job[]> {
  // Nothing due is the usual answer: a plain look first, without the transaction (on SQLite a writing
  // one, so every idle poll would take the database's write lock).
  const any = await db
    .selectFrom('jobs')
    .select('id')
    .where('kind', '=', kind)
    .where('state', '=', 'queued')
    .where('run_at', '<=', nowIso())
    .limit(1)
    .executeTakeFirst();
  if (any === undefined) return [];
  return db.transaction().execute(async (trx) => {
    // Serialises the check and the claim across processes (PostgreSQL; SQLite writers already take
    // turns). The claim below then reads with a snapshot taken after the lock.
    await lockNames(trx, LOCK_CLASS.orderedClaim, [kind]);
    const inFlight = await trx
      .selectFrom('jobs')
      .select('id')
      .where('kind', '=', kind)
      .where('state', '=', 'running')
      .limit(1)
      .executeTakeFirst();
    if (inFlight !== undefined) return [];
    const gate = await trx
      .selectFrom('jobs')
      .select((eb) => eb.fn.min('run_at').as('due'))
      .where('kind', '=', behind)
      .where('state', 'in', ['queued', 'running'])
      .where('last_error', 'is', null)
      .executeTakeFirst();
    const now = nowIso();
    const before = gate?.due && gate.due < now ? gate.due : now;
    const ids = await trx
      .selectFrom('jobs')
      .select('id')
      .where('kind', '=', kind)
      .where('state', '=', 'queued')
      .where('run_at', gate?.due ? '<' : '<=', before)
      .orderBy('run_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    if (ids.length === 0) return [];
    const claimed = await trx
      .updateTable('jobs')
      .set((eb) => ({
        state: 'running',
        locked_by: workerId,
        locked_at: now,
        updated_at: now,
        attempts: eb('attempts', '+', 1),
      }))
      .where(
        'id',
        'in',
        ids.map((r) => r.id),
      )
      .where('state', '=', 'queued')
      .returningAll()
      .execute();
    // RETURNING gives the rows in no set order (SQLite: the table's).
    return claimed.sort((a, b) =>
      a.run_at < b.run_at ? -1 : a.run_at > b.run_at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  });
}

/** A finished job leaves the table: nobody needs it, and the claim index stays small. */
export function completeJob(db: Kysely<Database>, id: string): Promise<void> {
  return JOB_QUEUE.complete(db, id);
}

/** Extends the lease of jobs `workerId` still holds; returns how many it holds. */
export function renewJobs(db: Kysely<Database>, workerId: string, ids: readonly string[]): Promise<number> {
  return JOB_QUEUE.renew(db, workerId, ids);
}

/** Finished jobs leave the table in one statement (per 500 ids). */
export function completeJobs(db: Kysely<Database>, ids: readonly string[]): Promise<void> {
  return JOB_QUEUE.completeMany(db, ids);
}

/** Records a failure; retries with exponential backoff, then parks the job as `dead`. */
export async function failJob(db: Kysely<Database>, job: Job, error: string): Promise<'retry' | 'dead'> {
  const state = await JOB_QUEUE.fail(db, job, error, { maxAttempts: MAX_JOB_ATTEMPTS });
  return state === 'dead' ? 'dead' : 'retry';
}

/** Puts abandoned `running` jobs back in the queue. Returns how many. */
export function requeueStaleJobs(db: Kysely<Database>, leaseMs = JOB_LEASE_MS): Promise<number> {
  return JOB_QUEUE.requeueStale(db, leaseMs);
}

/**
 * Queues dead jobs again, due now, with a fresh count of attempts (`spamdesk jobs requeue`): the
 * given ids, or every dead job (of the given kinds). Returns how many.
 */
export function requeueDeadJobs(
  db: Kysely<Database>,
  opts: { ids?: readonly string[]; kinds?: readonly string[] } = {},
): Promise<number> {
  return JOB_QUEUE.requeue(db, { ids: opts.ids, only: opts.kinds });
}

/** Dead jobs, oldest first (`spamdesk jobs list`). */
export async function listDeadJobs(db: Kysely<Database>, opts: { kind?: string; limit?: number } = {}): Promise<Job[]> {
  let q = db
    .selectFrom('jobs')
    .selectAll()
    .where('state', '=', 'dead')
    .orderBy('updated_at')
    .limit(Math.min(opts.limit ?? 100, 1000));
  if (opts.kind) q = q.where('kind', '=', opts.kind);
  return q.execute();
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
