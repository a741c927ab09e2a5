/**
 * The production DNS port: node:dns's own resolver with a per-query timeout and a single try,
 * so a dead name server costs at most `timeoutMs` per lookup (and the per-message lookup budget in
 * `dns-budget.ts` bounds how many lookups one message can make).
 */
import { promises as dnsPromises } from 'node:dns';
import type { DnsResolver } from '../stage.ts';

/** Per-query timeout when none is configured, in ms. */
export const DEFAULT_DNS_TIMEOUT_MS = 1500;

/** A live resolver; `servers` overrides the system's name servers (e.g. a local caching resolver). */
export function liveDnsResolver(opts: { timeoutMs?: number; servers?: readonly string[] } = {}): DnsResolver {
  const r = new dnsPromises.Resolver({ timeout: opts.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS, tries: 1 });
  if (opts.servers && opts.servers.length > 0) r.setServers([...opts.servers]);
  return {
    resolveTxt: (n) => r.resolveTxt(n),
    resolveMx: (n) => r.resolveMx(n),
    resolve4: (n) => r.resolve4(n),
    resolve6: (n) => r.resolve6(n),
    resolvePtr: (n) => r.resolvePtr(n),
    resolveCname: (n) => r.resolveCname(n),
    resolveNs: (n) => r.resolveNs(n),
  };
}
