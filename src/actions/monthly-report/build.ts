/**
 * The regulator's monthly report (issue 18; seed 001: Signal Spam hands its data protection
 * authority the top 50 campaigns and the top 50 sender domains; seed 004 annex I(e), OECD
 * measurement): for one calendar month (UTC),
 * - the reports received, by category, channel and origin country;
 * - the top 50 campaigns (by their readable label) and the top 50 sender domains;
 * - cases opened, referred and closed, per authority;
 * - ISP alerts per network operator;
 * - the median time from a report to its referral.
 *
 * Reports count in the month they were received by the platform (`reports.received_at`): a
 * regulator reads complaints received. The dashboards count mail on the day it arrived, so an
 * archive imported this month appears here this month, flagged in `historical`. Categories, origin
 * countries, sender domains and campaigns are the actions area's per-report facts
 * (`action_report_facts`); a report not yet through the pipeline counts as `unknown`.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { AppError } from '../../core/errors.ts';
import { campaignLabels } from '../../campaigns/label.ts';

/** Rows of the two "top" tables (Signal Spam's practice). */
export const TOP_N = 50;
/** What a missing value is reported as. */
export const UNKNOWN = 'unknown';

export interface CountRow {
  key: string;
  n: number;
}

export interface MonthlyReport {
  /** `YYYY-MM`. */
  month: string;
  from: string;
  /** Exclusive. */
  to: string;
  generatedAt: string;
  totals: { reports: number; historical: number; casesOpened: number; referrals: number; ispAlerts: number };
  byCategory: CountRow[];
  byChannel: CountRow[];
  byCountry: CountRow[];
  topCampaigns: { id: string; label: string; category: string | null; n: number }[];
  topSenderDomains: CountRow[];
  authorities: {
    id: string;
    name: string;
    country: string;
    competence: string;
    /** Cases opened this month that were referred to it (so far). */
    opened: number;
    /** Referrals to it made this month. */
    referred: number;
    /** Referrals to it it closed this month. */
    closed: number;
  }[];
  /** Cases opened this month not referred to any authority yet. */
  casesNotReferred: number;
  operators: { id: string; name: string; asns: number[]; alerts: number; reports: number; handled: number }[];
  /** Median hours from a report's reception to its first referral, over reports first referred this month. */
  medianHoursToReferral: number | null;
  /** How many reports that median is taken over. */
  referredReports: number;
}

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The month's bounds as ISO timestamps; BAD_REQUEST for anything but `YYYY-MM`. */
export function monthBounds(month: string): { from: string; to: string } {
  const m = MONTH_RE.exec(month);
  if (!m) throw new AppError('BAD_REQUEST', `month must be YYYY-MM, got "${month.slice(0, 20)}".`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  return {
    from: new Date(Date.UTC(y, mo - 1, 1)).toISOString(),
    to: new Date(Date.UTC(y, mo, 1)).toISOString(),
  };
}

/** The calendar month before the one `now` is in (`YYYY-MM`). */
export function previousMonth(now: Date): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

/** The median of a list of numbers (mean of the two middle ones for an even count); null when empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function rows(list: { key: string | null; n: number | string | bigint }[]): CountRow[] {
  return list
    .map((r) => ({ key: r.key === null || r.key === '' ? UNKNOWN : r.key, n: Number(r.n) }))
    .sort((a, b) => b.n - a.n || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Builds the report of one month from the database. */
export async function buildMonthlyReport(
  db: Kysely<Database>,
  month: string,
  now = new Date(),
): Promise<MonthlyReport> {
  const { from, to } = monthBounds(month);
  const inMonth = db
    .selectFrom('reports as r')
    .leftJoin('action_report_facts as f', 'f.report_id', 'r.id')
    .where('r.received_at', '>=', from)
    .where('r.received_at', '<', to);
  const [total, byCategory, byChannel, byCountry, campaigns, senderDomains] = await Promise.all([
    inMonth
      .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('f.historical').as('historical')])
      .executeTakeFirstOrThrow(),
    inMonth
      .select([
        (eb) => eb.fn.coalesce('f.message_category', 'f.category').as('key'),
        (eb) => eb.fn.countAll<number>().as('n'),
      ])
      .groupBy((eb) => eb.fn.coalesce('f.message_category', 'f.category'))
      .execute(),
    inMonth
      .select(['r.channel as key', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('r.channel')
      .execute(),
    inMonth
      .select(['f.origin_country as key', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('f.origin_country')
      .execute(),
    inMonth
      .select(['f.campaign_id as key', (eb) => eb.fn.countAll<number>().as('n')])
      .where('f.campaign_id', 'is not', null)
      .groupBy('f.campaign_id')
      .orderBy('n', 'desc')
      .orderBy('f.campaign_id')
      .limit(TOP_N)
      .execute(),
    inMonth
      .select(['f.sender_domain as key', (eb) => eb.fn.countAll<number>().as('n')])
      .where('f.sender_domain', 'is not', null)
      .groupBy('f.sender_domain')
      .orderBy('n', 'desc')
      .orderBy('f.sender_domain')
      .limit(TOP_N)
      .execute(),
  ]);
  const campaignIds = campaigns.flatMap((c) => (c.key ? [c.key] : []));
  const labels = await campaignLabels(db, campaignIds);
  const categories =
    campaignIds.length === 0
      ? []
      : await db.selectFrom('campaigns').select(['id', 'category']).where('id', 'in', campaignIds).execute();

  const authorities = await authorityCounts(db, from, to);
  const operators = await operatorCounts(db, from, to);
  const timing = await timeToReferral(db, from, to);
  return {
    month,
    from,
    to,
    generatedAt: now.toISOString(),
    totals: {
      reports: Number(total.n),
      historical: Number(total.historical ?? 0),
      casesOpened: authorities.opened,
      referrals: authorities.rows.reduce((n, a) => n + a.referred, 0),
      ispAlerts: operators.reduce((n, o) => n + o.alerts, 0),
    },
    byCategory: rows(byCategory),
    byChannel: rows(byChannel),
    byCountry: rows(byCountry),
    topCampaigns: campaigns.flatMap((c) =>
      c.key
        ? [
            {
              id: c.key,
              label: labels.get(c.key) ?? c.key,
              category: categories.find((x) => x.id === c.key)?.category ?? null,
              n: Number(c.n),
            },
          ]
        : [],
    ),
    topSenderDomains: rows(senderDomains),
    authorities: authorities.rows,
    casesNotReferred: authorities.notReferred,
    operators,
    medianHoursToReferral: timing.median,
    referredReports: timing.count,
  };
}

async function authorityCounts(db: Kysely<Database>, from: string, to: string) {
  const all = await db
    .selectFrom('action_authorities')
    .select(['id', 'name', 'country', 'competence'])
    .orderBy('name')
    .orderBy('id')
    .execute();
  const opened = await db
    .selectFrom('action_cases as c')
    .innerJoin('action_referrals as x', 'x.case_id', 'c.id')
    .select(['x.authority_id', (eb) => eb.fn.count<number>('c.id').distinct().as('n')])
    .where('c.created_at', '>=', from)
    .where('c.created_at', '<', to)
    .groupBy('x.authority_id')
    .execute();
  const referred = await db
    .selectFrom('action_referrals')
    .select(['authority_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .groupBy('authority_id')
    .execute();
  const closed = await db
    .selectFrom('action_referrals')
    .select(['authority_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', '=', 'closed')
    .where('updated_at', '>=', from)
    .where('updated_at', '<', to)
    .groupBy('authority_id')
    .execute();
  const casesOpened = await db
    .selectFrom('action_cases')
    .select([(eb) => eb.fn.countAll<number>().as('n')])
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .where('state', '!=', 'merged')
    .executeTakeFirstOrThrow();
  const notReferred = await db
    .selectFrom('action_cases as c')
    .select([(eb) => eb.fn.countAll<number>().as('n')])
    .where('c.created_at', '>=', from)
    .where('c.created_at', '<', to)
    .where('c.state', '!=', 'merged')
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('action_referrals as x').select('x.id').whereRef('x.case_id', '=', 'c.id'))),
    )
    .executeTakeFirstOrThrow();
  const count = (list: { authority_id: string; n: number | string | bigint }[], id: string) =>
    Number(list.find((r) => r.authority_id === id)?.n ?? 0);
  const rowsOut = all
    .map((a) => ({
      ...a,
      opened: count(opened, a.id),
      referred: count(referred, a.id),
      closed: count(closed, a.id),
    }))
    .filter((a) => a.opened + a.referred + a.closed > 0);
  return { rows: rowsOut, opened: Number(casesOpened.n), notReferred: Number(notReferred.n) };
}

async function operatorCounts(db: Kysely<Database>, from: string, to: string) {
  const alerts = await db
    .selectFrom('action_isp_alerts as a')
    .innerJoin('action_operators as o', 'o.id', 'a.operator_id')
    .select([
      'o.id',
      'o.name',
      (eb) => eb.fn.countAll<number>().as('alerts'),
      (eb) => eb.fn.sum<number>('a.report_count').as('reports'),
      (eb) => eb.fn.sum<number>(eb.case().when('a.state', '=', 'handled').then(1).else(0).end()).as('handled'),
    ])
    .where('a.created_at', '>=', from)
    .where('a.created_at', '<', to)
    .groupBy(['o.id', 'o.name'])
    .execute();
  const ids = alerts.map((a) => a.id);
  const asns =
    ids.length === 0
      ? []
      : await db
          .selectFrom('action_operator_asns')
          .select(['asn', 'operator_id'])
          .where('operator_id', 'in', ids)
          .execute();
  return alerts
    .map((a) => ({
      id: a.id,
      name: a.name,
      asns: asns
        .filter((x) => x.operator_id === a.id)
        .map((x) => Number(x.asn))
        .sort((p, q) => p - q),
      alerts: Number(a.alerts),
      reports: Number(a.reports ?? 0),
      handled: Number(a.handled ?? 0),
    }))
    .sort((p, q) => q.alerts - p.alerts || (p.name < q.name ? -1 : 1));
}

/**
 * Hours from each report's reception to its first referral, for reports whose first referral was
 * made this month (a report referred again later is counted once, at its first referral).
 */
async function timeToReferral(db: Kysely<Database>, from: string, to: string) {
  const firsts = await db
    .selectFrom('action_case_reports as cr')
    .innerJoin('action_referrals as x', 'x.case_id', 'cr.case_id')
    .innerJoin('reports as r', 'r.id', 'cr.report_id')
    .select(['cr.report_id', 'r.received_at', (eb) => eb.fn.min<string>('x.created_at').as('first')])
    // Only reports in a case referred this month can have their first referral this month.
    .where('cr.report_id', 'in', (eb) =>
      eb
        .selectFrom('action_case_reports as cr2')
        .innerJoin('action_referrals as x2', 'x2.case_id', 'cr2.case_id')
        .select('cr2.report_id')
        .where('x2.created_at', '>=', from)
        .where('x2.created_at', '<', to),
    )
    .groupBy(['cr.report_id', 'r.received_at'])
    .having((eb) => eb.fn.min('x.created_at'), '>=', from)
    .having((eb) => eb.fn.min('x.created_at'), '<', to)
    .execute();
  const hours = firsts
    .map((f) => (Date.parse(f.first) - Date.parse(f.received_at)) / 3_600_000)
    .filter((h) => Number.isFinite(h) && h >= 0);
  const m = median(hours);
  return { median: m === null ? null : Math.round(m * 10) / 10, count: hours.length };
}
