/**
 * The worker loop: claims due jobs of the kinds that have a handler, runs them, retries failures
 * with backoff, parks the hopeless as `dead` and in `dead_letters` with the reason (visible to staff).
 * A batch that fails as a whole is re-run one job at a time, so one poisoned message fails alone. Wakes at once when a
 * report commits; otherwise polls.
 */
import os from 'node:os';
import {
  JOB_LEASE_MS,
  claimJobs,
  claimJobsInOrder,
  completeJobs,
  failJob,
  renewJobs,
  requeueStaleJobs,
} from './jobs.ts';
import type { JobHandler, WorkerContext } from './handlers.ts';
import { createIdleWait } from './idle-wait.ts';
import { whileLeased } from './lease-queue.ts';
import type { Job } from '../db/tables.ts';
import { parkFailure } from '../db/park.ts';
import { dialectOf } from '../db/dialect.ts';

const IDLE_POLL_MS = 1000;
/** Jobs claimed per round for a handler that does not say. */
const DEFAULT_BATCH_SIZE = 50;
/** Abandoned jobs are looked for this often at most, and at least twice per lease. */
const STALE_CHECK_MS = 60_000;

export interface WorkerOptions {
  /**
   * Lease of a claimed job (`SPAMDESK_JOB_LEASE_SECONDS`, default {@link JOB_LEASE_MS}): renewed every
   * third of it while its batch runs; a job whose lease ran out (its process died) is queued again.
   */
  leaseMs?: number;
  /**
   * One loop per job kind, so the stages overlap (default: on PostgreSQL). On SQLite the default is
   * one loop over the kinds in turn: its one connection and one main thread gain nothing from the
   * overlap, and the per-kind loops' smaller, more frequent batches cost more CPU per report there
   * (bench/RESULTS.md, 2026-12-03 issue 17).
   */
  overlap?: boolean;
}

