/**
 * Addresses that nothing Spamdesk sends out names as a source of abuse, whatever their reports say: not
 * the DNS blocklist and plain lists (`feeds/lists/exclusions.ts`), not an ISP's infected-machine alert
 * (`isp/isp-digests.ts`). Private and reserved ranges (anything but global unicast); by the network the
 * reports' facts give the address, a trusted provider's relay, a shared sending platform's relay or a
 * brand's own network (`network-exclusions.ts`); the addresses of verified senders (they get the feedback
 * loop instead); the operator's `listing.neverList` networks; and the address a reporter reported from.
 */
import type { Kysely } from 'kysely';
import ipaddr from 'ipaddr.js';
import type { Database } from '../db/schema.ts';
import type { Config } from '../core/config.ts';
import type { ActionPolicy } from './action-policy.ts';
import { parseNetwork } from './listing-policy.ts';
import { trustTableFor, type TrustTable } from '../analysis/stages/traceback/trust.ts';
import { networkExclusion, type AddressNetwork } from './network-exclusions.ts';

type Net = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** What the address checks need, read once per pass. */
export interface AddressRefusals {
  trust: TrustTable;
  /** Verified senders' addresses, canonical text. */
  senderIps: Set<string>;
  /** The policy's `listing.neverList.networks`. */
  neverNetworks: Net[];
}

/** The canonical text of an IP (IPv4-mapped IPv6 as IPv4), or null when it is not one. */
export function canonicalIp(text: string): string | null {
  try {
    return ipaddr.process(text.trim()).toString();
  } catch {
    return null;
  }
}

/** The values of the senders' identities of one kind (`ip`, `domain`) that proved themselves in DNS. */
export async function verifiedSenderValues(db: Kysely<Database>, kind: 'ip' | 'domain'): Promise<string[]> {
  const rows = await db
    .selectFrom('action_sender_identities')
    .select('value')
    .where('kind', '=', kind)
    .where('verified_at', 'is not', null)
    .execute();
  return rows.map((r) => r.value);
}

/** Reads the verified senders' addresses and compiles the policy's never-list networks. */
export async function loadAddressRefusals(
  db: Kysely<Database>,
  config: Config,
  policy: ActionPolicy,
): Promise<AddressRefusals> {
  return {
    trust: trustTableFor(config.intakeHosts, config.trustedRelaysFile ?? null),
    senderIps: new Set((await verifiedSenderValues(db, 'ip')).map((v) => canonicalIp(v) ?? v)),
    neverNetworks: policy.listing.neverList.networks.map(parseNetwork).filter((n): n is Net => n !== null),
  };
}

function inNetwork(addr: ipaddr.IPv4 | ipaddr.IPv6, [net, bits]: Net): boolean {
  return addr.kind() === net.kind() && addr.match(net, bits);
}

/**
 * Why `ip` is never named as a source of abuse, or null when it may be. `network`: the reverse name the
 * receiving host recorded and the address's AS, as the reports' facts carry them.
 */
export function addressRefusal(
  ip: string,
  r: AddressRefusals,
  network: AddressNetwork = { rdns: null, asn: null, asName: null },
): string | null {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip);
  } catch {
    return 'not an IP address';
  }
  const range = addr.range();
  if (range !== 'unicast') return `reserved address range (${range})`;
  const byNetwork = networkExclusion(addr, r.trust, network);
  if (byNetwork) return byNetwork;
  if (r.senderIps.has(addr.toString())) return 'address of a verified sender';
  const never = r.neverNetworks.find((n) => inNetwork(addr, n));
  if (never) return `never listed by policy (${never[0].toString()}/${never[1]})`;
  return null;
}

/** Report ids per statement (bounded IN lists). */
const CHUNK = 500;

/**
 * True when `ip` is the address a reporter sent one of `reportIds` from: a forward whose trace-back stopped
 * at the reporter's own machine. Naming it would name the reporter.
 */
export async function isReporterAddress(
  db: Kysely<Database>,
  ip: string,
  reportIds: readonly string[],
): Promise<boolean> {
  for (let i = 0; i < reportIds.length; i += CHUNK) {
    const hit = await db
      .selectFrom('reports')
      .select('id')
      .where('id', 'in', reportIds.slice(i, i + CHUNK))
      .where('client_ip', '=', ip)
      .executeTakeFirst();
    if (hit) return true;
  }
  return false;
}
