/**
 * What the case page shows besides the case row: its reports a page at a time, reports per day,
 * origins and indicators (from the case's tally of its report facts, case-tally.ts), and the cases
 * a report belongs to. Aggregates cover the whole case; top lists say how many values there are.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { ensureCaseTally, type TallyKind } from './case-tally.ts';

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
  await ensureCaseTally(db, caseId);
  const total = await db
    .selectFrom('action_case_tallies')
    .select('reports as n')
    .where('case_id', '=', caseId)
    .where('kind', '=', 'total')
    .where('value', '=', '')
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

/** Reports of a case per day of reception (UTC), from its tally (one row per day). */
export async function caseTimeline(db: Kysely<Database>, caseId: string): Promise<{ day: string; n: number }[]> {
  await ensureCaseTally(db, caseId);
  const rows = await db
    .selectFrom('action_case_tallies')
    .select(['value', 'reports'])
    .where('case_id', '=', caseId)
    .where('kind', '=', 'day')
    .orderBy('value')
    .execute();
  return rows.map((r) => ({ day: r.value, n: Number(r.reports) }));
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

/** The most frequent values of one kind in a case's tally, and how many values there are. */
async function topOf(db: Kysely<Database>, caseId: string, kind: TallyKind) {
  const [items, count] = await Promise.all([
    db
      .selectFrom('action_case_tallies')
      .select(['value', 'reports', 'asn', 'as_name', 'country'])
      .where('case_id', '=', caseId)
      .where('kind', '=', kind)
      .orderBy('reports', 'desc')
      .orderBy('value')
      .limit(TOP_LISTED)
      .execute(),
    db
      .selectFrom('action_case_tallies')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('case_id', '=', caseId)
      .where('kind', '=', kind)
      .executeTakeFirst(),
  ]);
  return { items: items.map((r) => ({ ...r, reports: Number(r.reports) })), total: Number(count?.n ?? 0) };
}

/**
 * Indicators (sender domains, advertised domains, origin networks and countries) and origins
 * (IPs) of a case, by reports: the top of each kind of its tally, kept as reports join and leave
 * (case-tally.ts), so a case of 145,000 reports reads a few hundred rows, not its reports.
 */
export async function caseFactsTally(
  db: Kysely<Database>,
  caseId: string,
): Promise<{ indicators: CaseIndicators; origins: TopList<CaseOrigin> }> {
  await ensureCaseTally(db, caseId);
  const [senders, advertised, networks, countries, ips] = await Promise.all(
    (['sender', 'advertised', 'asn', 'country', 'ip'] as const).map((k) => topOf(db, caseId, k)),
  );
  const plain = (t: Awaited<ReturnType<typeof topOf>>) => ({
    items: t.items.map((r) => ({ value: r.value, reports: r.reports })),
    total: t.total,
  });
  return {
    indicators: {
      senderDomains: plain(senders),
      advertisedDomains: plain(advertised),
      networks: {
        items: networks.items.map((r) => ({ asn: Number(r.value), asName: r.as_name, reports: r.reports })),
        total: networks.total,
      },
      countries: plain(countries),
    },
    origins: {
      items: ips.items.map((r) => ({
        ip: r.value,
        asn: r.asn === null ? null : Number(r.asn),
        asName: r.as_name,
        country: r.country,
        reports: r.reports,
      })),
      total: ips.total,
    },
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
