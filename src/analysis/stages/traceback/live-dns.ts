/**
 * Live DNS evidence for the trace-back of fresh mail, asked through the analysis DNS port.
 *
 * Many receivers record only the client's greeting (Exchange, Post.Office, InterMail, Smail,
 * IronPort) or qmail's unchecked reverse name, so the walk cannot tell the organisation's own relay
 * from a stranger who says `HELO mail.<its domain>`. SpamCop settles these by looking the names up
 * when the report is made. Two questions, each answered by parties a spammer does not control:
 *
 * - **Forward-confirmed reverse DNS** (RFC 8601 §2.7.3's `iprev`, what Sendmail, Postfix and Exim
 *   check before recording a name): the address's PTR names a host and that host's A/AAAA records
 *   lead back to the address. The holder of the address wrote the PTR, the holder of the domain wrote
 *   the A record: when both agree on a name in the receiving organisation's domain, the address is
 *   the organisation's, exactly what a verified reverse name recorded at receipt proves (walk rule 3).
 *   Only names in the organisation's domains are resolved forward: the organisation's name servers
 *   answer, never ones the sender chose.
 * - **The recipient domain's MX** (RFC 5321 §5.1): a domain names its inbound relays in its MX
 *   records, so a client whose address is an address of an MX host of a domain the believed hops
 *   delivered for (their `for` clauses) is that organisation's own inbound relay or the filtering
 *   gateway it contracts (Cisco `*.iphmx.com`, Proofpoint `*.pphosted.com`, Mimecast, Barracuda):
 *   believed as the receiver's, never as anybody's outbound relay.
 *
 * DNS describes the address as it is now; it says what it was when the mail arrived only for fresh
 * mail: the checks run only when the believed top header is at most {@link LIVE_DNS_MAX_AGE_MS} old
 * (the same week an ISP alert covers), never for imported archives, and not at all when DNS is
 * offline. An unanswered or failed look-up is "unknown": it never earns trust.
 */
import { isNotFound } from '../../ports/dns-budget.ts';
import type { DnsResolver } from '../../stage.ts';
import { normaliseIp } from './ip-class.ts';
import { isAccessName, registeredDomain } from './org.ts';
import { reverseName } from '../enrich.ts';

/** Oldest mail (by its believed top header) whose hops are looked up live: a week, as ISP alerts. */
export const LIVE_DNS_MAX_AGE_MS = 7 * 86_400_000;
/** A top header dated further ahead than this is not "fresh": a skewed or wrong clock. */
const MAX_CLOCK_SKEW_MS = 86_400_000;
/** Reverse names followed per address, MX hosts followed per domain: bounds one message's look-ups. */
const MAX_PTR_NAMES = 2;
const MAX_MX_HOSTS = 4;
/** Recipient domains whose MX is asked for, per message (the reporter's own, then the believed `for` clauses'). */
export const MAX_RECIPIENT_DOMAINS = 3;

/** What live DNS answered so far for one message; the walk reads it, {@link answerLive} fills it. */
export interface LiveFacts {
  /**
   * Address → its forward-confirmed reverse names in the organisation's domains (empty: none); null:
   * the look-up failed.
   */
  readonly fcrdns: Map<string, string[] | null>;
  /**
   * `domain family` (see {@link mxKey}) → (MX host address → MX host name); null: the look-up failed.
   */
  readonly mx: Map<string, Map<string, string> | null>;
  /** When the answers were obtained (for the explanation). */
  readonly at: Date;
}

/** What the walk would like to know about the hop it stopped at. */
export interface LiveQuestion {
  ip: string;
  /**
   * Ask the address's forward-confirmed reverse names, following only those in these registered
   * domains (the receiving organisation's): a name elsewhere is never resolved, so a sender's own
   * name servers are not asked. Empty: no reverse question.
   */
  reverseIn: string[];
  /** Recipient domains whose MX hosts to resolve. */
  domains: string[];
}

/** The {@link LiveFacts.mx} key of a domain's MX host addresses of `ip`'s family (A or AAAA). */
export function mxKey(domain: string, ip: string): string {
  return `${domain} ${ip.includes(':') ? 6 : 4}`;
}

