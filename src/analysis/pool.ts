/**
 * A pool of analysis worker threads (SPAMDESK_WORKERS: a core each but one by default), enforcing the time
 * bound (SPAMDESK_ANALYSIS_TIMEOUT_MS) for real by terminating a thread that runs over and
 * starting a fresh one; the message then gets an `ANALYSIS_TIMEOUT` record instead of an analysis.
 * A message longer than its headers plus SPAMDESK_ANALYSIS_MAX_TEXT_BYTES is first analysed up to
 * there (the headers and the first part), within one time bound; the whole message then gets a
 * time bound of its own, and if it runs over, the bounded part's analysis is returned, with
 * `ANALYSIS_TRUNCATED` and `ANALYSIS_TIMEOUT` findings, instead of nothing (padding cannot hide a
 * message). A thread that dies (out of memory under its heap limit, SPAMDESK_ANALYSIS_HEAP_MB,
 * crash) yields `ANALYSIS_ERROR`.
 * Nothing a message does can make `analyse()` here reject.
 *
 * Each thread is given its next message before it finishes the current one
 * ({@link PIPELINE_DEPTH}), so it never sits idle waiting for this thread to hand it work (a
 * fifth of the threads' time on the loaded 2-core machine before). It still analyses one message
 * at a time, and a message's time bound starts when its thread starts it: when the thread reports
 * the message before it finished. A message still waiting behind one that failed goes back to the
 * head of the queue, for the replacement thread.
 *
 * The pool shrinks when idle: a thread that sat idle {@link RETIRE_IDLE_MS} ends while more than
 * `minThreads` run (SPAMDESK_ANALYSIS_MIN_THREADS), and the pool starts threads again, up to `size`,
 * when messages wait and no thread is free. An idle thread costs its process ~45–60 MB (heap, young
 * generation, buffers) that only its end gives back; the first message after a retirement waits for
 * a thread to start.
 */
import { Worker } from 'node:worker_threads';
import { withSections, type Analysis, type AnalysisHead, type Finding } from './analysis-schema.ts';
import { FINDINGS } from './findings.ts';
import { failedAnalysis } from './analyse.ts';
import type { AnalysisProfile } from './registry.ts';
import type { AnalysisSettings, ReporterStatement } from './stage.ts';
import type { MemoryRequest, ThreadMemory, WorkerInit, WorkerTask } from './analysis-worker.ts';
import { sharedClockMs } from './shared-clock.ts';
import { filesInForce } from '../core/file-problems.ts';

/**
 * Default heap limit per analysis thread (SPAMDESK_ANALYSIS_HEAP_MB): a hostile message that needs more kills only its
 * thread.
 */
export const WORKER_HEAP_MB = 768;
/**
 * Young generation of an analysis thread, MiB. A thread keeps what it committed there between
 * messages: 8 instead of 32 took a thread's heap from 64–65 to 40–43 MB after 1,500 corpus
 * messages, with no loss of throughput (two pairs: 53 vs 48 and 107 vs 85 messages/s, CPU 6.3–7.4
 * vs 6.9–7.7 s; bench/RESULTS.md 2026-12-03 10:06).
 */
export const WORKER_YOUNG_MB = 8;
/** Messages handed to one thread at a time: the one it analyses and the next. */
export const PIPELINE_DEPTH = 2;
/**
 * A thread that took at least {@link RECYCLE_AFTER_BYTES} of messages and then sat idle this long
 * is replaced by a fresh one: V8 keeps the heap a burst of large messages grew to (hundreds of MB
 * per thread after the attack bench) long after the burst, and ending the thread returns it all.
 */
export const RECYCLE_IDLE_MS = 10_000;
export const RECYCLE_AFTER_BYTES = 32 * 1024 * 1024;
/**
 * What such a thread must hold (V8 heap committed plus memory outside it, MiB, measured inside the thread) to be
 * replaced. A thread warm on ordinary mail holds 75–85 MB (heap ~60, outside ~20, after 3,000 SpamAssassin corpus
 * messages); after twenty 5 MB messages, ~140. Replacing a thread costs its start (modules, ASN tables) and its
 * warm-up again: a pool replaced after every 32 MB of ordinary mail and 10 s idle paid ~0.9 CPU-s more on its next
 * 3,000 messages (bench/RESULTS.md, 2026-12-06 17:12–17:23).
 */
export const RECYCLE_HEAP_MB = 128;
/** Idle time after which a thread beyond the pool's minimum ends (SPAMDESK_ANALYSIS_IDLE_SECONDS). */
export const RETIRE_IDLE_MS = 10_000;

