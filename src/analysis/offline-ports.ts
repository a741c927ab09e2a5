/**
 * Ports that never reach the network: DNS answers "not found" at once, no ASN data, no abuse
 * contacts, a fixed or real clock. For tests, the fuzz run, benchmarks of the pure stages, and as
 * the fallback when `src/analysis/ports/` provides no adapters.
 */
import type { AnalysisPorts, DnsResolver } from './stage.ts';

function notFound(name: string): Promise<never> {
  const err = Object.assign(new Error(`queryA ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return Promise.reject(err);
}

/** A resolver with an empty zone. */
export const EMPTY_DNS: DnsResolver = {
  resolveTxt: notFound,
  resolveMx: notFound,
  resolve4: notFound,
  resolve6: notFound,
  resolvePtr: notFound,
  resolveCname: notFound,
  resolveNs: notFound,
};

/** Offline ports; `now` fixes the clock (deterministic output). */
export function offlinePorts(now?: Date): AnalysisPorts {
  return {
    dns: EMPTY_DNS,
    asn: { lookup: async () => null },
    abuse: { lookup: async () => [] },
    clock: { now: () => now ?? new Date() },
  };
}
