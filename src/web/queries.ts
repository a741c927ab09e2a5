/**
 * Queries behind the workbench list and the dashboards, over the web area's index and roll-ups
 * (src/web/indexer.ts). The list pages by keyset on (received_at, report_id) — never OFFSET — so
 * page 10,000 costs what page 1 costs; each filter has an index that matches its order.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { ReportScope } from '../core/policy.ts';
import type { ReportIndexRow } from '../db/web-tables.ts';
import { TERM, UNKNOWN, subjectWords, urlTerm, type RollupDim } from './indexer.ts';
import { rollupRange, type Range } from './top-values.ts';

export { rangeParts, topValues, type Range, type TopRow } from './top-values.ts';

export interface ListFilters {
  q?: string;
  sender?: string;
  domain?: string;
  url?: string;
  ip?: string;
  campaign?: string;
  /** Origin AS number. */
  asn?: string;
  category?: string;
  channel?: string;
  /** Inclusive day `YYYY-MM-DD`. */
  from?: string;
  /** Inclusive day `YYYY-MM-DD`. */
  to?: string;
}

export interface Cursor {
  receivedAt: string;
  reportId: string;
}

export const PAGE_SIZE = 50;
/**
 * A calendar day `YYYY-MM-DD` that exists (`2026-02-30` and `9999-99-99` match the shape but are
 * no day: date arithmetic on them throws).
 */
export function isDay(v: unknown): v is string {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const t = Date.parse(`${v}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === v;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.receivedAt}|${c.reportId}`).toString('base64url');
}

export function decodeCursor(s: unknown): Cursor | null {
  if (typeof s !== 'string' || s.length > 200) return null;
  const [receivedAt, reportId] = Buffer.from(s, 'base64url').toString('utf8').split('|');
  if (!receivedAt || !reportId || !/^[0-9A-Z]{1,32}$/.test(reportId)) return null;
  return { receivedAt, reportId };
}

/** The search terms a filter set implies (every one must match). */
export function filterTerms(f: ListFilters): string[] {
  const terms: string[] = [];
  if (f.q) for (const w of subjectWords(f.q)) terms.push(TERM.word + w);
  if (f.sender) terms.push(TERM.sender + f.sender.trim().toLowerCase());
  if (f.domain) terms.push(TERM.domain + f.domain.trim().toLowerCase());
  if (f.url) terms.push(urlTerm(f.url));
  if (f.ip) terms.push(TERM.ip + f.ip.trim().toLowerCase());
  return terms.filter((t) => t.length <= 255);
}

export interface ListPage {
  rows: ReportIndexRow[];
  next: Cursor | null;
}

/** One page of reports, newest first, within the caller's scope. */
export async function listReports(
  db: Kysely<Database>,
  scope: ReportScope,
  f: ListFilters,
  cursor: Cursor | null,
  limit = PAGE_SIZE,
): Promise<ListPage> {
  if (scope.kind === 'none') return { rows: [], next: null };
  if (scope.kind === 'networks') {
    const asn = f.asn ? Number(f.asn.replace(/^AS/i, '')) : null;
    const asns = asn === null ? [...new Set(scope.asns)] : scope.asns.includes(asn) ? [asn] : [];
    if (asns.length === 0) return { rows: [], next: null };
    if (asns.length > 1)
      return mergePages(
        await Promise.all(asns.map((a) => listReports(db, { kind: 'networks', asns: [a] }, f, cursor, limit))),
        limit,
      );
  }
  const terms = filterTerms(f);
  // biome-ignore lint/suspicious/noImplicitAnyLet: not any: tsc types q by control flow (two Kysely joins)
  let q;
  if (terms.length > 0) {
    // Drive from the first term's index range (term, received_at, report_id); join the index row.
    q = db
      .selectFrom('web_report_terms as t')
      .innerJoin('web_report_index as r', 'r.report_id', 't.report_id')
      .selectAll('r')
      .where('t.term', '=', terms[0])
      .orderBy('t.received_at', 'desc')
      .orderBy('t.report_id', 'desc');
    for (const extra of terms.slice(1)) {
      // A full primary-key seek (term, received_at, report_id) per candidate row.
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('web_report_terms as t2')
            .select('t2.report_id')
            .where('t2.term', '=', extra)
            .whereRef('t2.received_at', '=', 't.received_at')
            .whereRef('t2.report_id', '=', 't.report_id'),
        ),
      );
    }
    if (cursor)
      q = q.where((eb) =>
        eb(eb.refTuple('t.received_at', 't.report_id'), '<', eb.tuple(cursor.receivedAt, cursor.reportId)),
      );
    if (isDay(f.from)) q = q.where('t.received_at', '>=', f.from);
    if (isDay(f.to)) q = q.where('t.received_at', '<', nextDay(f.to));
  } else {
    q = db
      .selectFrom('web_report_index as r')
      .selectAll('r')
      .orderBy('r.received_at', 'desc')
      .orderBy('r.report_id', 'desc');
    if (cursor)
      q = q.where((eb) =>
        eb(eb.refTuple('r.received_at', 'r.report_id'), '<', eb.tuple(cursor.receivedAt, cursor.reportId)),
      );
    if (isDay(f.from)) q = q.where('r.received_at', '>=', f.from);
    if (isDay(f.to)) q = q.where('r.received_at', '<', nextDay(f.to));
  }
  if (f.campaign) q = q.where('r.campaign_id', '=', f.campaign.trim());
  if (f.asn && /^\d{1,10}$/.test(f.asn.replace(/^AS/i, '')))
    q = q.where('r.origin_asn', '=', Number(f.asn.replace(/^AS/i, '')));
  if (f.category)
    q =
      f.category === UNKNOWN || f.category === '-'
        ? q.where('r.category', 'is', null)
        : q.where('r.category', '=', f.category);
  if (f.channel) q = q.where('r.channel', '=', f.channel);
  if (scope.kind === 'own') {
    const { userId, tokenId } = scope;
    if (userId) q = q.where('r.reporter_user_id', '=', userId);
    else if (tokenId)
      q = q.where('r.report_id', 'in', db.selectFrom('reports').select('id').where('reporter_token_id', '=', tokenId));
    else return { rows: [], next: null };
  }
  if (scope.kind === 'networks') q = q.where('r.origin_asn', 'in', [...scope.asns]);
  const rows = await q.limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    rows: page,
    next: rows.length > limit && last ? { receivedAt: last.received_at, reportId: last.report_id } : null,
  };
}

