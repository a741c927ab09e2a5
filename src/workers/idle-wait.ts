/**
 * A poll interval that can be cut short: loops sleep on `wait(ms)` when idle, and whoever brings
 * new work (a committed report, a queued outbox entry, a stop request) calls `wake()`.
 */
export interface IdleWait {
  /** Resolves after `ms`, or at once when `wake()` is called meanwhile. */
  wait(ms: number): Promise<void>;
  /** Ends the current wait, if any. */
  wake(): void;
}

export function createIdleWait(): IdleWait {
  let wakeCurrent: (() => void) | null = null;
  return {
    wait(ms) {
      return new Promise<void>((resolve) => {
        const t = setTimeout(done, ms);
        function done(): void {
          clearTimeout(t);
          wakeCurrent = null;
          resolve();
        }
        wakeCurrent = done;
      });
    },
    wake() {
      wakeCurrent?.();
    },
  };
}
