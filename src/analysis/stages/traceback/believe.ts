import { FORWARDING_SERVICES } from '../../data/forwarding-services.ts';
import { inDeclaredDomain } from './declared.ts';
import { matchCidr } from './ip-class.ts';
import { asNamesOrganisation, holderDomain, isAccessName, isMailHostName, isResearchAs, isSharedAs } from './org.ts';
import type { ParsedReceived } from './received-parser.ts';
import type { CompiledRelay } from './trust.ts';
import type { Believed } from './walk-fallback.ts';
import type { WalkInput } from './walk-input.ts';
import {
  deliversToSameSide,
  hostingNeighbour,
  internalTransfer,
  liveOwn,
  orgDomainOf,
  orgRelay,
  sameHolder,
  sharedParentBacked,
  sideRelay,
  unverifiedOwnName,
  type OrgState,
} from './receiving-side.ts';

/**
 * A client the reporter (or the intake's operator) declared as their own mail host (`declared.ts`):
 * its address declared, or the reverse name a believed receiver checked (`checked`: not "may be
 * forged", not unchecked, not a consumer line) equal to a declared host. A declared network or domain
 * speaks for many machines, so it is believed only outside shared networks (`sharedAs`: the client's AS
 * is an access, hosting or transit network, or unknown): there anyone can rent an address in the range
 * or a name under the domain, and a reporter who declared `ovh.net` would have every OVH customer's
 * server looked past. A greeting alone never matches.
 */
function believeDeclared(
  h: ParsedReceived,
  ip: string,
  declared: CompiledRelay,
  checked: boolean,
  sharedAs: () => boolean,
  note: (text: string) => void,
): Believed | null {
  const single = ip.includes(':') ? 128 : 32;
  // The address itself first: a declared network around it must not hide it.
  const exact = matchCidr(
    ip,
    declared.networks.filter((n) => n.bits === single),
  );
  if (exact)
    return {
      relay: declared,
      kind: 'own',
      ip,
      why: `${ip} was declared by the reporter as one of their own mail hosts`,
    };
  const rdns = checked && h.fromRdns !== null ? h.fromRdns.toLowerCase().replace(/\.$/, '') : null;
  if (rdns !== null && declared.hosts?.includes(rdns) === true)
    return {
      relay: declared,
      kind: 'own',
      ip,
      why: `the believed receiver checked its reverse name ${h.fromRdns}, a host the reporter declared as one of \
their own mail hosts`,
    };
  const c = matchCidr(ip, declared.networks);
  const domain = rdns === null ? undefined : declared.names.find((n) => inDeclaredDomain(rdns, n));
  if (!c && domain === undefined) return null;
  if (sharedAs()) {
    note(
      `${c ? `${ip} is in ${c.text}` : `its reverse name ${h.fromRdns} is in ${domain}`}, declared by the reporter, \
but its AS is an access, hosting or transit network or unknown, where a declared network or domain speaks for \
strangers: only a declared address or full host name is believed there`,
    );
    return null;
  }
  return {
    relay: declared,
    kind: 'own',
    ip,
    why: c
      ? `${ip} is in ${c.text}, a network the reporter declared as their own mail side, outside any access, \
hosting or transit network`
      : `the believed receiver checked its reverse name ${h.fromRdns}, in ${domain}, a domain the reporter declared \
as their own mail side, outside any access, hosting or transit network`,
  };
}

/** Whether an address is in an access, hosting or transit network, or one whose AS is unknown (`isSharedAs`). */
function sharedAs(ip: string, input: WalkInput): boolean {
  const asn = input.asnOf.get(ip) ?? null;
  return asn === null || isSharedAs(input.asNameOf?.get(asn) ?? null);
}

