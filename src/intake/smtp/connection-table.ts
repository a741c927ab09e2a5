/**
 * Who holds the SMTP intake's connections, and who gives way when they are all taken.
 *
 * A per-address cap alone does not stop a slowloris spread over a few dozen addresses (issue 15:
 * 500 idle connections from 50 addresses made everyone else get 421 for a minute). So, with the
 * global cap reached, a newcomer does not get 421 while an address holds more than its share:
 * the oldest connection of the address holding the most, among those not in the middle of a mail,
 * is closed (421, RFC 5321 §3.8) to make room. A newcomer is refused only when no address holds
 * more than it would after admission, which is a fair split.
 */
export interface Admission {
  ok: boolean;
  /** The session to close to make room (only with `ok`). */
  evict: string | null;
  /** Why a connection was refused (only without `ok`). */
  reason: string;
}

interface Held {
  ip: string;
  /** Admission order, to pick the oldest. */
  seq: number;
  /** In the middle of a mail (DATA or a handler pending): never evicted. */
  busy: boolean;
}

export class ConnectionTable {
  private readonly sessions = new Map<string, Held>();
  private readonly perIp = new Map<string, number>();
  private seq = 0;

  constructor(
    readonly maxTotal: number,
    readonly maxPerClient: number,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  count(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  /** Admits session `id` from `ip` (counted at once), possibly naming one to close for room. */
  admit(id: string, ip: string): Admission {
    const mine = this.count(ip);
    if (mine >= this.maxPerClient)
      return {
        ok: false,
        evict: null,
        reason: `Too many connections from ${ip} (at most ${this.maxPerClient}); try again later.`,
      };
    let evict: string | null = null;
    if (this.sessions.size >= this.maxTotal) {
      evict = this.victim(mine + 1);
      if (evict === null)
        return {
          ok: false,
          evict: null,
          reason: `Server busy: ${this.sessions.size} connections open; try again later.`,
        };
      this.release(evict);
    }
    this.sessions.set(id, { ip, seq: this.seq++, busy: false });
    this.perIp.set(ip, mine + 1);
    return { ok: true, evict, reason: '' };
  }

  /** Marks a session as in the middle of a mail (not evictable) or back between mails. */
  setBusy(id: string, busy: boolean): void {
    const s = this.sessions.get(id);
    if (s) s.busy = busy;
  }

  /** Forgets a session; unknown ids (refused, already evicted) are ignored. */
  release(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    const n = this.count(s.ip) - 1;
    if (n <= 0) this.perIp.delete(s.ip);
    else this.perIp.set(s.ip, n);
  }

  /** The oldest idle session of the address holding the most, if it holds more than `share`. */
  private victim(share: number): string | null {
    let best: { id: string; held: number; seq: number } | null = null;
    for (const [id, s] of this.sessions) {
      if (s.busy) continue;
      const held = this.count(s.ip);
      if (held <= share) continue;
      if (!best || held > best.held || (held === best.held && s.seq < best.seq)) best = { id, held, seq: s.seq };
    }
    return best?.id ?? null;
  }
}
