/**
 * What is never listed, whatever its reports say: private and reserved address ranges (ipaddr.js
 * ranges: anything but global unicast; the address rules are `actions/address-refusals.ts`, which the ISP
 * alerts apply too), the trusted providers' relays of the trace-back's table
 * (by network, AS or reverse-DNS name: a Gmail relay carries spam it did not write), relays of
 * shared sending platforms (ESPs, outbound gateways: `actions/shared-senders.ts`), the networks of the
 * brands phishing impersonates (`actions/brand-networks.ts`: the brand's own mail servers), verified senders' IPs
 * and domains (they are in the feedback loop instead), shared platforms whose domain every sender
 * links to (the campaigns' common-domain table, brands included) and the regional domains of those
 * and of mailbox providers, URL shorteners, hosting platforms' shared suffixes, publishing and
 * newsletter platforms (`../shared-domains.ts`), the instance's own domain and zones, reserved
 * names (RFC 2606, RFC 6761), and the operator's `neverList`.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Config } from '../../core/config.ts';
import type { ActionPolicy } from '../../actions/action-policy.ts';
import {
  addressRefusal,
  loadAddressRefusals,
  verifiedSenderValues,
  type AddressRefusals,
} from '../../actions/address-refusals.ts';
import { getPublicSuffix } from 'tldts';
import { platformReason, providerReason } from '../shared-domains.ts';

export { canonicalIp } from '../../actions/address-refusals.ts';

/** Top-level names reserved for testing and documentation, never real (RFC 2606, RFC 6761, RFC 7686). */
const RESERVED_TLDS = new Set(['test', 'example', 'invalid', 'localhost', 'local', 'onion', 'arpa', 'internal']);
/** Second-level names reserved by RFC 2606. */
const RESERVED_DOMAINS = new Set(['example.com', 'example.net', 'example.org']);

/** A host name the DNS can carry: LDH labels (IDNs as A-labels), at least two, at most 253 characters. */
export const DOMAIN_RE = /^(?=.{4,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/** Everything the checks need, read once per pass. */
export interface Exclusions extends AddressRefusals {
  senderDomains: Set<string>;
  neverDomains: string[];
  ownDomains: string[];
}

/** Reads the verified senders and compiles the policy's never-list. */
export async function loadExclusions(db: Kysely<Database>, config: Config, policy: ActionPolicy): Promise<Exclusions> {
  return {
    ...(await loadAddressRefusals(db, config, policy)),
    senderDomains: new Set((await verifiedSenderValues(db, 'domain')).map((v) => v.toLowerCase())),
    neverDomains: policy.listing.neverList.domains.map((d) => d.toLowerCase().replace(/^\.|\.$/g, '')),
    ownDomains: [policy.instance.domain, policy.listing.zones.ip, policy.listing.zones.domain].map((d) =>
      d.toLowerCase(),
    ),
  };
}

/** True when `name` is `base` or one of its sub-domains. */
function within(name: string, base: string): boolean {
  return name === base || name.endsWith(`.${base}`);
}

/**
 * Why this IP is never listed, or null when it may be. `rdns`, `asn` and `asName`: the reverse name the
 * receiving host recorded and the address's AS, as the reports' facts carry them.
 */
export function ipExclusion(
  ip: string,
  ex: Exclusions,
  rdns: string | null,
  asn: number | null = null,
  asName: string | null = null,
): string | null {
  return addressRefusal(ip, ex, { rdns, asn, asName });
}

/**
 * True when `d` is a suffix under which a platform gives each customer a name (`cloudfunctions.net`,
 * `github.io`, `blogspot.com`: the public suffix list's private part). The advertised domains are
 * registrable by the ICANN part only, so one customer's phishing page would otherwise list the
 * platform and every customer on it.
 */
export function isHostingSuffix(d: string): boolean {
  return getPublicSuffix(d, { allowPrivateDomains: true }) === d && getPublicSuffix(d) !== d;
}

/** Why this domain is never listed, or null when it may be. */
export function domainExclusion(domain: string, ex: Exclusions): string | null {
  const d = domain.toLowerCase();
  if (!DOMAIN_RE.test(d)) return 'not a domain name';
  const tld = d.slice(d.lastIndexOf('.') + 1);
  if (RESERVED_TLDS.has(tld) || [...RESERVED_DOMAINS].some((r) => within(d, r))) return 'reserved name (RFC 2606/6761)';
  if (ex.ownDomains.some((o) => within(d, o) || within(o, d))) return 'this instance’s own domain';
  if ([...ex.senderDomains].some((s) => within(d, s))) return 'domain of a verified sender';
  if (ex.neverDomains.some((n) => within(d, n))) return 'never listed by policy';
  // Shared infrastructure (`../shared-domains.ts`): providers, brands and their regional domains;
  // shorteners, hosting and publishing platforms.
  return providerReason(d, ex.trust) ?? platformReason(d);
}
