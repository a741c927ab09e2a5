/**
 * A static DNS zone for tests, benchmarks and the fuzz run, after mailauth's
 * `test/helpers/dns-zone.js`: answers from a plain object, counts every lookup so a test can
 * assert how many were made, and can simulate failures. Never touches the network.
 */
import type { DnsResolver } from '../stage.ts';

/** A failure to simulate for one name and type. */
export type SimulatedFailure = 'SERVFAIL' | 'TIMEOUT' | 'REFUSED';

export interface ZoneRecords {
  TXT?: string[][] | SimulatedFailure;
  MX?: { exchange: string; priority: number }[] | SimulatedFailure;
  A?: string[] | SimulatedFailure;
  AAAA?: string[] | SimulatedFailure;
  PTR?: string[] | SimulatedFailure;
  CNAME?: string[] | SimulatedFailure;
  NS?: string[] | SimulatedFailure;
}

/** Zone data: lower-case owner name (no trailing dot) → records. */
export type Zone = Record<string, ZoneRecords>;

function failureCode(f: string): string {
  return f === 'TIMEOUT' ? 'ETIMEOUT' : f === 'REFUSED' ? 'EREFUSED' : 'ESERVFAIL';
}

function dnsError(code: string, syscall: string, name: string): Error & { code: string } {
  // Not-found is the common answer of an offline zone: skip the stack capture, which dominates its cost.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const err = new Error(`${syscall} ${code} ${name}`);
  Error.stackTraceLimit = limit;
  return Object.assign(err, { code, hostname: name, syscall });
}

/**
 * Distinct names whose lookups are counted one by one. The offline DNS mode of a running instance
 * is this resolver too, asked about every name of every message for as long as it runs: past this
 * many names only the total is kept, so its memory stays bounded.
 */
export const MAX_COUNTED_NAMES = 10_000;

/** A {@link DnsResolver} over a fixed zone, with lookup counters. */
export class StaticZoneResolver implements DnsResolver {
  /** Lookups made, keyed `TYPE name` (the first {@link MAX_COUNTED_NAMES} distinct keys). */
  readonly lookups = new Map<string, number>();
  private total = 0;
  private readonly zone: Map<string, ZoneRecords>;

  constructor(zone: Zone = {}) {
    this.zone = new Map(Object.entries(zone).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  }

  /** Total number of lookups made. */
  get count(): number {
    return this.total;
  }

  private answer<K extends keyof ZoneRecords>(
    type: K,
    name: string,
  ): Promise<Exclude<NonNullable<ZoneRecords[K]>, SimulatedFailure>> {
    const key = name.toLowerCase().replace(/\.$/, '');
    this.total++;
    const counted = this.lookups.get(`${type} ${key}`);
    if (counted !== undefined) this.lookups.set(`${type} ${key}`, counted + 1);
    else if (this.lookups.size < MAX_COUNTED_NAMES) this.lookups.set(`${type} ${key}`, 1);
    const syscall = `query${type === 'TXT' ? 'Txt' : type}`;
    const rec = this.zone.get(key);
    if (rec === undefined) return Promise.reject(dnsError('ENOTFOUND', syscall, name));
    const v = rec[type];
    if (v === undefined || (Array.isArray(v) && v.length === 0))
      return Promise.reject(dnsError('ENODATA', syscall, name));
    if (typeof v === 'string') return Promise.reject(dnsError(failureCode(v), syscall, name));
    return Promise.resolve(v as Exclude<NonNullable<ZoneRecords[K]>, SimulatedFailure>);
  }

  resolveTxt(name: string): Promise<string[][]> {
    return this.answer('TXT', name);
  }
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]> {
    return this.answer('MX', name);
  }
  resolve4(name: string): Promise<string[]> {
    return this.answer('A', name);
  }
  resolve6(name: string): Promise<string[]> {
    return this.answer('AAAA', name);
  }
  resolvePtr(name: string): Promise<string[]> {
    return this.answer('PTR', name);
  }
  resolveCname(name: string): Promise<string[]> {
    return this.answer('CNAME', name);
  }
  resolveNs(name: string): Promise<string[]> {
    return this.answer('NS', name);
  }
}

/** Parses `name TYPE value` lines (mailauth's arc fixture style: `sel._domainkey.example k=rsa; p=…` is TXT). */
export function zoneFromText(text: string): Zone {
  const zone: Zone = {};
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t.length === 0 || t.startsWith('#')) continue;
    const sp = t.indexOf(' ');
    if (sp < 0) continue;
    const name = t.slice(0, sp).toLowerCase().replace(/\.$/, '');
    zone[name] ??= {};
    const rec = zone[name];
    const txt = rec.TXT;
    const value = t.slice(sp + 1).trim();
    // Long TXT values are split into 255-byte strings, as DNS serves them (RFC 1035 §3.3.14).
    const chunks: string[] = [];
    for (let i = 0; i < value.length; i += 255) chunks.push(value.slice(i, i + 255));
    rec.TXT = [...(Array.isArray(txt) ? txt : []), chunks];
  }
  return zone;
}
