/**
 * A hand-off recorded only in a provider's sealed ARC set (RFC 8617), when the Received fields that would record it
 * were stripped.
 *
 * Microsoft 365 strips a tenant's own `Received:` fields when it relays a message out of that tenant to another
 * (`X-MS-Exchange-Transport-CrossTenantHeadersStripped`). A stranger's tenant that passes on mail it received from
 * outside (a connector or forwarding rule: `X-LD-Processed: …,ExtAddr`, an SRS `Return-Path` under
 * `*.onmicrosoft.com`) then shows the recipient only its own outbound relay, and the walk would end there: the
 * recipient would be told to write to Microsoft about a message the tenant took in from Yahoo's or Web.de's relay.
 * Microsoft still records the tenant's inbound hop, in the ARC set it seals for the tenant:
 * `ARC-Authentication-Results: i=1; mx.microsoft.com 1; spf=pass (sender ip is 106.10.244.210)
 * smtp.rcpttodomain=negro21.onmicrosoft.com`.
 *
 * Whoever wrote the headers below the believed hop could write such a field too; what makes it Microsoft's is the
 * seal. Offline the seal cannot be checked, but the receiving side checked it and says so above the hop (every field is
 * prepended, so no sender wrote what sits above a believed receiver's own `Received:` field): its own
 * `ARC-Authentication-Results: i=2; mx.microsoft.com; spf=pass (sender ip is <the relay it received from>) …
 * arc=pass`, and its `ARC-Seal: i=2; … cv=pass`. A set of instance i−1 sealed by that provider (`d=microsoft.com`)
 * and verified by the receiver can only have been written by the provider: the address its results name is the
 * machine the tenant received the message from. Two sets of one instance make the chain invalid (RFC 8617 §5.2):
 * nothing is read from it then.
 *
 * Pure and bounded: at most {@link MAX_ARC_FIELDS} fields read, each its first {@link MAX_SCAN} characters.
 */
import { classifyIp, normaliseIp } from './ip-class.ts';
import { clientsOf, receiverText } from './receiver-words.ts';

/** ARC fields read per message (a real chain has a few sets of three; more is padding). */
const MAX_ARC_FIELDS = 48;

/** Characters of one field read. */
const MAX_SCAN = 1500;

/** Highest instance RFC 8617 §4.2.1 allows. */
const MAX_INSTANCE = 50;

/** One ARC field of the header: instance, where it sits and what it says. */
export interface ArcField {
  kind: 'seal' | 'results';
  instance: number;
  /** How many `Received:` fields are above it (0: above the top one). */
  receivedAbove: number;
  /** `seal`: the signing domain `d=`, lower case. `results`: the authserv-id. */
  writer: string | null;
  /** `seal`: the chain validation status `cv=`, lower case. */
  cv: string | null;
  /** `results`: the receiver's own words, the sender's blanked (`receiverText`). */
  text: string;
  /** `results`: the domain of `smtp.mailfrom=` (the envelope sender the SPF result is for), lower case. */
  mailFrom: string | null;
}

const INSTANCE = /^\s*i\s*=\s*(\d{1,3})\s*;/i;
/** An ARC-Seal's signing domain and chain validation status (RFC 8617 §4.1.3), compiled once. */
const SEAL_D = /(?:^|;)\s*d\s*=\s*([^;\s]+)/i;
const SEAL_CV = /(?:^|;)\s*cv\s*=\s*([^;\s]+)/i;

/** The ARC fields of a header (names lower case, in order), with their position among the `Received:` fields. */
export function arcFields(fields: readonly { name: string; value: string }[]): ArcField[] {
  const out: ArcField[] = [];
  let received = 0;
  for (const f of fields) {
    if (f.name === 'received') {
      received++;
      continue;
    }
    if (f.name !== 'arc-seal' && f.name !== 'arc-authentication-results') continue;
    if (out.length >= MAX_ARC_FIELDS) break;
    const value = f.value.slice(0, MAX_SCAN);
    const instance = Number(INSTANCE.exec(value)?.[1] ?? Number.NaN);
    if (!Number.isInteger(instance) || instance < 1 || instance > MAX_INSTANCE) continue;
    if (f.name === 'arc-seal') {
      const tag = (re: RegExp) => re.exec(value)?.[1]?.toLowerCase() ?? null;
      out.push({
        kind: 'seal',
        instance,
        receivedAbove: received,
        writer: tag(SEAL_D),
        cv: tag(SEAL_CV),
        text: '',
        mailFrom: null,
      });
    } else {
      const text = receiverText(value);
      const id = /^\s*i\s*=\s*\d+\s*;\s*([a-z0-9.-]+)/.exec(text)?.[1] ?? null;
      const from = /\bsmtp\.mailfrom=([^\s;()]+)/i.exec(value)?.[1]?.toLowerCase() ?? null;
      const mailFrom = from === null ? null : from.slice(from.lastIndexOf('@') + 1).replace(/[.>]+$/, '') || null;
      out.push({ kind: 'results', instance, receivedAbove: received, writer: id, cv: null, text, mailFrom });
    }
  }
  return out;
}

/** A name that is `domain` or under it. */
function under(name: string | null, domains: readonly string[]): boolean {
  return name !== null && domains.some((d) => name === d || name.endsWith(`.${d}`));
}

/** The one field of a kind and instance, or null when there is none or more than one (an invalid chain). */
function only(arc: readonly ArcField[], kind: ArcField['kind'], instance: number): ArcField | null {
  const found = arc.filter((a) => a.kind === kind && a.instance === instance);
  return found.length === 1 ? (found[0] ?? null) : null;
}

