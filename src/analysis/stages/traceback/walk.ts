/**
 * The trace-back walk, SpamCop-style: start at the top Received header (written by the system the
 * message was delivered to), and go down while the host that wrote each header is one we believe.
 * Belief passes down a hand-off only when the client is (`believe.ts`, first match wins):
 * 1. this instance's intake or one of the reporter's declared or learned mail hosts;
 * 2. a trusted provider's relay, by its published outbound ranges or internal space, a relay-only
 *    AS, or a relay name the receiver recorded — never a consumer-access name;
 * 3. a host of the receiving organisation: a reverse name the believed receiver recorded (not
 *    "may be forged", not a consumer-access name) in the same registered domain (public suffix
 *    list) as a believed receiver, or as the reporter's own address (given by the intake, not by
 *    the headers) — never a placeholder domain (`example.com`: `nobodysName`), never a hosting
 *    company's naming domain for its customers' machines, the address
 *    in its network (`hostingNeighbour` in `receiving-side.ts`; nor for rules 5 and 6, nor a learned
 *    domain); 3b. such a name in the domain of a known forwarding service
 *    (`data/forwarding-services.ts`): the recipient's own forwarder, the receiving side;
 * 4. in the same AS as a believed relay of that organisation, when the AS is not an access,
 *    hosting, transit or research network and its registered name bears the organisation's (`asNamesOrganisation`);
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
import { RESENT_ORIGINAL_NOTE } from './resent.ts';
import type { Hop, Origin } from '../../analysis-schema.ts';
import type { StageFinding } from '../../stage.ts';
import { finding } from '../../stage.ts';
import { ipVersion, normaliseIp } from './ip-class.ts';
import { holderDomain, isPlaceholderDomain, registeredDomain } from './org.ts';
import type { ParsedReceived } from './received-parser.ts';
import type { TrustTable } from './trust.ts';
import { fallbackOrigin, type Believed } from './walk-fallback.ts';
import { MAX_RECIPIENT_DOMAINS } from './live-dns.ts';
import { believe } from './believe.ts';
import { inboundGatewayWhy } from './inbound-gateway.ts';
import { effectiveClass, orgDomainOf, recipientDomain, sideRelay, type OrgState } from './receiving-side.ts';
import type { WalkInput, WalkOutput } from './walk-input.ts';
import { providerEntryVerdict } from './sealed-handoff.ts';

export { WEBMAIL_IP_HEADERS, type WalkInput, type WalkOutput } from './walk-input.ts';

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
    hopDate: null,
  };
  // The latest date written from the top down to the hop being judged (`OrgState.hopDate`); undefined once one is
  // missing.
  let latestDate: string | null | undefined = null;
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
  // A placeholder name (an anonymised corpus's `example.com`) is no organisation's: two parties given it by
  // the anonymiser are not one (round tb18), so it never becomes the organisation's domain.
  const topDomain = orgDomainOf(top?.byHost ?? null, input.documentationIsPublic);
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
  /**
   * The sending provider's entry (`providerEntryVerdict` in `sealed-handoff.ts`). Inside a trusted provider whose
   * outbound relay handed the message on (every hop believed since is its own), a field its own machine wrote recording
   * no public client is where the provider took the message in: a submission (web, API), or the re-sending of a message
   * it received (a forward, a list). Below it lies either the provider's record of the message it received, or what
   * the sender wrote before submitting, which can name anything (a line "from" an innocent address "by
   * mx.google.com"). Where the receiving side records ARC verdicts, a forward or a list carries the provider's sealed
   * set, verified; without one the walk stops here and the fallback names the provider's outbound relay. Where it
   * records none (mail from before ARC, a receiver without it) the walk goes on: the fields alone cannot tell the two
   * apart (docs/traceback.md, "What a sender can still write"). Returns the step that says so, or null to go on.
   */
  const providerEntry = (i: number): string | null => {
    const out = believed.findLast((b) => b.kind === 'provider');
    const h = hops[i];
    if (out === undefined || out.hop === undefined || h === undefined || h.byHost === null) return null;
    if (believed.some((b) => (b.hop ?? -1) > (out.hop ?? -1) && b.relay !== out.relay)) return null;
    const own = trust.byName(h.byHost) === out.relay || (sender !== null && sameHost(h.byHost, sender, trust));
    if (!own || providerEntryVerdict(input.arc ?? [], out.hop, out.relay.arcSealers) !== 'unsealed') return null;
    return `Hop ${i}: ${h.byHost}, a machine of ${out.relay.name}, took the message in with no outside client \
recorded (a submission, or the re-sending of a message it received), and the receiving side verified no ARC record \
sealed by ${out.relay.name} of having received it: the fields below were written before ${out.relay.name} had the \
message and prove nothing.`;
  };
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i];
    const r = received[i];
    if (h === undefined || r === undefined) continue;
    h.trusted = true;
    if (r.date === null) latestDate = undefined;
    else if (latestDate !== undefined && (latestDate === null || r.date > latestDate)) latestDate = r.date;
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
    // The first field of a resent message's original delivery (`resent.ts`) follows the resender's own
    // submission, not a hand-off: the organisation's host wrote it when the message first arrived.
    if (r.notes.includes(RESENT_ORIGINAL_NOTE) && !input.received[i - 1]?.notes.includes(RESENT_ORIGINAL_NOTE))
      sender = null;
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
    if (r.notes.includes('address-ambiguous')) {
      // Not "handled internally": a hand-off whose client the greeting made unreadable. Nothing below it is believed.
      steps.push(
        `Hop ${i}: ${h.byHost ?? 'a host'} received it from a client its record names by two addresses (what the \
client sent as its greeting reads as an address too): the client cannot be told, so the walk stops here.`,
      );
      findings.push(
        finding('RECEIVED_UNPARSED', `Received header ${i} names two client addresses.`, {
          header: `Received[${i}]`,
          value: h.raw.slice(0, 200),
        }),
      );
      stop = i;
      break;
    }
    const ip = h.fromIp;
    const entry = ip === null || effectiveClass(ip, input.documentationIsPublic) !== 'public' ? providerEntry(i) : null;
    if (entry !== null) {
      steps.push(entry);
      stop = i + 1;
      break;
    }
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
    const receiverDomain = orgDomainOf(h.byHost, input.documentationIsPublic);
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
    org.hopDate = latestDate === undefined ? null : latestDate;
    const t = believe(r, h.byHost, ip, input, org, believed.at(-1) ?? null) ?? inboundGateway(i, ip, input, believed);
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
        const d = orgDomainOf(h.fromRdns, input.documentationIsPublic);
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

