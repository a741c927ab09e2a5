/**
 * Tables of the feeds area's lists (migration `0120_feeds-listings`): listings with why they exist,
 * delisting requests, the domain → report index the domain list is judged from, and the state of
 * the singleton that computes the listings and writes the zones. Conventions of the foundation:
 * ISO 8601 UTC text timestamps, ULID text ids, JSON as text.
 */
import type { Generated, Selectable } from 'kysely';

/** One value (an IP address or a domain) judged for a list, with the evidence behind it. */
export interface FeedListingsTable {
  id: string;
  /** `ip` | `domain`: a value has one row per kind, whichever list it is on. */
  kind: string;
  /** Canonical text: an IP as ipaddr.js prints it, a domain in lower case. */
  value: string;
  /** `infected` | `infrastructure` | `domains`. */
  list: string;
  /** `listed` | `held` (would be listed, but the gates hold it for an analyst) | `expired` | `delisted`. */
  state: string;
  /** The DNS answer (`RETURN_CODES`); null while not listed. */
  return_code: string | null;
  /** Majority category of the reports (domains: it selects the return code). */
  category: string | null;
  report_count: number;
  campaign_count: number;
  /** JSON array of botnet signals (IP lists). */
  signals: string;
  /** JSON: `{ reportIds, campaignIds, reasons }` — report ids are a sample (the latest). */
  evidence: string;
  first_seen: string;
  last_seen: string;
  /** When it leaves the lists unless a new report comes. */
  expires_at: string | null;
  /** When it was (last) listed. */
  listed_at: string | null;
  delisted_at: string | null;
  /** Who delisted it: `rule:<name>` or the analyst's principal label. */
  delisted_by: string | null;
  updated_at: string;
}

/** A request to remove a listing, from the public form or the API. */
export interface FeedDelistRequestsTable {
  id: string;
  listing_id: string;
  kind: string;
  value: string;
  /** What the requester says (why it should go, what was fixed). */
  reason: string;
  /** Where to answer, if the requester gave it. */
  contact: string | null;
  client_ip: string | null;
  /** `pending` | `granted` | `refused`. */
  state: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
  created_at: string;
}

/** Which live report advertises which registrable domain (filled from the actions area's facts). */
export interface FeedDomainReportsTable {
  domain: string;
  report_id: string;
  received_at: string;
  /** 1 when the report only names the domain (`action_report_facts.named_domains`, migration 0293). */
  named: Generated<number>;
}

/** Named state rows: `listings` holds the revision, the facts cursor and the singleton's lease. */
export interface FeedStateTable {
  name: string;
  /** Bumped in the transaction of every change of what is listed. */
  revision: number;
  changed_at: string;
  /** `action_report_facts.created_at` up to which new facts were read. */
  cursor: string | null;
  /** When the last full pass (every value re-judged) ran. */
  full_pass_at: string | null;
  lease_owner: string | null;
  lease_until: string | null;
}

export interface FeedsListsTables {
  feed_listings: FeedListingsTable;
  feed_delist_requests: FeedDelistRequestsTable;
  feed_domain_reports: FeedDomainReportsTable;
  feed_state: FeedStateTable;
}

export type ListingRow = Selectable<FeedListingsTable>;
export type DelistRequestRow = Selectable<FeedDelistRequestsTable>;
