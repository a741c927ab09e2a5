/**
 * The intel build service of `spamdesk serve`: rebuilds the collections every
 * `SPAMDESK_INTEL_BUILD_INTERVAL_MS`, one build at a time, in the one process that holds its
 * singleton lock (role `scheduler`). Were two to build, each collection's write is serialised by its
 * state row and writes nothing when nothing changed.
 *
 * A build reads every publishable campaign, so its cost grows with them (10–14 s at 20,000
 * campaigns, 49 s at 50,000 on a 2-core machine, bench/RESULTS.md 2026-12-05): at a fixed interval
 * a large instance would build without pause, keeping a core and the database busy. The service
 * therefore rests after each build at least {@link REST_FACTOR} times as long as the build took:
 * builds take at most a third of the time, and the feed's lag grows with the build. From
 * SPAMDESK_INTEL_BUILD_THREAD_FROM publishable campaigns builds run in a thread of their own
 * ({@link buildThread}); below, on the calling thread, where they take under a second.
 */
import type { Worker } from 'node:worker_threads';
import type { ServiceFactory } from '../../evidence/context.ts';
import type { Config } from '../../core/config.ts';
import { siblingModule, startTsWorker } from '../../core/ts-worker.ts';
import { filesInForce } from '../../core/file-problems.ts';
import { buildIntel, HELD_LISTED, publishableCampaigns, sourceSignature, type BuildSummary } from './build.ts';
import { BUILD_THREAD_ROLE, type BuildReply, type BuildRequest, type BuildThreadData } from './build-thread.ts';

/**
 * A full rebuild at least this often even when the signature did not move: it catches what the
 * signature cannot see (a re-clustering, a policy file changed under a running process).
 */
export const FULL_REBUILD_MS = 10 * 60_000;

/** After a build of d ms the next starts no sooner than REST_FACTOR · d ms after it ended (≤ 1/3 of the time). */
export const REST_FACTOR = 2;

/** Name of the intel build's singleton lock: one process at a time builds (see `docs/operations.md`). */
export const INTEL_BUILD_SINGLETON = 'intel-build';

/** What the service remembers of its last build. */
export interface LastBuild {
  /** The source signature the last build read (null: none yet). */
  signature: string | null;
  /** When it ended, on the runner's clock (the service's is monotonic; 0: never). */
  endedAt: number;
  /** How long it took (ms). */
  tookMs: number;
}

/**
 * Whether a tick builds now: `build` when the signature moved or the last full rebuild is
 * {@link FULL_REBUILD_MS} old and the rest after the last build is over; `rest` when it would build
 * but the last build's rest is not (the answer says until when); `skip` when nothing moved.
 */
export function buildDecision(
  last: LastBuild,
  signature: string,
  now: number,
): { kind: 'build' } | { kind: 'skip' } | { kind: 'rest'; until: number } {
  const due = signature !== last.signature || now - last.endedAt >= FULL_REBUILD_MS;
  if (!due) return { kind: 'skip' };
  const until = last.endedAt + REST_FACTOR * last.tookMs;
  return now < until ? { kind: 'rest', until } : { kind: 'build' };
}

/**
 * One build when one is due ({@link buildDecision}), with what it needs passed in (the service
 * passes the real signature, build and clock). `onRest` is told once per build whose rest holds a
 * due build back. A build that fails rests too: one that fails after 40 s is not retried without pause.
 */
export function buildRunner<T>(deps: {
  signature: () => Promise<string>;
  build: () => Promise<T>;
  now: () => number;
  onRest: (tookMs: number, until: number) => void;
  /**
   * Whether a build finished what it read (default: yes). One that did not (a publication another build
   * interrupted) does not count as having built that signature: the next build is due after its rest.
   */
  complete?: (built: T) => boolean;
}): { run(): Promise<T | null>; last: Readonly<LastBuild> } {
  const last: LastBuild = { signature: null, endedAt: 0, tookMs: 0 };
  let restToldFor = -1;
  return {
    last,
    async run() {
      const signature = await deps.signature();
      const decision = buildDecision(last, signature, deps.now());
      if (decision.kind === 'skip') return null;
      if (decision.kind === 'rest') {
        if (restToldFor !== last.endedAt) {
          restToldFor = last.endedAt;
          deps.onRest(last.tookMs, decision.until);
        }
        return null;
      }
      const started = deps.now();
      try {
        const s = await deps.build();
        last.signature = (deps.complete?.(s) ?? true) ? signature : null;
        return s;
      } finally {
        last.endedAt = deps.now();
        last.tookMs = last.endedAt - started;
      }
    },
  };
}

