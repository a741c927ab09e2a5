/**
 * What a message sends its reader to, as opposed to what it only names. Every URL of a message is an
 * indicator (the analysis keeps them all), but not every one is advertised: hosts the reader's client
 * fetches by itself (images, style sheets, pixels: `role: 'resource'`) are somebody's infrastructure,
 * and in a part whose HTML has links, an address written only in the running text is a mention.
 *
 * The second rule is what real phishing needs: a PayPal phish of the Nazario corpus copies PayPal's
 * page of "major U.S. banks, their customer service phone numbers and URLs" — http://www.usbank.com,
 * http://www.keybank.com and fourteen more written as text — while its one link to click goes to
 * http://203.117.148.20/.pay/…; a Blockchain.com newsletter turned into a phish (phishing_pot) names
 * www.blockchain.com in its legal footer and text alternative while every link goes through the
 * sender's click tracking. Counting those mentions as advertised put sixteen banks and an exchange
 * on the domain blocklist and in the campaigns' stories (the listings evaluation, 2026-12-06).
 *
 * A part without HTML links (plain text, where every client makes an address clickable; SMS) keeps
 * every URL of its text: there the text is the link. A text URL whose domain one of the part's links
 * also goes to is advertised with it.
 */
import type { Analysis, UrlIndicator } from './analysis-schema.ts';
import { userDirectorySites } from './indicators/urls.ts';

/** Sources that are a link in the HTML: the reader clicks or submits them. */
const HTML_LINK_SOURCES: ReadonlySet<string> = new Set(['html-href', 'form-action']);

/** The key a URL is compared by: its registrable domain, else its host (an address literal). */
function siteOf(u: UrlIndicator): string {
  return (u.registrableDomain ?? u.host).toLowerCase();
}

/** Whether the message asks its reader to go to this URL (see the module's rules). */
export function advertisedUrls(a: Pick<Analysis, 'indicators'>): UrlIndicator[] {
  const linkedSites = new Map<string, Set<string>>();
  for (const u of a.indicators.urls) {
    if (u.role === 'resource' || !HTML_LINK_SOURCES.has(u.source)) continue;
    const s = linkedSites.get(u.part) ?? new Set<string>();
    s.add(siteOf(u));
    linkedSites.set(u.part, s);
  }
  return a.indicators.urls.filter((u) => {
    if (u.role === 'resource') return false;
    const linked = linkedSites.get(u.part);
    // A part without HTML links: its text is what the reader clicks.
    if (linked === undefined || HTML_LINK_SOURCES.has(u.source)) return true;
    return linked.has(siteOf(u));
  });
}

/** The registrable domains of {@link advertisedUrls}, lower case, in the order first seen. */
export function advertisedDomains(a: Pick<Analysis, 'indicators'>, urls = advertisedUrls(a)): string[] {
  const out = new Set<string>();
  for (const u of urls) if (u.registrableDomain) out.add(u.registrableDomain.toLowerCase());
  return [...out];
}

/**
 * The registrable domains every advertised URL of which is a page in one user's directory on a shared web
 * server (`http://home.attbi.com/~jo/…`, `userDirectoryOf`): an ISP's or a university's home-page server,
 * whose domain is its operator's, not the sender's. Lower case.
 */
export function userDirectoryDomains(a: Pick<Analysis, 'indicators'>, urls = advertisedUrls(a)): Set<string> {
  return userDirectorySites(urls.map((u) => ({ url: u.url, site: u.registrableDomain?.toLowerCase() ?? null })));
}

/**
 * The registrable domains the message names but does not advertise (not resources): those of its URLs
 * outside {@link advertisedUrls} whose domain no advertised URL has. `advertised` when already made.
 */
export function namedDomains(a: Pick<Analysis, 'indicators'>, advertised = advertisedDomains(a)): string[] {
  const sends = new Set(advertised);
  const out = new Set<string>();
  for (const u of a.indicators.urls) {
    if (u.role === 'resource' || !u.registrableDomain) continue;
    const d = u.registrableDomain.toLowerCase();
    if (!sends.has(d)) out.add(d);
  }
  return [...out];
}