export interface PoolResult {
  /** The record; without its sections (parse, indicators…) when the message was reduced. */
  analysis: Analysis;
  /** What the pool's reducer made of the record, when the message asked for it and the thread has one. */
  reduced?: unknown;
  durationMs: number;
  outcome: 'ok' | 'error' | 'timeout';
}

export interface PoolOptions {
  /** Most threads at once (at least 1); that many start with the pool. */
  size: number;
  /**
   * Threads kept however long they sit idle (default: `size`, none ends); the others end after
   * `retireIdleMs` without a message and start again when messages wait.
   */
  minThreads?: number;
  /** Idle time after which a thread beyond `minThreads` ends (default {@link RETIRE_IDLE_MS}). */
  retireIdleMs?: number;
  settings: AnalysisSettings;
  /** Fixed clock for deterministic output (tests). */
  fixedNow?: Date;
  /** Offline ports even when live adapters exist. */
  offline?: boolean;
  /** Idle time after which a thread that took many bytes is replaced (default {@link RECYCLE_IDLE_MS}). */
  recycleIdleMs?: number;
  /** Bytes a thread must have taken before it is recycled when idle (default {@link RECYCLE_AFTER_BYTES}). */
  recycleAfterBytes?: number;
  /** Memory such a thread must hold to be recycled, MiB (default {@link RECYCLE_HEAP_MB}; 0: always). */
  recycleHeapMb?: number;
  /** Heap limit per thread, MiB (default {@link WORKER_HEAP_MB}). */
  heapMb?: number;
  /**
   * Time bound of the whole-message pass once the bounded first pass of a large message is done,
   * ms (default: the settings' `timeoutMs`, the same bound again). Tests set 0 to take the path
   * where the whole message runs over, whatever the machine's speed.
   */
  wholePassTimeoutMs?: number;
  /**
   * A module whose `reduce(analysis)` each thread runs on the record of a message analysed with
   * `reduce: true`; the thread then sends back its result and the record without its sections,
   * instead of cloning the whole record across threads (the look-up needs a fingerprint, not the
   * parse). The module may belong to a layer above this one: it is named here, not imported.
   * It is called as `reduce(analysis, reducerData)`; one that throws gives no result, and the
   * message's whole record is sent back instead, for the caller to do the work itself.
   */
  reducer?: URL;
  /** The reducer's second argument, the same for every message (structured-cloneable: settings). */
  reducerData?: unknown;
  /**
   * Operator files the threads read besides the settings' own (trusted relays, abuse contacts): the
   * reducer's (classifier scores, SMS profiles). Each thread, a replacement started later included,
   * reads them as this process has them in force, not as they are on disk now.
   */
  files?: readonly (string | null | undefined)[];
}

/** What one message is analysed with, besides its bytes. */
export interface MessageOptions {
  /** The reporter's statement when analysing for one report (compliance: consent). */
  reporter?: ReporterStatement | null;
  /** The reporter's learned mail hosts (trace-back). */
  mailhosts?: readonly string[];
  /** The reporter's own mail domains (trace-back, live MX rule). */
  recipientDomains?: readonly string[];
  /**
   * The reporter's own addresses when the report is their redirect of the message (`Resent-*`, intake's `how:
   * 'resent'`): the trace-back leaves the redirect's own hops out (`traceback/redirect.ts`).
   */
  resentBy?: readonly string[];
  /** Which stages run (default `report`: all). */
  profile?: AnalysisProfile;
  /**
   * `true`: send back the pool's reducer's result rather than the whole record (see
   * {@link PoolOptions.reducer}); `'alongside'`: the whole record and the reducer's result.
   */
  reduce?: boolean | 'alongside';
}

interface Pending {
  task: WorkerTask;
  resolve: (r: PoolResult) => void;
  /** {@link sharedClockMs} when its thread started it (set when it reaches the head of its slot). */
  started: number;
  /** The analysis of its bounded first part (large messages), returned if the whole one runs over time. */
  partial?: Analysis;
  /** The reducer's result for `partial`. */
  partialReduced?: unknown;
}

interface Slot {
  worker: Worker;
  /** Loaded and listening (booting a thread compiles the TypeScript: not counted against a message). */
  ready: boolean;
  /** Handed to the thread, in order; the first is the one it is analysing. */
  inflight: Pending[];
  /** Time bound of `inflight[0]`. */
  timer: NodeJS.Timeout | null;
  /** Message bytes handed to this thread since it started. */
  bytes: number;
  /** Pending retirement ({@link RETIRE_IDLE_MS}) or recycle ({@link RECYCLE_IDLE_MS}) of an idle thread. */
  idleTimer: NodeJS.Timeout | null;
  /** Callers of {@link AnalysisPool.memory} waiting for this thread's answer. */
  memoryWaiters: Array<(m: ThreadMemory | null) => void>;
}

