/**
 * Mail hosts a reporter (or, for an intake channel, the operator) declares as their own, as SpamCop
 * users declare their "mailhosts": a forwarder they set up (`gazette@vineyard.net` forwarding into a
 * trap), a filter in front of their server, a secondary MX in another domain. The headers alone cannot
 * vouch for such a host — only its own lines name the reporter — and the learner (`mailhosts.ts`)
 * needs many reports through one address; a declaration settles it for the declarer's own reports.
 *
 * What may be declared, and how the walk matches it (see `believe` in `walk.ts`):
 * - an address or a network of at most /16 (IPv4) or /48 (IPv6): the client address a believed
 *   receiver recorded (a network only outside access, hosting and transit networks, see `walk.ts`);
 * - a host name (`mx2.example.org`): that host, matched whole against a reverse name a believed
 *   receiver checked (never a greeting alone);
 * - a domain (`example.org` or `*.example.org`): any host whose checked reverse name is in it, within
 *   one holder (a declared `amazonaws.com` matches none of EC2's customers' names), and, as a network,
 *   only outside access, hosting and transit networks.
 * Refused, each with its reason: public suffixes and shared parents (`dyndns.org`), consumer-access
 * names, placeholder domains, a trusted provider's names (the table speaks for those, by their relay
 * networks), loopback, link-local and reserved addresses.
 *
 * Pure. Stored entries travel with the learned ones in the analysis's `mailhosts` list, marked with
 * {@link DECLARED_MARK}.
 */
import ipaddr from 'ipaddr.js';
import { getPublicSuffix } from 'tldts';
import { domainToASCII } from 'node:url';
import { classifyIp, parseCidr, type Cidr } from './ip-class.ts';
import { hasPublicSuffix, holderDomain, isAccessName, isPlaceholderDomain } from './org.ts';
import type { TrustTable } from './trust.ts';

/** Most declarations kept per reporter or intake. */
export const MAX_DECLARED = 32;
/** Longest note kept beside a declaration. */
export const MAX_DECLARED_NOTE = 200;
/** Prefix of a declared entry in an analysis's `mailhosts` list (learned entries have none). */
export const DECLARED_MARK = '+';
/** Widest networks a declaration may name. */
const MIN_PREFIX = { 4: 16, 6: 48 } as const;

/**
 * A stored entry: `1.2.3.4` or `1.2.3.0/24` (an address or network), `=mx.example.org` (one host),
 * `example.org` (a domain).
 */
export type DeclaredEntry = string;

export type DeclarationResult = { entry: DeclaredEntry } | { problem: string };

function nameProblem(name: string, trust: TrustTable): string | null {
  if (!/^[a-z0-9](?:[a-z0-9-]{0,62}\.)+[a-z0-9-]{1,63}$/.test(name) || name.length > 253)
    return 'not a host name, domain, address or network';
  if (isPlaceholderDomain(name)) return 'a placeholder domain names no real host';
  if (getPublicSuffix(name, { allowPrivateDomains: true }) === name || holderDomain(name) === null)
    return 'a public suffix or a shared parent (many holders have names under it): name your own domain or host';
  if (!hasPublicSuffix(name)) return 'not under a public suffix';
  if (isAccessName(name, null)) return 'a consumer-access name: an access line is never a mail host';
  const provider = trust.byName(name);
  if (provider !== null)
    return `a name of ${provider.name}, a trusted provider: it is believed by its relay networks already, and \
declaring its names would believe its other customers' hosts`;
  return null;
}

/**
 * Reads one declaration as a user types it (`mx2.example.org`, `*.example.org`, `192.0.2.7`,
 * `198.51.100.0/24`). Names are lower-cased, a trailing dot dropped; a bare registered domain
 * (`example.org`) means the domain, a longer name the one host.
 */
