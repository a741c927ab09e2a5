/**
 * What the intel feeds never publish, whatever the campaigns say (issue 19): private, reserved and
 * documentation addresses; the relays of trusted mailbox providers and of this instance's intake
 * (the trace-back's trust table); by the network the reports' facts give an address, the relays of
 * shared sending platforms and brands' own servers, as the lists refuse them
 * (`../network-exclusions.ts`); the registered and verified addresses and domains of legitimate
 * senders; platforms shared by unrelated senders and impersonated brands' own domains; reserved
 * names (RFC 2606, RFC 6761). Each refusal carries its reason, for the build summary.
 */
import type { Kysely } from 'kysely';
import { getDomain } from 'tldts';
import type { Database } from '../../db/schema.ts';
import { classifyIp, normaliseIp, parseCidr, matchCidr, type Cidr } from '../../analysis/stages/traceback/ip-class.ts';
import type { TrustTable } from '../../analysis/stages/traceback/trust.ts';
import { platformReason, providerReason } from '../shared-domains.ts';
import { exclusionKind, networkExclusion, type AddressNetwork } from '../../actions/network-exclusions.ts';
import ipaddr from 'ipaddr.js';

/** Top-level names that never designate anyone's real host (RFC 2606 §2, RFC 6761 §6). */
const RESERVED_TLDS: ReadonlySet<string> = new Set(['test', 'example', 'invalid', 'localhost', 'local', 'onion']);

export interface Exclusions {
  /**
   * Null when the address may be published, else why not. `network`: its reverse name and AS as the
   * reports' facts give them (a shared sending platform's relay, a brand's server).
   */
  ip(ip: string, network?: AddressNetwork): string | null;
  /**
   * Null when the host name (or registrable domain) may be published, else why not. `fullUrl`: the
   * host of a URL with a path, which names one customer's page on a shared platform (a shortened
   * link, a page on a publishing or hosting platform) and may be published where the platform's
   * own domain may not.
   */
  host(host: string, opts?: { fullUrl?: boolean }): string | null;
  /** Null when the address may be published, else why not. */
  email(address: string): string | null;
}

/** The verified senders' networks and domains. */
export async function verifiedSenderIdentities(db: Kysely<Database>): Promise<{ nets: Cidr[]; domains: Set<string> }> {
  const rows = await db
    .selectFrom('action_sender_identities')
    .select(['kind', 'value'])
    .where('verified_at', 'is not', null)
    .execute();
  const nets: Cidr[] = [];
  const domains = new Set<string>();
  for (const r of rows) {
    if (r.kind === 'ip') {
      const c = parseCidr(r.value);
      if (c) nets.push(c);
    } else if (r.kind === 'domain') {
      domains.add(r.value.toLowerCase().replace(/\.$/, ''));
    }
  }
  return { nets, domains };
}

function underAny(host: string, domains: ReadonlySet<string>): string | null {
  let h = host;
  for (;;) {
    if (domains.has(h)) return h;
    const dot = h.indexOf('.');
    if (dot < 0) return null;
    h = h.slice(dot + 1);
  }
}

const NO_NETWORK: AddressNetwork = { rdns: null, asn: null, asName: null };

export function buildExclusions(opts: {
  trust: TrustTable;
  senders: { nets: Cidr[]; domains: Set<string> };
  instanceDomain: string;
}): Exclusions {
  const own = opts.instanceDomain.toLowerCase();
  const host = (raw: string, o: { fullUrl?: boolean } = {}): string | null => {
    const h = raw.toLowerCase().replace(/\.$/, '');
    if (h.length === 0 || h.length > 253) return 'not a host name';
    const literal = normaliseIp(h.replace(/^\[|\]$/g, ''));
    if (literal) return ipReason(literal);
    const tld = h.slice(h.lastIndexOf('.') + 1);
    if (RESERVED_TLDS.has(tld) || !h.includes('.')) return 'reserved name (RFC 2606, RFC 6761)';
    const reg = getDomain(h) ?? h;
    const shared = providerReason(reg, opts.trust) ?? (o.fullUrl ? null : platformReason(reg));
    if (shared) return shared;
    if (reg === own || underAny(h, new Set([own]))) return 'this instance’s own domain';
    const sender = underAny(h, opts.senders.domains);
    if (sender) return `domain of a verified sender (${sender})`;
    if (opts.trust.byName(h)) return 'host of a trusted mailbox provider';
    return null;
  };
  const ipReason = (ip: string, network: AddressNetwork = NO_NETWORK): string | null => {
    const n = normaliseIp(ip);
    if (!n) return 'not an IP address';
    const cls = classifyIp(n);
    if (cls !== 'public') return `${cls} address`;
    const byNetwork = networkExclusion(ipaddr.parse(n), opts.trust, network);
    if (byNetwork) return exclusionKind(byNetwork);
    if (matchCidr(n, opts.senders.nets)) return 'address of a verified sender';
    return null;
  };
  return {
    ip: ipReason,
    host,
    email(address) {
      const at = address.lastIndexOf('@');
      if (at <= 0 || at === address.length - 1) return 'not an address';
      const domain = address.slice(at + 1).toLowerCase();
      const sender = underAny(domain, opts.senders.domains);
      if (sender) return `domain of a verified sender (${sender})`;
      const tld = domain.slice(domain.lastIndexOf('.') + 1);
      if (RESERVED_TLDS.has(tld)) return 'reserved name (RFC 2606, RFC 6761)';
      return null;
    },
  };
}
