/**
 * One lease queue for every table of work that processes claim: the job queue (`jobs`,
 * `workers/jobs.ts`) and the outbox (`action_outbox`, `actions/outbox/outbox.ts`). Both keep their
 * own table and their own columns; what they share is the life of a row:
 *
 *     queued ──claim──▶ leased ──complete──▶ deleted, or a final state (`sent`)
 *       ▲                 │
 *       │◀──fail (back-off)┤──fail, last attempt or permanent──▶ dead ──requeue──▶ queued
 *       │◀── lease expired ┘
 *
 * A claim is one statement, `WITH due AS MATERIALIZED (SELECT … [FOR UPDATE SKIP LOCKED])
 * UPDATE … RETURNING *`, so several processes on several machines can share one PostgreSQL and
 * never get the same row; on SQLite the single writer gives the same guarantee. A process that
 * dies holding a lease loses nothing: the row is queued again once its lease is older than the
 * lease time.
 *
 * The SQL is written once here with Kysely's `sql` tag (table and column names come from the
 * constant specs below, never from input), and runs unchanged on SQLite and PostgreSQL.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.ts';
import { supportsSkipLocked } from '../db/dialect.ts';
import { nowIso } from '../core/ids.ts';

/** The state of a row waiting for its due time. */
export const QUEUED = 'queued';
/** The state of a row given up on: kept, visible, and queued again only by hand (`requeue`). */
export const DEAD = 'dead';

/** The columns every lease table has, whatever else it holds. */
export interface LeaseColumns {
  id: string;
  state: string;
  attempts: number;
  locked_by: string | null;
  locked_at: string | null;
  last_error: string | null;
  updated_at: string;
}

/** How one table keeps its queue. */
export interface LeaseTableSpec {
  table: string;
  /** The column holding when a queued row is next due (ISO 8601 text). */
  dueColumn: string;
  /** The state of a claimed row (`running`, `sending`). */
  leasedState: string;
  /** The column `claim`'s `only` filter applies to (`kind`, `channel`). */
  filterColumn: string;
  /** What `complete` does: delete the row, or move it to a final state and stamp the time. */
  done: { kind: 'delete' } | { kind: 'state'; state: string; atColumn: string };
  /** Longest error text kept in `last_error`. */
  maxErrorChars: number;
  /** The first retry waits `baseMs`, each further one twice as long, never longer than `maxMs`. */
  backoff: { baseMs: number; maxMs: number };
}

export interface FailOptions {
  /** Attempts allowed in all; the attempt that reaches it fails to `dead`. */
  maxAttempts: number;
  /** A failure that no retry can mend (SMTP 5xx, HTTP 404): dead at once. */
  permanent?: boolean;
  /** Overrides the spec's back-off base (the outbox's is a setting). */
  baseMs?: number;
}

export interface RequeueOptions {
  /** Only these rows; without it, every row in `states`. */
  ids?: readonly string[];
  /** Which states may be queued again (default: dead only). */
  states?: readonly string[];
  /** Only rows whose filter column (kind, channel) is one of these. */
  only?: readonly string[];
}

export interface LeaseQueue<Row extends LeaseColumns> {
  readonly spec: LeaseTableSpec;
  /** Claims up to `limit` due rows for `workerId`, oldest due first; `only` limits the filter column. */
  claim(db: Kysely<Database>, workerId: string, limit: number, only?: readonly string[]): Promise<Row[]>;
  /** Extends the lease of rows `workerId` still holds (a long task); returns how many it holds. */
  renew(db: Kysely<Database>, workerId: string, ids: readonly string[]): Promise<number>;
  /** A row done: deleted, or moved to the final state with its time stamped. */
  complete(db: Kysely<Database>, id: string): Promise<void>;
  /**
   * Rows done, in one statement per {@link MAX_IDS_PER_STATEMENT} ids (a batch's `DELETE … IN`
   * instead of one statement, and on SQLite one commit, per row).
   */
  completeMany(db: Kysely<Database>, ids: readonly string[]): Promise<void>;
  /** Records a failed attempt: queued again after the back-off, or `dead`. */
  fail(
    db: Kysely<Database>,
    row: Pick<Row, 'id' | 'attempts'>,
    error: string,
    opts: FailOptions,
  ): Promise<'queued' | 'dead'>;
  /** Queues again the rows whose lease is at least `leaseMs` old (their process died). */
  requeueStale(db: Kysely<Database>, leaseMs: number): Promise<number>;
  /** Queues rows again by hand, due now, with a fresh count of attempts; returns how many. */
  requeue(db: Kysely<Database>, opts?: RequeueOptions): Promise<number>;
}

/** Exponential back-off after `attempts` attempts: base · 2^(attempts−1), at most `maxMs`. */
export function backoffDelayMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/** Most ids bound in one statement (SQLite's default limit is 32,766 parameters; kept well below). */
export const MAX_IDS_PER_STATEMENT = 500;

function inList(values: readonly string[]): RawBuilder<unknown> {
  return sql`(${sql.join(values.map((v) => sql`${v}`))})`;
}

async function affected(db: Kysely<Database>, query: RawBuilder<unknown>): Promise<number> {
  const res = await query.execute(db);
  return Number(res.numAffectedRows ?? 0n);
}

