/**
 * The abuse-contact port: the operator's CSV (SPAMDESK_ABUSE_CONTACTS_FILE) first, then the
 * shipped defaults (`data/abuse-defaults.ts`).
 *
 * CSV format, one rule per line, `#` starts a comment, an optional header line `network,address`:
 *
 *     # network (CIDR) or ASN, abuse address[, note]
 *     192.0.2.0/24,abuse@example.net
 *     AS64500,abuse@example.org,transit provider
 *
 * The most specific network wins; an ASN rule applies when no network rule matches.
 */
import fs from 'node:fs';
import { DEFAULT_ABUSE_CONTACTS } from '../data/abuse-defaults.ts';
import { matchCidr, parseCidr, type Cidr } from '../stages/traceback/ip-class.ts';
import type { AbuseContactLookup } from '../stage.ts';

/** A bad line in the operator's CSV: names the file and the line. */
export class AbuseContactsFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'AbuseContactsFileError';
  }
}

export interface AbuseTable {
  networks: { cidr: Cidr; address: string }[];
  asns: Map<number, string>;
}

const EMAIL = /^[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>]+$/;

/** Parses the CSV text; throws {@link AbuseContactsFileError} on the first bad line. */
export function parseAbuseContactsCsv(text: string, file = '<csv>'): AbuseTable {
  const table: AbuseTable = { networks: [], asns: new Map() };
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const lineNo = i + 1;
    const line = rawLine.replace(/#.*$/, '').trim();
    if (line.length === 0) return;
    const [key = '', address = ''] = line.split(',').map((s) => s.trim());
    if (lineNo === 1 && /^(network|cidr|asn)/i.test(key) && !EMAIL.test(address)) return;
    if (!EMAIL.test(address)) throw new AbuseContactsFileError(file, lineNo, `"${address}" is not an e-mail address`);
    const asn = /^(?:AS)?(\d{1,10})$/i.exec(key);
    if (asn && !key.includes('.') && !key.includes(':')) {
      const n = Number(asn[1]);
      if (n <= 0 || n > 4294967295) throw new AbuseContactsFileError(file, lineNo, `AS number out of range: ${key}`);
      table.asns.set(n, address);
      return;
    }
    const cidr = parseCidr(key);
    if (cidr === null) throw new AbuseContactsFileError(file, lineNo, `"${key}" is neither a network (CIDR) nor an AS number`);
    table.networks.push({ cidr, address });
  });
  // Most specific first, so the first match is the longest prefix.
  table.networks.sort((a, b) => b.cidr.bits - a.cidr.bits);
  return table;
}

/** Reads the operator's file (throws {@link AbuseContactsFileError} with file and line). */
export function loadAbuseContactsFile(file: string): AbuseTable {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new AbuseContactsFileError(file, 0, `cannot read (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseAbuseContactsCsv(text, file);
}

const DEFAULTS = new Map(DEFAULT_ABUSE_CONTACTS.map((d) => [d.asn, d]));

/** The port over an operator table (or none) plus the shipped defaults. */
export function abuseContactLookup(operator: AbuseTable | null): AbuseContactLookup {
  return {
    async lookup(ip, asn) {
      const out: { address: string; source: string }[] = [];
      if (operator) {
        const net = operator.networks.find((n) => matchCidr(ip, [n.cidr]) !== null);
        if (net) out.push({ address: net.address, source: `operator-table:${net.cidr.text}` });
        else if (asn !== null) {
          const a = operator.asns.get(asn);
          if (a) out.push({ address: a, source: `operator-table:AS${asn}` });
        }
      }
      if (out.length === 0 && asn !== null) {
        const d = DEFAULTS.get(asn);
        if (d) out.push({ address: d.address, source: `rir-default:${d.registry} whois AS${asn}` });
      }
      return out;
    },
  };
}
