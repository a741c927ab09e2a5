/**
 * The plain lists for firewalls and proxies: `ips.txt` (one address per line), `domains.txt` (one
 * registrable domain per line; its sub-domains are listed too) and `listings.csv` (every listed
 * value with its list, return code, category, dates, counts and look-up link). Their text depends
 * only on the revision (and the query), so the revision makes a strong `ETag` and its time the
 * `Last-Modified`: a client polling with `If-None-Match` or `If-Modified-Since` gets 304 until a
 * listing changes. Nothing about reporters is in them: values, lists and counts only.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ActionPolicy } from '../../actions/action-policy.ts';
import { toCsv, type CsvValue } from '../../actions/formats/csv.ts';
import { sha256Hex } from '../../core/ids.ts';
import { allListed, listingState } from './store.ts';

export const PLAIN_FEEDS = ['ips.txt', 'domains.txt', 'listings.csv'] as const;
export type PlainFeed = (typeof PLAIN_FEEDS)[number];

export interface FeedVersion {
  revision: number;
  changedAt: string;
}

/** The revision and its time (what the validators are made of). */
export async function feedVersion(db: Kysely<Database>): Promise<FeedVersion> {
  const s = await listingState(db);
  return { revision: Number(s.revision), changedAt: s.changed_at };
}

/** A strong entity tag for one feed and filter at one revision. */
export function feedEtag(feed: PlainFeed, filter: string, v: FeedVersion): string {
  return `"${v.revision}-${sha256Hex(`${feed}?${filter}`).slice(0, 12)}"`;
}

/** An HTTP-date (RFC 9110 §5.6.7), at whole seconds. */
export function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}

/**
 * True when the client's copy is current (answer 304). `If-None-Match` wins over
 * `If-Modified-Since` when both are sent (RFC 9110 §13.2.2).
 */
export function notModified(
  headers: { 'if-none-match'?: string; 'if-modified-since'?: string },
  etag: string,
  lastModified: string,
): boolean {
  const inm = headers['if-none-match'];
  if (inm !== undefined) {
    return inm
      .split(',')
      .map((t) => t.trim().replace(/^W\//, ''))
      .some((t) => t === '*' || t === etag);
  }
  const ims = headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  if (Number.isNaN(since)) return false;
  return Math.floor(Date.parse(lastModified) / 1000) <= Math.floor(since / 1000);
}

function comment(policy: ActionPolicy, what: string, v: FeedVersion, baseUrl: string): string {
  return [
    `# ${policy.instance.org}: ${what}. Revision ${v.revision}, changed ${v.changedAt}.`,
    `# Why a value is listed, and how to ask for its removal: ${baseUrl}/listings/<value>`,
  ].join('\n');
}

/** The text of one feed. `list` filters the IP list (`infected`, `infrastructure`), `category` the domains. */
export async function renderPlainFeed(
  db: Kysely<Database>,
  policy: ActionPolicy,
  feed: PlainFeed,
  filter: { list?: string; category?: string },
  v: FeedVersion,
  baseUrl: string,
): Promise<string> {
  if (feed === 'ips.txt') {
    const lines = [comment(policy, `IP addresses listed${filter.list ? ` (${filter.list})` : ''}`, v, baseUrl)];
    for await (const r of allListed(db, 'ip')) if (!filter.list || r.list === filter.list) lines.push(r.value);
    return `${lines.join('\n')}\n`;
  }
  if (feed === 'domains.txt') {
    const lines = [comment(policy, `domains listed${filter.category ? ` (${filter.category})` : ''}`, v, baseUrl)];
    for await (const r of allListed(db, 'domain'))
      if (!filter.category || r.category === filter.category) lines.push(r.value);
    return `${lines.join('\n')}\n`;
  }
  const rows: CsvValue[][] = [];
  for (const kind of ['ip', 'domain'] as const) {
    for await (const r of allListed(db, kind)) {
      if (filter.list && r.list !== filter.list) continue;
      if (filter.category && r.category !== filter.category) continue;
      rows.push([
        r.kind,
        r.value,
        r.list,
        r.return_code,
        r.category,
        r.first_seen,
        r.last_seen,
        r.listed_at,
        r.expires_at,
        Number(r.report_count),
        Number(r.campaign_count),
        `${baseUrl}/listings/${encodeURIComponent(r.value)}`,
      ]);
    }
  }
  return toCsv(
    [
      'kind',
      'value',
      'list',
      'return_code',
      'category',
      'first_seen',
      'last_seen',
      'listed_at',
      'expires_at',
      'reports',
      'campaigns',
      'lookup_url',
    ],
    rows,
  );
}
