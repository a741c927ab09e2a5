/**
 * The adapters behind the analysis ports (see `stage.ts`): `createPorts(settings)` is called once
 * per worker thread. DNS is live in production (`dnsMode: 'live'`, per-query timeout) and an empty
 * static zone when `dnsMode` is `offline` (benchmarks, fuzzing, air-gapped instances); the ASN
 * data is the offline ip-location-db copy; abuse contacts come from the operator's CSV and the
 * shipped defaults.
 */
import type { AnalysisPorts, AnalysisSettings } from '../stage.ts';
import { abuseContactLookup, loadAbuseContactsFile } from './abuse-contacts.ts';
import { liveDnsResolver } from './dns-live.ts';
import { StaticZoneResolver, type Zone } from './dns-static-zone.ts';
import { ipLocationDbAsnLookup, loadIpLocationDb } from './ip-location-db.ts';

/**
 * Ports for one worker. Throws when the operator's abuse-contact CSV is invalid (file:line).
 * The ASN data is loaded here, at worker start, so no message pays for it inside its time bound.
 */
export function createPorts(settings: AnalysisSettings): AnalysisPorts {
  const dns =
    settings.dnsMode === 'offline' ? new StaticZoneResolver() : liveDnsResolver({ timeoutMs: settings.dnsTimeoutMs });
  return {
    dns,
    asn: ipLocationDbAsnLookup(loadIpLocationDb()),
    abuse: abuseContactLookup(settings.abuseContactsFile ? loadAbuseContactsFile(settings.abuseContactsFile) : null),
    clock: { now: () => new Date() },
  };
}

/** Deterministic ports for tests and benchmarks: a static zone, the real ASN data, a fixed clock. */
export function staticPorts(
  zone: Zone = {},
  now = new Date('2026-01-01T00:00:00Z'),
  abuseCsvFile: string | null = null,
): AnalysisPorts & { dns: StaticZoneResolver } {
  return {
    dns: new StaticZoneResolver(zone),
    asn: ipLocationDbAsnLookup(),
    abuse: abuseContactLookup(abuseCsvFile ? loadAbuseContactsFile(abuseCsvFile) : null),
    clock: { now: () => now },
  };
}
