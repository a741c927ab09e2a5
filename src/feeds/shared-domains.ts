/**
 * Domains that are shared infrastructure, never a spam operation's own: the feeds (the domain
 * blocklist and the intel indicators) never publish them, because listing one blocks every
 * innocent user of it. Two kinds:
 *
 * - **Platforms** on which anyone gets a page, a link or a newsletter under the platform's own
 *   domain: URL shorteners (the analysis table), hosting platforms whose customers each get a name
 *   (the public suffix list's private part, via tldts), and publishing, form and newsletter
 *   platforms outside that list ({@link PUBLISHING_PLATFORMS}). The customer's full URL names the
 *   one page and may be published; the platform's domain may not.
 * - **Providers and brands**: mailbox providers (the trace-back's trusted-relay table), the shared
 *   platforms and impersonated brands of the campaigns' common-domain table, and their regional
 *   domains (`yahoo.ca`, `ebay.ph`, `hotmail.fr`: the same name under a country's suffix), which
 *   spam links in footers and sender addresses.
 */
import { getDomainWithoutSuffix, getPublicSuffix } from 'tldts';
import type { TrustTable } from '../analysis/stages/traceback/trust.ts';
import { BRANDS } from '../analysis/data/brands.ts';
import { COMMON_DOMAINS, isCommonDomain } from '../campaigns/common-domains.ts';
import { SHORTENER_DOMAINS } from '../analysis/data/shorteners.ts';

/**
 * Publishing, newsletter, form and page-builder platforms whose users publish under the platform's
 * registrable domain (`someone.substack.com`, `medium.com/@someone`, `form.jotform.com/123`) and
 * that the public suffix list does not (yet) carry. A phishing page there is the platform abuse
 * desk's business; the platform is not the spammer's.
 */
export const PUBLISHING_PLATFORMS: ReadonlySet<string> = new Set([
  'substack.com',
  'medium.com',
  'beehiiv.com',
  'ghost.io',
  'buttondown.email',
  'tinyletter.com',
  'tumblr.com',
  'livejournal.com',
  'over-blog.com',
  'weebly.com',
  'wix.com',
  'jimdosite.com',
  'webnode.page',
  'godaddysites.com',
  'mystrikingly.com',
  'strikingly.com',
  'business.site',
  'canva.site',
  'jotform.com',
  'formstack.com',
  'surveymonkey.com',
  'hubspotpagebuilder.com',
  'telegra.ph',
  'mailchi.mp',
  '000webhostapp.com',
  'glitch.me',
  'ipfs.io',
  // Messaging links: every channel, group and number has one under the service's own domain (t.me/+…).
  't.me',
  'telegram.me',
  'wa.me',
]);

/** A name shorter than this is too common a word to stand for a provider under every country's suffix. */
const MIN_NAME_CHARS = 3;

/** True when the public suffix of `d` is a country's (`.ca`, `.co.uk`, `.com.br`). */
function countrySuffix(d: string): boolean {
  const suffix = getPublicSuffix(d);
  if (!suffix) return false;
  const tld = suffix.slice(suffix.lastIndexOf('.') + 1);
  return /^[a-z]{2}$/.test(tld);
}

/** Provider and brand names (`yahoo`, `ebay`, `hotmail`) with whom they stand for. */
function providerNames(trust: TrustTable): Map<string, string> {
  const out = new Map<string, string>();
  const add = (domain: string, who: string) => {
    const name = getDomainWithoutSuffix(domain.toLowerCase());
    if (name && name.length >= MIN_NAME_CHARS && !out.has(name)) out.set(name, who);
  };
  for (const r of trust.relays) if (r.webmail) for (const n of r.names) add(n, r.name);
  for (const b of BRANDS) for (const d of b.domains) add(d, b.name);
  for (const d of COMMON_DOMAINS) add(d, d);
  return out;
}

const namesCache = new WeakMap<TrustTable, Map<string, string>>();

/**
 * Why a registrable domain is a platform whose own domain is never published (its customers' full
 * URLs may be), or null.
 */
export function platformReason(domain: string): string | null {
  const d = domain.toLowerCase();
  if (SHORTENER_DOMAINS.has(d)) return 'URL shortener: listing it would block every link it carries';
  if (getPublicSuffix(d, { allowPrivateDomains: true }) === d && getPublicSuffix(d) !== d)
    return 'hosting platform whose customers each get their own name (public suffix list)';
  if (PUBLISHING_PLATFORMS.has(d))
    return 'publishing or newsletter platform: anyone publishes under its domain (its abuse desk is the channel)';
  return null;
}

/**
 * Why a registrable domain is a mailbox provider's, a shared platform's or a brand's (or a regional
 * one of theirs), or null.
 */
export function providerReason(domain: string, trust: TrustTable): string | null {
  const d = domain.toLowerCase();
  // Brands included: phishing links the real brand for its logo, privacy page and help centre.
  if (isCommonDomain(d)) return 'shared platform or impersonated brand every sender links to';
  const relay = trust.byName(d);
  if (relay) return `domain of a trusted provider (${relay.name})`;
  if (!countrySuffix(d)) return null;
  let names = namesCache.get(trust);
  if (!names) {
    names = providerNames(trust);
    namesCache.set(trust, names);
  }
  const name = getDomainWithoutSuffix(d);
  const who = name ? names.get(name) : undefined;
  if (who) return `regional domain of a mailbox provider, shared platform or brand (${who})`;
  return null;
}
