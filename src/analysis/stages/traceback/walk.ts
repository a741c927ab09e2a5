/**
 * The trace-back walk, SpamCop-style: start at the top Received header (written by the system the
 * message was delivered to), and go down while the host that wrote each header is one we believe.
 * Belief passes down a hand-off only when the client is (see {@link believe}, first match wins):
 * 1. this instance's intake or one of the reporter's declared or learned mail hosts;
 * 2. a trusted provider's relay, by its published outbound ranges or internal space, a relay-only
 *    AS, or a relay name the receiver recorded — never a consumer-access name;
 * 3. a host of the receiving organisation: a reverse name the believed receiver recorded (not
 *    "may be forged", not a consumer-access name) in the same registered domain (public suffix
 *    list) as a believed receiver, or as the reporter's own address (given by the intake, not by
 *    the headers) — never a hosting company's naming domain for its customers' machines, the address
 *    in its network ({@link hostingNeighbour}; nor for rules 5 and 6, nor a learned domain); 3b. such a
 *    name in the domain of a known forwarding service (`data/forwarding-services.ts`): the recipient's
 *    own forwarder, the receiving side;
 * 4. in the same AS as a believed relay of that organisation, when the AS is not an access,
 *    hosting, transit or research network;
 * 5. a reverse name qmail recorded without checking it (qmail never forward-confirms), in the
 *    organisation's domain, only when the address agrees: the same /24 as an address the
 *    organisation already showed (a believed relay, or a believed receiver's own address in its
 *    `by` clause), or a research and education network, whose blocks go only to member institutions.
 *    A HELO name alone never earns trust.
 * 5b. a hand-off the believed writer recorded over a protocol spoken only inside a mail system (QMQP,
 *    LMTP, Yahoo's NNFMP): an internal host of that writer's system, whatever its address.
 * 6. fresh mail only, with live DNS (`live-dns.ts`): a name in the organisation's domain that the
 *    address's reverse DNS gives and that resolves back to it now, or an address of an MX host of a
 *    domain the believed hops delivered for (the organisation's inbound relay or contracted gateway).
 * POP3/IMAP retrieval hops (fetchmail, getmail) are the reporter's client fetching its own mailbox:
 * skipped, not hand-offs. The first hop whose public client earns none of these is the origin:
 * everything below it was written by that sender (or before it) and proves nothing.
 *
 * Each step is explained in a sentence an analyst can read; findings carry the evidence.
 */
import type { Hop, Origin } from '../../analysis-schema.ts';
import { FORWARDING_SERVICES } from '../../data/forwarding-services.ts';
import type { StageFinding } from '../../stage.ts';
import { finding } from '../../stage.ts';
import { inDeclaredDomain } from './declared.ts';
import { classifyIp, ipVersion, matchCidr, normaliseIp, type IpClass } from './ip-class.ts';
import {
  holderDomain,
  isAccessName,
  isHostingDomain,
  isMailHostName,
  isPlaceholderDomain,
  isResearchAs,
  isSharedAs,
  registeredDomain,
  sitePrefix,
} from './org.ts';
import type { ParsedReceived } from './received-parser.ts';
import type { CompiledRelay, TrustTable } from './trust.ts';
import { fallbackOrigin, type Believed } from './walk-fallback.ts';
import { MAX_RECIPIENT_DOMAINS, mxKey, type LiveFacts, type LiveQuestion } from './live-dns.ts';

/** Webmail headers naming the browser's address (RFC 7239 has no mail equivalent; these are de facto). */
export const WEBMAIL_IP_HEADERS = [
  'x-originating-ip',
  'x-sender-ip',
  'x-aol-ip',
  'x-yahoo-post-ip',
  'x-source-ip',
  'x-client-ip',
] as const;

