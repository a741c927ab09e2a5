/**
 * The networks of the brands phishing impersonates (eBay, PayPal, Apple, …: the analysis's brand
 * table), recognised by the registered name of the origin's AS. An address there is the brand's own
 * machine: mail from it is the brand's real mail that a reader (or the classifier) took for its
 * imitation — eBay's 2005 marketing servers `smfcamppool*.emailebay.com` in AS11643 "eBay, Inc" sent
 * genuine offers that the Nazario phishing corpus holds and the classifier calls phishing — or a
 * brand's machine broken into, which its own abuse desk (the actions area's ISP alert) is the one to
 * tell. Listing it would block the brand's real mail for every filter that reads the list.
 *
 * Only an AS that is the brand's alone: never a brand that is also an access provider (SFR, Orange,
 * Free, AT&T…: the brand table's `accessProvider`; "Societe Francaise Du Radiotelephone - SFR SA"
 * carries its subscribers' lines, and their bots are listed as ever), nor an AS whose name is an
 * access, hosting, cloud or transit network's (`isSharedAs`: "Amazon.com", "Google LLC", "Microsoft
 * Corporation" rent machines to anyone), nor an AS whose name is unknown. A brand name that is also
 * a common word matches an unrelated company now and then ("Norton Healthcare"): the error is one
 * address not listed, never one listed.
 */
import { BRANDS } from '../analysis/data/brands.ts';
import { isSharedAs } from '../analysis/stages/traceback/org.ts';

/** Lower case without diacritics: `Société Générale` → `societe generale`. */
function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Each brand's name as a whole-word pattern on a folded AS name (`eBay` in "eBay, Inc"). */
const BRAND_NAMES: readonly [RegExp, string][] = BRANDS.filter((b) => !b.accessProvider).map((b) => [
  new RegExp(`(?:^|[^\\p{L}\\p{N}])${escapeRe(fold(b.name))}(?:$|[^\\p{L}\\p{N}])`, 'u'),
  b.name,
]);

/**
 * The brand whose own network an AS is, by the AS's registered name (`eBay, Inc` → `eBay`), or null:
 * when no brand is named, or the AS is an access, hosting, cloud or transit network, or unknown.
 */
export function brandNetwork(asName: string | null): string | null {
  if (asName === null || isSharedAs(asName)) return null;
  const folded = fold(asName);
  return BRAND_NAMES.find(([re]) => re.test(folded))?.[1] ?? null;
}
