/**
 * A full garbage collection once the intake is quiet after large messages. The bodies of a burst
 * (request buffers, decoded strings; their bytes live outside V8's heap, in malloc) become garbage
 * once answered, but V8 collects only when JavaScript allocates: an idle server kept them, and so
 * its RSS, for as long as it stayed idle (issue 15: 77 MB of dead buffers still counted 30 s after
 * a burst of look-ups). One collection when nothing has arrived for a while gives them back; it
 * costs tens of milliseconds on a heap that is otherwise idle, and never runs during intake.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { InflightBudget } from './inflight-budget.ts';

/** How often the intake is looked at; a collection follows two looks without new bytes. */
export const IDLE_COLLECT_CHECK_MS = 5_000;
/** Message bytes since the last collection that make one worth it (smaller bursts are V8's to reclaim). */
export const IDLE_COLLECT_MIN_BYTES = 32 * 1024 * 1024;

export interface IdleCollectorOptions {
  checkMs?: number;
  minBytes?: number;
  /** The collection itself (tests count calls); default {@link exposedGc}. */
  gc?: () => void;
}

/**
 * V8's `gc()`: exposed by `--expose-gc` when the process was started with it, else by setting
 * the flag now and taking the function from a new context (the flag only adds that global).
 */
export function exposedGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = vm.runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('V8 did not expose gc()');
  return gc as () => void;
}

/**
 * Collects once the intake has been quiet for a whole check after {@link IDLE_COLLECT_MIN_BYTES}
 * of messages. `check()` is what the timer of {@link start} calls.
 */
export class IdleCollector {
  private readonly minBytes: number;
  private gc: (() => void) | null;
  private collectedAt: number;
  private seen: number;
  private wasIdle = true;
  /** Collections run (tests, the status line). */
  collections = 0;

  constructor(
    private readonly budget: InflightBudget,
    private readonly opts: IdleCollectorOptions = {},
  ) {
    this.minBytes = opts.minBytes ?? IDLE_COLLECT_MIN_BYTES;
    this.gc = opts.gc ?? null;
    this.collectedAt = budget.reservedTotal;
    this.seen = budget.reservedTotal;
  }

  check(): void {
    const total = this.budget.reservedTotal;
    const idle = this.budget.inUse === 0;
    // Quiet: nothing in flight now or at the last check, and nothing arrived in between.
    const quiet = total === this.seen && idle && this.wasIdle;
    this.seen = total;
    this.wasIdle = idle;
    if (!quiet || total - this.collectedAt < this.minBytes) return;
    this.collectedAt = total;
    this.gc ??= exposedGc();
    this.gc();
    this.collections++;
  }

  /** Checks every {@link IDLE_COLLECT_CHECK_MS} (never keeping the process alive); returns the stop. */
  start(): () => void {
    const timer = setInterval(() => this.check(), this.opts.checkMs ?? IDLE_COLLECT_CHECK_MS);
    timer.unref();
    return () => clearInterval(timer);
  }
}
