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
import { readFileInForce, readTextFile, type FileProblem } from '../../core/file-problems.ts';
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

/** Every line of the CSV: its rule or what is wrong with it (blank lines, comments and the header skipped). */
function* csvLines(
  text: string,
): Generator<
  | { line: number; asn: number; address: string }
  | { line: number; cidr: Cidr; address: string }
  | { line: number; problem: string }
> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = (lines[i] ?? '').replace(/#.*$/, '').trim();
    if (line.length === 0) continue;
    const [key = '', address = ''] = line.split(',').map((s) => s.trim());
    if (lineNo === 1 && /^(network|cidr|asn)/i.test(key) && !EMAIL.test(address)) continue;
    if (!EMAIL.test(address)) {
      yield { line: lineNo, problem: `"${address}" is not an e-mail address` };
      continue;
    }
    const asn = /^(?:AS)?(\d{1,10})$/i.exec(key);
    if (asn && !key.includes('.') && !key.includes(':')) {
      const n = Number(asn[1]);
      if (n <= 0 || n > 4294967295) yield { line: lineNo, problem: `AS number out of range: ${key}` };
      else yield { line: lineNo, asn: n, address };
      continue;
    }
    const cidr = parseCidr(key);
    if (cidr === null) yield { line: lineNo, problem: `"${key}" is neither a network (CIDR) nor an AS number` };
    else yield { line: lineNo, cidr, address };
  }
}

/** Parses the CSV text; throws {@link AbuseContactsFileError} on the first bad line. */
export function parseAbuseContactsCsv(text: string, file = '<csv>'): AbuseTable {
  const table: AbuseTable = { networks: [], asns: new Map() };
  for (const l of csvLines(text)) {
    if ('problem' in l) throw new AbuseContactsFileError(file, l.line, l.problem);
    if ('asn' in l) table.asns.set(l.asn, l.address);
    else table.networks.push({ cidr: l.cidr, address: l.address });
  }
  // Most specific first, so the first match is the longest prefix.
  table.networks.sort((a, b) => b.cidr.bits - a.cidr.bits);
  return table;
}

/** Every bad line of the operator's file (none: the file is valid). */
export function abuseContactsProblems(file: string, readText = readTextFile): FileProblem[] {
  const read = readText(file);
  if ('problem' in read) return [read.problem];
  const problems: FileProblem[] = [];
  for (const l of csvLines(read.text))
    if ('problem' in l) problems.push({ file, where: `line ${l.line}`, message: l.problem });
  return problems;
}

/** Reads the operator's file (throws {@link AbuseContactsFileError} with file and line). */
export function loadAbuseContactsFile(file: string): AbuseTable {
  const read = readFileInForce(file);
  if ('problem' in read) throw new AbuseContactsFileError(file, 0, read.problem.message);
  return parseAbuseContactsCsv(read.text, file);
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
