/**
 * One memory budget for message bodies in flight across HTTP and SMTP together (issue 15: thirty
 * 25 MB SMTP messages buffered at once took the server to 1.8 GB and stalled other requests for
 * 13 s). Intake reserves a body's size before it reads it; beyond the budget HTTP answers 503 with
 * Retry-After and SMTP 452 (RFC 5321 §4.2.3, "insufficient system storage"), both "retry later",
 * so nothing is refused for good and nothing accepted is dropped. A reservation ends when the
 * request is answered (the evidence is committed by then) or the SMTP mail is answered.
 */

/** Seconds a refused client is told to wait (HTTP Retry-After). */
export const BUDGET_RETRY_AFTER_SECONDS = 5;

/** A held part of the budget; `release` is idempotent. */
export interface Reservation {
  /** Bytes held now. */
  readonly bytes: number;
  /** Holds `more` bytes besides; false (nothing added) when they do not fit. */
  tryGrow(more: number): boolean;
  release(): void;
}

export class InflightBudget {
  private used = 0;
  private everReserved = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes ever reserved (grows only): tells a watcher whether messages came since it last looked. */
  get reservedTotal(): number {
    return this.everReserved;
  }

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }

  /** True when `bytes` more would fit now (a cheap early answer; reserves nothing). */
  fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.maxBytes;
  }

  /**
   * Reserves `bytes`, or null when they do not fit beside what is in flight. A message larger
   * than the whole budget is reserved as the whole budget, so an idle server takes any message
   * within `maxMessageBytes`.
   */
  tryReserve(bytes: number): Reservation | null {
    const want = Math.min(Math.max(0, Math.ceil(bytes)), this.maxBytes);
    if (this.used + want > this.maxBytes) return null;
    this.used += want;
    this.everReserved += want;
    let held = want;
    let open = true;
    return {
      get bytes() {
        return open ? held : 0;
      },
      tryGrow: (more: number) => {
        if (!open) return false;
        const add = Math.max(0, Math.ceil(more));
        // Growing past the whole budget is allowed only to the one message in flight.
        if (this.used + add > this.maxBytes && this.used !== held) return false;
        this.used += add;
        this.everReserved += add;
        held += add;
        return true;
      },
      release: () => {
        if (!open) return;
        open = false;
        this.used -= held;
      },
    };
  }
}