/** Why a public client is believed, or null when it is not: see the file comment for the order. */
export function believe(
  h: ParsedReceived,
  byHost: string | null,
  ip: string,
  input: WalkInput,
  org: OrgState,
  writer: Believed | null,
): Believed | null {
  const { trust, asnOf } = input;
  const rdnsBelieved =
    h.fromRdns !== null && !h.notes.includes('rdns-may-be-forged') && !h.notes.includes('rdns-unverified');
  let accessKnown: boolean | null = null;
  const isAccess = (): boolean => (accessKnown ??= h.fromRdns !== null && isAccessName(h.fromRdns, ip));
  const declared = input.declared ?? null;
  if (declared !== null) {
    const own = believeDeclared(
      h,
      ip,
      declared,
      rdnsBelieved && !isAccess(),
      () => sharedAs(ip, input),
      (n) => org.notes.push(n),
    );
    if (own !== null) return own;
  }
  const mine = input.mailhosts ?? null;
  if (mine !== null) {
    const c = matchCidr(ip, mine.networks);
    if (c)
      return {
        relay: mine,
        kind: 'own',
        ip,
        why: `${ip} is one of the reporter’s own mail hosts (${c.text}), learned from earlier reports`,
      };
    const rdns = rdnsBelieved && h.fromRdns !== null && !isAccess() ? h.fromRdns.toLowerCase() : null;
    if (rdns !== null && mine.hosts?.includes(rdns) === true) {
      return {
        relay: mine,
        kind: 'own',
        ip,
        why: `the believed receiver checked its reverse name ${h.fromRdns}, a host that delivered many of the \
reporter’s earlier reports (learned): the reporter’s own mail side`,
      };
    }
    // The same host under another of its names: it greets as a learned delivering host, and the
    // reverse name the receiver checked is in that host's own domain (`mail.netnoteinc.com` whose
    // address is `gw.netnoteinc.com`). A greeting alone proves nothing; the checked name ties it to
    // the domain's holder, the greeting to the one host of that domain that delivers the reporter's mail.
    const helo = h.fromHelo?.toLowerCase().replace(/\.$/, '') ?? null;
    if (
      rdns !== null &&
      helo !== null &&
      mine.hosts?.includes(helo) === true &&
      holderDomain(rdns) !== null &&
      holderDomain(rdns) === holderDomain(helo)
    ) {
      return {
        relay: mine,
        kind: 'own',
        ip,
        why: `it greeted as ${helo}, a host that delivered many of the reporter’s earlier reports (learned), and \
the believed receiver checked its reverse name ${h.fromRdns}, in that host’s own domain: the reporter’s own mail side`,
      };
    }
    const name = rdns !== null ? mine.names.find((n) => rdns === n || rdns.endsWith(`.${n}`)) : undefined;
    // A learned hosting company's naming domain (the reporter's forwarder is a rented server) speaks for
    // that server alone, which its address and whole name still match: not for its neighbours.
    const neighbour = name !== undefined && rdns !== null ? hostingNeighbour(rdns, ip, input, true) : null;
    // A learned domain speaks for every name under it. In an access, hosting or transit network (or one of unknown
    // AS) that includes the holder's subscriber lines the access patterns miss (a big ISP's domain, learned from
    // its inbound relays): there it vouches only for a name with a mail label (`mailgw11`, `relay02`,
    // `anchor-post-35.mail`), which an ISP gives its mail system, never a line. A research network's blocks go to
    // its member institutions alone, as the same-AS rule holds.
    const shared =
      name !== undefined &&
      rdns !== null &&
      name !== rdns &&
      neighbour === null &&
      !isMailHostName(rdns) &&
      sharedAs(ip, input) &&
      !isResearchAs(input.asNameOf?.get(input.asnOf.get(ip) ?? -1) ?? null);
    if (neighbour !== null) org.notes.push(neighbour);
    else if (shared)
      org.notes.push(
        `its reverse name ${h.fromRdns} is in ${name}, a domain learned from earlier reports as the reporter’s own \
mail side, but it carries no mail label and its AS is an access, hosting or transit network or unknown, where the \
domain's holder also names its subscribers' lines: there the domain vouches only for its mail hosts`,
      );
    else if (name !== undefined) {
      return {
        relay: mine,
        kind: 'own',
        ip,
        why:
          name === h.fromRdns
            ? `${h.fromRdns} is one of the reporter’s own mail hosts, learned from earlier reports`
            : `the believed receiver checked its reverse name ${h.fromRdns}, in ${name}, a domain learned from \
earlier reports as the reporter’s own mail side`,
      };
    }
  }
  const net = trust.byIp(ip);
  if (net) {
    const kind = net.relay.kind === 'provider' ? (net.internal ? 'provider-internal' : 'provider') : 'own';
    return {
      relay: net.relay,
      kind,
      ip,
      why: `${ip} is in its ${net.internal ? 'internal network' : 'network'} ${net.cidr}`,
    };
  }
  // A range that was the provider's relays only until a day (Hotmail's, before Azure's customers came). The date is
  // the latest the headers from the top down to this one give (`OrgState.hopDate`): the delivering system's own
  // counts, so neither a forged nor a cut-off line, nor a wrong clock further down, can date a hop back.
  const dated = trust.byIpOnDate(ip, org.hopDate);
  if (dated) {
    return {
      relay: dated.relay,
      kind: 'provider',
      ip,
      why: `${ip} is in ${dated.cidr}, its relays’ network until ${dated.until}, and the headers from the top down \
to this one are dated ${org.hopDate?.slice(0, 10) ?? ''} at the latest`,
    };
  }
  const asn = asnOf.get(ip) ?? null;
  const byAsn = trust.byAsn(asn);
  if (byAsn) return { relay: byAsn, kind: 'provider', ip, why: `${ip} is in its AS${asn}` };
  if (rdnsBelieved && h.fromRdns !== null) {
    const byName = trust.byName(h.fromRdns);
    if (byName && isAccess()) {
      org.notes.push(
        `the reverse name ${h.fromRdns} is under ${byName.name}’s domain but is a consumer-access or generic line \
name: it earns no trust`,
      );
    } else if (byName)
      return {
        relay: byName,
        kind: byName.kind === 'provider' ? 'provider' : 'own',
        ip,
        why: `the receiver found the reverse-DNS name ${h.fromRdns}`,
      };
  }
  // A declared host vouches for itself only: the header it wrote is the reporter's, but its domain
  // (a hosting company's, for a reporter's own rented server) says nothing of its client's. So the
  // receiver's own domain counts for rules 3, 5 and 6 only when the receiver was not believed by a
  // declaration; the organisation's domains learned from other believed hops still do.
  const orgByHost = writer?.relay.kind === 'declared' ? null : byHost;
  // The receiving organisation's own relays: a name the believed receiver looked up, in its domain.
  // A placeholder domain (RFC 2606, an anonymised corpus's `example.com`) is nobody's: never the organisation's.
  const clientDomain = rdnsBelieved && !isAccess() ? orgDomainOf(h.fromRdns, input.documentationIsPublic) : null;
  const receiverDomain = orgDomainOf(orgByHost, input.documentationIsPublic);
  const holder = clientDomain !== null ? holderDomain(h.fromRdns) : null;
  const inOrgDomain = clientDomain !== null && (clientDomain === receiverDomain || org.domains.has(clientDomain));
  const inReporterDomain = holder !== null && org.reporterRegistered.has(holder);
  const inRecipientDomain = holder !== null && org.recipientHolders.has(holder) && deliversToSameSide(org);
  // Under a hosting company's naming domain for its customers, the receiver's, the reporter's or the
  // envelope recipient's domain is no evidence that a client in that company's network is theirs.
  const neighbour =
    inOrgDomain || inReporterDomain || inRecipientDomain ? hostingNeighbour(h.fromRdns ?? '', ip, input, true) : null;
  if (neighbour !== null) org.notes.push(neighbour);
  if (neighbour === null && inOrgDomain) {
    const own = sameHolder(holder, orgByHost, org) ? null : sharedParentBacked(h.fromRdns ?? '', ip, asn, input, org);
    if (own === null) {
      return {
        relay: orgRelay(clientDomain),
        kind: 'own',
        ip,
        why: `the believed receiver recorded its reverse name ${h.fromRdns}, in the receiving organisation’s domain \
${clientDomain}`,
      };
    }
    if (own !== false) return own;
    org.notes.push(
      `its reverse name ${h.fromRdns} shares only the parent ${clientDomain} with the receiving organisation, a name \
service whose names belong to different holders (public suffix list), and its address does not back it`,
    );
  }
  if (neighbour === null && holder !== null && inReporterDomain) {
    return {
      relay: orgRelay(holder),
      kind: 'own',
      ip,
      why: `the believed receiver recorded its reverse name ${h.fromRdns}, in ${holder}, the domain of the \
reporter’s own address (given by the intake, not by the headers)`,
    };
  }
  if (neighbour === null && holder !== null && inRecipientDomain) {
    return {
      relay: orgRelay(holder),
      kind: 'own',
      ip,
      why: `the believed receiver recorded its reverse name ${h.fromRdns}, in ${holder}, the domain of the envelope \
recipient the receiving side wrote above: a mail domain it delivers for, and the next recipient written below is \
for that side too`,
    };
  }
  // Rule 3b: the recipient's own forwarding service, by a name its operator wrote and the receiver checked.
  if (clientDomain !== null && FORWARDING_SERVICES.includes(clientDomain)) {
    return {
      relay: sideRelay(`the recipient’s forwarding service (${clientDomain})`),
      kind: 'own',
      ip,
      why: `the believed receiver recorded its reverse name ${h.fromRdns}, in ${clientDomain}, a forwarding service \
a recipient sets up for their own mail: the receiving side, never blamed; the header it wrote below names the \
machine that handed the message to it`,
    };
  }
  if (asn !== null && org.asns.has(asn)) {
    const asName = input.asNameOf?.get(asn) ?? null;
    if (!isSharedAs(asName) && !isAccess() && asNamesOrganisation(asName, org.domains)) {
      return {
        relay: orgRelay(`AS${asn}`),
        kind: 'own',
        ip,
        why: `${ip} is in AS${asn} (${asName ?? 'unnamed'}), the network of a relay already believed, an AS that \
bears the organisation's name and is not an access or hosting network`,
      };
    }
  }
  return (
    unverifiedOwnName(h, orgByHost, ip, asn, input, org) ??
    internalTransfer(h, byHost, ip, writer) ??
    liveOwn(h, orgByHost, ip, input, org)
  );
}
