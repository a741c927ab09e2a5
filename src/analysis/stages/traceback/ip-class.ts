/**
 * IP address helpers for the trace-back: parse what a Received header writes (`1.2.3.4`,
 * `[IPv6:2001:db8::1]`, `fe80::1%7`, `::ffff:1.2.3.4`), classify it with ipaddr.js, and match it
 * against CIDR lists. Everything here is pure and never throws on hostile text.
 */
import { BoundedMemo } from '../../../core/bounded-memo.ts';
import ipaddr from 'ipaddr.js';

/** How an address may be used by the trace-back. */
export type IpClass = 'public' | 'private' | 'loopback' | 'link-local' | 'documentation' | 'reserved';

/** RFC 5737 (IPv4) and RFC 3849 (IPv6) documentation prefixes: examples, never a real sender. */
const DOCUMENTATION: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][] = [
  ipaddr.parseCIDR('192.0.2.0/24'),
  ipaddr.parseCIDR('198.51.100.0/24'),
  ipaddr.parseCIDR('203.0.113.0/24'),
  ipaddr.parseCIDR('2001:db8::/32'),
];

/**
 * Results of {@link normaliseIp} and {@link classifyIp} by input text. The same few names and
 * addresses recur in every Received chain of a mailbox (the receiver's own relays, the big
 * providers), and parsing each through ipaddr.js was the largest single cost of the trace-back.
 * Bounded: cleared when full, so hostile input cannot grow it.
 */
const normaliseMemo = new BoundedMemo(normaliseUncached);
const classMemo = new BoundedMemo(classifyUncached);

/** A dotted quad as a Received header writes it (`\d{1,3}` four times), nothing else. */
const DOTTED_QUAD = /^\d{1,3}(?:\.\d{1,3}){3}$/;
/**
 * Characters an IPv6 literal can contain as ipaddr.js reads it (hex groups, `::`, an embedded IPv4 in decimal, octal or
 * `0x` hex).
 */
const IPV6_CHARS = /^[0-9a-fx:.]+$/i;

/**
 * A dotted quad whose octets are all ≤ 255 and written without a leading zero is its own
 * canonical form: answer without ipaddr.js. Anything else (a leading zero, which ipaddr.js reads
 * as octal) returns undefined and takes the general path.
 */
function plainQuad(s: string): string | null | undefined {
  let octet = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (octet > 255) return null;
      octet = 0;
      digits = 0;
      continue;
    }
    if (digits === 1 && octet === 0) leadingZero = true;
    octet = octet * 10 + (c - 0x30);
    digits++;
  }
  if (octet > 255) return null;
  return leadingZero ? undefined : s;
}

/**
 * Normalises an address as written in a header: strips `IPv6:` (RFC 5321 §4.1.3), brackets, an
 * interface zone (`%7`, Exchange writes it) and a trailing `:port`; unmaps IPv4-mapped IPv6.
 * Returns the canonical text (`2001:db8::1`, `192.0.2.1`) or null when it is not an address.
 */
export function normaliseIp(text: string): string | null {
  return normaliseMemo.get(text);
}

function normaliseUncached(text: string): string | null {
  let s = text.trim();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    s = end > 0 ? s.slice(1, end) : s.slice(1);
  }
  s = s.replace(/^ipv6:/i, '');
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // `1.2.3.4:25` (Exim `[ip]:port` already unbracketed) — only for dotted quads.
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(s);
  if (v4port) s = v4port[1] ?? s;
  if (s.length === 0 || s.length > 45) return null;
  if (!s.includes(':')) {
    // ipaddr accepts shorthand like `127.1` or `0x7f.1`; a Received header only ever writes full quads.
    if (!DOTTED_QUAD.test(s)) return null;
    const quad = plainQuad(s);
    if (quad !== undefined) return quad;
  } else if (!IPV6_CHARS.test(s)) return null;
  if (!ipaddr.isValid(s)) return null;
  try {
    const addr = ipaddr.process(s);
    return addr.toString();
  } catch {
    return null;
  }
}

/** 4 or 6 for a normalised address. */
export function ipVersion(ip: string): 4 | 6 {
  return ip.includes(':') ? 6 : 4;
}

/** Classifies a normalised address (see {@link normaliseIp}). */
export function classifyIp(ip: string): IpClass {
  return classMemo.get(ip);
}

function classifyUncached(ip: string): IpClass {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(ip);
  } catch {
    return 'reserved';
  }
  for (const [net, bits] of DOCUMENTATION) {
    if (addr.kind() === net.kind() && addr.match(net, bits)) return 'documentation';
  }
  const range = addr.range();
  switch (range) {
    case 'unicast':
      return 'public';
    case 'private':
    case 'uniqueLocal':
    case 'carrierGradeNat':
      return 'private';
    case 'loopback':
      return 'loopback';
    case 'linkLocal':
      return 'link-local';
    default:
      // 6to4 and Teredo are public transition prefixes that mail servers do use.
      return range === '6to4' || range === 'teredo' ? 'public' : 'reserved';
  }
}

/** A parsed CIDR ready for matching. */
export interface Cidr {
  text: string;
  net: ipaddr.IPv4 | ipaddr.IPv6;
  bits: number;
}

/** Parses `10.0.0.0/8`, `2603:1000::/24` or a single address (as /32 or /128); null when invalid. */
export function parseCidr(text: string): Cidr | null {
  const s = text.trim();
  try {
    if (s.includes('/')) {
      const [net, bits] = ipaddr.parseCIDR(s);
      return { text: s, net, bits };
    }
    const ip = normaliseIp(s);
    if (ip === null) return null;
    const net = ipaddr.parse(ip);
    return { text: s, net, bits: net.kind() === 'ipv4' ? 32 : 128 };
  } catch {
    return null;
  }
}

/** The first CIDR of `list` containing `ip` (normalised text, or an address parsed once by the caller), or null. */
export function matchCidr(ip: string | ipaddr.IPv4 | ipaddr.IPv6, list: readonly Cidr[]): Cidr | null {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  if (typeof ip === 'string') {
    try {
      addr = ipaddr.parse(ip);
    } catch {
      return null;
    }
  } else addr = ip;
  for (const c of list) {
    if (c.net.kind() === addr.kind() && addr.match(c.net, c.bits)) return c;
  }
  return null;
}

/** Looks like an IPv4 dotted quad or an IPv6 literal somewhere in `text` (coverage measurement). */
export function containsIpLiteral(text: string): boolean {
  return (
    /\b\d{1,3}(?:\.\d{1,3}){3}\b/.test(text) ||
    /\[(?:ipv6:)?[0-9a-f]*:[0-9a-f:.%]+\]|\((?:[0-9a-f]{0,4}:){2,}[0-9a-f.:%]*\)/i.test(text)
  );
}
