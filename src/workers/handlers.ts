/**
 * The shape of a background job handler. Which handler runs which job, with which payload and what
 * comes next, is said in one place: `src/app/pipeline.ts`. The runner claims only kinds that have
 * a handler. Nothing here knows the areas: the context a handler receives is a type parameter.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { DB } from '../db/dialect.ts';
import type { Job } from '../db/tables.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';

/** What the runner itself needs of the context it hands to the handlers. */
export interface WorkerContext {
  db: DB;
  logger: Logger;
  metrics: Metrics;
  /** The runner wakes when reports commit. */
  onReports: { add(listener: () => void): unknown; delete(listener: () => void): unknown };
}

export interface JobHandler<C = WorkerContext> {
  kind: string;
  /** Jobs of this kind claimed per round. */
  batchSize?: number;
  /**
   * Claimed in the order they are due, one batch at a time across processes, and only once every
   * earlier job of this kind (the stage before) is done (`jobs.ts` `claimJobsInOrder`).
   */
  inOrderBehind?: string;
  /** Handles a batch; throw (or return per-job errors) to retry. */
  run(jobs: Job[], ctx: C): Promise<Map<string, Error> | undefined>;
  /** Called once when the runner stops (worker threads, caches). */
  close?(): Promise<void>;
}

/** A claimed job with its payload already checked against the job's schema in `app/pipeline.ts`. */
export type TypedJob<P> = Job & { data: P };

/**
 * What an area provides for one job: the work, without the job's name or payload parsing (the
 * pipeline gives both). `run` returns per-job errors, keyed by job id, or throws for the batch.
 */
export interface JobWork<P, C> {
  batchSize?: number;
  run(jobs: TypedJob<P>[], ctx: C): Promise<Map<string, Error> | undefined>;
  close?(): Promise<void>;
}

/**
 * How an area hands its result on to the next step without naming it: called inside the area's
 * transaction (`db` is that transaction), so the result and the next job commit together.
 * `pipeline.ts` decides which job it becomes.
 */
export type HandOn<P> = (db: Kysely<Database>, payload: P, runAt?: Date) => Promise<void>;
