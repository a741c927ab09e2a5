/**
 * The IP → ASN / AS name / country port over the offline `@ip-location-db` npm data
 * (`@ip-location-db/asn`: RouteViews + DB-IP ASN Lite + NRO, CC BY 4.0 — attribution to
 * routeviews.org, db-ip.com and nro.net; `@ip-location-db/asn-country`: NRO delegated statistics,
 * CC BY 4.0). The CSVs are loaded once per process (or worker thread) into sorted typed arrays of
 * inclusive ranges and searched by binary search: IPv4 as one uint32 per bound, IPv6 as four.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import ipaddr from 'ipaddr.js';
import type { AsnLookup, AsnRecord } from '../stage.ts';

/** A sorted table of inclusive ranges, `words` uint32 per address (1 for IPv4, 4 for IPv6). */
export class RangeTable {
  constructor(
    readonly words: 1 | 4,
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
    /** Value index per range. */
    readonly values: Uint32Array,
  ) {}

  get size(): number {
    return this.values.length;
  }

  private cmp(arr: Uint32Array, i: number, key: Uint32Array): number {
    const w = this.words;
    for (let k = 0; k < w; k++) {
      const a = arr[i * w + k] ?? 0;
      const b = key[k] ?? 0;
      if (a !== b) return a < b ? -1 : 1;
    }
    return 0;
  }

  /** Value index of the range containing `key`, or -1. */
  find(key: Uint32Array): number {
    let lo = 0;
    let hi = this.size - 1;
    let found = -1;
    // Last range whose start <= key.
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cmp(this.starts, mid, key) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0 || this.cmp(this.ends, found, key) < 0) return -1;
    return this.values[found] ?? -1;
  }
}

/** Builder for a {@link RangeTable} over preallocated typed arrays. */
class RangeBuilder {
  private n = 0;
  private readonly starts: Uint32Array;
  private readonly ends: Uint32Array;
  private readonly values: Uint32Array;
  constructor(
    private readonly words: 1 | 4,
    capacity: number,
  ) {
    this.starts = new Uint32Array(capacity * words);
    this.ends = new Uint32Array(capacity * words);
    this.values = new Uint32Array(capacity);
  }
  add(start: Uint32Array, end: Uint32Array, value: number): void {
    if (this.n >= this.values.length) return;
    this.starts.set(start, this.n * this.words);
    this.ends.set(end, this.n * this.words);
    this.values[this.n] = value;
    this.n++;
  }
  build(): RangeTable {
    const w = this.words;
    return new RangeTable(
      w,
      this.starts.slice(0, this.n * w),
      this.ends.slice(0, this.n * w),
      this.values.slice(0, this.n),
    );
  }
}

/** Fast path for the data files: a plain IPv4 dotted quad or IPv6 text without embedded IPv4. */
function fastWords(s: string, out: Uint32Array): boolean {
  if (!s.includes(':')) {
    const p = s.split('.');
    if (p.length !== 4) return false;
    let v = 0;
    for (const x of p) {
      const o = Number(x);
      if (!Number.isInteger(o) || o < 0 || o > 255) return false;
      v = v * 256 + o;
    }
    out[0] = v >>> 0;
    return true;
  }
  if (s.includes('.')) return false;
  const dbl = s.indexOf('::');
  const head =
    dbl < 0
      ? s.split(':')
      : s
          .slice(0, dbl)
          .split(':')
          .filter((x) => x.length > 0);
  const tail =
    dbl < 0
      ? []
      : s
          .slice(dbl + 2)
          .split(':')
          .filter((x) => x.length > 0);
  if (head.length + tail.length > 8 || (dbl < 0 && head.length !== 8)) return false;
  const groups = new Array<number>(8).fill(0);
  for (let i = 0; i < head.length; i++) groups[i] = parseInt(head[i] ?? '0', 16);
  for (let i = 0; i < tail.length; i++) groups[8 - tail.length + i] = parseInt(tail[i] ?? '0', 16);
  for (let k = 0; k < 4; k++) {
    const hi = groups[k * 2] ?? 0;
    const lo = groups[k * 2 + 1] ?? 0;
    if (Number.isNaN(hi) || Number.isNaN(lo)) return false;
    out[k] = ((hi << 16) | lo) >>> 0;
  }
  return true;
}

