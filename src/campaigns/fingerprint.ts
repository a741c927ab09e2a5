/**
 * What clustering needs from an Analysis: the MinHash signature of the visible text (subject plus
 * body, personalisation removed), the strong-link values (registrable domains of non-shortener
 * links — never resources such as images, nor platforms and impersonated brands' own domains —,
 * phone numbers, wallets, non-image attachment hashes) and the facts a campaign's story is made of. Pure: the same
 * Analysis always gives the same fingerprint.
 */
import type { Analysis } from '../analysis/analysis-schema.ts';
import { actionableOrigin } from '../analysis/actionable-origin.ts';
import { advertisedUrls } from '../analysis/advertised.ts';
import { userDirectoryOf } from '../analysis/indicators/urls.ts';
import { isCommonDomain } from './common-domains.ts';
import { bandKeys, minhash, shingleHashes } from '../analysis/text/minhash.ts';
import { normaliseText, recipientNameTokens } from '../analysis/text/normalise.ts';

/** Fewer template tokens than this and the text says too little to compare (image-only spam). */
export const MIN_TOKENS_FOR_LSH = 6;
/** Attachments smaller than this are logos and signatures, shared across unrelated senders. */
const MIN_LINK_ATTACHMENT_BYTES = 512;
const MAX_FACT_CHARS = 200;
const MAX_LINKS = 50;

export type LinkKind = 'domain' | 'phone' | 'wallet' | 'attachment';
export type FactKind =
  | 'day'
  | 'category'
  | 'subject'
  | 'sender'
  | 'ip'
  | 'asn'
  | 'country'
  | 'domain'
  | 'phone'
  | 'wallet'
  | 'kind';

export interface Link {
  kind: LinkKind;
  value: string;
}

export interface Fact {
  kind: FactKind;
  value: string;
}

export interface Fingerprint {
  sha256: string;
  kind: 'email' | 'sms';
  /** Null when the text is too short to compare; then only strong links can place the message. */
  signature: Uint32Array | null;
  bands: number[];
  links: Link[];
  /** Story facts other than day and category (added at ingest). */
  facts: Fact[];
  tokenCount: number;
}

function clip(s: string): string {
  return s.length > MAX_FACT_CHARS ? s.slice(0, MAX_FACT_CHARS) : s;
}

function uniq<T extends { kind: string; value: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = `${i.kind}\u0000${i.value}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The story facts of an analysed message (other than day and category, added at ingest): its
 * advertised domains, numbers, wallets, subject, sender, actionable origin and kind. Before the
 * reporter is taken out (`withoutReporter`). Also what a message analysed again restates in its
 * campaign (`restate.ts`).
 */
export function storyFactsOf(a: Analysis): Fact[] {
  const facts: Fact[] = [];
  // What the message advertises (`advertised.ts`): not a host the reader's client fetches by itself
  // (image, stylesheet, pixel), nor an address an HTML part only names in its text.
  for (const u of advertisedUrls(a)) {
    const d = u.registrableDomain ?? u.host;
    if (d) facts.push({ kind: 'domain', value: clip(d.toLowerCase()) });
  }
  for (const p of a.indicators.phones) facts.push({ kind: 'phone', value: p.e164 });
  for (const w of a.indicators.wallets) facts.push({ kind: 'wallet', value: clip(`${w.currency}:${w.address}`) });
  if (a.parse.subject) facts.push({ kind: 'subject', value: clip(a.parse.subject) });
  const sender = a.indicators.sender;
  const who = sender.from ?? a.parse.from[0]?.address ?? null;
  if (who) facts.push({ kind: 'sender', value: clip(sender.displayName ? `${sender.displayName} <${who}>` : who) });
  // The receiving side's own machine is not the campaign's origin (`actionable-origin.ts`).
  const actionable = actionableOrigin(a.traceback);
  const origin = actionable === null ? null : a.enrichment.origin;
  const ip = actionable === null ? null : (origin?.ip ?? actionable.ip);
  if (ip) facts.push({ kind: 'ip', value: ip });
  if (origin?.asn != null)
    facts.push({ kind: 'asn', value: origin.asName ? `AS${origin.asn} ${clip(origin.asName)}` : `AS${origin.asn}` });
  if (origin?.country) facts.push({ kind: 'country', value: origin.country });
  facts.push({ kind: 'kind', value: a.kind });
  return uniq(facts);
}

/** Builds the fingerprint of an analysed message. */
export function fingerprintOf(a: Analysis): Fingerprint {
  const text = `${a.parse.subject ?? ''}\n${a.parse.visibleText}`;
  const names = recipientNameTokens([...a.parse.to, ...a.parse.cc]);
  const { tokens } = normaliseText(text, names);
  const signature = tokens.length >= MIN_TOKENS_FOR_LSH ? minhash(shingleHashes(tokens)) : null;

  const links: Link[] = [];
  for (const u of a.indicators.urls) {
    // Neither a resource host (image, stylesheet, pixel) nor a shortener or a common platform links.
    if (u.role === 'resource' || u.shortener || !u.registrableDomain || isCommonDomain(u.registrableDomain)) continue;
    // A page in one user's directory on a shared web server links by that directory, not by the
    // server's domain (an ISP's home pages: `home.attbi.com/~jo` and `/~ann` are two senders).
    links.push({ kind: 'domain', value: userDirectoryOf(u.url) ?? u.registrableDomain.toLowerCase() });
  }
  for (const p of a.indicators.phones) links.push({ kind: 'phone', value: p.e164 });
  for (const w of a.indicators.wallets) links.push({ kind: 'wallet', value: w.address });
  for (const att of a.parse.attachments) {
    const type = (att.sniffedType ?? att.declaredType).toLowerCase();
    if (att.size >= MIN_LINK_ATTACHMENT_BYTES && !type.startsWith('image/') && att.sha256)
      links.push({ kind: 'attachment', value: att.sha256 });
  }
  const facts = storyFactsOf(a);

  return {
    sha256: a.sha256,
    kind: a.kind,
    signature,
    bands: signature ? bandKeys(signature) : [],
    links: uniq(links).slice(0, MAX_LINKS),
    facts,
    tokenCount: tokens.length,
  };
}
