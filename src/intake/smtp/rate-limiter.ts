/**
 * Per-client limits of the SMTP intake, kept in memory (each process limits its own clients; a
 * client that spreads over several Spamdesk processes behind one MX gets one window per process,
 * which is fine for abuse control and needs no shared state).
 */

/** Sliding-window counter: at most `max` events per `windowMs` per key. */
export class WindowLimiter {
  private readonly hits = new Map<string, number[]>();
  private sweeps = 0;

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Records an event for `key` unless the limit is reached; returns false when limited. */
  tryTake(key: string, now = Date.now()): boolean {
    const from = now - this.windowMs;
    const list = (this.hits.get(key) ?? []).filter((t) => t > from);
    if (list.length >= this.max) {
      this.hits.set(key, list);
      return false;
    }
    list.push(now);
    this.hits.set(key, list);
    if (++this.sweeps % 1000 === 0) this.sweep(now);
    return true;
  }

  /** Seconds until `key` may send again (0 when it may now). */
  retryAfterSeconds(key: string, now = Date.now()): number {
    const list = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length < this.max) return 0;
    return Math.max(1, Math.ceil((list[0] + this.windowMs - now) / 1000));
  }

  /** Forgets keys with no event in the window (bounds memory under many clients). */
  sweep(now = Date.now()): void {
    for (const [k, list] of this.hits) if (!list.some((t) => t > now - this.windowMs)) this.hits.delete(k);
  }

  get size(): number {
    return this.hits.size;
  }
}
