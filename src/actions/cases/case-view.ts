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

/** One page of a case's reports, newest report first (report ids are ULIDs: id order is arrival order). */
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
    .orderBy('cr.report_id', 'desc')
    .limit(limit + 1);
  if (cursor) q = q.where('cr.report_id', '<', cursor);
  const rows = await q.execute();
  const total = await db
    .selectFrom('action_case_reports')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('case_id', '=', caseId)
    .executeTakeFirst();
  const page = rows.slice(0, limit);
  return {
    rows: page,
    next: rows.length > limit ? (page[page.length - 1]?.report_id ?? null) : null,
    total: Number(total?.n ?? 0),
  };
}

/** Reports of a case per day of reception (UTC). */
export async function caseTimeline(db: Kysely<Database>, caseId: string): Promise<{ day: string; n: number }[]> {
  const dayExpr = sql<string>`substr(r.received_at, 1, 10)`;
  const rows = await db
    .selectFrom('action_case_reports as cr')
    .innerJoin('reports as r', 'r.id', 'cr.report_id')
    .select([dayExpr.as('day'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('cr.case_id', '=', caseId)
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

/** Where the case's mail came from: origin IPs with their network and country, most reports first. */
export async function caseOrigins(db: Kysely<Database>, caseId: string): Promise<TopList<CaseOrigin>> {
  const rows = await db
    .selectFrom('action_case_reports as cr')
    .innerJoin('action_report_facts as f', 'f.report_id', 'cr.report_id')
    .select(['f.origin_ip', 'f.origin_asn', 'f.origin_as_name', 'f.origin_country'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('cr.case_id', '=', caseId)
    .where('f.origin_ip', 'is not', null)
    .groupBy(['f.origin_ip', 'f.origin_asn', 'f.origin_as_name', 'f.origin_country'])
    .execute();
  // One IP can appear with two AS names (enrichment data changed): keep one row per IP.
  const byIp = new Map<string, CaseOrigin>();
  for (const r of rows) {
    const ip = r.origin_ip ?? '';
    const prev = byIp.get(ip);
    const n = Number(r.n);
    if (prev) prev.reports += n;
    else
      byIp.set(ip, {
        ip,
        asn: r.origin_asn === null ? null : Number(r.origin_asn),
        asName: r.origin_as_name,
        country: r.origin_country,
        reports: n,
      });
  }
  const all = [...byIp.values()].sort((a, b) => b.reports - a.reports || a.ip.localeCompare(b.ip));
  return { items: all.slice(0, TOP_LISTED), total: all.length };
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

/** Sender domains, advertised domains, origin networks and countries of a case, by reports. */
export async function caseIndicators(db: Kysely<Database>, caseId: string): Promise<CaseIndicators> {
  const base = () =>
    db
      .selectFrom('action_case_reports as cr')
      .innerJoin('action_report_facts as f', 'f.report_id', 'cr.report_id')
      .where('cr.case_id', '=', caseId);
  const senders = await base()
    .select(['f.sender_domain as v', (eb) => eb.fn.countAll<number>().as('n')])
    .where('f.sender_domain', 'is not', null)
    .groupBy('f.sender_domain')
    .execute();
  // The advertised domains are a JSON list per report: group by the list, then count each domain.
  const advertised = await base()
    .select(['f.advertised_domains as v', (eb) => eb.fn.countAll<number>().as('n')])
    .where('f.advertised_domains', 'is not', null)
    .groupBy('f.advertised_domains')
    .execute();
  const nets = await base()
    .select(['f.origin_asn as asn', 'f.origin_as_name as name', (eb) => eb.fn.countAll<number>().as('n')])
    .where('f.origin_asn', 'is not', null)
    .groupBy(['f.origin_asn', 'f.origin_as_name'])
    .execute();
  const countries = await base()
    .select(['f.origin_country as v', (eb) => eb.fn.countAll<number>().as('n')])
    .where('f.origin_country', 'is not', null)
    .groupBy('f.origin_country')
    .execute();
  const s = new Map(senders.map((r) => [r.v ?? '', { value: r.v ?? '', reports: Number(r.n) }]));
  const a = new Map<string, { value: string; reports: number }>();
  for (const r of advertised)
    for (const d of new Set(parseList(r.v))) {
      const e = a.get(d) ?? { value: d, reports: 0 };
      e.reports += Number(r.n);
      a.set(d, e);
    }
  const n = new Map<string, { asn: number; asName: string | null; reports: number }>();
  for (const r of nets) {
    const k = String(r.asn);
    const e = n.get(k) ?? { asn: Number(r.asn), asName: r.name, reports: 0 };
    e.reports += Number(r.n);
    e.asName ??= r.name;
    n.set(k, e);
  }
  const c = new Map(countries.map((r) => [r.v ?? '', { value: r.v ?? '', reports: Number(r.n) }]));
  return { senderDomains: top(s), advertisedDomains: top(a), networks: top(n), countries: top(c) };
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