/** Empty facts, dated `at`. */
export function newLiveFacts(at: Date): LiveFacts {
  return { fcrdns: new Map(), mx: new Map(), at };
}

/**
 * Whether a message is fresh enough for live look-ups: the first dated header from the top (written
 * by the believed receiver) is at most {@link LIVE_DNS_MAX_AGE_MS} old and not in the future.
 */
export function freshEnough(dates: readonly (string | null)[], now: Date): boolean {
  const first = dates.find((d) => d !== null);
  if (first === undefined || first === null) return false;
  const t = Date.parse(first);
  if (!Number.isFinite(t)) return false;
  const age = now.getTime() - t;
  return age <= LIVE_DNS_MAX_AGE_MS && age >= -MAX_CLOCK_SKEW_MS;
}

function lowerName(n: string): string {
  return n.toLowerCase().replace(/\.$/, '');
}

/** The addresses `name` resolves to (A for IPv4 questions, AAAA for IPv6); null when the look-up failed. */
async function addressesOf(dns: DnsResolver, name: string, v6: boolean): Promise<string[] | null> {
  try {
    const got = v6 ? await dns.resolve6(name) : await dns.resolve4(name);
    return got.map((a) => normaliseIp(a) ?? a);
  } catch (e) {
    return isNotFound(e) ? [] : null;
  }
}

async function confirmReverse(dns: DnsResolver, ip: string, domains: readonly string[]): Promise<string[] | null> {
  let names: string[];
  try {
    names = (await dns.resolvePtr(reverseName(ip))).map(lowerName);
  } catch (e) {
    return isNotFound(e) ? [] : null;
  }
  const picked = names
    .filter((n) => domains.includes(registeredDomain(n) ?? '') && !isAccessName(n, ip))
    .slice(0, MAX_PTR_NAMES);
  const backs = await Promise.all(picked.map((n) => addressesOf(dns, n, ip.includes(':'))));
  const out = picked.filter((_, i) => backs[i]?.includes(ip) === true);
  return out.length === 0 && backs.includes(null) ? null : out;
}

async function mxAddresses(dns: DnsResolver, domain: string, v6: boolean): Promise<Map<string, string> | null> {
  let hosts: { exchange: string; priority: number }[];
  try {
    hosts = await dns.resolveMx(domain);
  } catch (e) {
    return isNotFound(e) ? new Map() : null;
  }
  const out = new Map<string, string>();
  // RFC 7505: a null MX (".") says the domain takes no mail.
  const names = [...hosts]
    .sort((a, b) => a.priority - b.priority)
    .map((h) => lowerName(h.exchange))
    .filter((n) => n.length > 0)
    .slice(0, MAX_MX_HOSTS);
  const addrs = await Promise.all(names.map((n) => addressesOf(dns, n, v6)));
  names.forEach((n, i) => {
    for (const a of addrs[i] ?? []) if (!out.has(a)) out.set(a, n);
  });
  return out;
}

/**
 * Answers the walk's questions into `facts` through `dns` (the caller's budgeted resolver), the
 * independent look-ups at once (two round trips: PTR or MX, then the A/AAAA records they name).
 * Every failure is recorded as null ("unknown") so it is not asked again. Returns false when a
 * look-up failed: the caller asks no more (a dead resolver must not eat the analysis time bound).
 */
export async function answerLive(
  questions: readonly LiveQuestion[],
  facts: LiveFacts,
  dns: DnsResolver,
): Promise<boolean> {
  const jobs: Promise<boolean>[] = [];
  for (const q of questions) {
    if (q.reverseIn.length > 0 && !facts.fcrdns.has(q.ip)) {
      facts.fcrdns.set(q.ip, null);
      jobs.push(
        confirmReverse(dns, q.ip, q.reverseIn).then((names) => {
          facts.fcrdns.set(q.ip, names);
          return names !== null;
        }),
      );
    }
    for (const d of q.domains) {
      const key = mxKey(d, q.ip);
      if (facts.mx.has(key)) continue;
      facts.mx.set(key, null);
      jobs.push(
        mxAddresses(dns, d, q.ip.includes(':')).then((hosts) => {
          facts.mx.set(key, hosts);
          return hosts !== null;
        }),
      );
    }
  }
  return (await Promise.all(jobs)).every(Boolean);
}