/** What a sealed hand-off names: the address and the sentence that says why. */
export interface SealedHandoff {
  ip: string;
  why: string;
}

/**
 * The machine a relaying tenant received the message from, by the provider's sealed ARC record, or null.
 * `outbound` is the provider's outbound relay the walk stopped at, `hop` the index of the `Received:` field that
 * records it, `sealers` the domains that seal ARC sets for that provider (`arcSealers` of the table). The caller
 * applies it only when that hop is the receiving side's first hand-off from outside (every believed hop above it
 * the same provider's internal ones: a `Received:` field below the real hand-off, which a sender can write, would
 * otherwise be taken for it, and the sets around it too) and no `Received:` field below it names a public client.
 *
 * The address is named only when the sealed results record an SPF pass for an envelope sender in a trusted
 * provider's domain (`providerOf`: `yahoo.com`, `web.de`, `outlook.com`): the address is then that provider's
 * published sending space by its own SPF record, as the sealer checked it. Not any address: a tenant's owner can
 * have the provider take the "sender ip" from Received fields of their own (Microsoft 365's enhanced filtering
 * for connectors skips the connector's addresses and reads the fields below), so an address without that tie could
 * be one the owner wrote.
 */
export function sealedHandoff(
  arc: readonly ArcField[],
  outbound: string,
  hop: number,
  sealers: readonly string[],
  providerOf: (domain: string) => string | null,
  documentationIsPublic: boolean,
): SealedHandoff | null {
  if (sealers.length === 0) return null;
  // The receiving side's own set: above the hop's field, written by the provider, naming the relay as the client it
  // checked SPF against, and saying the set before it verified.
  const theirs = arc.find(
    (a) =>
      a.kind === 'results' &&
      a.receivedAbove <= hop &&
      under(a.writer, sealers) &&
      clientsOf(a.text).includes(outbound) &&
      /\barc=pass\b/.test(a.text),
  );
  if (theirs === undefined || theirs.instance < 2) return null;
  const seal = only(arc, 'seal', theirs.instance);
  if (seal === null || !under(seal.writer, sealers) || seal.cv !== 'pass' || seal.receivedAbove > hop) return null;
  if (only(arc, 'results', theirs.instance) === null) return null;
  const prior = theirs.instance - 1;
  const priorSeal = only(arc, 'seal', prior);
  const priorResults = only(arc, 'results', prior);
  if (priorSeal === null || priorResults === null) return null;
  if (!under(priorSeal.writer, sealers) || !under(priorResults.writer, sealers)) return null;
  // Written before the receiving side had the message: below the hop's own field.
  if (priorSeal.receivedAbove <= hop || priorResults.receivedAbove <= hop) return null;
  const named = clientsOf(priorResults.text);
  const publicOnes = named.filter((ip) => {
    const c = classifyIp(ip);
    return c === 'public' || (c === 'documentation' && documentationIsPublic);
  });
  if (publicOnes.length !== 1 || named.length !== 1) return null;
  const ip = normaliseIp(publicOnes[0] ?? '');
  if (ip === null || ip === outbound) return null;
  const domain = priorResults.mailFrom;
  const provider = domain === null || !/\bspf=pass\b/.test(priorResults.text) ? null : providerOf(domain);
  if (provider === null || domain === null) return null;
  return {
    ip,
    why: `the provider's sealed ARC set i=${prior} (d=${priorSeal.writer}, results by ${priorResults.writer}), \
which the receiving side verified (its set i=${theirs.instance}: arc=pass, cv=pass, SPF checked against ${outbound}), \
records that the relaying mailbox received the message from ${ip}, with an SPF pass for ${domain}: a relay of \
${provider} by its own SPF record; that mailbox's own Received fields were stripped`,
  };
}

/**
 * What the receiving side's ARC verdict says about the message's entry into the sending provider (the walk's
 * `providerEntry`): `no-arc` when no ARC results sit above the provider's outbound hop (old mail, a receiver that does
 * not record ARC), `sealed` when one of them records `arc=pass` and a set sealed by the provider (`sealers`) sits
 * below that hop whose results name the client the provider checked — the provider took the message in from outside
 * (a forward, a list) and sealed what it checked, and the receiving side verified it — and `unsealed` otherwise (the
 * provider took it in by a submission of its own; a sender's forged set fails the receiving side's check).
 */
export function providerEntryVerdict(
  arc: readonly ArcField[],
  outboundHop: number,
  sealers: readonly string[],
): 'no-arc' | 'sealed' | 'unsealed' {
  const theirs = arc.filter((a) => a.kind === 'results' && a.receivedAbove <= outboundHop);
  if (theirs.length === 0) return 'no-arc';
  const verified = theirs.some((a) => /\barc=pass\b/.test(a.text));
  // A set the provider sealed when it received the message from a client: its results name the client it checked
  // SPF against. Microsoft 365 also seals its own users' outgoing mail (`spf=none; dmarc=none; dkim=none;
  // arc=none`, no client): such a set says nothing of a message received, and vouches for nothing below.
  const received = arc.some(
    (a) =>
      a.kind === 'results' &&
      a.receivedAbove > outboundHop &&
      under(a.writer, sealers) &&
      clientsOf(a.text).length > 0 &&
      arc.some((b) => b.kind === 'seal' && b.instance === a.instance && under(b.writer, sealers)),
  );
  return verified && received ? 'sealed' : 'unsealed';
}