/** A build thread idle this long ends, giving its heap back; the next build starts another. */
export const BUILD_THREAD_IDLE_MS = 30_000;
/**
 * The build thread's young generation (MiB). V8 sizes a thread's young generation from its heap
 * limit (1,536 MiB: tens of MiB of semi-spaces that fill and stay resident while the thread lives):
 * with it the background process peaked at 457–508 MB in `npm run bench -- e2e` (3,000 reports)
 * against 415–423 MB with the build on its main thread; with 8 MiB, 431–440 MB (bench/RESULTS.md).
 */
export const BUILD_THREAD_YOUNG_MB = 8;
/** Page cache of the build thread's SQLite connection (KiB): it reads each row once per build. */
const BUILD_THREAD_CACHE_KIB = 16 * 1024;

/**
 * A build in the thread that runs longer than this is ended with it: one stuck (a read that never
 * returns; a lock wait is bounded by the publication's own timeout) would otherwise hold every later build
 * back. 50,000 campaigns take ~1 minute.
 */
export const BUILD_TIMEOUT_MS = 30 * 60_000;

/** How long closing waits for the thread to close its connection and end before it is terminated. */
const CLOSE_WAIT_MS = 5000;

/** A build thread as the service uses it. */
export interface BuildThread {
  /** One build in the thread (started if none runs); rejects when the build fails or its thread ends. */
  build(): Promise<BuildSummary>;
  /**
   * Ends the thread for good (later builds reject). A build in hand is cut short (the transaction it is
   * in is rolled back: the connection goes with the thread; the parts of a publication already committed
   * stay, each a consistent state the next build plans from) and rejects; otherwise the thread closes its
   * connection first.
   */
  close(): Promise<void>;
  /** Threads started so far (a new one after each retirement or death). */
  readonly started: number;
  /** Threads that have not ended yet (0 or 1, briefly 2 while one retires). */
  readonly live: number;
}

/**
 * Builds in a worker thread of their own (`build-thread.ts`), with its own connection and a heap
 * limit of `config.intelBuildHeapMb`: a build no longer runs as one turn of the event loop of the
 * thread that runs the pipeline's stages, and one that runs out of heap ends its thread, not the
 * process. The thread lives across builds and closes after {@link BUILD_THREAD_IDLE_MS} without one.
 * A build whose thread dies (out of heap, or any other end) fails with the reason; the next starts a
 * new thread. Only the thread a build was sent to can fail it: a retired thread's late end does not
 * touch the next thread's build.
 */
