/**
 * What the case page shows besides the case row: its reports a page at a time, reports per day,
 * origins and indicators (from the report facts the actions area keeps), and the cases a report
 * belongs to. Aggregates run over the whole case; top lists say how many values there are in all.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

export const CASE_REPORTS_PAGE = 50;
/** Values listed in each top list of the case page (the page states how many there are). */
export const TOP_LISTED = 20;

export interface CaseReportRow {
  report_id: string;
  message_sha256: string;
  added_at: string;
  received_at: string;
  channel: string;
}

/** The cursor of a case's report list: the last row's reception time and report id, base64url. */
export function encodeReportCursor(receivedAt: string, reportId: string): string {
  return Buffer.from(`${receivedAt}|${reportId}`).toString('base64url');
}

export function decodeReportCursor(s: string | null | undefined): { receivedAt: string; reportId: string } | null {
  if (!s || s.length > 120 || !/^[A-Za-z0-9_-]+$/.test(s)) return null;
  const m = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)\|([0-9A-Za-z_-]{1,40})$/.exec(Buffer.from(s, 'base64url').toString());
  return m ? { receivedAt: m[1], reportId: m[2] } : null;
}

/**
 * One page of a case's reports, newest first by reception, keyset-paged on (reception time,
 * report id) along the `(case_id, received_at, report_id)` index.
 */
export async function caseReportsPage(
  db: Kysely<Database>,
  caseId: string,
  cursor: string | null,
  limit = CASE_REPORTS_PAGE,
): Promise<{ rows: CaseReportRow[]; next: string | null; total: number }> {
  let q = db
    .selectFrom('action_case_reports as cr')
    .innerJoin('reports as r', 'r.id', 'cr.report_id')
    .select(['cr.report_id', 'cr.message_sha256', 'cr.added_at', 'r.received_at', 'r.channel'])
    .where('cr.case_id', '=', caseId)
    .where('cr.received_at', 'is not', null)
    .orderBy('cr.received_at', 'desc')
    .orderBy('cr.report_id', 'desc')
    .limit(limit + 1);
  const after = decodeReportCursor(cursor);
  if (after)
    q = q.where((eb) =>
      eb.or([
        eb('cr.received_at', '<', after.receivedAt),
        eb.and([eb('cr.received_at', '=', after.receivedAt), eb('cr.report_id', '<', after.reportId)]),
      ]),
    );
  const rows = await q.execute();
  const total = await db
    .selectFrom('action_case_reports')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('case_id', '=', caseId)
    .where('received_at', 'is not', null)
    .executeTakeFirst();
  const page = rows.slice(0, limit);
  return {
    rows: page,
    next:
      rows.length > limit && page.length > 0
        ? encodeReportCursor(page[page.length - 1].received_at, page[page.length - 1].report_id)
        : null,
    total: Number(total?.n ?? 0),
  };
}

/**
 * Reports of a case per day of reception (UTC), from the reception time each case row carries
 * (one range of the `(case_id, received_at)` index, not a look-up per report).
 */
