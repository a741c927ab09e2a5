import { classifyIp, normaliseIp, type IpClass } from './ip-class.ts';
import {
  holderDomain,
  asNamesOrganisation,
  isAccessName,
  isDocumentationDomain,
  isHostingDomain,
  isMailHostName,
  isResearchAs,
  isSharedAs,
  registeredDomain,
  sitePrefix,
} from './org.ts';
import type { ParsedReceived } from './received-parser.ts';
import type { CompiledRelay } from './trust.ts';
import type { Believed } from './walk-fallback.ts';
import { mxKey, type LiveQuestion } from './live-dns.ts';
import type { WalkInput } from './walk-input.ts';

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
export function internalTransfer(
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
export function liveOwn(h: ParsedReceived, byHost: string | null, ip: string, input: WalkInput, org: OrgState) {
  const live = input.live;
  if (live === undefined || live === null) return null;
  const checkedAtReceipt =
    h.fromRdns !== null && !h.notes.includes('rdns-unverified') && !h.notes.includes('qmail-name');
  const receiverDomain = orgDomainOf(byHost, input.documentationIsPublic);
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
      if (!ownDomain(orgDomainOf(n, input.documentationIsPublic)) || isAccessName(n, ip)) return false;
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
export function unverifiedOwnName(
  h: ParsedReceived,
  byHost: string | null,
  ip: string,
  asn: number | null,
  input: WalkInput,
  org: OrgState,
): Believed | null {
  const name = h.notes.includes('rdns-unverified') ? h.fromRdns : h.notes.includes('qmail-name') ? h.fromHelo : null;
  if (name === null || isAccessName(name, ip)) return null;
  const domain = orgDomainOf(name, input.documentationIsPublic);
  const receiverDomain = orgDomainOf(byHost, input.documentationIsPublic);
  if (domain === null || (domain !== receiverDomain && !org.domains.has(domain))) return null;
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
export function addressBacking(ip: string, asn: number | null, input: WalkInput, org: OrgState): string | null {
  const site = sitePrefix(ip);
  const asName = asn === null ? null : (input.asNameOf?.get(asn) ?? null);
  const seen = org.addresses.find(
    (a) =>
      a !== ip &&
      a.includes(':') === ip.includes(':') &&
      sitePrefix(a) === site &&
      effectiveClass(a, input.documentationIsPublic) === 'public',
  );
  // On a network that rents or lends its addresses (hosting, access, transit: the AS's name says so, or is unknown),
  // a neighbour in the same /24 is another customer, who writes the reverse name of their own address: the /24
  // backs a name only where the organisation holds the network (its own AS, or one bearing its name).
  if (seen !== undefined && (!isSharedAs(asName) || asNamesOrganisation(asName, org.domains)))
    return `${ip} is in the same /24 as ${seen}, an address of that organisation already believed`;
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
export function hostingNeighbour(name: string, ip: string, input: WalkInput, checked: boolean): string | null {
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
export function sameHolder(holder: string | null, byHost: string | null, org: OrgState): boolean {
  return holder !== null && (holder === holderDomain(byHost) || org.holders.has(holder));
}

/**
 * The same registered domain under a parent the public suffix list's private section lists
 * (`dyndns.org`, whose names are strangers' machines; also a university that declares its
 * departments separate, `ruhr-uni-bochum.de`): the shared parent alone proves nothing, so the name is
 * believed only when the address backs it ({@link addressBacking}). False when it does not.
 */
export function sharedParentBacked(
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
export interface OrgState {
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
  /**
   * When the hop being judged happened at the latest, as the receiving side and the believed relays wrote it: the
   * latest date of the headers from the top down to this one (the delivering system's own first), null when one of
   * them has no readable date. Never this hop's date alone, which a cut or forged line could set.
   */
  hopDate: string | null;
}

/**
 * Whether the next recipient written below is one the receiving side delivers for: a host passing the
 * message on towards the same mailbox, not a list server that received it for its list. Written by
 * the client itself, so it can only withhold trust, never give it.
 */
export function deliversToSameSide(org: OrgState): boolean {
  const n = org.nextRecipientHolder;
  return n !== null && (org.recipientHolders.has(n) || org.holders.has(n) || org.reporterRegistered.has(n));
}

/** The domain of a `for` recipient a believed hop recorded, when it can have an MX (not a literal, not local). */
export function recipientDomain(forAddr: string | null): string | null {
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
export function orgRelay(label: string): CompiledRelay {
  return sideRelay(`the receiving organisation (${label})`);
}

/** A pseudo-relay of the receiving side, by its name in explanations (bounded cache). */
export function sideRelay(name: string): CompiledRelay {
  let r = orgRelays.get(name);
  if (r === undefined) {
    if (orgRelays.size > 1000) orgRelays.clear();
    r = {
      name,
      names: [],
      networks: [],
      internalNetworks: [],
      networksUntil: [],
      asns: new Set(),
      authservIds: [],
      arcSealers: [],
      webmail: false,
      kind: 'learned',
    };
    orgRelays.set(name, r);
  }
  return r;
}

/**
 * Whether a name is under a domain reserved for documentation and testing (RFC 2606, RFC 6761:
 * `example.com`, `*.example`, `*.test`, `*.invalid`, `*.localhost`), which stands for no organisation: an
 * anonymised corpus gives it to parties that have nothing in common (round tb18, a list server and the
 * reporter's own host both `example.com`), and no real host is named there. Where documentation names stand
 * for real ones (test fixtures, `documentationIsPublic`), it is not. Unlike `isPlaceholderDomain` (`org.ts`),
 * `*.local` is not among them: organisations name their internal hosts so (an Active Directory
 * `corp.local`), and a hop between two of them is the organisation's own.
 */
export function nobodysName(name: string | null, documentationIsPublic: boolean): boolean {
  return !documentationIsPublic && isDocumentationDomain(name);
}

/** The registered domain a name gives the receiving organisation: none for {@link nobodysName}. */
export function orgDomainOf(name: string | null, documentationIsPublic: boolean): string | null {
  return nobodysName(name, documentationIsPublic) ? null : registeredDomain(name);
}

export function effectiveClass(ip: string, documentationIsPublic: boolean): IpClass {
  const c = classifyIp(ip);
  return c === 'documentation' && documentationIsPublic ? 'public' : c;
}