/**
 * The recipient's inbound gateway, named by the receiving side's own SPF check (`inbound-gateway.ts`), on the
 * recipient's own side only: every hop believed above is the recipient's own or an internal hop of the mailbox
 * provider that wrote this hop. Below a hand-off from a provider's outbound relay (a forward from a mailbox elsewhere,
 * even at the same provider), the setting read is that mailbox's owner's, who may be the sender: a review framed an
 * address through a tenant of one's own forwarding to the victim.
 */
function inboundGateway(i: number, ip: string, input: WalkInput, believed: readonly Believed[]): Believed | null {
  const provider = input.trust.byName(input.received[i]?.byHost ?? null);
  const own = believed.every((b) => b.kind === 'own' || (b.kind === 'provider-internal' && b.relay === provider));
  const last = believed.at(-1)?.relay;
  if (!own || (last?.kind === 'declared' && last !== GATEWAY)) return null;
  const why = inboundGatewayWhy(i, ip, input.received, input.spfClientsAbove, input.documentationIsPublic);
  return why === null ? null : { relay: GATEWAY, kind: 'own', ip, why };
}

/**
 * The gateway vouches for itself only, as a declared host does (kind `declared`): a hosted filter's domain and AS
 * are every customer's (`mx0b-001b2d01.pphosted.com` is IBM's outbound relay), so they never become the
 * organisation's, and a sending company's own gateway of the same service below is named, not walked past.
 */
const GATEWAY = { ...sideRelay('the recipient’s inbound gateway'), kind: 'declared' as const };
