/**
 * The DNS blocklist as rbldnsd zone files: `ip4.zone` (`ip4trie`) and `ip6.zone` (`ip6trie`) for
 * the IP zone, `domains.zone` (`dnset`) for the domain zone, and `rbldnsd.zones` with one
 * `zone:type:file` argument per line, so `rbldnsd -r DIR -b 127.0.0.1/5353 $(cat DIR/rbldnsd.zones)`
 * serves them as they are. Every answer carries its documented return code (`RETURN_CODES`) and a
 * TXT pointing to the public look-up page (rbldnsd puts the queried value for `$`). The RFC 5782
 * §5 test entries are always there: 127.0.0.2 (and ::FFFF:7F00:2) and `TEST` listed, 127.0.0.1
 * (and ::FFFF:7F00:1) and `INVALID` never. Files are written atomically — write a temporary file,
 * fsync it, rename it over the old one, fsync the directory — and only when their text changed,
 * so rbldnsd (which reloads on a changed modification time) never reads half a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import ipaddr from 'ipaddr.js';
import type { Database } from '../../db/schema.ts';
import type { ActionPolicy } from '../../actions/action-policy.ts';
import { RETURN_CODES } from '../../actions/listing-policy.ts';
import { sha256Hex } from '../../core/ids.ts';
import { allListed } from './store.ts';
import { DOMAIN_RE } from './exclusions.ts';

export const ZONE_FILES = { ip4: 'ip4.zone', ip6: 'ip6.zone', domains: 'domains.zone' } as const;
export const ZONES_LIST_FILE = 'rbldnsd.zones';

/** What each list is called in a TXT answer. */
const LIST_LABEL: Record<string, string> = {
  infected: 'infected machine',
  infrastructure: 'spam infrastructure',
  domains: 'domain advertised in spam',
};

export interface ZoneTexts {
  ip4: string;
  ip6: string;
  domains: string;
  list: string;
}

/** The look-up page a TXT answer points to (`$`: rbldnsd's placeholder for the queried value). */
export function lookupTemplate(baseUrl: string): string {
  return `${baseUrl.replace(/\/$/, '')}/listings/$`;
}

/** A TXT template rbldnsd reads on one line: no line breaks, no colon-led surprises. */
function txt(org: string, label: string, baseUrl: string): string {
  return `Listed by ${org} (${label}), see ${lookupTemplate(baseUrl)}`.replace(/[\r\n]/g, ' ');
}

function header(policy: ActionPolicy, zone: string, what: string): string[] {
  const ttl = policy.listing.zones.ttlSeconds;
  const me = policy.instance;
  // serial 0: rbldnsd uses the file's modification time, which changes exactly when the data does.
  return [
    `# ${me.org} DNS blocklist: ${what} (zone ${zone}). Return codes: docs/feeds.md. Generated file: do not edit.`,
    `$SOA ${ttl} ns.${zone}. hostmaster.${me.domain}. 0 3600 600 604800 ${ttl}`,
    `$TTL ${ttl}`,
  ];
}

/** Renders the three zone files and the rbldnsd argument list from the listed rows. */
export async function renderZones(db: Kysely<Database>, policy: ActionPolicy, baseUrl: string): Promise<ZoneTexts> {
  const org = policy.instance.org;
  const { ip: ipZone, domain: domainZone } = policy.listing.zones;
  const ip4 = [...header(policy, ipZone, 'IPv4 addresses')];
  const ip6 = [...header(policy, ipZone, 'IPv6 addresses')];
  // RFC 5782 §5: 127.0.0.2 listed, 127.0.0.1 never (the exclusion makes it explicit).
  ip4.push(`127.0.0.2/32 :${RETURN_CODES.infected}:RFC 5782 test entry`, '!127.0.0.1/32');
  ip6.push(`::ffff:7f00:2/128 :${RETURN_CODES.infected}:RFC 5782 test entry`, '!::ffff:7f00:1/128');
  for await (const r of allListed(db, 'ip')) {
    if (!r.return_code) continue;
    let a: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      a = ipaddr.process(r.value);
    } catch {
      continue;
    }
    const line = `:${r.return_code}:${txt(org, LIST_LABEL[r.list] ?? r.list, baseUrl)}`;
    if (a.kind() === 'ipv4') ip4.push(`${a.toString()}/32 ${line}`);
    else ip6.push(`${a.toString()}/128 ${line}`);
  }
  const domains = [...header(policy, domainZone, 'domains')];
  // RFC 5782 §5: TEST listed, INVALID never.
  domains.push(`test :${RETURN_CODES.infected}:RFC 5782 test entry`, '!invalid');
  for await (const r of allListed(db, 'domain')) {
    if (!r.return_code || !DOMAIN_RE.test(r.value)) continue;
    const label = r.category ? `${LIST_LABEL.domains}, ${r.category}` : LIST_LABEL.domains;
    // A leading dot lists the domain and every sub-domain of it (rbldnsd dnset).
    domains.push(`.${r.value} :${r.return_code}:${txt(org, label, baseUrl)}`);
  }
  const list = [
    `${ipZone}:ip4trie:${ZONE_FILES.ip4}`,
    `${ipZone}:ip6trie:${ZONE_FILES.ip6}`,
    `${domainZone}:dnset:${ZONE_FILES.domains}`,
  ];
  const end = (lines: string[]) => `${lines.join('\n')}\n`;
  return { ip4: end(ip4), ip6: end(ip6), domains: end(domains), list: end(list) };
}

/** Writes one file atomically: temporary file, fsync, rename, fsync of the directory. */
export function writeFileAtomic(file: string, text: string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  const dfd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

/** Writes the files whose text differs from what is on disk; returns the names written. */
export function writeZones(dir: string, z: ZoneTexts): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    [ZONE_FILES.ip4, z.ip4],
    [ZONE_FILES.ip6, z.ip6],
    [ZONE_FILES.domains, z.domains],
    [ZONES_LIST_FILE, z.list],
  ];
  const written: string[] = [];
  for (const [name, text] of files) {
    const file = path.join(dir, name);
    let current: string | null = null;
    try {
      current = fs.readFileSync(file, 'utf8');
    } catch {
      current = null;
    }
    if (current !== null && sha256Hex(current) === sha256Hex(text)) continue;
    writeFileAtomic(file, text);
    written.push(name);
  }
  return written;
}
