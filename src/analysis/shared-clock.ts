/**
 * A clock shared by the analysis pool and its threads (apart from both so that neither imports
 * the other at run time).
 */
import { performance } from 'node:perf_hooks';

/** Milliseconds on a clock shared by all threads (each thread's `performance.now()` has its own origin). */
export function sharedClockMs(): number {
  return performance.timeOrigin + performance.now();
}
