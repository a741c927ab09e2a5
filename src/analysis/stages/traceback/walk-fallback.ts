/**
 * When every hop of a chain is believed, who is named: the browser address a webmail wrote (only
 * when the message was submitted at that webmail itself), else the relay through which the sending
 * provider handed the message out, else nobody (the message was written inside the receiving
 * organisation).
 */
import type { Origin } from '../../analysis-schema.ts';
import { ORIGIN_INSIDE_RECEIVER } from '../../actionable-origin.ts';
import type { StageFinding } from '../../stage.ts';
import { finding } from '../../stage.ts';
import { classifyIp, ipVersion, normaliseIp } from './ip-class.ts';
import type { CompiledRelay, TrustTable } from './trust.ts';
import type { ParsedReceived } from './received-parser.ts';
import { type ArcField, sealedHandoff } from './sealed-handoff.ts';

/** What the fallback reads of the walk's input (`WalkInput` of walk.ts, which imports this file). */
interface FallbackInput {
  received: readonly ParsedReceived[];
  webmailHeaders: readonly { name: string; value: string }[];
  documentationIsPublic: boolean;
  /** The header's ARC fields, with their place among the Received fields (`sealed-handoff.ts`). */
  arc?: readonly ArcField[];
  trust: TrustTable;
}

/** A believed hop client and why. */
export interface Believed {
  relay: CompiledRelay;
  /**
   * `provider`: a trusted provider's published relay; `provider-internal`: its internal space;
   * `own`: the receiving side itself (intake, learned mail host, the organisation's relays).
   */
  kind: 'provider' | 'provider-internal' | 'own';
  ip: string;
  why: string;
  hop?: number;
  /** Set when live DNS earned the belief (`live-dns.ts`): the hop's note. */
  live?: 'live-fcrdns' | 'live-mx';
}

/**
 * Webmail client-address headers and the providers that write each (none listed: any webmail).
 * `X-Sender-IP` and the like are also written by receivers about the connecting relay, so such a
 * header naming one of the chain's own relay addresses is never taken for a browser.
 */
const HEADER_WRITERS: Readonly<Record<string, readonly string[]>> = {
  'x-yahoo-post-ip': ['Yahoo / AOL'],
  'x-aol-ip': ['Yahoo / AOL'],
};

/** The protocols of a submission by the provider's own service: webmail (HTTP), an API, MAPI, local pickup. */
const SUBMISSION = /^(?:HTTP|HTTPS|HTTPREST|MAPI|LOCAL)$/;

/** An authenticated SMTP submission (RFC 3848: ESMTPA, ESMTPSA; some servers write SMTPA, SMTPSA). */
const AUTH_SMTP = /^E?SMTPS?A$/i;