export async function caseTimeline(db: Kysely<Database>, caseId: string): Promise<{ day: string; n: number }[]> {
  const dayExpr = sql<string>`substr(cr.received_at, 1, 10)`;
  const rows = await db
    .selectFrom('action_case_reports as cr')
    .select([dayExpr.as('day'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('cr.case_id', '=', caseId)
    .where('cr.received_at', 'is not', null)
    .groupBy(dayExpr)
    .orderBy(dayExpr)
    .execute();
  return rows.map((r) => ({ day: r.day, n: Number(r.n) }));
}

export interface CaseOrigin {
  ip: string;
  asn: number | null;
  asName: string | null;
  country: string | null;
  reports: number;
}

export interface TopList<T> {
  items: T[];
  /** How many distinct values there are in all. */
  total: number;
}

export interface CaseIndicators {
  senderDomains: TopList<{ value: string; reports: number }>;
  advertisedDomains: TopList<{ value: string; reports: number }>;
  networks: TopList<{ asn: number; asName: string | null; reports: number }>;
  countries: TopList<{ value: string; reports: number }>;
}

function top<T extends { reports: number }>(m: Map<string, T>): TopList<T> {
  const all = [...m.values()].sort((a, b) => b.reports - a.reports);
  return { items: all.slice(0, TOP_LISTED), total: all.length };
}

function parseList(json: string | null): string[] {
  if (!json) return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function bump<T extends { reports: number }>(m: Map<string, T>, key: string, fresh: () => T, n: number): T {
  let e = m.get(key);
  if (!e) {
    e = fresh();
    m.set(key, e);
  }
  e.reports += n;
  return e;
}

/**
 * Indicators (sender domains, advertised domains, origin networks and countries) and origins
 * (IPs) of a case, by reports, in one pass over its report facts: the rows are grouped by the
 * combination of values in SQL, then each value counted here.
 */
export async function caseFactsTally(
  db: Kysely<Database>,
  caseId: string,
): Promise<{ indicators: CaseIndicators; origins: TopList<CaseOrigin> }> {
  const rows = await db
    .selectFrom('action_case_reports as cr')
    .innerJoin('action_report_facts as f', 'f.report_id', 'cr.report_id')
    .select([
      'f.origin_ip',
      'f.origin_asn',
      'f.origin_as_name',
      'f.origin_country',
      'f.sender_domain',
      'f.advertised_domains',
      (eb) => eb.fn.countAll<number>().as('n'),
    ])
    .where('cr.case_id', '=', caseId)
    .groupBy([
      'f.origin_ip',
      'f.origin_asn',
      'f.origin_as_name',
      'f.origin_country',
      'f.sender_domain',
      'f.advertised_domains',
    ])
    .execute();
  const senders = new Map<string, { value: string; reports: number }>();
  const advertised = new Map<string, { value: string; reports: number }>();
  const networks = new Map<string, { asn: number; asName: string | null; reports: number }>();
  const countries = new Map<string, { value: string; reports: number }>();
  // One IP can appear with two AS names (enrichment data changed): one row per IP.
  const ips = new Map<string, CaseOrigin>();
  for (const r of rows) {
    const n = Number(r.n);
    if (r.sender_domain) bump(senders, r.sender_domain, () => ({ value: r.sender_domain ?? '', reports: 0 }), n);
    for (const d of new Set(parseList(r.advertised_domains))) bump(advertised, d, () => ({ value: d, reports: 0 }), n);
    if (r.origin_asn !== null) {
      const asn = Number(r.origin_asn);
      const e = bump(networks, String(asn), () => ({ asn, asName: r.origin_as_name, reports: 0 }), n);
      e.asName ??= r.origin_as_name;
    }
    if (r.origin_country) bump(countries, r.origin_country, () => ({ value: r.origin_country ?? '', reports: 0 }), n);
    if (r.origin_ip) {
      const ip = r.origin_ip;
      bump(
        ips,
        ip,
        () => ({
          ip,
          asn: r.origin_asn === null ? null : Number(r.origin_asn),
          asName: r.origin_as_name,
          country: r.origin_country,
          reports: 0,
        }),
        n,
      );
    }
  }
  const origins = [...ips.values()].sort((a, b) => b.reports - a.reports || a.ip.localeCompare(b.ip));
  return {
    indicators: {
      senderDomains: top(senders),
      advertisedDomains: top(advertised),
      networks: top(networks),
      countries: top(countries),
    },
    origins: { items: origins.slice(0, TOP_LISTED), total: origins.length },
  };
}

/** The report ids a whole campaign family holds (for opening a case about it), oldest first. */
export async function reportsOfCampaign(
  db: Kysely<Database>,
  campaignIds: readonly string[],
): Promise<{ reportId: string; sha256: string }[]> {
  if (campaignIds.length === 0) return [];
  const rows = await db
    .selectFrom('action_report_facts')
    .select(['report_id', 'message_sha256'])
    .where('campaign_id', 'in', [...campaignIds])
    .orderBy('report_id')
    .execute();
  return rows.map((r) => ({ reportId: r.report_id, sha256: r.message_sha256 }));
}