export interface WalkInput {
  /** Parsed Received headers, top first, with their raw text. */
  received: readonly (ParsedReceived & { raw: string })[];
  trust: TrustTable;
  /** AS number of each public hop address (offline data), when known. */
  asnOf: ReadonlyMap<string, number | null>;
  /** Registered name of each AS number, when known (access and hosting networks earn no trust). */
  asNameOf?: ReadonlyMap<number, string | null>;
  /** The reporter's (or intake's) own mail hosts, learned from earlier reports (see `mailhosts.ts`). */
  mailhosts?: CompiledRelay | null;
  /** The mail hosts the reporter (or the intake's operator) declared as their own (see `declared.ts`). */
  declared?: CompiledRelay | null;
  /** Webmail headers present (name → value). */
  webmailHeaders: readonly { name: string; value: string }[];
  /** Treat RFC 5737 / RFC 3849 documentation addresses as public (synthetic cases only). */
  documentationIsPublic: boolean;
  /**
   * Live DNS answers, present only for fresh mail with DNS online (`live-dns.ts`); absent, the live
   * rule is "unknown" and asks nothing.
   */
  live?: LiveFacts | null;
  /**
   * The reporter's own mail domains (their address's, given by the intake): a checked reverse name in
   * one of their registered domains is the receiving side's (rule 3); with live DNS, a hop that is an
   * MX host of one of them is their inbound relay.
   */
  recipientDomains?: readonly string[];
}

export interface WalkOutput {
  hops: Hop[];
  origin: Origin | null;
  steps: string[];
  flags: string[];
  findings: StageFinding[];
  /** What live DNS could settle at the hop the walk stopped at (only when {@link WalkInput.live} is given). */
  questions: LiveQuestion[];
}

function describe(h: ParsedReceived): string {
  const name = h.fromRdns ?? h.fromHelo;
  const ip = h.fromIp === null ? '' : h.fromIp.includes(':') ? `[IPv6:${h.fromIp}]` : `[${h.fromIp}]`;
  return [name, ip].filter(Boolean).join(' ') || 'an unnamed client';
}

/** Whether the host that wrote a hop (`by`) is the client named in the hop above. */
function sameHost(by: string, sender: { names: (string | null)[]; ip: string | null }, trust: TrustTable): boolean {
  const b = by.toLowerCase();
  if (sender.ip !== null && normaliseIp(b) === sender.ip) return true;
  const byRelay = trust.byName(b);
  for (const raw of sender.names) {
    if (raw === null) continue;
    const n = raw.toLowerCase();
    if (n === b) return true;
    if (n.split('.')[0] === b.split('.')[0] && (n.includes('.') || b.includes('.'))) return true;
    const d1 = registeredDomain(n);
    if (d1 !== null && d1 === registeredDomain(b)) return true;
    if (byRelay !== null && trust.byName(n) === byRelay) return true;
  }
  return false;
}

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

/** Why a public client is believed, or null when it is not: see the file comment for the order. */
function believe(
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
    const sharedAs = (): boolean => {
      const asn = asnOf.get(ip) ?? null;
      return asn === null || isSharedAs(input.asNameOf?.get(asn) ?? null);
    };
    const own = believeDeclared(h, ip, declared, rdnsBelieved && !isAccess(), sharedAs, (n) => org.notes.push(n));
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
    if (neighbour !== null) org.notes.push(neighbour);
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
  const clientDomain = rdnsBelieved && !isAccess() ? registeredDomain(h.fromRdns) : null;
  const receiverDomain = registeredDomain(orgByHost);
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
    if (!isSharedAs(asName) && !isAccess()) {
      return {
        relay: orgRelay(`AS${asn}`),
        kind: 'own',
        ip,
        why: `${ip} is in AS${asn} (${asName ?? 'unnamed'}), the network of a relay already believed, and that AS is \
not an access or hosting network`,
      };
    }
  }
  return (
    unverifiedOwnName(h, orgByHost, ip, asn, input, org) ??
    internalTransfer(h, byHost, ip, writer) ??
    liveOwn(h, orgByHost, ip, input, org)
  );
}

/**
 * Protocols a mail system speaks only between its own machines: QMQP (qmail's queueing protocol; the
 * server takes messages only from the clients it lists, cr.yp.to/proto/qmqp.html), LMTP (RFC 2033
 * §4: local delivery into a message store, never on port 25 nor across a wide area network) and
 * Yahoo's NNFMP (its relays' hand-off from their own front ends). SMTP and its submission forms are
 * absent on purpose: anybody can speak them.
 */
