/**
 * The listing policy: the `listing` section of the actions policy file (issue 19). Which lists the
 * instance publishes (origin IPs of infected machines, sending infrastructure of spam operations,
 * advertised and phishing domains), what it takes to be listed (reports, campaigns, botnet
 * signals), when a listing expires after its last report, what is never listed, and how delisting
 * requests are limited and decided by rule. The listing itself is computed in `src/feeds/lists/`;
 * the schema lives here, beside the rest of the policy file, so one file validates at start.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/**
 * The documented DNS return codes (docs/feeds.md). Fixed, not configurable: filters out there
 * hard-code them in their rules, so they never change meaning.
 */
export const RETURN_CODES = {
  /** Origin IP of an infected machine (botnet signals). Also the RFC 5782 test entry's answer. */
  infected: '127.0.0.2',
  /** Origin IP of a spam operation's own sending infrastructure. */
  infrastructure: '127.0.0.3',
  /** A domain advertised in spam (commercial, other). */
  'domain:spam': '127.0.1.2',
  /** A domain of a phishing campaign. */
  'domain:phishing': '127.0.1.3',
  /** A domain of a malware campaign. */
  'domain:malware': '127.0.1.4',
  /** A domain of a scam (advance fee, fraud, deceptive offer). */
  'domain:scam': '127.0.1.5',
} as const;
export type ReturnCodeKey = keyof typeof RETURN_CODES;

/** The lists: IP lists share the IP zone, domains have their own zone. */
export const LISTS = ['infected', 'infrastructure', 'domains'] as const;
export type ListName = (typeof LISTS)[number];

const Thresholds = z.object({
  enabled: z.boolean(),
  /** Live reports (no historical import) within `windowDays` before a value is listed. */
  minReports: z.number().int().positive(),
  /** Distinct campaigns those reports belong to. */
  minCampaigns: z.number().int().positive(),
  /** How far back reports count. */
  windowDays: z.number().positive(),
  /** A listing expires this long after its last report. */
  expiryDays: z.number().positive(),
});

const zoneName = z
  .string()
  .regex(
    /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/i,
    'a DNS zone name such as bl.example.org',
  );

export const ListingPolicySchema = z.object({
  /** False: nothing is computed nor published (the zones and lists stay empty). */
  enabled: z.boolean(),
  zones: z.object({
    /** Zone of the IP lists (rbldnsd `ip4trie` and `ip6trie`), e.g. `bl.example.org`. */
    ip: zoneName,
    /** Zone of the domain list (rbldnsd `dnset`), e.g. `dbl.example.org`. */
    domain: zoneName,
    /** TTL of the answers, in seconds. */
    ttlSeconds: z.number().int().min(60).max(86_400),
  }),
  infected: Thresholds.extend({
    /** Botnet signals (dynamic or missing rDNS, no authentication, many campaigns) an origin must show. */
    minSignals: z.number().int().positive(),
  }),
  /** An origin with enough reports but too few botnet signals: a spam operation's own server. */
  infrastructure: Thresholds,
  domains: Thresholds.extend({
    /** Only domains of campaigns of these categories are listed. */
    categories: z.array(z.enum(['phishing', 'malware', 'scam', 'commercial', 'other'])).min(1),
  }),
  /**
   * A value whose reports are more than this share legitimate mail (classified or relabelled) or
   * sent with aligned SPF/DKIM is a real sender reported by mistake: never listed.
   */
  maxLegitimateShare: z.number().min(0).max(1),
  /** Never listed, besides trusted relays, verified senders, reserved ranges and shared platforms. */
  neverList: z.object({
    /** CIDR networks (`192.0.2.0/24`, `2001:db8::/32`) or single addresses. */
    networks: z.array(z.string()),
    /** Registrable domains; their sub-domains are never listed either. */
    domains: z.array(z.string().min(1)),
  }),
  delisting: z.object({
    /** Requests accepted per client address per hour (the rest answer 429). */
    requestsPerHourPerClient: z.number().int().positive(),
    /** Requests accepted per hour from everyone together (a flood cannot bury the analysts). */
    requestsPerHour: z.number().int().positive(),
    /**
     * A delisting request for an infected machine is granted at once when no report about it came
     * in for this many hours (it was cleaned); 0 leaves every request to an analyst. A new report
     * lists it again.
     */
    autoInfectedQuietHours: z.number().nonnegative(),
  }),
});
export type ListingPolicy = z.infer<typeof ListingPolicySchema>;

export const DEFAULT_LISTING_POLICY = {
  enabled: true,
  zones: { ip: 'bl.spamdesk.invalid', domain: 'dbl.spamdesk.invalid', ttlSeconds: 900 },
  infected: { enabled: true, minReports: 2, minCampaigns: 1, minSignals: 2, windowDays: 7, expiryDays: 7 },
  infrastructure: { enabled: true, minReports: 5, minCampaigns: 1, windowDays: 30, expiryDays: 30 },
  domains: {
    enabled: true,
    minReports: 3,
    minCampaigns: 1,
    windowDays: 30,
    expiryDays: 30,
    categories: ['phishing', 'malware', 'scam', 'commercial', 'other'],
  },
  maxLegitimateShare: 0.05,
  neverList: { networks: [], domains: [] },
  delisting: { requestsPerHourPerClient: 5, requestsPerHour: 200, autoInfectedQuietHours: 24 },
} as const;

/** A network of `neverList.networks` parsed, or null when it is not an address or CIDR. */
export function parseNetwork(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | null {
  try {
    if (text.includes('/')) return ipaddr.parseCIDR(text);
    const a = ipaddr.parse(text);
    return [a, a.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return null;
  }
}

/** Problems the schema cannot see: each at its path in the policy document. */
export function listingPolicyProblems(p: ListingPolicy): { where: string; message: string }[] {
  const out: { where: string; message: string }[] = [];
  p.neverList.networks.forEach((n, i) => {
    if (parseNetwork(n) === null)
      out.push({ where: `listing.neverList.networks.${i}`, message: `"${n}" is not an IP address or CIDR network` });
  });
  if (p.zones.ip.toLowerCase() === p.zones.domain.toLowerCase())
    out.push({ where: 'listing.zones.domain', message: 'the domain zone must differ from the IP zone' });
  return out;
}
