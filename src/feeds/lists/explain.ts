/**
 * A listing as the public sees it (the look-up page and `GET /api/v1/feeds/listings/:value`): is
 * the value listed, on which list, with which return code, since when and until when, and why —
 * the reports (redacted: when each came in and its category, never who reported it nor what the
 * message said) and the campaigns behind it. A value the gates hold is shown as not listed: the
 * gates' reasons are the analysts' business.
 */
import type { Kysely } from 'kysely';
import { getDomain } from 'tldts';
import type { Database } from '../../db/schema.ts';
import { canonicalIp, DOMAIN_RE } from './exclusions.ts';
import { findListing, parseEvidence } from './store.ts';

/** Reports shown on the look-up page (the latest). */
export const MAX_SHOWN_REPORTS = 20;

export interface PublicListing {
  query: string;
  kind: 'ip' | 'domain';
  /** The value the lists hold (a domain's registrable domain). */
  value: string;
  listed: boolean;
  /** `listed`, `expired`, `delisted`, or `none` (never listed, or held for review). */
  state: 'listed' | 'expired' | 'delisted' | 'none';
  list: string | null;
  returnCode: string | null;
  category: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  listedAt: string | null;
  expiresAt: string | null;
  delistedAt: string | null;
  reportCount: number;
  campaignCount: number;
  signals: string[];
  reasons: string[];
  reports: { id: string; receivedAt: string; category: string | null; campaignId: string | null }[];
  campaigns: { id: string; category: string | null; messages: number; firstSeen: string; lastSeen: string }[];
  pendingDelisting: boolean;
}

/** What a query names: an IP, or a domain (looked up by its registrable domain), or null. */
export function parseQuery(q: string): { kind: 'ip' | 'domain'; value: string } | null {
  const s = q.trim().replace(/\.$/, '').toLowerCase();
  if (s.length === 0 || s.length > 253) return null;
  const ip = canonicalIp(s);
  if (ip !== null && /^[0-9a-f:.]+$/.test(s)) return { kind: 'ip', value: ip };
  if (!DOMAIN_RE.test(s)) return null;
  return { kind: 'domain', value: getDomain(s, { allowPrivateDomains: true }) ?? s };
}

/** The public view of a value, or null when the query is neither an IP nor a domain. */
export async function explainListing(db: Kysely<Database>, query: string): Promise<PublicListing | null> {
  const parsed = parseQuery(query);
  if (!parsed) return null;
  const row = await findListing(db, parsed.kind, parsed.value);
  const base: PublicListing = {
    query,
    ...parsed,
    listed: false,
    state: 'none',
    list: null,
    returnCode: null,
    category: null,
    firstSeen: null,
    lastSeen: null,
    listedAt: null,
    expiresAt: null,
    delistedAt: null,
    reportCount: 0,
    campaignCount: 0,
    signals: [],
    reasons: [],
    reports: [],
    campaigns: [],
    pendingDelisting: false,
  };
  // Held values were never published; expired and delisted ones were, and say so.
  if (!row || row.state === 'held' || (row.state === 'expired' && row.listed_at === null)) return base;
  const ev = parseEvidence(row.evidence);
  const shown = ev.reportIds.slice(-MAX_SHOWN_REPORTS);
  const reports = shown.length
    ? await db
        .selectFrom('action_report_facts')
        .select(['report_id', 'received_at', 'message_category', 'campaign_id'])
        .where('report_id', 'in', shown)
        .orderBy('received_at', 'desc')
        .execute()
    : [];
  const campaigns = ev.campaignIds.length
    ? await db
        .selectFrom('campaigns')
        .select(['id', 'category', 'message_count', 'first_seen_at', 'last_seen_at'])
        .where('id', 'in', ev.campaignIds)
        .orderBy('last_seen_at', 'desc')
        .execute()
    : [];
  const pending = await db
    .selectFrom('feed_delist_requests')
    .select('id')
    .where('listing_id', '=', row.id)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  const listed = row.state === 'listed';
  return {
    ...base,
    listed,
    state: listed ? 'listed' : row.state === 'delisted' ? 'delisted' : 'expired',
    list: row.list,
    returnCode: row.return_code,
    category: row.category,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    listedAt: row.listed_at,
    expiresAt: listed ? row.expires_at : null,
    delistedAt: row.delisted_at,
    reportCount: Number(row.report_count),
    campaignCount: Number(row.campaign_count),
    signals: (() => {
      try {
        const v: unknown = JSON.parse(row.signals);
        return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
      } catch {
        return [];
      }
    })(),
    reasons: listed ? ev.reasons : [],
    reports: reports.map((r) => ({
      id: r.report_id,
      receivedAt: r.received_at,
      category: r.message_category,
      campaignId: r.campaign_id,
    })),
    campaigns: campaigns.map((c) => ({
      id: c.id,
      category: c.category,
      messages: Number(c.message_count),
      firstSeen: c.first_seen_at,
      lastSeen: c.last_seen_at,
    })),
    pendingDelisting: pending !== undefined,
  };
}