export interface WorkerRunner {
  /** Resolves once the current round has finished and handlers are closed. */
  stop(): Promise<void>;
  /** Runs until no due job is left (tests, CLI). */
  drain(): Promise<number>;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Runs a batch; when the handler throws for the whole batch, runs each job of it on its own, so
 * the one job that makes it throw fails alone (retried with backoff, then parked) and the others
 * go on. Per-job errors the handler returns are kept as they are.
 */
export async function runIsolated<C extends WorkerContext>(
  h: JobHandler<C>,
  jobs: Job[],
  ctx: C,
): Promise<Map<string, Error>> {
  try {
    return (await h.run(jobs, ctx)) ?? new Map();
  } catch (e) {
    if (jobs.length === 1) return new Map([[jobs[0].id, asError(e)]]);
  }
  const errors = new Map<string, Error>();
  for (const j of jobs) {
    try {
      const one = await h.run([j], ctx);
      const err = one?.get(j.id);
      if (err) errors.set(j.id, err);
    } catch (e) {
      errors.set(j.id, asError(e));
    }
  }
  return errors;
}

/**
 * Runs the given handlers (`jobHandlers()` of `app/pipeline.ts` in the platform) until stopped.
 *
 * With `overlap` (PostgreSQL's default) each job kind has its own loop, so the stages overlap: the analysis threads
 * work on one batch while the campaign and actions stages store theirs. A kind runs one batch at a time (handlers
 * keep per-runner state and are not re-entrant), claims in the queue's order as before, and hands on through the
 * queue, so what each stage sees and decides is what one loop over the kinds gave. A loop whose batch was full goes
 * on at once; one that took less waits until a stage before it (or a committed report) wakes it, or the poll, so the
 * later stages take what an earlier batch handed on in one batch rather than a trickle of small ones (each a
 * commit).
 */
export function startWorkers<C extends WorkerContext>(
  ctx: C,
  handlers: JobHandler<C>[],
  opts: WorkerOptions = {},
): WorkerRunner {
  const leaseMs = opts.leaseMs ?? JOB_LEASE_MS;
  const staleCheckMs = Math.min(STALE_CHECK_MS, Math.max(1000, Math.floor(leaseMs / 2)));
  const workerId = `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const byKind = new Map(handlers.map((h) => [h.kind, h]));
  let stopping = false;
  let lastStaleCheck = 0;
  let staleCheck: Promise<void> | null = null;
  const log = ctx.logger.child({ component: 'workers' });

  interface KindLoop {
    /** The kinds this loop runs, in turn (one, or all of them when the kinds do not overlap). */
    hs: JobHandler<C>[];
    idle: ReturnType<typeof createIdleWait>;
    /** The kind's current batch (or a resolved promise): a kind's rounds run one after another. */
    turn: Promise<unknown>;
    /** Woken since its last claim: the loop claims again rather than wait (a wake during a round is kept). */
    woken: boolean;
  }
  const overlap = opts.overlap ?? dialectOf(ctx.db) === 'postgres';
  const groups = overlap ? [...byKind.values()].map((h) => [h]) : [[...byKind.values()]];
  const loops: KindLoop[] = groups.map((hs) => ({
    hs,
    idle: createIdleWait(),
    turn: Promise.resolve(),
    woken: false,
  }));
  const wake = (l: KindLoop): void => {
    l.woken = true;
    l.idle.wake();
  };
  const wakeAll = (): void => {
    for (const l of loops) wake(l);
  };

  const onReports = () => wakeAll();
  ctx.onReports.add(onReports);

  /**
   * One round of one kind. `drain()` called while the kind's loop is in a round waits for it rather
   * than running the handler a second time at once (two interleaved rounds on PostgreSQL once left
   * a job waiting out its back-off).
   */
  function round(l: KindLoop): Promise<number> {
    const mine = l.turn.then(
      () => roundNow(l),
      () => roundNow(l),
    );
    l.turn = mine.catch(() => undefined);
    return mine;
  }

  /**
   * Runs `work` while renewing the lease of `jobs` every third of the lease, so a batch that runs
   * longer than the lease is not taken by another worker. A renewal that finds a job no longer
   * held (this process stalled past its lease) is logged: the job may then run twice, which every
   * handler tolerates (its results are idempotent), but it should not happen.
   */
  async function whileRenewing<T>(jobs: Job[], work: () => Promise<T>): Promise<T> {
    const ids = jobs.map((j) => j.id);
    return whileLeased(
      {
        leaseMs,
        count: ids.length,
        renew: () => renewJobs(ctx.db, workerId, ids),
        onLost: (held) => log.warn({ held, claimed: ids.length }, 'lease lost on running jobs'),
        onError: (e) => log.warn({ err: e }, 'lease renewal failed'),
      },
      work,
    );
  }

  /** Requeues abandoned jobs at most every `staleCheckMs`, once for all the loops. */
  function requeueStale(): Promise<void> {
    if (staleCheck) return staleCheck;
    if (Date.now() - lastStaleCheck <= staleCheckMs) return Promise.resolve();
    lastStaleCheck = Date.now();
    staleCheck = (async () => {
      const n = await requeueStaleJobs(ctx.db, leaseMs);
      if (n > 0) log.warn({ n }, 'requeued abandoned jobs');
    })().finally(() => {
      staleCheck = null;
    });
    return staleCheck;
  }

  async function roundNow(l: KindLoop): Promise<number> {
    l.woken = false;
    await requeueStale();
    let done = 0;
    for (const h of l.hs) done += await batch(l, h);
    return done;
  }

  async function batch(l: KindLoop, h: JobHandler<C>): Promise<number> {
    const jobs = h.inOrderBehind
      ? await claimJobsInOrder(ctx.db, workerId, h.kind, h.inOrderBehind, batchSizeOf(h))
      : await claimJobs(ctx.db, workerId, [h.kind], batchSizeOf(h));
    if (jobs.length === 0) return 0;
    const started = performance.now();
    const errors = await whileRenewing(jobs, () => runIsolated(h, jobs, ctx));
    const done = jobs.filter((j) => !errors.has(j.id));
    // The finished jobs of the batch leave in one statement (one commit on SQLite), not one each.
    await completeJobs(
      ctx.db,
      done.map((j) => j.id),
    );
    ctx.metrics.jobBatchSeconds.observe({ kind: h.kind }, (performance.now() - started) / 1000);
    ctx.metrics.jobs.inc({ kind: h.kind, outcome: 'done' }, done.length);
    if (done.length < jobs.length) ctx.metrics.jobs.inc({ kind: h.kind, outcome: 'failed' }, jobs.length - done.length);
    for (const j of jobs) {
      const err = errors.get(j.id);
      if (err) {
        ctx.metrics.errors.inc({ kind: `job_${h.kind}` });
        const outcome = await failJob(ctx.db, j, err.stack ?? err.message);
        log.warn({ job: j.id, kind: j.kind, attempts: j.attempts, outcome, err: err.message }, 'job failed');
        if (outcome === 'dead')
          await parkFailure(ctx.db, {
            source: `job:${h.kind}`,
            origin: `job:${j.id} ${j.payload.slice(0, 300)}`,
            reason: `${h.kind} failed ${j.attempts} times: ${err.message}`,
          });
      }
    }
    // What this batch handed on is queued now: the other kinds' loops look at once.
    for (const other of loops) if (other !== l) wake(other);
    return jobs.length;
  }

  async function runLoop(l: KindLoop): Promise<void> {
    while (!stopping) {
      let n = 0;
      let failed = false;
      try {
        n = await round(l);
      } catch (e) {
        failed = true;
        log.error({ err: e, kinds: l.hs.map((h) => h.kind) }, 'worker round failed');
      }
      // A failed round waits its poll (the other kinds go on); a short batch waits for more work.
      // One loop over every kind (SQLite) goes on while any kind found work, as it always did.
      const short = l.hs.length === 1 ? n < batchSizeOf(l.hs[0]) : n === 0;
      if (!stopping && (failed || (short && !l.woken))) await l.idle.wait(IDLE_POLL_MS);
    }
  }
  const running = loops.map(runLoop);

  return {
    async stop() {
      stopping = true;
      wakeAll();
      ctx.onReports.delete(onReports);
      await Promise.all(running);
      for (const h of handlers) await h.close?.();
    },
    async drain() {
      let total = 0;
      for (;;) {
        // Every kind once, side by side; a pass in which no kind found a job ends the drain (a
        // kind that found none while an earlier one was still handing on is asked again).
        const n = (await Promise.all(loops.map(round))).reduce((a, b) => a + b, 0);
        total += n;
        if (n === 0) return total;
      }
    },
  };
}

function batchSizeOf(h: JobHandler<never>): number {
  return h.batchSize ?? DEFAULT_BATCH_SIZE;
}
