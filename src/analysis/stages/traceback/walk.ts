/**
 * The trace-back walk, SpamCop-style: start at the top Received header (written by the system the
 * message was delivered to), and go down while the host that wrote each header is one we trust.
 * The first hop whose sending address is public and not a trusted relay is the origin: everything
 * below it was written by that sender (or before it) and proves nothing.
 *
 * Each step is explained in a sentence an analyst can read; findings carry the evidence.
 */
import { getDomain } from 'tldts';
import type { Hop, Origin } from '../../analysis-schema.ts';
import type { StageFinding } from '../../stage.ts';
import { finding } from '../../stage.ts';
import { classifyIp, ipVersion, normaliseIp, type IpClass } from './ip-class.ts';
import type { ParsedReceived } from './received-parser.ts';
import type { CompiledRelay, TrustTable } from './trust.ts';

/** Webmail headers naming the browser's address (RFC 7239 has no mail equivalent; these are de facto). */
export const WEBMAIL_IP_HEADERS = ['x-originating-ip', 'x-sender-ip', 'x-aol-ip', 'x-yahoo-post-ip', 'x-source-ip', 'x-client-ip'] as const;

export interface WalkInput {
  /** Parsed Received headers, top first, with their raw text. */
  received: readonly (ParsedReceived & { raw: string })[];
  trust: TrustTable;
  /** AS number of each public hop address (offline data), when known. */
  asnOf: ReadonlyMap<string, number | null>;
  /** Webmail headers present (name → value). */
  webmailHeaders: readonly { name: string; value: string }[];
  /** Treat RFC 5737 / RFC 3849 documentation addresses as public (synthetic cases only). */
  documentationIsPublic: boolean;
}

export interface WalkOutput {
  hops: Hop[];
  origin: Origin | null;
  steps: string[];
  flags: string[];
  findings: StageFinding[];
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
    const d1 = getDomain(n);
    if (d1 !== null && d1 === getDomain(b)) return true;
    if (byRelay !== null && trust.byName(n) === byRelay) return true;
  }
  return false;
}