const INTERNAL_TRANSFER = /^(?:QMQP|LMTPS?A?|NNFMP)$/;

/**
 * Rule 5b: a believed writer that records a hand-off over an internal-only protocol names a machine
 * of its own system, whatever its address (an old provider block that today's AS data no longer
 * knows, a cluster node without a reverse name): believed as that system's internal hop, never named
 * as the sender's relay. Only the writer's own record counts: a spammer who writes `with QMQP` below
 * the origin is not believed.
 */
function internalTransfer(
  h: ParsedReceived,
  byHost: string | null,
  ip: string,
  writer: Believed | null,
): Believed | null {
  if (h.protocol === null || !INTERNAL_TRANSFER.test(h.protocol)) return null;
  const provider = writer !== null && writer.kind !== 'own';
  return {
    relay: writer?.relay ?? orgRelay(registeredDomain(byHost) ?? byHost ?? 'the receiver'),
    kind: provider ? 'provider-internal' : 'own',
    ip,
    why: `${byHost ?? 'the believed receiver'} recorded the hand-off over ${h.protocol}, a protocol spoken only \
between a mail system’s own machines: ${ip} is an internal host of ${provider ? 'that provider' : 'that system'}`,
  };
}

/**
 * Rule 6, fresh mail only: what DNS says now (`live-dns.ts`). A forward-confirmed reverse name is
 * asked only where the receiver checked none (a greeting, qmail's unchecked name, or nothing); a
 * receiver's "may be forged" stands. Unanswered questions are queued on `org.questions`.
 */
function liveOwn(h: ParsedReceived, byHost: string | null, ip: string, input: WalkInput, org: OrgState) {
  const live = input.live;
  if (live === undefined || live === null) return null;
  const checkedAtReceipt =
    h.fromRdns !== null && !h.notes.includes('rdns-unverified') && !h.notes.includes('qmail-name');
  const receiverDomain = registeredDomain(byHost);
  const ownDomain = (d: string | null) => d !== null && (d === receiverDomain || org.domains.has(d));
  const when = live.at.toISOString().slice(0, 10);
  let askReverse = false;
  if (!checkedAtReceipt && (receiverDomain !== null || org.domains.size > 0)) {
    const names = live.fcrdns.get(ip);
    if (names === undefined) askReverse = true;
    // Under a shared parent (public suffix list, private section) the address must back the name too.
    let backing: string | null | undefined;
    const backed = () => {
      if (backing === undefined) backing = addressBacking(ip, input.asnOf.get(ip) ?? null, input, org);
      return backing !== null;
    };
    const name = names?.find((n) => {
      if (!ownDomain(registeredDomain(n)) || isAccessName(n, ip)) return false;
      const neighbour = hostingNeighbour(n, ip, input, true);
      if (neighbour !== null) org.notes.push(`looked up on ${when}: ${neighbour}`);
      return neighbour === null && (sameHolder(holderDomain(n), byHost, org) || backed());
    });
    if (name !== undefined) {
      return {
        live: 'live-fcrdns' as const,
        relay: orgRelay(registeredDomain(name) ?? name),
        kind: 'own' as const,
        ip,
        why: `looked up on ${when}: its reverse name ${name} resolves back to ${ip} and is in the receiving \
organisation’s domain ${registeredDomain(name)}${typeof backing === 'string' ? `, and ${backing}` : ''}`,
      };
    }
  }
  const ask: string[] = [];
  for (const d of org.recipientDomains) {
    const hosts = live.mx.get(mxKey(d, ip));
    if (hosts === undefined) ask.push(d);
    const mx = hosts?.get(ip);
    if (mx !== undefined) {
      return {
        live: 'live-mx' as const,
        relay: orgRelay(d),
        kind: 'own' as const,
        ip,
        why: `looked up on ${when}: ${d}, ${
          org.reporterDomains.has(d)
            ? 'the reporter’s own mail domain'
            : 'which the \
believed hops delivered for'
        }, names ${mx} as its mail exchanger (MX) and ${mx} resolves to ${ip}: the organisation’s \
own inbound relay or the gateway it contracts`,
      };
    }
  }
  if (askReverse || ask.length > 0) {
    const reverseIn = askReverse ? [...new Set([receiverDomain, ...org.domains])].filter((d) => d !== null) : [];
    org.questions.push({ ip, reverseIn, domains: ask });
  }
  return null;
}