/** The queue of one table. Row is the table's selectable row type. */
export function createLeaseQueue<Row extends LeaseColumns>(spec: LeaseTableSpec): LeaseQueue<Row> {
  const table = sql.table(spec.table);
  const due = sql.ref(spec.dueColumn);
  const filter = sql.ref(spec.filterColumn);

  async function completeMany(db: Kysely<Database>, ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_STATEMENT) {
      const some = inList(ids.slice(i, i + MAX_IDS_PER_STATEMENT));
      if (spec.done.kind === 'delete') {
        await sql`delete from ${table} where id in ${some}`.execute(db);
        continue;
      }
      const now = nowIso();
      await sql`
        update ${table}
        set state = ${spec.done.state}, ${sql.ref(spec.done.atColumn)} = ${now}, updated_at = ${now},
            locked_by = null, locked_at = null, last_error = null
        where id in ${some}`.execute(db);
    }
  }

  return {
    spec,

    async claim(db, workerId, limit, only) {
      if (only && only.length === 0) return [];
      const now = nowIso();
      const byFilter = only ? sql`and ${filter} in ${inList(only)}` : sql``;
      // Nothing due is the usual answer of a stage waiting for work: a plain look first, since the
      // claim's UPDATE costs milliseconds on SQLite even when it changes nothing (issue 17). A row
      // queued just after the look is claimed by the next call, as it would be after an empty claim.
      const any = await sql<{ id: string }>`
        select id from ${table} where state = ${QUEUED} and ${due} <= ${now} ${byFilter} limit 1`.execute(db);
      if (any.rows.length === 0) return [];
      const lock = supportsSkipLocked(db) ? sql`for update skip locked` : sql``;
      // The due rows are chosen once, in a materialized CTE. As `WHERE id IN (SELECT … LIMIT n FOR
      // UPDATE SKIP LOCKED)` PostgreSQL may plan a nested-loop semi join that runs the subquery
      // again for every outer row, each run skipping the rows the last one took: a claim of 1
      // took every due row (seen on PostgreSQL 15; see the test "… a claim takes at most its limit").
      const res = await sql<Row>`
        with due as materialized (
          select id from ${table}
          where state = ${QUEUED} and ${due} <= ${now} ${byFilter}
          order by ${due}, id
          limit ${limit}
          ${lock}
        )
        update ${table}
        set state = ${spec.leasedState}, locked_by = ${workerId}, locked_at = ${now}, updated_at = ${now},
            attempts = attempts + 1
        where id in (select id from due) and state = ${QUEUED}
        returning *`.execute(db);
      return res.rows;
    },

    async renew(db, workerId, ids) {
      if (ids.length === 0) return 0;
      const now = nowIso();
      return affected(
        db,
        sql`update ${table} set locked_at = ${now}, updated_at = ${now}
            where id in ${inList(ids)} and state = ${spec.leasedState} and locked_by = ${workerId}`,
      );
    },

    complete: (db, id) => completeMany(db, [id]),
    completeMany,

    async fail(db, row, error, opts) {
      const dead = opts.permanent === true || row.attempts >= opts.maxAttempts;
      const next = new Date(
        Date.now() + backoffDelayMs(row.attempts, opts.baseMs ?? spec.backoff.baseMs, spec.backoff.maxMs),
      ).toISOString();
      await sql`
        update ${table}
        set state = ${dead ? DEAD : QUEUED}, ${due} = ${next}, last_error = ${error.slice(0, spec.maxErrorChars)},
            locked_by = null, locked_at = null, updated_at = ${nowIso()}
        where id = ${row.id}`.execute(db);
      return dead ? DEAD : QUEUED;
    },

    async requeueStale(db, leaseMs) {
      const cutoff = new Date(Date.now() - leaseMs).toISOString();
      return affected(
        db,
        sql`update ${table} set state = ${QUEUED}, locked_by = null, locked_at = null, updated_at = ${nowIso()}
            where state = ${spec.leasedState} and locked_at <= ${cutoff}`,
      );
    },

    async requeue(db, opts = {}) {
      if (opts.ids?.length === 0 || opts.only?.length === 0) return 0;
      const now = nowIso();
      const byId = opts.ids ? sql`and id in ${inList(opts.ids)}` : sql``;
      const byFilter = opts.only ? sql`and ${filter} in ${inList(opts.only)}` : sql``;
      return affected(
        db,
        sql`update ${table}
            set state = ${QUEUED}, ${due} = ${now}, attempts = 0, locked_by = null, locked_at = null,
                updated_at = ${now}
            where state in ${inList(opts.states ?? [DEAD])} ${byId} ${byFilter}`,
      );
    },
  };
}

/**
 * Runs `work` while renewing the lease of what it holds every third of `leaseMs` (at least every
 * 500 ms), so work that takes longer than the lease is not taken for abandoned and done twice by
 * another process. `renew` returns how many of the `count` claimed rows are still held; fewer is
 * reported through `onLost` (another process took them: its work and this one may both finish).
 */
export async function whileLeased<T>(
  lease: {
    leaseMs: number;
    count: number;
    renew: () => Promise<number>;
    onLost: (held: number) => void;
    onError: (e: unknown) => void;
  },
  work: () => Promise<T>,
): Promise<T> {
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = renewing.then(async () => {
        try {
          const held = await lease.renew();
          if (held < lease.count) lease.onLost(held);
        } catch (e) {
          lease.onError(e);
        }
      });
    },
    Math.max(500, Math.floor(lease.leaseMs / 3)),
  );
  try {
    return await work();
  } finally {
    clearInterval(timer);
    await renewing;
  }
}