/** Why a public sender is trusted, or null. The HELO name alone never earns trust: the client picks it. */
function trustOf(h: ParsedReceived, ip: string, trust: TrustTable, asnOf: ReadonlyMap<string, number | null>): { relay: CompiledRelay; why: string } | null {
  const net = trust.byIp(ip);
  if (net) return { relay: net.relay, why: `${ip} is in its network ${net.cidr}` };
  const asn = asnOf.get(ip) ?? null;
  const byAsn = trust.byAsn(asn);
  if (byAsn) return { relay: byAsn, why: `${ip} is in its AS${asn}` };
  if (h.fromRdns !== null && !h.notes.includes('rdns-may-be-forged')) {
    const byName = trust.byName(h.fromRdns);
    if (byName) return { relay: byName, why: `the receiver found the reverse-DNS name ${h.fromRdns}` };
  }
  return null;
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
  let lastTrusted: { ip: string; hop: number; relay: CompiledRelay } | null = null;
  const skipped: string[] = [];

  const top = hops[0];
  if (top) {
    const writer = trust.byName(top.byHost);
    steps.push(
      writer
        ? `Hop 0 was written by ${top.byHost}, a host of ${writer.name}, which delivered the message: we believe it.`
        : `Hop 0 was written by ${top.byHost ?? 'the receiving system'}, the system that delivered the message to the reporter: we believe the topmost header.`,
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
      findings.push(finding('RECEIVED_UNPARSED', `Received header ${i} could not be parsed.`, { header: `Received[${i}]`, value: h.raw.slice(0, 200) }));
      continue;
    }
    if (sender !== null && h.byHost !== null && !sameHost(h.byHost, sender, trust)) {
      flags.push(`broken-chain@${i}`);
      h.notes.push('broken-chain');
      steps.push(`Hop ${i}: written by ${h.byHost}, but the hop above says the message came from ${sender.names.filter(Boolean).join(' / ') || sender.ip}: the chain has a gap here.`);
      findings.push(finding('BROKEN_CHAIN', `Hop ${i} was written by ${h.byHost}, not by the client named in hop ${i - 1}.`, { header: `Received[${i}]`, value: h.byHost }));
    }
    if (r.notes.includes('rdns-may-be-forged')) {
      steps.push(`Hop ${i}: the receiver noted that the reverse-DNS name of ${h.fromIp ?? 'the client'} “may be forged” (it does not resolve back to the address); the name is not believed.`);
    }
    const ip = h.fromIp;
    if (ip === null) {
      steps.push(`Hop ${i}: ${h.byHost ?? 'a host'} handled the message internally${h.protocol ? ` (${h.protocol})` : ''}; no sending address here.`);
      continue;
    }
    const cls = effectiveClass(ip, input.documentationIsPublic);
    if (cls !== 'public') {
      skipped.push(ip);
      h.notes.push(`address-${cls}`);
      steps.push(`Hop ${i}: ${h.byHost ?? 'a host'} received it from ${describe(h)}, a ${cls} address inside a network we cannot see; skipped, never blamed.`);
      sender = { names: [h.fromRdns, h.fromHelo], ip };
      continue;
    }
    const t = trustOf(r, ip, trust, asnOf);
    if (t) {
      steps.push(`Hop ${i}: ${h.byHost ?? 'a host'} received it from ${describe(h)}; ${t.relay.name} is trusted (${t.why}), so we believe the header it wrote below.`);
      lastTrusted = { ip, hop: i, relay: t.relay };
      sender = { names: [h.fromRdns, h.fromHelo], ip };
      continue;
    }
    origin = { ip, hopIndex: i, ipVersion: ipVersion(ip), reason: `first untrusted hop: ${h.byHost ?? 'a trusted host'} received it from ${describe(h)}` };
    steps.push(`Hop ${i}: ${h.byHost ?? 'a host'} received it from ${describe(h)}. That address is not a relay we trust, so it is the origin: the first untrusted hop.`);
    // Only when the receiver looked the address up (a name that is not the provider's, or `unknown`):
    // an old header without reverse DNS cannot tell a forged greeting from a since-reassigned address.
    const heloRelay = h.fromRdns !== null || r.notes.includes('rdns-unknown') ? trust.byName(h.fromHelo) : null;
    if (heloRelay !== null) {
      flags.push(`forged-helo@${i}`);
      steps.push(`Hop ${i}: the client said HELO ${h.fromHelo}, a name of ${heloRelay.name}, but its address does not belong to ${heloRelay.name}: a forged-looking greeting.`);
      findings.push(finding('FORGED_HOP', `Hop ${i}: HELO ${h.fromHelo} claims ${heloRelay.name} from ${ip}, which is not theirs.`, { header: `Received[${i}]`, value: h.fromHelo ?? '' }));
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
    steps.push(`${range} below the origin: the sender or earlier relays wrote ${below.length === 1 ? 'it' : 'them'}, and ${below.length === 1 ? 'it proves' : 'they prove'} nothing.`);
    for (const h of below) {
      const claimed = trust.byName(h.byHost) ?? (h.fromIp !== null ? (trust.byIp(h.fromIp)?.relay ?? null) : null);
      // Our own intake below the origin is a mail loop (a list echoing a post), not a forgery.
      if (claimed !== null && claimed.kind === 'provider') {
        flags.push(`forged-hop@${h.index}`);
        h.notes.push('forged-looking');
        findings.push(
          finding('FORGED_HOP', `Hop ${h.index} below the untrusted origin claims to involve ${claimed.name} (${h.byHost ?? h.fromIp}); the sender could have written it.`, {
            header: `Received[${h.index}]`,
            value: h.raw.slice(0, 200),
          }),
        );
        steps.push(`Hop ${h.index}: claims ${claimed.name} (${h.byHost ?? h.fromIp}) but lies below the origin: forged-looking.`);
      }
    }
  }

  if (skipped.length > 0) {
    findings.push(finding('PRIVATE_ADDRESS_SKIPPED', `Private or reserved addresses skipped, never blamed: ${[...new Set(skipped)].join(', ')}.`, { value: [...new Set(skipped)].join(',') }));
  }

  if (origin === null) origin = fallbackOrigin(input, lastTrusted, steps, flags, findings);
  if (origin !== null && origin.ipVersion === 6) {
    findings.push(finding('ORIGIN_IPV6', `The origin ${origin.ip} is an IPv6 address.`, { value: origin.ip }));
  }
  return { hops, origin, steps, flags, findings };
}

/** No untrusted hop: a trusted webmail's client-address header, or the trusted provider itself. */
function fallbackOrigin(
  input: WalkInput,
  lastTrusted: { ip: string; hop: number; relay: CompiledRelay } | null,
  steps: string[],
  flags: string[],
  findings: StageFinding[],
): Origin | null {
  const webmailProvider = lastTrusted?.relay.webmail === true || input.received.some((r) => r.notes.includes('webmail-http'));
  for (const hdr of input.webmailHeaders) {
    const ip = normaliseIp(hdr.value.split(/[,\s]+/).find((x) => x.length > 0) ?? '');
    if (ip === null) continue;
    if (effectiveClass(ip, input.documentationIsPublic) !== 'public') {
      steps.push(`The ${hdr.name} header names ${ip}, a non-public address; not used.`);
      continue;
    }
    if (!webmailProvider) {
      steps.push(`The ${hdr.name} header names ${ip}, but the message did not come through a trusted webmail, so anyone could have written it; not used.`);
      continue;
    }
    steps.push(
      `Every relay is trusted and the message was submitted through ${lastTrusted?.relay.name ?? 'a webmail'}; its ${hdr.name} header names the browser’s address ${ip}, which is the origin.`,
    );
    findings.push(finding('WEBMAIL_ORIGINATING_IP', `${hdr.name}: ${ip} (written by ${lastTrusted?.relay.name ?? 'the webmail'}) is the origin.`, { header: hdr.name, value: hdr.value.slice(0, 100) }));
    return { ip, hopIndex: -1, ipVersion: ipVersion(ip), reason: `${hdr.name} written by trusted webmail ${lastTrusted?.relay.name ?? ''}`.trim() };
  }
  if (lastTrusted !== null) {
    flags.push('origin-trusted-provider');
    steps.push(
      `Every relay is trusted: the message entered the mail system at ${lastTrusted.relay.name} (${lastTrusted.ip}, hop ${lastTrusted.hop}). The sender is an account of ${lastTrusted.relay.name}; its abuse desk is the one to tell.`,
    );
    return { ip: lastTrusted.ip, hopIndex: lastTrusted.hop, ipVersion: ipVersion(lastTrusted.ip), reason: `submitted through trusted provider ${lastTrusted.relay.name}` };
  }
  steps.push('No hop names a public address outside the trusted relays: no origin can be named.');
  findings.push(finding('NO_ORIGIN', 'No untrusted hop with a public address was found.'));
  return null;
}
