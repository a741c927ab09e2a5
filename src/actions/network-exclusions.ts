/**
 * Addresses that no feed names as a source of abuse because of the network they are in, whatever
 * their reports say: a trusted mailbox provider's relay (the trace-back's table, by network, reverse
 * name or an AS the provider uses alone), a shared sending platform's relay (ESPs and outbound
 * gateways: `lists/shared-senders.ts`) and a brand's own network (`lists/brand-networks.ts`). One
 * rule for the DNS blocklist and plain lists (`lists/exclusions.ts`) and for the intel feeds'
 * indicators (`intel/exclusions.ts`): an address the lists refuse as SendGrid's is not published as a
 * phisher's in STIX or MISP either.
 */
import type ipaddr from 'ipaddr.js';
import type { TrustTable } from '../analysis/stages/traceback/trust.ts';
import { parseNetwork } from './listing-policy.ts';
import { SHARED_SENDING_ASNS, SHARED_SENDING_NAMES, SHARED_SENDING_NETWORKS } from './shared-senders.ts';
import { brandNetwork } from './brand-networks.ts';

/** What the reports' facts say of an address's network. */
export interface AddressNetwork {
  /** The reverse name the receiving host recorded (never a greeting). */
  rdns: string | null;
  asn: number | null;
  /** The AS's registered name. */
  asName: string | null;
}

type Net = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** {@link SHARED_SENDING_NETWORKS} parsed once: network, platform, CIDR text. */
const SHARED_NETS: [Net, string, string][] = SHARED_SENDING_NETWORKS.flatMap(([cidr, name]) => {
  const net = parseNetwork(cidr);
  return net === null ? [] : [[net, name, cidr] as [Net, string, string]];
});

/** True when `name` is `base` or one of its sub-domains. */
function within(name: string, base: string): boolean {
  return name === base || name.endsWith(`.${base}`);
}

/**
 * Why an address (`addr`: parsed, global unicast) is never named by a feed because of its network,
 * or null.
 */
export function networkExclusion(
  addr: ipaddr.IPv4 | ipaddr.IPv6,
  trust: TrustTable,
  { rdns, asn, asName }: AddressNetwork,
): string | null {
  const relay = trust.byIp(addr.toString());
  if (relay) return `relay of a trusted provider (${relay.relay.name}, ${relay.cidr})`;
  const named = trust.byName(rdns);
  if (named) return `relay of a trusted provider (${named.name}, reverse DNS ${rdns})`;
  // The table names only AS numbers a provider uses alone (never a cloud's): its relays outside the
  // published networks are still its relays.
  const owner = trust.byAsn(asn);
  if (owner) return `relay of a trusted provider (${owner.name}, AS${asn})`;
  const platform = asn === null ? undefined : SHARED_SENDING_ASNS.get(asn);
  if (platform) return `relay of a shared sending platform (${platform}, AS${asn}): it sends for many customers`;
  const byName = rdns
    ? SHARED_SENDING_NAMES.find(([n]) => within(rdns.toLowerCase().replace(/\.$/, ''), n))
    : undefined;
  if (byName)
    return `relay of a shared sending platform (${byName[1]}, reverse DNS ${rdns}): it sends for many customers`;
  const byNet = SHARED_NETS.find(([[net, bits]]) => addr.kind() === net.kind() && addr.match(net, bits));
  if (byNet) return `relay of a shared sending platform (${byNet[1]}, ${byNet[2]}): it sends for many customers`;
  const brand = brandNetwork(asName);
  if (brand)
    return `in ${brand}’s own network (AS${asn ?? '?'} ${asName}): the brand’s own mail server, whose mail was taken \
for its imitation or which was broken into; its abuse desk is the channel, naming it would block the brand’s real mail`;
  return null;
}

/**
 * A {@link networkExclusion} reason without the address's own details (network, reverse name, AS):
 * `relay of a shared sending platform (SendGrid)`, `in eBay’s own network`. What a summary counts
 * values by, so its keys stay few.
 */
const RELAY_DETAIL =
  /^(relay of a (?:trusted provider|shared sending platform)) \((.+?), (?:reverse DNS \S+|AS\d+|[0-9a-f.:]+\/\d+)\)/;

export function exclusionKind(reason: string): string {
  const relay = RELAY_DETAIL.exec(reason);
  if (relay) return `${relay[1]} (${relay[2]})`;
  const brand = /^in (.+?)’s own network/.exec(reason);
  if (brand) return `in ${brand[1]}’s own network`;
  return reason;
}