/** What a thread reports: ready after its warm-up, or one message done (`finishedAt`: {@link sharedClockMs}). */
type WorkerReply =
  | { ready: true }
  | { memory: ThreadMemory }
  | { id: number; partial: Analysis | AnalysisHead; reduced?: unknown }
  | { id: number; analysis: Analysis | AnalysisHead; reduced?: unknown; durationMs: number; finishedAt: number };

// Compiled (dist/), the worker body is JavaScript and starts directly; as TypeScript it needs the
// boot file that registers tsx in the thread first.
const BOOT = import.meta.url.endsWith('.js')
  ? new URL('./analysis-worker.js', import.meta.url)
  : new URL('./analysis-worker-boot.mjs', import.meta.url);

export class AnalysisPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private readonly init: WorkerInit;
  private readonly maxThreads: number;
  private readonly minThreads: number;

  constructor(private readonly opts: PoolOptions) {
    this.maxThreads = Math.max(1, opts.size);
    this.minThreads = Math.min(this.maxThreads, Math.max(0, opts.minThreads ?? this.maxThreads));
    this.init = {
      settings: opts.settings,
      fixedNow: opts.fixedNow?.toISOString() ?? null,
      offline: opts.offline ?? false,
      reducer: opts.reducer?.href ?? null,
      ...(opts.reducerData === undefined ? {} : { reducerData: opts.reducerData }),
      // Offline ports read no abuse contacts (`analysis-worker.ts` loadPorts).
      files: filesInForce([
        opts.settings.trustedRelaysFile,
        opts.offline === true ? null : opts.settings.abuseContactsFile,
        ...(opts.files ?? []),
      ]),
    };
    for (let i = 0; i < this.maxThreads; i++) this.slots.push(this.spawn());
  }

  /** Most threads the pool runs at once. */
  get size(): number {
    return this.maxThreads;
  }

  /** Threads running now, starting ones included (fewer than {@link size} after idle retirements). */
  get threads(): number {
    return this.slots.length;
  }

  /**
   * Each ready thread's memory, measured inside it between two messages (a thread still booting,
   * or one that ends before answering, gives null).
   */
  memory(): Promise<Array<ThreadMemory | null>> {
    return Promise.all(this.slots.map((slot) => this.memoryOf(slot)));
  }

  private spawn(): Slot {
    const heapMb = this.opts.heapMb ?? WORKER_HEAP_MB;
    // The young generation is bounded too, so the whole heap stays near heapMb, and small
    // ({@link WORKER_YOUNG_MB}): a thread keeps it committed between messages.
    const worker = new Worker(BOOT, {
      workerData: this.init,
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
    });
    const slot: Slot = {
      worker,
      ready: false,
      inflight: [],
      timer: null,
      bytes: 0,
      idleTimer: null,
      memoryWaiters: [],
    };
    worker.on('message', (m: WorkerReply) => {
      if ('ready' in m) {
        slot.ready = true;
        this.pump();
        if (slot.inflight.length === 0) this.idle(slot);
        return;
      }
      if ('memory' in m) {
        for (const w of slot.memoryWaiters.splice(0)) w(m.memory);
        return;
      }
      const p = slot.inflight[0];
      if (!p || p.task.id !== m.id) return;
      if ('partial' in m) {
        // The bounded part is done within its own time bound; the whole message gets one of its own.
        p.partial = withSections(m.partial);
        p.partialReduced = m.reduced;
        const began = p.started;
        this.arm(slot, sharedClockMs(), this.opts.wholePassTimeoutMs);
        p.started = began;
        return;
      }
      const analysis = withSections(m.analysis);
      this.finish(
        slot,
        {
          analysis,
          ...(m.reduced === undefined ? {} : { reduced: m.reduced }),
          durationMs: m.durationMs,
          outcome: analysis.error ? 'error' : 'ok',
        },
        m.finishedAt,
      );
    });
    worker.on('error', (e) => this.replace(slot, 'ANALYSIS_ERROR', `analysis thread failed: ${e.message}`));
    worker.on('exit', (code) => {
      if (!this.closed) this.replace(slot, 'ANALYSIS_ERROR', `analysis thread exited with code ${code}`);
    });
    return slot;
  }

  /** Starts the time bound of the slot's head message, which its thread started at `started`. */
  private arm(slot: Slot, started: number, boundMs = this.opts.settings.timeoutMs): void {
    const p = slot.inflight[0];
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    if (!p) return;
    p.started = started;
    const left = Math.max(0, boundMs - (sharedClockMs() - started));
    slot.timer = setTimeout(() => {
      this.replace(slot, 'ANALYSIS_TIMEOUT', `analysis stopped after ${boundMs} ms (SPAMDESK_ANALYSIS_TIMEOUT_MS)`);
    }, left);
  }

  /** The head message is done; the thread went straight on to the next one at `finishedAt`. */
  private finish(slot: Slot, r: PoolResult, finishedAt: number): void {
    const p = slot.inflight.shift();
    this.arm(slot, finishedAt);
    p?.resolve(r);
    this.pump();
    if (slot.inflight.length === 0) this.idle(slot);
  }

  /**
   * The slot's thread has nothing to do: it ends after {@link RETIRE_IDLE_MS} if the pool runs more
   * than its minimum then, or is replaced after {@link RECYCLE_IDLE_MS} if it took many bytes.
   */
  private idle(slot: Slot): void {
    if (slot.idleTimer || this.closed) return;
    const retire = this.slots.length > this.minThreads;
    const recycle = slot.bytes >= (this.opts.recycleAfterBytes ?? RECYCLE_AFTER_BYTES);
    if (!retire && !recycle) return;
    const ms = retire ? (this.opts.retireIdleMs ?? RETIRE_IDLE_MS) : (this.opts.recycleIdleMs ?? RECYCLE_IDLE_MS);
    slot.idleTimer = setTimeout(() => this.idleFor(slot), ms);
    slot.idleTimer.unref();
  }

  /**
   * A thread still idle when its idle timer fires ends (its memory goes with it), or is replaced by a fresh one
   * when it holds more than {@link RECYCLE_HEAP_MB}; one that does not is kept warm and counts its bytes afresh.
   */
  private idleFor(slot: Slot): void {
    slot.idleTimer = null;
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed || slot.inflight.length > 0) return;
    if (this.slots.length > this.minThreads) {
      this.end(slot);
      this.slots.splice(i, 1);
      this.retired++;
      return;
    }
    if (slot.bytes < (this.opts.recycleAfterBytes ?? RECYCLE_AFTER_BYTES)) return;
    const limitMb = this.opts.recycleHeapMb ?? RECYCLE_HEAP_MB;
    const held = limitMb > 0 ? this.memoryOf(slot) : Promise.resolve(null);
    void held.then((m) => {
      const j = this.slots.indexOf(slot);
      // Busy again, or gone (closed, replaced) while it answered: nothing to do now.
      if (j < 0 || this.closed || slot.inflight.length > 0) return;
      const mb = m === null ? Number.POSITIVE_INFINITY : (m.heap.total_heap_size + m.external) / 1024 / 1024;
      if (limitMb > 0 && mb <= limitMb) {
        slot.bytes = 0;
        this.kept++;
        return;
      }
      this.end(slot);
      this.slots[j] = this.spawn();
      this.recycled++;
    });
  }

  /** One ready thread's memory, measured inside it (null: booting, or ended before it answered). */
  private memoryOf(slot: Slot): Promise<ThreadMemory | null> {
    return new Promise((resolve) => {
      if (!slot.ready || this.closed) return resolve(null);
      slot.memoryWaiters.push(resolve);
      if (slot.memoryWaiters.length === 1) slot.worker.postMessage({ memory: true } satisfies MemoryRequest);
    });
  }

  /** Ends a slot's thread; whoever waits for its memory gets null. */
  private end(slot: Slot): void {
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => undefined);
    void slot.worker.terminate();
    for (const w of slot.memoryWaiters.splice(0)) w(null);
  }

  /** Threads replaced after a burst so far (tests, metrics). */
  recycled = 0;
  /** Idle threads past the byte threshold kept because they held little memory (tests, metrics). */
  kept = 0;
  /** Threads ended idle beyond the minimum so far (tests, metrics). */
  retired = 0;
  /** Threads started again for waiting messages after retirements (tests, metrics). */
  grown = 0;

  /**
   * Ends the slot's worker (if not yet ended), fails its current task, requeues the ones behind it, and puts a fresh
   * worker in its place.
   */
  private replace(slot: Slot, code: 'ANALYSIS_ERROR' | 'ANALYSIS_TIMEOUT', reason: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    const [p, ...waiting] = slot.inflight;
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.inflight = [];
    slot.timer = null;
    this.end(slot);
    if (!this.closed) this.slots[i] = this.spawn();
    else this.slots.splice(i, 1);
    this.queue.unshift(...waiting);
    if (p?.partial && code === 'ANALYSIS_TIMEOUT') {
      // What the bounded part found stands for the message (it says it was truncated), with the time-out noted.
      const timeout: Finding = {
        code,
        severity: FINDINGS[code].severity,
        stage: 'pipeline',
        message: reason,
        evidence: { rule: 'SPAMDESK_ANALYSIS_TIMEOUT_MS' },
      };
      p.resolve({
        analysis: Object.assign({}, p.partial, { findings: [...p.partial.findings, timeout] }),
        ...(p.partialReduced === undefined ? {} : { reduced: p.partialReduced }),
        durationMs: sharedClockMs() - p.started,
        outcome: 'timeout',
      });
    } else if (p) {
      const durationMs = sharedClockMs() - p.started;
      p.resolve({
        analysis: failedAnalysis(p.task.raw, code, reason, this.now()),
        durationMs,
        outcome: code === 'ANALYSIS_TIMEOUT' ? 'timeout' : 'error',
      });
    }
    this.pump();
  }

  private now(): string {
    return (this.opts.fixedNow ?? new Date()).toISOString();
  }

  /**
   * Starts threads (up to `size`) for messages no thread is free to take, then hands queued messages
   * to ready threads, breadth first: every idle thread gets one before any gets a second.
   */
  private pump(): void {
    if (this.closed) return;
    const free = this.slots.filter((s) => s.inflight.length === 0).length;
    for (let n = this.queue.length - free; n > 0 && this.slots.length < this.maxThreads; n--) {
      this.slots.push(this.spawn());
      this.grown++;
    }
    for (let depth = 1; depth <= PIPELINE_DEPTH; depth++) {
      for (const slot of this.slots) {
        if (!slot.ready || slot.inflight.length >= depth) continue;
        const p = this.queue.shift();
        if (!p) return;
        slot.inflight.push(p);
        if (slot.idleTimer) clearTimeout(slot.idleTimer);
        slot.idleTimer = null;
        slot.bytes += p.task.raw.byteLength;
        if (slot.inflight.length === 1) this.arm(slot, sharedClockMs());
        // Structured clone copies a typed array's whole ArrayBuffer: a message split out of an mbox
        // (or a small Buffer on Node's shared 8 KiB slab) would drag megabytes along. Send an exact
        // copy instead, transferred rather than cloned; the caller's bytes stay as they are.
        const raw = new Uint8Array(p.task.raw);
        const task: WorkerTask = {
          id: p.task.id,
          raw,
          reporter: p.task.reporter,
          mailhosts: p.task.mailhosts,
          recipientDomains: p.task.recipientDomains,
          ...(p.task.resentBy === undefined ? {} : { resentBy: p.task.resentBy }),
          profile: p.task.profile,
          reduce: p.task.reduce,
        };
        slot.worker.postMessage(task, [raw.buffer]);
      }
    }
  }

  /** Messages queued or being analysed. */
  get pending(): number {
    return this.queue.length + this.slots.reduce((n, s) => n + s.inflight.length, 0);
  }

  /**
   * The analysis of one message: the one entry point for a report's analysis, the look-up and
   * re-analysis, so all three run the same stages under the same time and memory bounds, in a
   * worker thread. Never rejects.
   */
  analyse(raw: Uint8Array, opts: MessageOptions = {}): Promise<PoolResult> {
    if (this.closed)
      return Promise.resolve({
        analysis: failedAnalysis(raw, 'ANALYSIS_ERROR', 'analysis pool is closed', this.now()),
        durationMs: 0,
        outcome: 'error',
      });
    return new Promise((resolve) => {
      const task: WorkerTask = {
        id: this.nextId++,
        raw,
        reporter: opts.reporter ?? null,
        mailhosts: [...(opts.mailhosts ?? [])],
        recipientDomains: [...(opts.recipientDomains ?? [])],
        ...(opts.resentBy && opts.resentBy.length > 0 ? { resentBy: [...opts.resentBy] } : {}),
        profile: opts.profile ?? 'report',
        reduce: opts.reduce ?? false,
      };
      this.queue.push({ task, resolve, started: 0 });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const unfinished = [...this.queue.splice(0), ...this.slots.flatMap((s) => s.inflight.splice(0))];
    for (const p of unfinished)
      p.resolve({
        analysis: failedAnalysis(p.task.raw, 'ANALYSIS_ERROR', 'analysis pool closed', this.now()),
        durationMs: 0,
        outcome: 'error',
      });
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.timer) clearTimeout(s.timer);
        if (s.idleTimer) clearTimeout(s.idleTimer);
        s.worker.removeAllListeners();
        for (const w of s.memoryWaiters.splice(0)) w(null);
        await s.worker.terminate();
      }),
    );
    this.slots.length = 0;
  }
}