export function buildThread(
  config: Config,
  opts: {
    idleMs?: number;
    heapMb?: number;
    youngMb?: number;
    timeoutMs?: number;
    onStart?: (threadId: number) => void;
  } = {},
): BuildThread {
  const heapMb = opts.heapMb ?? config.intelBuildHeapMb;
  const timeoutMs = opts.timeoutMs ?? BUILD_TIMEOUT_MS;
  const idleMs = opts.idleMs ?? BUILD_THREAD_IDLE_MS;
  const youngMb = opts.youngMb ?? BUILD_THREAD_YOUNG_MB;
  let worker: Worker | null = null;
  let idle: NodeJS.Timeout | null = null;
  let nextId = 0;
  let started = 0;
  let live = 0;
  let closed = false;
  /** Threads asked to close (retired idle), until they have ended. */
  const retiring = new Set<Promise<void>>();
  let pending: {
    id: number;
    w: Worker;
    resolve: (s: BuildSummary) => void;
    reject: (e: Error) => void;
  } | null = null;
  /** Thread `w` is gone (or going): forget it, and fail the build it was running, if any. */
  const gone = (w: Worker, e: Error): void => {
    if (worker === w) worker = null;
    const p = pending;
    if (p === null || p.w !== w) return;
    pending = null;
    p.reject(e);
  };
  /** Asks `w` to close its connection and end; terminates it if it has not within {@link CLOSE_WAIT_MS}. */
  const retire = (w: Worker): Promise<void> => {
    if (worker === w) worker = null;
    const ended = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    const timer = setTimeout(() => void w.terminate(), CLOSE_WAIT_MS);
    // Held open until the thread has closed its connection.
    w.ref();
    w.postMessage({ t: 'close' } satisfies BuildRequest);
    const done = ended.then(() => clearTimeout(timer));
    retiring.add(done);
    void done.then(() => retiring.delete(done));
    return done;
  };
  const start = (): Worker => {
    const data: BuildThreadData = {
      role: BUILD_THREAD_ROLE,
      config: { ...config },
      files: filesInForce([config.actionsPolicyFile, config.trustedRelaysFile]),
      cacheKib: BUILD_THREAD_CACHE_KIB,
    };
    const w = startTsWorker(siblingModule('./build-thread.ts', import.meta.url), data, {
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: youngMb },
    });
    started++;
    live++;
    w.once('exit', () => live--);
    opts.onStart?.(w.threadId);
    w.unref();
    w.on('message', (m: BuildReply) => {
      const p = pending;
      if (p === null || p.w !== w || m.id !== p.id) return;
      pending = null;
      if (m.t === 'built') p.resolve(m.summary);
      else p.reject(new Error(m.message));
    });
    w.on('error', (e: Error & { code?: string }) =>
      gone(
        w,
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new Error(
              `the intel build ran out of its heap (${heapMb} MiB): raise SPAMDESK_INTEL_BUILD_HEAP_MB; the pipeline \
was not affected`,
            )
          : e,
      ),
    );
    w.on('exit', (code) => gone(w, new Error(`the intel build thread ended (exit code ${code})`)));
    return w;
  };
  return {
    get started() {
      return started;
    },
    get live() {
      return live;
    },
    build() {
      if (closed) return Promise.reject(new Error('the intel build thread is closed'));
      if (pending !== null) return Promise.reject(new Error('an intel build is already running in this thread'));
      if (idle) clearTimeout(idle);
      idle = null;
      const w = worker ?? start();
      worker = w;
      const id = nextId++;
      // A build in hand keeps the process alive (it is stopped with the service); an idle thread does not.
      w.ref();
      const timer = setTimeout(() => {
        gone(w, new Error(`the intel build took longer than ${timeoutMs} ms and was ended with its thread`));
        void w.terminate();
      }, timeoutMs);
      return new Promise<BuildSummary>((resolve, reject) => {
        pending = { id, w, resolve, reject };
        w.postMessage({ t: 'build', id } satisfies BuildRequest);
      }).finally(() => {
        clearTimeout(timer);
        if (worker !== w) return;
        w.unref();
        idle = setTimeout(() => {
          idle = null;
          if (worker === w && pending === null) void retire(w);
        }, idleMs);
        idle.unref();
      });
    },
    async close() {
      closed = true;
      if (idle) clearTimeout(idle);
      idle = null;
      const w = worker;
      worker = null;
      if (w !== null && pending?.w === w) {
        gone(w, new Error('the intel build was stopped'));
        await w.terminate();
      } else if (w !== null) await retire(w);
      // A thread retired just before still closing its connection: wait for it too.
      await Promise.all([...retiring]);
    },
  };
}

/**
 * Whether a build of `campaigns` publishable campaigns runs in the build thread: from `threadFrom`
 * (SPAMDESK_INTEL_BUILD_THREAD_FROM) on, or always when it is 0. Below, a build on the calling thread
 * takes under a second (1,000 campaigns: rebuilds 0.25–0.28 s, first publication 0.81 s, bench/RESULTS.md)
 * and costs no thread's memory.
 */
export function buildsInThread(campaigns: number, threadFrom: number): boolean {
  return campaigns >= threadFrom;
}

