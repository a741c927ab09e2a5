/**
 * A per-message wrapper around the DNS port: counts lookups, refuses beyond a budget, and records
 * every temporary failure so the stage can report `DNS_TEMPFAIL` instead of crashing (STYLE.md
 * "Failures are results"). Not-found answers (`ENOTFOUND`, `ENODATA`) are answers, not failures.
 */
import type { DnsResolver } from '../stage.ts';

/** Lookups one message may make across a stage when the operator sets nothing. */
export const DEFAULT_DNS_MAX_LOOKUPS = 40;

/** Codes that mean "the name or record does not exist": a real answer. */
export function isNotFound(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
  return code === 'ENOTFOUND' || code === 'ENODATA' || code === 'NXDOMAIN';
}

export interface DnsFailure {
  type: string;
  name: string;
  code: string;
}

/** The wrapped resolver and what happened through it. */
export class BudgetedResolver implements DnsResolver {
  count = 0;
  readonly failures: DnsFailure[] = [];

  constructor(
    private readonly inner: DnsResolver,
    readonly maxLookups: number = DEFAULT_DNS_MAX_LOOKUPS,
  ) {}

  private async run<T>(type: string, name: string, f: () => Promise<T>): Promise<T> {
    this.count++;
    if (this.count > this.maxLookups) {
      const err = Object.assign(new Error(`DNS lookup budget of ${this.maxLookups} exhausted (${type} ${name})`), {
        code: 'EBUDGET',
      });
      this.failures.push({ type, name, code: 'EBUDGET' });
      throw err;
    }
    try {
      return await f();
    } catch (e) {
      if (!isNotFound(e)) {
        const code =
          typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'EUNKNOWN';
        this.failures.push({ type, name, code });
        // mailauth maps ETIMEOUT / EREFUSED to temperror; give every other failure a code it knows.
        if (!('code' in Object(e))) throw Object.assign(new Error(String(e)), { code: 'ETIMEOUT' });
      }
      throw e;
    }
  }

  resolveTxt(n: string) {
    return this.run('TXT', n, () => this.inner.resolveTxt(n));
  }
  resolveMx(n: string) {
    return this.run('MX', n, () => this.inner.resolveMx(n));
  }
  resolve4(n: string) {
    return this.run('A', n, () => this.inner.resolve4(n));
  }
  resolve6(n: string) {
    return this.run('AAAA', n, () => this.inner.resolve6(n));
  }
  resolvePtr(n: string) {
    return this.run('PTR', n, () => this.inner.resolvePtr(n));
  }
  resolveCname(n: string) {
    return this.run('CNAME', n, () => this.inner.resolveCname(n));
  }
  resolveNs(n: string) {
    return this.run('NS', n, () => this.inner.resolveNs(n));
  }
}

/**
 * mailauth's resolver shape, `(name, rrtype) → Promise<records>`, over the port
 * (mailauth passes it to SPF, DKIM, DMARC and ARC alike).
 */
export function mailauthResolver(dns: DnsResolver): (name: string, rrtype: string) => Promise<unknown[]> {
  return async (name, rrtype) => {
    switch (rrtype.toUpperCase()) {
      case 'TXT':
        return dns.resolveTxt(name);
      case 'MX':
        return dns.resolveMx(name);
      case 'A':
        return dns.resolve4(name);
      case 'AAAA':
        return dns.resolve6(name);
      case 'PTR':
        return dns.resolvePtr(name);
      case 'CNAME':
        return dns.resolveCname(name);
      case 'NS':
        return dns.resolveNs(name);
      default:
        throw Object.assign(new Error(`unsupported record type ${rrtype}`), { code: 'ENOTIMP' });
    }
  };
}