/**
 * Rule 5: qmail records the client's reverse name (tcpserver's PTR look-up) but never checks that it
 * resolves back, so whoever holds the address's reverse zone chose it. Believed only with an
 * address that agrees; the name alone, like a HELO, could be anybody's.
 */
function unverifiedOwnName(
  h: ParsedReceived,
  byHost: string | null,
  ip: string,
  asn: number | null,
  input: WalkInput,
  org: OrgState,
): Believed | null {
  const name = h.notes.includes('rdns-unverified') ? h.fromRdns : h.notes.includes('qmail-name') ? h.fromHelo : null;
  if (name === null || isAccessName(name, ip)) return null;
  const domain = registeredDomain(name);
  if (domain === null || (domain !== registeredDomain(byHost) && !org.domains.has(domain))) return null;
  // Hosting neighbours share the /24 that would back the name: the domain must not be the hoster's.
  const neighbour = hostingNeighbour(name, ip, input, false);
  if (neighbour !== null) {
    org.notes.push(neighbour);
    return null;
  }
  // Compared only here, for the rare qmail name: the common walk pays nothing for it.
  const backing = addressBacking(ip, asn, input, org);
  if (backing === null) return null;
  return {
    relay: orgRelay(domain),
    kind: 'own',
    ip,
    why: `qmail recorded the unverified reverse name ${name}, in the receiving organisation’s domain ${domain}, and \
${backing}`,
  };
}

/**
 * What an address says for a name the walk cannot take alone: the same /24 as an address of the
 * organisation already believed, or a research and education network (its blocks go only to member
 * institutions, which write their own reverse names). Null when it says nothing.
 */
function addressBacking(ip: string, asn: number | null, input: WalkInput, org: OrgState): string | null {
  const site = sitePrefix(ip);
  const seen = org.addresses.find(
    (a) =>
      a !== ip &&
      a.includes(':') === ip.includes(':') &&
      sitePrefix(a) === site &&
      effectiveClass(a, input.documentationIsPublic) === 'public',
  );
  if (seen !== undefined)
    return `${ip} is in the same /24 as ${seen}, an address of that organisation already believed`;
  const asName = asn === null ? null : (input.asNameOf?.get(asn) ?? null);
  if (asn !== null && isResearchAs(asName)) {
    return `${ip} is in AS${asn} (${asName ?? ''}), a research and education network whose addresses go only to \
member institutions, which write their own reverse names`;
  }
  return null;
}

/**
 * Why a client's name, in a domain of the receiving side, is a neighbour's at a hosting company, or
 * null: the name is under the domain a hosting company names its customers' machines under, and the
 * address is in that company's hosting network ({@link isHostingDomain}). A receiver named
 * `vmi222222.contaboserver.net` is one customer's rented server, `vmi333333.contaboserver.net` the next
 * customer's, and they share a /24 too. A name the receiver checked that the company gave a mail
 * machine of its own ({@link isMailHostName}: `a14-92.smtp-out.amazonses.com`) stays believed, its mail
 * system writing true headers; an unchecked one (qmail's) never: whoever holds the address's reverse zone
 * wrote it.
 */
function hostingNeighbour(name: string, ip: string, input: WalkInput, checked: boolean): string | null {
  const asn = input.asnOf.get(ip) ?? null;
  const asName = asn === null ? null : (input.asNameOf?.get(asn) ?? null);
  const domain = registeredDomain(name);
  if (asName === null || domain === null || !isHostingDomain(domain, asName)) return null;
  if (checked && isMailHostName(name)) return null;
  return `its reverse name ${name} is in ${domain}, the domain the hosting company of AS${asn} (${asName}) names \
its customers’ machines under, and ${ip} is in that network: a neighbour at the same hosting company, not the \
receiving organisation, so the shared domain is not believed`;
}

