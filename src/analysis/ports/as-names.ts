/**
 * AS numbers to the names the shipped `@ip-location-db/asn` data gives them (RouteViews + DB-IP
 * ASN Lite, CC BY 4.0), so pages can say "AS5089 Virgin Media" rather than a bare number. Built
 * once per process from the same tables the enrichment stage searches (`loadIpLocationDb`).
 */
import { loadIpLocationDb, type IpLocationData } from './ip-location-db.ts';

let byAsn: Map<number, string> | null = null;

/** The AS → name map of loaded tables (the first name the data gives an AS wins). */
export function asNameMap(data: IpLocationData): Map<number, string> {
  const out = new Map<number, string>();
  for (let i = 0; i + 1 < data.asns.length; i += 2) {
    const asn = data.asns[i];
    const name = data.asNames[data.asns[i + 1]];
    if (asn > 0 && name && !out.has(asn)) out.set(asn, name);
  }
  return out;
}

/** The name of an AS, or null when the data does not know it. */
export function asNameOf(asn: number | null | undefined): string | null {
  if (asn === null || asn === undefined || !Number.isInteger(asn)) return null;
  byAsn ??= asNameMap(loadIpLocationDb());
  return byAsn.get(asn) ?? null;
}

/** `AS5089 Virgin Media`, or `AS5089` when the name is not known. */
export function asLabel(asn: number, knownName?: string | null): string {
  const name = knownName?.trim() || asNameOf(asn);
  return name ? `AS${asn} ${name}` : `AS${asn}`;
}
