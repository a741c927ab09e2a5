/**
 * `spamdesk serve` with every role keeps HTTP and SMTP in its own process and runs the background
 * roles (job workers, outbox, indexer, scheduler) in a child process it supervises: the child's
 * database work (SQLite commits with synchronous=FULL, roll-ups, clustering) then never holds up
 * the event loop that answers requests. A CPU profile of `npm run bench -- attack` showed that work
 * on the HTTP process's main thread as the cause of its slow probes (docs/operations.md).
 *
 * The child is `serve --only workers,outbox,indexer,scheduler` with the parent's other arguments
 * and, unless the operator chose one, a V8 heap limit (SPAMDESK_BACKGROUND_HEAP_MB, {@link childHeapArgs}).
 * The parent restarts it when it dies (back-off 1 s doubling to 30 s), stops it when it stops
 * (SIGTERM, then SIGKILL after a grace period), merges its log lines into its own stdout, wakes
 * it over the IPC channel when reports commit and asks it, over the same channel, for its metrics
 * at each scrape of `/metrics` (core/metrics.ts merges them with its own). The child stops when
 * the channel closes, so a parent killed with SIGKILL leaves nothing behind. Nothing is lost or
 * done twice across a restart: the child's work is claimed from lease queues and singleton locks
 * (`workers/lease-queue.ts`, `db/singleton-locks.ts`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import v8 from 'node:v8';
import { adoptFilesInForce, filesInForce, type FileRead } from '../core/file-problems.ts';
import { BACKGROUND_ROLES } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { MetricsJson } from '../core/metrics.ts';

/** The hidden option that marks the supervised child (`serve --background-child`). */
export const CHILD_FLAG = '--background-child';
/** The child's ready line (`msg`), distinct from the parent's `spamdesk ready`. */
export const CHILD_READY = 'spamdesk background ready';
const STOP_GRACE_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;
/** A child that ran this long before dying restarts after the shortest back-off again. */
const HEALTHY_RUN_MS = 60_000;
/** Reports committing at a high rate wake the child at most this often. */
const WAKE_EVERY_MS = 50;
/**
 * How long a scrape waits for the child's metrics. The child's main thread runs every stage's SQL
 * synchronously, so it answers between two statements; past this the scrape goes on without them.
 */
export const CHILD_METRICS_WAIT_MS = 2000;

export interface BackgroundChild {
  /** Pid of the running child (null while it restarts). */
  pid(): number | null;
  /** Resolves once the first child printed its ready line (or failed to start). */
  ready: Promise<boolean>;
  /** Tells the child reports were committed (throttled). */
  wake(): void;
  /** The child's metrics (its registry as JSON), or null when it is not running or did not answer in `waitMs`. */
  metrics(waitMs?: number): Promise<MetricsJson | null>;
  /** Stops the child and no longer restarts it. */
  stop(): Promise<void>;
}

/** How the child's V8 heap is bounded ({@link childHeapArgs}). */
export interface ChildHeap {
  /** `backgroundHeapMb` (SPAMDESK_BACKGROUND_HEAP_MB); 0 leaves V8's default. */
  mb: number;
  /** The environment the child inherits (its NODE_OPTIONS may set a limit of the operator's). */
  env?: NodeJS.ProcessEnv;
  /** V8's default heap limit on this machine, MiB (what the child gets without a flag). */
  defaultLimitMb?: number;
  /**
   * The operator set `mb` (SPAMDESK_BACKGROUND_HEAP_MB or --background-heap-mb): it is passed even
   * above V8's default. Only Spamdesk's own default is kept from raising the machine's.
   */
  explicit?: boolean;
}

const HEAP_FLAG = /^--max[-_]old[-_]space[-_]size(=|$)/;
/** What `heap_size_limit` adds to the old generation's limit, rounded up (48 MiB on 64-bit at these sizes). */
const YOUNG_GENERATION_MB = 64;

