/**
 * The intel build service of `spamdesk serve`: rebuilds the collections every
 * `SPAMDESK_INTEL_BUILD_INTERVAL_MS`, one build at a time, in the one process that holds its
 * singleton lock (role `scheduler`). Were two to build, each collection's write is serialised by its
 * state row and writes nothing when nothing changed.
 *
 * A build reads every publishable campaign, so its cost grows with them (10–14 s at 20,000
 * campaigns, 49 s at 50,000 on a 2-core machine, bench/RESULTS.md 2026-12-05): at a fixed interval
 * a large instance would build without pause on the thread that runs the pipeline's stages. The
 * service therefore rests after each build at least {@link REST_FACTOR} times as long as the build
 * took: the builds take at most a fifth of the time, and the feed's lag grows with the build
 * instead of the pipeline's.
 */
import type { Worker } from 'node:worker_threads';
import type { ServiceFactory } from '../../evidence/context.ts';
import type { Config } from '../../core/config.ts';
import { siblingModule, startTsWorker } from '../../core/ts-worker.ts';
import { buildIntel, sourceSignature, type BuildSummary } from './build.ts';
import type { BuildReply, BuildThreadData } from './build-thread.ts';

/**
 * A full rebuild at least this often even when the signature did not move: it catches what the
 * signature cannot see (a re-clustering, a policy file changed under a running process).
 */
export const FULL_REBUILD_MS = 10 * 60_000;

/** After a build of d ms the next starts no sooner than REST_FACTOR · d ms after it ended (≤ 1/(1+4) of the time). */
export const REST_FACTOR = 4;

/** Name of the intel build's singleton lock: one process at a time builds (see `docs/operations.md`). */
export const INTEL_BUILD_SINGLETON = 'intel-build';

/** What the service remembers of its last build. */
export interface LastBuild {
  /** The source signature the last build read (null: none yet). */
  signature: string | null;
  /** When it ended (ms since the epoch; 0: never). */
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
        last.signature = signature;
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
 * Builds in a worker thread of their own (`build-thread.ts`), with its own connection and a heap
 * limit of `config.intelBuildHeapMb`: a build neither holds up the thread that runs the pipeline's
 * stages nor, when it runs out of heap, ends the process. The thread lives across builds and ends
 * after {@link BUILD_THREAD_IDLE_MS} without one. A build whose thread dies (out of heap, or any
 * other end) fails with the reason; the next starts a new thread.
 */
export function buildThread(
  config: Config,
  opts: { idleMs?: number; heapMb?: number; youngMb?: number } = {},
): { build(): Promise<BuildSummary>; close(): Promise<void> } {
  const heapMb = opts.heapMb ?? config.intelBuildHeapMb;
  const idleMs = opts.idleMs ?? BUILD_THREAD_IDLE_MS;
  const youngMb = opts.youngMb ?? BUILD_THREAD_YOUNG_MB;
  let worker: Worker | null = null;
  let idle: NodeJS.Timeout | null = null;
  let nextId = 0;
  let pending: { id: number; resolve: (s: BuildSummary) => void; reject: (e: Error) => void } | null = null;
  const fail = (w: Worker, e: Error): void => {
    if (worker === w) worker = null;
    const p = pending;
    pending = null;
    p?.reject(e);
  };
  const start = (): Worker => {
    const data: BuildThreadData = { config: { ...config }, cacheKib: BUILD_THREAD_CACHE_KIB };
    const w = startTsWorker(siblingModule('./build-thread.ts', import.meta.url), data, {
      resourceLimits: {
        maxOldGenerationSizeMb: heapMb,
        maxYoungGenerationSizeMb: youngMb,
      },
    });
    w.unref();
    w.on('message', (m: BuildReply) => {
      const p = pending;
      if (p === null || m.id !== p.id) return;
      pending = null;
      if (m.t === 'built') p.resolve(m.summary);
      else p.reject(new Error(m.message));
    });
    w.on('error', (e: Error & { code?: string }) =>
      fail(
        w,
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new Error(
              `the intel build ran out of its heap (${heapMb} MiB): raise SPAMDESK_INTEL_BUILD_HEAP_MB; the pipeline \
was not affected`,
            )
          : e,
      ),
    );
    w.on('exit', (code) => fail(w, new Error(`the intel build thread ended (exit code ${code})`)));
    return w;
  };
  return {
    build() {
      if (pending !== null) return Promise.reject(new Error('an intel build is already running in this thread'));
      if (idle) clearTimeout(idle);
      idle = null;
      const w = worker ?? start();
      worker = w;
      const id = nextId++;
      return new Promise<BuildSummary>((resolve, reject) => {
        pending = { id, resolve, reject };
        w.postMessage({ t: 'build', id });
      }).finally(() => {
        if (worker !== w) return;
        idle = setTimeout(() => {
          idle = null;
          if (worker === w && pending === null) {
            worker = null;
            void w.terminate();
          }
        }, idleMs);
        idle.unref();
      });
    },
    async close() {
      if (idle) clearTimeout(idle);
      idle = null;
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
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
    const inThread =
      ctx.config.database.dialect === 'sqlite' && ctx.config.database.path === ':memory:'
        ? null
        : buildThread(ctx.config);
    const runner = buildRunner({
      signature: () => sourceSignature(ctx.db),
      build: () => (inThread ? inThread.build() : buildIntel(ctx.db, ctx.config)),
      now: Date.now,
      onRest: (tookMs, until) =>
        logger.info(
          { tookMs, nextAt: new Date(until).toISOString() },
          `intel build waits: the last one took ${tookMs} ms and builds take at most 1/${REST_FACTOR + 1} of the time`,
        ),
    });
    const tick = (): void => {
      if (stopped || !ctx.singletons.held(INTEL_BUILD_SINGLETON)) return;
      running ??= runner
        .run()
        .then((s) => {
          if (!s) return;
          const changed = Object.values(s.collections).some(
            (c) => c.added + c.updated + c.revoked + c.mispChanged + c.mispWithdrawn > 0,
          );
          if (changed) logger.info(s, 'intel collections rebuilt');
          else logger.debug({ ms: s.ms }, 'intel collections unchanged');
        })
        .catch((e: unknown) => logger.error({ err: e }, 'intel build failed'))
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
        await running;
        await inThread?.close();
      },
    };
  },
};