/** Whether a checked name's holder domain is the believed receiver's or an organisation relay's. */
function sameHolder(holder: string | null, byHost: string | null, org: OrgState): boolean {
  return holder !== null && (holder === holderDomain(byHost) || org.holders.has(holder));
}

/**
 * The same registered domain under a parent the public suffix list's private section lists
 * (`dyndns.org`, whose names are strangers' machines; also a university that declares its
 * departments separate, `ruhr-uni-bochum.de`): the shared parent alone proves nothing, so the name is
 * believed only when the address backs it ({@link addressBacking}). False when it does not.
 */
function sharedParentBacked(
  name: string,
  ip: string,
  asn: number | null,
  input: WalkInput,
  org: OrgState,
): Believed | false {
  const parent = registeredDomain(name) ?? name;
  const backing = addressBacking(ip, asn, input, org);
  if (backing === null) return false;
  return {
    relay: orgRelay(parent),
    kind: 'own',
    ip,
    why: `the believed receiver recorded its reverse name ${name}, under ${parent}, whose names belong to different \
holders (public suffix list), and ${backing}`,
  };
}

/** What the walk has learned about the receiving organisation so far. */
interface OrgState {
  /** Registered domains of believed receivers and of the organisation's believed relays. */
  domains: Set<string>;
  /** AS numbers of the organisation's believed relays. */
  asns: Set<number>;
  /** Addresses of the organisation: its believed relays' and its believed receivers' own (`by` clause). */
  addresses: string[];
  /** Explanations to add to the next step. */
  notes: string[];
  /**
   * Domains whose MX hosts are the organisation's inbound relays, for the MX rule: the reporter's own,
   * then those of the envelope recipients believed hops recorded (`for`), top first.
   */
  recipientDomains: string[];
  /** Live DNS questions of the hop being judged. */
  questions: LiveQuestion[];
  /** Which of {@link recipientDomains} are the reporter's own (for the explanation). */
  reporterDomains: Set<string>;
  /** Domains of the reporter's own addresses (rule 3, offline too), by {@link holderDomain}. */
  reporterRegistered: Set<string>;
  /** {@link holderDomain}s of believed receivers and relays, beside their registered {@link domains}. */
  holders: Set<string>;
  /** {@link holderDomain}s of the envelope recipients (`for`) the delivering system wrote above its first hand-off. */
  recipientHolders: Set<string>;
  /**
   * The holder domain of the first envelope recipient written below the hop being judged (by its
   * client or further down), or null: a mailing list's server names the list's address there.
   */
  nextRecipientHolder: string | null;
}

/**
 * Whether the next recipient written below is one the receiving side delivers for: a host passing the
 * message on towards the same mailbox, not a list server that received it for its list. Written by
 * the client itself, so it can only withhold trust, never give it.
 */
function deliversToSameSide(org: OrgState): boolean {
  const n = org.nextRecipientHolder;
  return n !== null && (org.recipientHolders.has(n) || org.holders.has(n) || org.reporterRegistered.has(n));
}