/**
 * The child's heap flag: `--max-old-space-size=<mb>`, unless the operator set a limit (node's own
 * flags of this process, or NODE_OPTIONS, which the child inherits) or `mb` is Spamdesk's default
 * and would not lower V8's (an `mb` the operator chose is passed as it is). Why a limit at all: V8
 * lets the old generation grow to 4× what survived the last full collection when its limit is 2 GiB
 * or more (a 24 GiB machine's default is ~4 GiB), and by 1.3–2× below that; the background
 * process's live heap is small (58–90 MB at 3,000–6,000 reports) and the rest of its peak was
 * garbage awaiting a collection (bench/RESULTS.md, 2026-12-05).
 */
export function childHeapArgs(execArgv: readonly string[], heap: ChildHeap): string[] {
  if (heap.mb <= 0) return [];
  if (execArgv.some((a) => HEAP_FLAG.test(a))) return [];
  // NODE_OPTIONS may quote its options ('"--max-old-space-size=900"'): quotes are not part of the flag.
  if ((heap.env?.NODE_OPTIONS ?? '').split(/\s+/).some((a) => HEAP_FLAG.test(a.replace(/^["']+/, '')))) return [];
  // heap_size_limit is the old generation's limit plus the young generation's (48 MiB at these sizes).
  const defaultMb = heap.defaultLimitMb ?? v8.getHeapStatistics().heap_size_limit / (1024 * 1024);
  if (heap.explicit !== true && heap.mb + YOUNG_GENERATION_MB >= defaultMb) return [];
  return [`--max-old-space-size=${heap.mb}`];
}

/**
 * The child's command line: this process's own, with the background roles (and `heap`'s bound,
 * {@link childHeapArgs}).
 */
export function childArgv(argv = process.argv, execArgv = process.execArgv, heap?: ChildHeap): string[] {
  return [
    ...execArgv,
    ...(heap ? childHeapArgs(execArgv, heap) : []),
    argv[1],
    ...argv.slice(2),
    '--only',
    BACKGROUND_ROLES.join(','),
    CHILD_FLAG,
  ];
}

/**
 * glibc arenas the child may use unless the operator chose (`MALLOC_ARENA_MAX`). The child runs
 * the analysis threads and libuv's pool, each of which would get an arena of its own (up to 8 per
 * core) that keeps the buffers of a burst of large messages after they are freed: 300–500 MB left
 * after the attack bench (bench/RESULTS.md). Two arenas give most of it back; analysis allocates
 * in V8's heap, not with malloc, so the threads hardly contend for them.
 */
export const CHILD_MALLOC_ARENA_MAX = '2';

/**
 * glibc's threshold above which an allocation gets its own mapping, given back whole when freed.
 * By default glibc raises it to the size of the largest block freed (up to 32 MB), after which a
 * burst's message buffers come from the arenas and stay there as free but resident memory: with
 * the threshold fixed at 128 KiB the group held 591–673 MB instead of 747–840 MB 45 s after the
 * attack bench (bench/RESULTS.md, 2026-12-02 19:03–19:23).
 */
export const CHILD_MALLOC_MMAP_THRESHOLD = '131072';

/**
 * The child's environment: this process's, with {@link CHILD_MALLOC_ARENA_MAX} and
 * {@link CHILD_MALLOC_MMAP_THRESHOLD} unless the operator set them.
 */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...env,
    MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX || CHILD_MALLOC_ARENA_MAX,
    MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ || CHILD_MALLOC_MMAP_THRESHOLD,
  };
}

/** What the supervisor's log adds when the child died: V8 aborts a process that reaches its heap limit. */
export function deathHint(code: number | null, signal: NodeJS.Signals | null): string | undefined {
  return signal === 'SIGABRT' || code === 134
    ? 'an abort: if its last lines say "heap out of memory", raise SPAMDESK_BACKGROUND_HEAP_MB (or the limit in ' +
        'NODE_OPTIONS, which takes its place)'
    : undefined;
}

/** Aborts within {@link ABORT_WINDOW_MS} after which the supervisor says the heap limit is too small for the work. */
export const REPEATED_ABORTS = 3;
const ABORT_WINDOW_MS = 60 * 60_000;

/**
 * What the supervisor logs, once, when the child has aborted {@link REPEATED_ABORTS} times within an
 * hour: a heap too small for its work dies at the same place after every restart, and each restart
 * only repeats it. (The intel build, the largest thing the child runs, has a thread and a heap limit
 * of its own: running out there ends that thread, not the child.)
 */
export const REPEATED_ABORTS_MSG =
  'the background process keeps aborting: its heap limit is likely too small for its work. Raise ' +
  'SPAMDESK_BACKGROUND_HEAP_MB (or the limit in NODE_OPTIONS, which takes its place)';

/** `argv`: the child's command line after the Node binary ({@link childArgv}; tests start a stand-in). */
export function startBackgroundChild(logger: Logger, argv: readonly string[] = childArgv()): BackgroundChild {
  const log = logger.child({ component: 'supervisor' });
  let child: ChildProcess | null = null;
  let stopping = false;
  let backoff = 1000;
  let restartTimer: NodeJS.Timeout | null = null;
  let markReady: (ok: boolean) => void = () => undefined;
  const ready = new Promise<boolean>((resolve) => {
    markReady = resolve;
  });
  let wakeTimer: NodeJS.Timeout | null = null;
  /** When the child aborted, within the last {@link ABORT_WINDOW_MS}. */
  let aborts: number[] = [];
  let abortsTold = false;
  /** Metrics requests waiting for the child's answer, by request number. */
  const asked = new Map<number, (json: MetricsJson | null) => void>();
  let nextAsk = 0;
  /** The request in flight: scrapes that come meanwhile share it, so the child serialises one at a time. */
  let asking: Promise<MetricsJson | null> | null = null;

  const launch = (): void => {
    const startedAt = Date.now();
    // A process group of its own: Ctrl+C in a terminal reaches the parent only, which stops the
    // child in order (SIGTERM) after its own requests in flight.
    const proc = spawn(process.execPath, [...argv], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
      env: childEnv(),
    });
    child = proc;
    log.info({ child: proc.pid }, 'background process started');
    readline.createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.includes(`"${CHILD_READY}"`)) {
        markReady(true);
        return;
      }
      process.stdout.write(`${line}\n`);
    });
    proc.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
    proc.on('message', (m: unknown) => {
      if (typeof m !== 'object' || m === null) return;
      const { t, id, data } = m as { t?: unknown; id?: unknown; data?: unknown };
      if (t === OPERATOR_FILES_ASK) {
        proc.send({ t: OPERATOR_FILES_ANSWER, files: filesInForce() } satisfies OperatorFilesAnswer, () => undefined);
        return;
      }
      if (t !== 'metrics' || typeof id !== 'number') return;
      asked.get(id)?.(Array.isArray(data) ? (data as MetricsJson) : null);
    });
    proc.on('error', (err) => log.error({ err }, 'background process could not start'));
    proc.on('exit', (code, signal) => {
      if (child === proc) child = null;
      // A scrape waiting for this child's metrics has its answer now: none.
      for (const done of [...asked.values()]) done(null);
      if (stopping) return;
      const ranMs = Date.now() - startedAt;
      if (ranMs > HEALTHY_RUN_MS) backoff = 1000;
      const hint = deathHint(code, signal);
      log.error({ code, signal, ranMs, restartInMs: backoff, hint }, 'background process died; restarting it');
      if (hint !== undefined) {
        const now = Date.now();
        aborts = [...aborts.filter((t) => now - t < ABORT_WINDOW_MS), now];
        if (aborts.length >= REPEATED_ABORTS && !abortsTold) {
          abortsTold = true;
          log.error({ aborts: aborts.length, withinMs: ABORT_WINDOW_MS }, REPEATED_ABORTS_MSG);
        }
      }
      restartTimer = setTimeout(() => {
        restartTimer = null;
        if (!stopping) launch();
      }, backoff);
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    });
  };
  launch();

  return {
    pid: () => child?.pid ?? null,
    ready,
    wake() {
      wakeTimer ??= setTimeout(() => {
        wakeTimer = null;
        if (child?.connected) child.send({ t: 'reports' }, () => undefined);
      }, WAKE_EVERY_MS);
    },
    metrics(waitMs = CHILD_METRICS_WAIT_MS) {
      const proc = child;
      if (!proc?.connected) return Promise.resolve(null);
      if (asking) return asking;
      const id = nextAsk++;
      asking = new Promise<MetricsJson | null>((resolve) => {
        const done = (json: MetricsJson | null): void => {
          clearTimeout(timer);
          asked.delete(id);
          resolve(json);
        };
        const timer = setTimeout(() => done(null), waitMs);
        asked.set(id, done);
        proc.send({ t: 'metrics', id }, (err) => {
          if (err) done(null);
        });
      }).finally(() => {
        asking = null;
      });
      return asking;
    },
    async stop() {
      stopping = true;
      markReady(false);
      if (restartTimer) clearTimeout(restartTimer);
      if (wakeTimer) clearTimeout(wakeTimer);
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => {
        log.warn({ child: proc.pid }, 'background process did not stop in time; killing it');
        proc.kill('SIGKILL');
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

const OPERATOR_FILES_ASK = 'operator-files?';
const OPERATOR_FILES_ANSWER = 'operator-files';
interface OperatorFilesAnswer {
  t: typeof OPERATOR_FILES_ANSWER;
  files: Record<string, FileRead>;
}

/** How long a child waits for its parent's operator files before it reads them itself (ms). */
export const OPERATOR_FILES_WAIT_MS = 10_000;

/**
 * In the child, before its start check: the operator files as the parent has them in force
 * (`core/file-problems.ts`), so a child restarted after it died runs with the texts the web process
 * runs with, not with files edited since. Without a parent channel, or without an answer within
 * `waitMs`, the child reads the files itself (false).
 */
export function operatorFilesFromParent(waitMs = OPERATOR_FILES_WAIT_MS): Promise<boolean> {
  const send = process.send?.bind(process);
  if (send === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(ok);
    };
    const onMessage = (m: unknown): void => {
      if (typeof m !== 'object' || m === null || (m as { t?: unknown }).t !== OPERATOR_FILES_ANSWER) return;
      const files = (m as { files?: unknown }).files;
      if (typeof files === 'object' && files !== null) adoptFilesInForce(files as Record<string, FileRead>);
      done(true);
    };
    const timer = setTimeout(() => done(false), waitMs);
    process.on('message', onMessage);
    send({ t: OPERATOR_FILES_ASK }, () => undefined);
  });
}

/**
 * In the child: wake the background work when the parent says reports committed, answer its requests
 * for this process's metrics, and stop when the parent goes away (the IPC channel closes, whatever
 * killed it).
 */
export function attachToParent(
  onWake: () => void,
  onParentGone: () => void,
  readMetrics: () => Promise<MetricsJson>,
): void {
  // The parent waits for one request at a time, the latest: requests it gave up on while this
  // process was busy (slow SQL) are not each answered in turn when it frees up; one registry read
  // answers the latest request, and another follows only if a newer one came during that read.
  let latest = -1;
  let reading = false;
  // Called with `reading` already set (by the request that scheduled it).
  const answer = async (): Promise<void> => {
    try {
      for (let want = latest; ; want = latest) {
        // A read that fails, even synchronously, answers null: the parent counts the child as not up.
        const data = await Promise.resolve()
          .then(readMetrics)
          .catch(() => null);
        process.send?.({ t: 'metrics', id: want, data }, () => undefined);
        if (latest === want) break;
      }
    } finally {
      reading = false;
    }
  };
  process.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null) return;
    const { t, id } = m as { t?: unknown; id?: unknown };
    if (t === 'reports') onWake();
    else if (t === 'metrics' && typeof id === 'number') {
      latest = Math.max(latest, id);
      // Requests that arrived together (queued while this thread was busy) are read once.
      if (!reading) setImmediate(() => void answer());
      reading = true;
    }
  });
  process.on('disconnect', onParentGone);
}