export const intelBuildService: ServiceFactory = {
  name: 'intel-build',
  role: 'scheduler',
  enabled: (ctx) => ctx.config.intelBuildIntervalMs > 0,
  async start(ctx) {
    const logger = ctx.logger.child({ component: 'intel' });
    await ctx.singletons.want(INTEL_BUILD_SINGLETON);
    let running: Promise<void> | null = null;
    let stopped = false;
    // An in-memory SQLite database exists only on this thread's connection: built here.
    const thread =
      ctx.config.database.dialect === 'sqlite' && ctx.config.database.path === ':memory:'
        ? null
        : buildThread(ctx.config, {
            onStart: (threadId) =>
              logger.info({ threadId, heapMb: ctx.config.intelBuildHeapMb }, 'intel build thread started'),
          });
    const runner = buildRunner({
      signature: () => sourceSignature(ctx.db),
      build: async () => {
        const campaigns = thread === null ? 0 : await publishableCampaigns(ctx.db);
        // Stopped while counting: no new build (a thread started now would outlive the stop).
        if (stopped) throw new Error('the intel build was stopped');
        const inThread = thread !== null && buildsInThread(campaigns, ctx.config.intelBuildThreadFrom);
        const summary = inThread ? await thread.build() : await buildIntel(ctx.db, ctx.config);
        return { ...summary, thread: inThread };
      },
      complete: (s) => !Object.values(s.collections).some((c) => c.interrupted),
      // A monotonic clock: a step of the wall clock neither holds builds back nor lets one skip its rest.
      now: () => performance.now(),
      onRest: (tookMs, until) =>
        logger.info(
          // `until` is on the monotonic clock: shown as the wall-clock time it corresponds to now.
          { tookMs: Math.round(tookMs), nextAt: new Date(Date.now() + (until - performance.now())).toISOString() },
          `intel build waits: the last one took ${Math.round(tookMs)} ms and builds take at most 1/${REST_FACTOR + 1} \
of the time`,
        ),
    });
    // The held campaigns the last build named: a change is logged even when no object changed (a campaign
    // held for mixed categories or a legitimate share otherwise never shows why it is not in the feeds).
    let heldBefore = '[]';
    const tick = (): void => {
      if (stopped || !ctx.singletons.held(INTEL_BUILD_SINGLETON)) return;
      running ??= runner
        .run()
        .then((s) => {
          if (!s) return;
          const held = JSON.stringify(s.heldCampaigns);
          if (held !== heldBefore)
            logger.info(
              { held: s.held, heldCampaigns: s.heldCampaigns },
              `intel: ${s.held} campaign(s) held by the gates (the first ${HELD_LISTED} by id, with reasons)`,
            );
          heldBefore = held;
          const changed = Object.values(s.collections).some(
            (c) => c.added + c.updated + c.revoked + c.mispChanged + c.mispWithdrawn > 0,
          );
          const interrupted = Object.entries(s.collections)
            .filter(([, c]) => c.interrupted)
            .map(([alias]) => alias);
          if (interrupted.length > 0)
            logger.warn(
              { ...s, interrupted },
              'intel publication interrupted by another build: the parts written stand, the next build completes it',
            );
          else if (changed) logger.info(s, 'intel collections rebuilt');
          else logger.debug({ ms: s.ms, thread: s.thread }, 'intel collections unchanged');
        })
        .catch((e: unknown) => {
          if (stopped) logger.info({ err: e }, 'intel build stopped with the service');
          else logger.error({ err: e }, 'intel build failed');
        })
        .finally(() => {
          running = null;
        });
    };
    const every = setInterval(tick, ctx.config.intelBuildIntervalMs);
    every.unref();
    setImmediate(tick);
    return {
      describe: () => `Intel feeds:      TAXII 2.1 at /taxii2/, MISP at /feeds/misp/; rebuilt every \
${ctx.config.intelBuildIntervalMs} ms (resting ${REST_FACTOR}× a build's time after it)`,
      async stop() {
        stopped = true;
        clearInterval(every);
        // A build in the thread is cut short (the transaction it is in rolls back with the thread's
        // connection, parts already committed stay): a 49 s build, or one waiting on a lock, does not hold
        // the process's shutdown. One on this thread
        // (below SPAMDESK_INTEL_BUILD_THREAD_FROM campaigns: under a second) is waited for.
        await thread?.close();
        await running;
      },
    };
  },
};