/** The domain of a `for` recipient a believed hop recorded, when it can have an MX (not a literal, not local). */
function recipientDomain(forAddr: string | null): string | null {
  if (forAddr === null) return null;
  const at = forAddr.lastIndexOf('@');
  if (at < 0) return null;
  const d = forAddr
    .slice(at + 1)
    .replace(/[>\]]+$/, '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (d.length === 0 || d.startsWith('[') || normaliseIp(d) !== null) return null;
  return registeredDomain(d) === null ? null : d;
}

const orgRelays = new Map<string, CompiledRelay>();
/** A pseudo-relay naming the receiving organisation, for explanations (bounded cache). */
function orgRelay(label: string): CompiledRelay {
  return sideRelay(`the receiving organisation (${label})`);
}

/** A pseudo-relay of the receiving side, by its name in explanations (bounded cache). */
function sideRelay(name: string): CompiledRelay {
  let r = orgRelays.get(name);
  if (r === undefined) {
    if (orgRelays.size > 1000) orgRelays.clear();
    r = {
      name,
      names: [],
      networks: [],
      internalNetworks: [],
      asns: new Set(),
      authservIds: [],
      webmail: false,
      kind: 'learned',
    };
    orgRelays.set(name, r);
  }
  return r;
}

function effectiveClass(ip: string, documentationIsPublic: boolean): IpClass {
  const c = classifyIp(ip);
  return c === 'documentation' && documentationIsPublic ? 'public' : c;
}

/** Walks the chain; pure. */
export function walkChain(input: WalkInput): WalkOutput {
  const { received, trust, asnOf } = input;
  const steps: string[] = [];
  const flags: string[] = [];
  const findings: StageFinding[] = [];
  const hops: Hop[] = received.map((r, index) => ({
    index,
    raw: r.raw,
    fromHelo: r.fromHelo,
    fromRdns: r.fromRdns,
    fromIp: r.fromIp,
    byHost: r.byHost,
    protocol: r.protocol,
    tls: r.tls,
    id: r.id,
    for: r.for,
    date: r.date,
    parsed: r.parsed,
    trusted: false,
    notes: [...r.notes],
  }));
  if (hops.length === 0) {
    steps.push('The message has no Received header: nothing tells where it came from.');
    findings.push(finding('NO_RECEIVED_HEADERS', 'The message has no Received header; no trace-back is possible.'));
  }

  let origin: Origin | null = null;
  let sender: { names: (string | null)[]; ip: string | null } | null = null;
  const believed: Believed[] = [];
  const skipped: string[] = [];
  const org: OrgState = {
    domains: new Set(),
    asns: new Set(),
    addresses: [],
    notes: [],
    recipientDomains: [],
    questions: [],
    reporterDomains: new Set(),
    reporterRegistered: new Set(),
    holders: new Set(),
    recipientHolders: new Set(),
    nextRecipientHolder: null,
  };
  for (const d of input.recipientDomains ?? []) {
    const rd = holderDomain(recipientDomain(`@${d}`));
    if (rd !== null) org.reporterRegistered.add(rd);
  }
  for (const d of input.live ? (input.recipientDomains ?? []) : []) {
    const rd = recipientDomain(`@${d}`);
    if (rd !== null && org.recipientDomains.length < MAX_RECIPIENT_DOMAINS && !org.recipientDomains.includes(rd)) {
      org.recipientDomains.push(rd);
      org.reporterDomains.add(rd);
    }
  }

  const top = hops[0];
  const topDomain = registeredDomain(top?.byHost ?? null);
  if (topDomain !== null && trust.byName(top?.byHost ?? null) === null) {
    org.domains.add(topDomain);
    org.holders.add(holderDomain(top?.byHost ?? null) ?? topDomain);
  }
  if (top) {
    const writer = trust.byName(top.byHost);
    steps.push(
      writer
        ? `Hop 0 was written by ${top.byHost}, a host of ${writer.name}, which delivered the message: we believe it.`
        : `Hop 0 was written by ${top.byHost ?? 'the receiving system'}, the system that delivered the message to the \
reporter: we believe the topmost header.`,
    );
  }

  let stop = hops.length;
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i];
    const r = received[i];
    if (h === undefined || r === undefined) continue;
    h.trusted = true;
    if (!h.parsed) {
      steps.push(`Hop ${i}: the header could not be read; skipped.`);
      findings.push(
        finding('RECEIVED_UNPARSED', `Received header ${i} could not be parsed.`, {
          header: `Received[${i}]`,
          value: h.raw.slice(0, 200),
        }),
      );
      continue;
    }
    // The believed writer of this header says whom the message was for: a domain it delivers for.
    const rcpt = input.live ? recipientDomain(r.for) : null;
    if (rcpt !== null && org.recipientDomains.length < MAX_RECIPIENT_DOMAINS && !org.recipientDomains.includes(rcpt))
      org.recipientDomains.push(rcpt);
    // Offline too: the envelope recipient the delivering system wrote before any hand-off is believed —
    // the mailbox's own address, the reporter's. Not one a believed relay further down wrote: a
    // forwarder records the alias it expanded, and an alias can be anyone's (a spammer's domain at
    // ImprovMX forwarding to the reporter's mailbox).
    if (believed.length === 0) {
      const held = holderDomain(recipientDomain(r.for));
      if (held !== null && !isPlaceholderDomain(held) && org.recipientHolders.size < MAX_RECIPIENT_DOMAINS)
        org.recipientHolders.add(held);
    }
    if (r.notes.includes('retrieval')) {
      // RFC 5321 §4.4 stamps record SMTP hand-offs; a POP3/IMAP pickup is the reporter's own client
      // reading its mailbox. The next header down was written by that mailbox's server: believed.
      steps.push(
        `Hop ${i}: the reporter’s own client fetched the message from its mailbox at ${describe(h)} \
(${h.protocol ?? 'POP3/IMAP'} retrieval): not a hand-off, skipped; the mailbox’s server wrote the header below.`,
      );
      h.notes.push('retrieval');
      sender = null;
      continue;
    }
    if (sender !== null && h.byHost !== null && !sameHost(h.byHost, sender, trust)) {
      flags.push(`broken-chain@${i}`);
      h.notes.push('broken-chain');
      steps.push(
        `Hop ${i}: written by ${h.byHost}, but the hop above says the message came from \
${sender.names.filter(Boolean).join(' / ') || sender.ip}: the chain has a gap here.`,
      );
      findings.push(
        finding('BROKEN_CHAIN', `Hop ${i} was written by ${h.byHost}, not by the client named in hop ${i - 1}.`, {
          header: `Received[${i}]`,
          value: h.byHost,
        }),
      );
    }
    if (r.notes.includes('rdns-may-be-forged')) {
      steps.push(
        `Hop ${i}: the receiver noted that the reverse-DNS name of ${h.fromIp ?? 'the client'} “may be forged” (it \
does not resolve back to the address); the name is not believed.`,
      );
    }
    const ip = h.fromIp;
    if (ip === null) {
      steps.push(
        `Hop ${i}: ${h.byHost ?? 'a host'} handled the message internally${h.protocol ? ` (${h.protocol})` : ''}; no \
sending address here.`,
      );
      continue;
    }
    const cls = effectiveClass(ip, input.documentationIsPublic);
    if (cls !== 'public') {
      skipped.push(ip);
      h.notes.push(`address-${cls}`);
      steps.push(
        `Hop ${i}: ${h.byHost ?? 'a host'} received it from ${describe(h)}, a ${cls} address inside a network we \
cannot see; skipped, never blamed.`,
      );
      sender = { names: [h.fromRdns, h.fromHelo], ip };
      continue;
    }
    const receiverDomain = registeredDomain(h.byHost);
    // Below a declared host the receiver is that host: its name and address vouch for it alone.
    const ownSide = believed.every((b) => b.kind === 'own') && believed.at(-1)?.relay.kind !== 'declared';
    if (receiverDomain !== null && ownSide && trust.byName(h.byHost) === null) {
      org.domains.add(receiverDomain);
      org.holders.add(holderDomain(h.byHost) ?? receiverDomain);
    }
    // The believed receiver's own address, when it wrote one: a provider's is not the organisation's.
    if (r.byIp != null && ownSide && trust.byName(h.byHost) === null) org.addresses.push(r.byIp);
    org.nextRecipientHolder = holderDomain(
      recipientDomain(received.slice(i + 1).find((b) => b.for !== null)?.for ?? null),
    );
    const t = believe(r, h.byHost, ip, input, org, believed.at(-1) ?? null);
    const notes = [...new Set(org.notes.splice(0))].map((n) => ` (${n})`).join('');
    if (t) {
      steps.push(
        `Hop ${i}: ${h.byHost ?? 'a host'} received it from ${describe(h)}; ${t.relay.name} is \
${t.kind === 'own' ? 'believed' : 'trusted'} (${t.why}), so we believe the header it wrote below.${notes}`,
      );
      believed.push({ ...t, hop: i });
      if (t.live !== undefined) {
        h.notes.push(t.live);
        flags.push(`${t.live}@${i}`);
      }
      // A declared host vouches for itself only: its domain, AS and address do not become the
      // organisation's, or one declared machine would make its whole hosting network believed (rules 3–5).
      if (t.kind === 'own' && t.relay.kind !== 'declared') {
        const d = registeredDomain(h.fromRdns);
        if (d !== null && !h.notes.includes('rdns-may-be-forged') && !h.notes.includes('rdns-unverified')) {
          org.domains.add(d);
          org.holders.add(holderDomain(h.fromRdns) ?? d);
        }
        const asn = asnOf.get(ip) ?? null;
        if (asn !== null) org.asns.add(asn);
        org.addresses.push(ip);
      }
      sender = { names: [h.fromRdns, h.fromHelo], ip };
      continue;
    }
    origin = {
      ip,
      hopIndex: i,
      ipVersion: ipVersion(ip),
      reason: `first untrusted hop: ${h.byHost ?? 'a trusted host'} received it from ${describe(h)}`,
    };
    steps.push(
      `Hop ${i}: ${h.byHost ?? 'a host'} received it from ${describe(h)}. That address is neither a trusted provider’s \
relay nor a host of the receiving organisation, so it is the origin: the first untrusted hop.${notes}`,
    );
    // Only when the receiver looked the address up (a name that is not the provider's, or `unknown`):
    // an old header without reverse DNS cannot tell a forged greeting from a since-reassigned address.
    const heloRelay = h.fromRdns !== null || r.notes.includes('rdns-unknown') ? trust.byName(h.fromHelo) : null;
    if (heloRelay !== null) {
      flags.push(`forged-helo@${i}`);
      steps.push(
        `Hop ${i}: the client said HELO ${h.fromHelo}, a name of ${heloRelay.name}, but its address does not belong to \
${heloRelay.name}: a forged-looking greeting.`,
      );
      findings.push(
        finding(
          'FORGED_HOP',
          `Hop ${i}: HELO ${h.fromHelo} claims ${heloRelay.name} from ${ip}, which is not theirs.`,
          { header: `Received[${i}]`, value: h.fromHelo ?? '' },
        ),
      );
    }
    stop = i + 1;
    break;
  }
  for (let j = 0; j < hops.length; j++) {
    const h = hops[j];
    if (h && j >= stop) h.trusted = false;
  }

  // Below the origin, the sender wrote the headers: any that name a trusted relay are forged-looking.
  const below = hops.slice(stop);
  if (origin !== null && below.length > 0) {
    const range = below.length === 1 ? `Hop ${stop} sits` : `Hops ${stop}–${hops.length - 1} sit`;
    steps.push(
      `${range} below the origin: the sender or earlier relays wrote ${below.length === 1 ? 'it' : 'them'}, and \
${below.length === 1 ? 'it proves' : 'they prove'} nothing.`,
    );
    for (const h of below) {
      const claimed = trust.byName(h.byHost) ?? (h.fromIp !== null ? (trust.byIp(h.fromIp)?.relay ?? null) : null);
      // Our own intake below the origin is a mail loop (a list echoing a post), not a forgery.
      if (claimed !== null && claimed.kind === 'provider') {
        flags.push(`forged-hop@${h.index}`);
        h.notes.push('forged-looking');
        findings.push(
          finding(
            'FORGED_HOP',
            `Hop ${h.index} below the untrusted origin claims to involve ${claimed.name} (${h.byHost ?? h.fromIp}); \
the sender could have written it.`,
            {
              header: `Received[${h.index}]`,
              value: h.raw.slice(0, 200),
            },
          ),
        );
        steps.push(
          `Hop ${h.index}: claims ${claimed.name} (${h.byHost ?? h.fromIp}) but lies below the origin: forged-looking.`,
        );
      }
    }
  }

  if (skipped.length > 0) {
    findings.push(
      finding(
        'PRIVATE_ADDRESS_SKIPPED',
        `Private or reserved addresses skipped, never blamed: ${[...new Set(skipped)].join(', ')}.`,
        { value: [...new Set(skipped)].join(',') },
      ),
    );
  }

  if (origin === null) origin = fallbackOrigin(input, believed, steps, flags, findings);
  if (origin !== null && origin.ipVersion === 6) {
    findings.push(finding('ORIGIN_IPV6', `The origin ${origin.ip} is an IPv6 address.`, { value: origin.ip }));
  }
  return { hops, origin, steps, flags, findings, questions: org.questions };
}
