/**
 * A pool of analysis worker threads: uses every core (SPAMDESK_WORKERS), and enforces the time
 * bound (SPAMDESK_ANALYSIS_TIMEOUT_MS) for real by terminating a thread that runs over and
 * starting a fresh one; the message then gets an `ANALYSIS_TIMEOUT` record instead of an analysis.
 * A thread that dies (out of memory under its heap limit, crash) yields `ANALYSIS_ERROR`.
 * Nothing a message does can make `analyse()` here reject.
 */
import { Worker } from 'node:worker_threads';
import type { Analysis } from './analysis-schema.ts';
import { failedAnalysis } from './analyse.ts';
import type { AnalysisSettings, ReporterStatement } from './stage.ts';
import type { WorkerInit, WorkerTask } from './analysis-worker.ts';

/** Heap limit per analysis thread: a hostile message that needs more kills only its thread. */
export const WORKER_HEAP_MB = 768;

export interface PoolResult {
  analysis: Analysis;
  durationMs: number;
  outcome: 'ok' | 'error' | 'timeout';
}

export interface PoolOptions {
  size: number;
  settings: AnalysisSettings;
  /** Fixed clock for deterministic output (tests). */
  fixedNow?: Date;
  /** Offline ports even when live adapters exist. */
  offline?: boolean;
}

interface Pending {
  task: WorkerTask;
  resolve: (r: PoolResult) => void;
  started: number;
}

interface Slot {
  worker: Worker;
  /** Loaded and listening (booting a thread compiles the TypeScript: not counted against a message). */
  ready: boolean;
  busy: Pending | null;
  timer: NodeJS.Timeout | null;
}

const BOOT = new URL('./analysis-worker-boot.mjs', import.meta.url);

export class AnalysisPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private readonly init: WorkerInit;

  constructor(private readonly opts: PoolOptions) {
    this.init = { settings: opts.settings, fixedNow: opts.fixedNow?.toISOString() ?? null, offline: opts.offline ?? false };
    for (let i = 0; i < Math.max(1, opts.size); i++) this.slots.push(this.spawn());
  }

  get size(): number {
    return this.slots.length;
  }

  private spawn(): Slot {
    const worker = new Worker(BOOT, { workerData: this.init, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    const slot: Slot = { worker, ready: false, busy: null, timer: null };
    worker.on('message', (m: { ready: true } | { id: number; analysis: Analysis; durationMs: number }) => {
      if ('ready' in m) {
        slot.ready = true;
        this.pump();
        return;
      }
      const p = slot.busy;
      if (!p || p.task.id !== m.id) return;
      this.finish(slot, { analysis: m.analysis, durationMs: m.durationMs, outcome: m.analysis.error ? 'error' : 'ok' });
    });
    worker.on('error', (e) => this.replace(slot, 'ANALYSIS_ERROR', `analysis thread failed: ${e.message}`));
    worker.on('exit', (code) => {
      if (!this.closed) this.replace(slot, 'ANALYSIS_ERROR', `analysis thread exited with code ${code}`);
    });
    return slot;
  }

  private finish(slot: Slot, r: PoolResult): void {
    const p = slot.busy;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.busy = null;
    p?.resolve(r);
    this.pump();
  }

  /** Ends the slot's worker (if not yet ended), fails its task, and puts a fresh worker in its place. */
  private replace(slot: Slot, code: 'ANALYSIS_ERROR' | 'ANALYSIS_TIMEOUT', reason: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    const p = slot.busy;
    if (slot.timer) clearTimeout(slot.timer);
    slot.busy = null;
    slot.timer = null;
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => undefined);
    void slot.worker.terminate();
    if (!this.closed) this.slots[i] = this.spawn();
    else this.slots.splice(i, 1);
    if (p) {
      const durationMs = performance.now() - p.started;
      p.resolve({ analysis: failedAnalysis(p.task.raw, code, reason, this.now()), durationMs, outcome: code === 'ANALYSIS_TIMEOUT' ? 'timeout' : 'error' });
    }
    this.pump();
  }

  private now(): string {
    return (this.opts.fixedNow ?? new Date()).toISOString();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy || !slot.ready) continue;
      const p = this.queue.shift();
      if (!p) return;
      slot.busy = p;
      p.started = performance.now();
      slot.timer = setTimeout(() => {
        this.replace(slot, 'ANALYSIS_TIMEOUT', `analysis stopped after ${this.opts.settings.timeoutMs} ms (SPAMDESK_ANALYSIS_TIMEOUT_MS)`);
      }, this.opts.settings.timeoutMs);
      slot.worker.postMessage(p.task);
    }
  }

  /** Analyses one message in a worker thread. Never rejects. */
  analyse(raw: Uint8Array, reporter: ReporterStatement | null = null): Promise<PoolResult> {
    if (this.closed) return Promise.resolve({ analysis: failedAnalysis(raw, 'ANALYSIS_ERROR', 'analysis pool is closed', this.now()), durationMs: 0, outcome: 'error' });
    return new Promise((resolve) => {
      this.queue.push({ task: { id: this.nextId++, raw, reporter }, resolve, started: 0 });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve({ analysis: failedAnalysis(p.task.raw, 'ANALYSIS_ERROR', 'analysis pool closed', this.now()), durationMs: 0, outcome: 'error' });
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.timer) clearTimeout(s.timer);
        s.worker.removeAllListeners();
        await s.worker.terminate();
      }),
    );
    this.slots.length = 0;
  }
}