/** An address as uint32 words (1 for IPv4, 4 for IPv6); null when not an address. */
export function ipWords(ip: string): Uint32Array | null {
  try {
    const a = ipaddr.process(ip);
    if (a.kind() === 'ipv4') {
      const b = a.toByteArray();
      return Uint32Array.of((((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0);
    }
    const p = a.toByteArray();
    const out = new Uint32Array(4);
    for (let k = 0; k < 4; k++)
      out[k] =
        (((p[k * 4] ?? 0) << 24) | ((p[k * 4 + 1] ?? 0) << 16) | ((p[k * 4 + 2] ?? 0) << 8) | (p[k * 4 + 3] ?? 0)) >>>
        0;
    return out;
  } catch {
    return null;
  }
}

/** Splits one CSV line into its first `n - 1` fields and the rest (the AS name may hold commas). */
function splitFields(line: string, n: number): string[] {
  const out: string[] = [];
  let from = 0;
  for (let k = 0; k < n - 1; k++) {
    const c = line.indexOf(',', from);
    if (c < 0) return out;
    out.push(line.slice(from, c));
    from = c + 1;
  }
  let last = line.slice(from);
  if (last.startsWith('"') && last.endsWith('"')) last = last.slice(1, -1).replace(/""/g, '"');
  out.push(last);
  return out;
}

/** In-memory ASN and country tables. */
export interface IpLocationData {
  asn4: RangeTable;
  asn6: RangeTable;
  country4: RangeTable;
  country6: RangeTable;
  /** value index → [asn, name index]. */
  asns: Uint32Array;
  asNames: string[];
  countries: string[];
}

/** Builds the tables from CSV text (`start,end,asn,name` and `start,end,cc`). */
export function buildIpLocationData(src: {
  asn4: string;
  asn6: string;
  country4: string;
  country6: string;
}): IpLocationData {
  const nameIndex = new Map<string, number>();
  const asNames: string[] = [];
  const asnValue = new Map<string, number>();
  const asnPairs: number[] = [];
  const countryIndex = new Map<string, number>();
  const countries: string[] = [];

  const valueOfAsn = (asn: string, name: string): number => {
    const key = `${asn}|${name}`;
    let v = asnValue.get(key);
    if (v === undefined) {
      let ni = nameIndex.get(name);
      if (ni === undefined) {
        ni = asNames.length;
        asNames.push(name);
        nameIndex.set(name, ni);
      }
      v = asnPairs.length / 2;
      asnPairs.push(Number(asn) >>> 0, ni);
      asnValue.set(key, v);
    }
    return v;
  };
  const valueOfCountry = (cc: string): number => {
    let v = countryIndex.get(cc);
    if (v === undefined) {
      v = countries.length;
      countries.push(cc);
      countryIndex.set(cc, v);
    }
    return v;
  };

  const load = (text: string, words: 1 | 4, fields: number, value: (f: string[]) => number): RangeTable => {
    const lines = text.split('\n');
    const b = new RangeBuilder(words, lines.length);
    const st = new Uint32Array(words);
    const en = new Uint32Array(words);
    for (const line of lines) {
      if (line.length < 3) continue;
      const f = splitFields(line.trimEnd(), fields);
      if (f.length < fields) continue;
      if (!fastWords(f[0] ?? '', st) || !fastWords(f[1] ?? '', en)) continue;
      if ((words === 1) !== !(f[0] ?? '').includes(':')) continue;
      b.add(st, en, value(f));
    }
    return b.build();
  };
  const asnOf = (f: string[]) => valueOfAsn(f[2] ?? '0', f[3] ?? '');
  const ccOf = (f: string[]) => valueOfCountry(f[2] ?? '');
  return {
    asn4: load(src.asn4, 1, 4, asnOf),
    asn6: load(src.asn6, 4, 4, asnOf),
    country4: load(src.country4, 1, 3, ccOf),
    country6: load(src.country6, 4, 3, ccOf),
    asns: Uint32Array.from(asnPairs),
    asNames,
    countries,
  };
}

/** Looks one address up in loaded tables. */
export function lookupIn(data: IpLocationData, ip: string): AsnRecord | null {
  const key = ipWords(ip);
  if (key === null) return null;
  const v4 = key.length === 1;
  const a = (v4 ? data.asn4 : data.asn6).find(key);
  const c = (v4 ? data.country4 : data.country6).find(key);
  if (a < 0 && c < 0) return null;
  const asn = a >= 0 ? (data.asns[a * 2] ?? null) : null;
  const nameIdx = a >= 0 ? data.asns[a * 2 + 1] : undefined;
  return {
    asn: asn === 0 ? null : asn,
    asName: nameIdx === undefined ? null : (data.asNames[nameIdx] ?? null),
    country: c >= 0 ? (data.countries[c] ?? null) : null,
    network: null,
  };
}

const require = createRequire(import.meta.url);
let cached: IpLocationData | null = null;

/** Where the npm packages are installed. */
export function ipLocationDbFiles(): { asn4: string; asn6: string; country4: string; country6: string } {
  const asnDir = path.dirname(require.resolve('@ip-location-db/asn/package.json'));
  const ccDir = path.dirname(require.resolve('@ip-location-db/asn-country/package.json'));
  return {
    asn4: path.join(asnDir, 'asn-ipv4.csv'),
    asn6: path.join(asnDir, 'asn-ipv6.csv'),
    country4: path.join(ccDir, 'asn-country-ipv4.csv'),
    country6: path.join(ccDir, 'asn-country-ipv6.csv'),
  };
}

const CACHE_MAGIC = 'spamdesk-ipdb-1';

/** Serialises loaded tables into one buffer: a JSON header line, then the typed arrays back to back. */
export function serialiseIpLocationData(d: IpLocationData, version: string): Buffer {
  const tables = [d.asn4, d.asn6, d.country4, d.country6];
  const arrays: Uint32Array[] = [...tables.flatMap((t) => [t.starts, t.ends, t.values]), d.asns];
  const header = JSON.stringify({
    magic: CACHE_MAGIC,
    version,
    lengths: arrays.map((a) => a.length),
    asNames: d.asNames,
    countries: d.countries,
  });
  const head = Buffer.from(`${header}\n`, 'utf8');
  // Pad so the arrays start on a 4-byte boundary.
  const pad = (4 - (head.length % 4)) % 4;
  return Buffer.concat([
    head,
    Buffer.alloc(pad, 0x20),
    ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)),
  ]);
}

/** Reads a buffer written by {@link serialiseIpLocationData}; null when it is not one of `version`. */
export function deserialiseIpLocationData(buf: Buffer, version: string): IpLocationData | null {
  const nl = buf.indexOf(0x0a);
  if (nl < 0) return null;
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(0, nl).toString('utf8'));
  } catch {
    return null;
  }
  if (typeof header !== 'object' || header === null) return null;
  const h: Record<string, unknown> = { ...header };
  if (h.magic !== CACHE_MAGIC || h.version !== version) return null;
  const lengths = h.lengths;
  const asNames = h.asNames;
  const countries = h.countries;
  if (!Array.isArray(lengths) || !Array.isArray(asNames) || !Array.isArray(countries) || lengths.length !== 13)
    return null;
  let off = nl + 1;
  off += (4 - (off % 4)) % 4;
  const aligned = new Uint8Array(buf.length - off);
  aligned.set(buf.subarray(off));
  const arrays: Uint32Array[] = [];
  let pos = 0;
  for (const len of lengths) {
    if (typeof len !== 'number' || pos + len * 4 > aligned.byteLength) return null;
    arrays.push(new Uint32Array(aligned.buffer, pos, len));
    pos += len * 4;
  }
  const t = (i: number, w: 1 | 4) =>
    new RangeTable(
      w,
      arrays[i] ?? new Uint32Array(),
      arrays[i + 1] ?? new Uint32Array(),
      arrays[i + 2] ?? new Uint32Array(),
    );
  return {
    asn4: t(0, 1),
    asn6: t(3, 4),
    country4: t(6, 1),
    country6: t(9, 4),
    asns: arrays[12] ?? new Uint32Array(),
    asNames: asNames.map(String),
    countries: countries.map(String),
  };
}