/**
 * Several networks: one keyset page per AS (each walks its own index range in list order) merged
 * newest first — an `origin_asn in (…)` would have to sort every row of every AS instead.
 */
function mergePages(pages: ListPage[], limit: number): ListPage {
  const all = pages
    .flatMap((p) => p.rows)
    .sort((a, b) =>
      a.received_at === b.received_at ? (a.report_id < b.report_id ? 1 : -1) : a.received_at < b.received_at ? 1 : -1,
    );
  const rows = all.slice(0, limit);
  const last = rows[rows.length - 1];
  const more = all.length > limit || pages.some((p) => p.next !== null);
  return { rows, next: more && last ? { receivedAt: last.received_at, reportId: last.report_id } : null };
}

function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** A date range from filters, defaulting to the last `days` days (inclusive, UTC). */
export function rangeOf(from: unknown, to: unknown, days = 30, now = new Date()): Range {
  const end = isDay(to) ? to : now.toISOString().slice(0, 10);
  const start = isDay(from)
    ? from
    : new Date(Date.parse(`${end}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  return start <= end ? { from: start, to: end } : { from: end, to: start };
}

export interface SeriesPoint {
  day: string;
  value: string;
  n: number;
}

/** Reports per day per value of one dimension. */
export async function dailySeries(db: Kysely<Database>, dim: RollupDim, r: Range): Promise<SeriesPoint[]> {
  const rows = await db
    .selectFrom('web_rollup_daily')
    .select(['day', 'value', 'n'])
    .where('dim', '=', dim)
    .where('day', '>=', r.from)
    .where('day', '<=', r.to)
    .where('n', '>', 0)
    .orderBy('day')
    .execute();
  return rows.map((x) => ({ day: x.day, value: x.value, n: Number(x.n) }));
}

/**
 * Reports per day of one value (a campaign's timeline): a key seek per day of the range — the
 * primary key is (dim, day, value), so a day range with a value filter would read every value.
 */
export async function valueSeries(
  db: Kysely<Database>,
  dim: RollupDim,
  value: string,
  r: Range,
): Promise<{ day: string; n: number }[]> {
  const days = daysOf(r);
  if (days.length === 0) return [];
  const rows = await db
    .selectFrom('web_rollup_daily')
    .select(['day', 'n'])
    .where('dim', '=', dim)
    .where('day', 'in', days)
    .where('value', '=', value)
    .orderBy('day')
    .execute();
  return rows.map((x) => ({ day: x.day, n: Number(x.n) }));
}

/** Total reports in the range. */
export async function totalReports(db: Kysely<Database>, r: Range): Promise<number> {
  const row = await rollupRange(db, 'channel', r)
    .select((eb) => eb.fn.sum<number>('n').as('total'))
    .executeTakeFirst();
  return Number(row?.total ?? 0);
}

/** Every day of a range (for chart axes without gaps). */
export function daysOf(r: Range, max = 800): string[] {
  const out: string[] = [];
  for (
    let t = Date.parse(`${r.from}T00:00:00Z`);
    t <= Date.parse(`${r.to}T00:00:00Z`) && out.length < max;
    t += 86_400_000
  ) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** Chart.js-shaped data: one dataset per value, zero-filled. */
export function toChart(
  points: SeriesPoint[],
  r: Range,
  label: (v: string) => string,
): { labels: string[]; datasets: { label: string; data: number[] }[] } {
  const labels = daysOf(r);
  const idx = new Map(labels.map((d, i) => [d, i]));
  const byValue = new Map<string, number[]>();
  for (const p of points) {
    const i = idx.get(p.day);
    if (i === undefined) continue;
    let arr = byValue.get(p.value);
    if (!arr) {
      arr = new Array<number>(labels.length).fill(0);
      byValue.set(p.value, arr);
    }
    arr[i] += p.n;
  }
  const datasets = [...byValue.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([v, data]) => ({ label: label(v), data }));
  return { labels, datasets };
}

/** RFC 4180 CSV (CRLF, quoted fields); cells that would start a spreadsheet formula are prefixed. */
export function toCsv(header: string[], rows: (string | number | null)[][]): string {
  const cell = (v: string | number | null): string => {
    let s = v === null ? '' : String(v);
    // CSV injection: =, +, -, @ at the start make spreadsheets evaluate the cell.
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}