export function parseDeclaration(text: string, trust: TrustTable): DeclarationResult {
  const s = text.trim().toLowerCase().replace(/\.$/, '');
  if (s.length === 0) return { problem: 'empty' };
  if (s.length > 253) return { problem: 'longer than 253 characters' };
  if (/^[0-9a-f:.]+(?:\/\d{1,3})?$/.test(s) && (s.includes(':') || /^[\d./]+$/.test(s))) {
    // `010.1.1.1` would be read as octal (8.1.1.1), `204.17.195/24` as 204.17.0.0/24: an IPv4 address is
    // written in full, four decimal parts, or refused.
    if (!s.includes(':') && !/^\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?$/.test(s))
      return { problem: 'an IPv4 address is written in full, four decimal parts (192.0.2.0/24, not 192.0.2/24)' };
    if (!s.includes(':') && /(?:^|\.)0\d/.test(s.split('/')[0] ?? ''))
      return { problem: 'an IPv4 address with a leading zero (read as octal by some software): write it in decimal' };
    const c = parseCidr(s);
    if (c === null) return { problem: 'not a valid address or network' };
    const version = c.net.kind() === 'ipv6' ? 6 : 4;
    if (c.bits < MIN_PREFIX[version])
      return {
        problem: `a network wider than /${MIN_PREFIX[version]}: declare your own mail hosts, not a provider's \
address space`,
      };
    const full = c.bits === (version === 6 ? 128 : 32);
    const base = full
      ? c.net.toString()
      : (version === 6 ? ipaddr.IPv6 : ipaddr.IPv4).networkAddressFromCIDR(`${c.net.toString()}/${c.bits}`).toString();
    const cls = classifyIp(base);
    if (cls === 'loopback' || cls === 'link-local' || cls === 'reserved')
      return { problem: `a ${cls} address is never a mail host's` };
    const entry = full ? base : `${base}/${c.bits}`;
    // Private space is the receiving side's anyway (skipped, never blamed): only public space can overlap.
    const provider = cls === 'public' ? providerOverlap(entry, trust) : null;
    if (provider !== null)
      return {
        problem: `overlaps ${provider}'s relay networks: the table believes that provider's relays already, \
and declaring its addresses would make them your own`,
      };
    return { entry };
  }
  const wildcard = s.startsWith('*.') || s.startsWith('.');
  const typed = s.replace(/^\*?\./, '');
  // An internationalised name is compared in its ASCII (punycode) form, as DNS and the headers carry it.
  const name = /[^\p{ASCII}]/u.test(typed) ? domainToASCII(typed) : typed;
  if (name.length === 0) return { problem: 'not a valid internationalised domain name' };
  const problem = nameProblem(name, trust);
  if (problem !== null) return { problem };
  const domain = wildcard || holderDomain(name) === name;
  return { entry: domain ? name : `=${name}` };
}

/** The trusted provider (or this instance's intake) whose networks a declared network overlaps, or null. */
function providerOverlap(entry: string, trust: TrustTable): string | null {
  const c = parseCidr(entry);
  if (c === null) return null;
  const contains = (outer: Cidr, inner: Cidr): boolean =>
    outer.net.kind() === inner.net.kind() && outer.bits <= inner.bits && inner.net.match(outer.net, outer.bits);
  for (const r of trust.relays)
    for (const n of [...r.networks, ...r.internalNetworks]) if (contains(n, c) || contains(c, n)) return r.name;
  return null;
}

/** A declaration as shown back to its declarer (`*.example.org` for a domain). */
export function showDeclaration(entry: DeclaredEntry): string {
  if (entry.startsWith('=')) return entry.slice(1);
  if (parseCidr(entry) !== null) return entry;
  return `*.${entry}`;
}

/** The learned and the declared entries of an analysis's `mailhosts` list. */
export function splitMailhosts(list: readonly string[]): { learned: string[]; declared: string[] } {
  const learned: string[] = [];
  const declared: string[] = [];
  for (const e of list) {
    if (e.startsWith(DECLARED_MARK)) declared.push(e.slice(DECLARED_MARK.length));
    else learned.push(e);
  }
  return { learned, declared };
}

/**
 * Whether a checked reverse name falls in a declared domain: under it, and the domain within the
 * name's holder (a declaration above the holder boundary, `amazonaws.com` for
 * `ec2-….compute-1.amazonaws.com`, would speak for strangers).
 */
export function inDeclaredDomain(name: string, domain: string): boolean {
  if (name !== domain && !name.endsWith(`.${domain}`)) return false;
  const holder = holderDomain(name);
  return holder !== null && (holder === domain || domain.endsWith(`.${holder}`));
}