function packageVersion(): string {
  const read = (p: string): string => {
    const j: unknown = JSON.parse(fs.readFileSync(require.resolve(p), 'utf8'));
    return typeof j === 'object' && j !== null && 'version' in j ? String(j.version) : '?';
  };
  return `${read('@ip-location-db/asn/package.json')}+${read('@ip-location-db/asn-country/package.json')}`;
}

/** Where the compact binary copy is cached between processes (rebuilt when the packages change). */
export function ipLocationCacheFile(): string {
  return path.join(os.tmpdir(), `spamdesk-ipdb-${packageVersion()}.bin`);
}

/**
 * Loads the shipped data once per process / worker thread: from the binary cache when present
 * (a few MB of typed arrays), else by parsing the CSVs and writing the cache for next time.
 */
export function loadIpLocationDb(): IpLocationData {
  if (cached) return cached;
  const version = packageVersion();
  const cacheFile = ipLocationCacheFile();
  try {
    const fromCache = deserialiseIpLocationData(fs.readFileSync(cacheFile), version);
    if (fromCache) {
      cached = fromCache;
      return fromCache;
    }
  } catch {
    // No cache yet: build it below.
  }
  const f = ipLocationDbFiles();
  cached = buildIpLocationData({
    asn4: fs.readFileSync(f.asn4, 'utf8'),
    asn6: fs.readFileSync(f.asn6, 'utf8'),
    country4: fs.readFileSync(f.country4, 'utf8'),
    country6: fs.readFileSync(f.country6, 'utf8'),
  });
  try {
    // Write then rename: a concurrent reader never sees half a file.
    const tmp = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    fs.writeFileSync(tmp, serialiseIpLocationData(cached, version));
    fs.renameSync(tmp, cacheFile);
  } catch {
    // A read-only temp dir only costs the parse next time.
  }
  return cached;
}

/** The {@link AsnLookup} port over the shipped data (loaded on first use). */
export function ipLocationDbAsnLookup(data?: IpLocationData): AsnLookup {
  return {
    async lookup(ip: string) {
      return lookupIn(data ?? loadIpLocationDb(), ip);
    },
  };
}