/** No untrusted hop: a webmail's client-address header, or the sending provider's relay, or nobody. */
export function fallbackOrigin(
  input: FallbackInput,
  believed: readonly Believed[],
  steps: string[],
  flags: string[],
  findings: StageFinding[],
): Origin | null {
  const providers = believed.filter((b) => b.kind !== 'own');
  const last = providers[providers.length - 1] ?? null;
  const lastHop = last?.hop ?? -1;
  // Below the provider's last believed hop, only its own submission hops (no client address); or that hop is
  // itself the submission, its client one of the provider's own addresses (Hotmail's webmail of 2007 recorded its
  // front end, `from 64.4.51.220 ... with HTTP`, and the browser in X-Originating-IP), written by a machine of
  // the same provider (the believed provider hop above it is that provider's): another provider's line naming an
  // address of this one is no submission at this one.
  const below = input.received.slice(lastHop + 1);
  const submission = (r: ParsedReceived): boolean =>
    r.notes.includes('webmail-http') ||
    (r.protocol !== null && SUBMISSION.test(r.protocol)) ||
    r.notes.includes('local-submission');
  const lastReceived = lastHop >= 0 ? input.received[lastHop] : undefined;
  const submittedThere =
    last?.relay.webmail &&
    below.every((r) => r.fromIp === null || classifyIp(r.fromIp) !== 'public') &&
    (below.some(submission) ||
      (last.kind === 'provider' &&
        lastReceived !== undefined &&
        submission(lastReceived) &&
        providers.at(-2)?.relay === last.relay));
  const relayIps = new Set(input.received.map((r) => r.fromIp).filter((x): x is string => x !== null));
  for (const hdr of input.webmailHeaders) {
    const ip = normaliseIp(hdr.value.split(/[,\s]+/).find((x) => x.length > 0) ?? '');
    if (ip === null) continue;
    const cls = classifyIp(ip);
    if (cls !== 'public' && !(cls === 'documentation' && input.documentationIsPublic)) {
      steps.push(`The ${hdr.name} header names ${ip}, a non-public address; not used.`);
      continue;
    }
    const writers = HEADER_WRITERS[hdr.name];
    if (
      !submittedThere ||
      last === null ||
      relayIps.has(ip) ||
      (writers !== undefined && !writers.includes(last.relay.name))
    ) {
      steps.push(
        relayIps.has(ip)
          ? `The ${hdr.name} header names ${ip}, a relay of this very chain (a receiver's note about who connected), \
not a browser; not used.`
          : `The ${hdr.name} header names ${ip}, but the message was not submitted through that webmail's own service, \
so anyone could have written it; not used.`,
      );
      continue;
    }
    steps.push(
      `Every relay is believed and the message was submitted through ${last.relay.name}'s own service; its ${hdr.name} \
header names the browser’s address ${ip}, which is the origin.`,
    );
    findings.push(
      finding('WEBMAIL_ORIGINATING_IP', `${hdr.name}: ${ip} (written by ${last.relay.name}) is the origin.`, {
        header: hdr.name,
        value: hdr.value.slice(0, 100),
      }),
    );
    return {
      ip,
      hopIndex: -1,
      ipVersion: ipVersion(ip),
      reason: `${hdr.name} written by trusted webmail ${last.relay.name}`,
    };
  }
  // The relay through which the sending provider handed the message out: its deepest published relay. When that
  // hop is itself a submission whose client is the provider's own front end (iCloud's `*-dlb-asmtp-mailmevip` load
  // balancer taking an ESMTPSA login), the provider recorded no client: the machine that took the submission, the
  // believed hop just above it at the same provider, is the one that handed the message out.
  let outbound = [...providers].reverse().find((b) => b.kind === 'provider') ?? last;
  const outReceived = outbound?.hop === undefined ? undefined : input.received[outbound.hop];
  if (
    outbound !== null &&
    outReceived !== undefined &&
    (submission(outReceived) || AUTH_SMTP.test(outReceived.protocol ?? ''))
  ) {
    const above = believed[believed.indexOf(outbound) - 1];
    if (above?.relay === outbound.relay && above.kind === 'provider' && above.hop === (outbound.hop ?? 0) - 1) {
      steps.push(
        `Hop ${outbound.hop ?? -1}: the submission came from ${outbound.ip}, ${outbound.relay.name}'s own front end: \
no client was recorded, so the relay that took it and handed it on (${above.ip}) is named.`,
      );
      outbound = above;
    }
  }
  const sealed = outbound === null ? null : sealedBelow(input, believed, outbound);
  if (outbound !== null && sealed !== null) {
    flags.push('origin-sealed-handoff');
    steps.push(
      `Every relay is believed down to ${outbound.relay.name}'s outbound relay ${outbound.ip} (hop \
${outbound.hop ?? -1}), and no Received field below it names a client: ${sealed.why}. That relay handed the message \
to the relaying mailbox; it is named, and its provider's abuse desk is the one to tell.`,
    );
    findings.push(
      finding(
        'SEALED_HANDOFF',
        `${sealed.ip} handed the message to a mailbox at ${outbound.relay.name} that relayed it \
on; recorded only in ${outbound.relay.name}'s sealed ARC set.`,
        { header: 'ARC-Authentication-Results', value: sealed.ip },
      ),
    );
    return {
      ip: sealed.ip,
      hopIndex: -1,
      ipVersion: ipVersion(sealed.ip),
      reason: `received by a relaying mailbox at ${outbound.relay.name}, by its sealed ARC record`,
    };
  }
  if (outbound !== null) {
    flags.push('origin-trusted-provider');
    steps.push(
      `Every relay is believed: the message entered the mail system at ${outbound.relay.name} (${outbound.ip}, hop \
${outbound.hop ?? -1}). The sender is an account of ${outbound.relay.name}; its abuse desk is the one to tell.`,
    );
    return {
      ip: outbound.ip,
      hopIndex: outbound.hop ?? -1,
      ipVersion: ipVersion(outbound.ip),
      reason: `submitted through trusted provider ${outbound.relay.name}`,
    };
  }
  // The chain ends inside the receiving side: the deepest of its machines with a public address
  // handed the message in first (a compromised web server or account of the organisation itself).
  const inside = believed.filter((b) => b.kind === 'own').at(-1) ?? null;
  if (inside !== null) {
    flags.push(ORIGIN_INSIDE_RECEIVER);
    steps.push(
      `Every hop is on the receiving side: nothing outside handed the message in. The deepest of its machines, \
${inside.ip} (hop ${inside.hop ?? -1}, ${inside.relay.name}), is where it entered the mail system: it is named, and \
the receiving organisation's own abuse desk is the one to tell.`,
    );
    return {
      ip: inside.ip,
      hopIndex: inside.hop ?? -1,
      ipVersion: ipVersion(inside.ip),
      reason: `written inside the receiving side: ${inside.relay.name}`,
    };
  }
  steps.push('No hop names a public address outside the trusted relays: no origin can be named.');
  findings.push(finding('NO_ORIGIN', 'No untrusted hop with a public address was found.'));
  return null;
}

/**
 * The machine a relaying mailbox at the provider received the message from, when the walk ended at the provider's
 * outbound relay with no Received field below it that names a public client, and the provider's sealed ARC set
 * records the mailbox's inbound hop (`sealed-handoff.ts`); else null.
 */
function sealedBelow(
  input: FallbackInput,
  believed: readonly Believed[],
  outbound: Believed,
): { ip: string; why: string } | null {
  const hop = outbound.hop;
  if (outbound.kind !== 'provider' || hop === undefined || outbound.relay.arcSealers.length === 0) return null;
  // The receiving side's first hand-off from outside: above it only the same provider's internal hops. A deeper
  // one is a Received field below the real hand-off (which a sender can write, and the sets around it with it).
  const above = believed.filter((b) => b.hop !== undefined && b.hop < hop);
  if (above.some((b) => b.kind !== 'provider-internal' || b.relay !== outbound.relay)) return null;
  const below = input.received.slice(hop + 1);
  if (below.some((r) => r.fromIp !== null && classifyIp(r.fromIp) === 'public')) return null;
  const providerOf = (domain: string) => {
    const relay = input.trust.byName(domain);
    return relay !== null && relay.kind === 'provider' ? relay.name : null;
  };
  return sealedHandoff(
    input.arc ?? [],
    outbound.ip,
    hop,
    outbound.relay.arcSealers,
    providerOf,
    input.documentationIsPublic,
  );
}
