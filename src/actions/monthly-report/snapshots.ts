/**
 * The monthly report as stored (`action_monthly_reports`, migration 0288), so that the page, its
 * CSV/JSON/PDF and the mail to the authorities read one row instead of grouping a month of reports
 * on every view: at 1,000,000 reports a month of 95,000 takes about 3 s to build in SQLite
 * (bench/RESULTS.md, 2026-12-03), far past what a page may take.
 *
 * When a stored report is used and when it is built again:
 * - a report built at least {@link SETTLED_AFTER_MS} after its month ended is **settled**: the month's
 *   reports have long been through the pipeline, and it stays as it is (it is what the authorities
 *   were sent) until someone asks for a rebuild (`spamdesk report monthly --rebuild`);
 * - any other is **fresh** for {@link FRESH_MS} after it was built, then built again when next read;
 * - the scheduler (`isp-digests` service, hourly, one process at a time) rebuilds the current and the
 *   previous month when they are no longer usable, and builds one earlier month that has none per pass,
 *   so a visitor almost never waits for a build.
 * The report says when it was built (`generatedAt`), and every view shows it.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { buildMonthlyReport, monthBounds, previousMonth, type MonthlyReport } from './build.ts';

/** How long a report of a month not yet settled is shown before it is built again. */
export const FRESH_MS = 60 * 60_000;
/** A report built this long after its month ended is kept as the month's (settled). */
export const SETTLED_AFTER_MS = 2 * 86_400_000;

/** The month `now` is in (`YYYY-MM`). */
export function currentMonth(now: Date): string {
  return now.toISOString().slice(0, 7);
}

/** The stored report of `month`, or null. */
export async function storedMonthlyReport(db: Kysely<Database>, month: string): Promise<MonthlyReport | null> {
  const row = await db
    .selectFrom('action_monthly_reports')
    .select('body')
    .where('month', '=', month)
    .executeTakeFirst();
  return row ? (JSON.parse(row.body) as MonthlyReport) : null;
}

/** Whether a stored report can be shown as it is at `now` (settled, or fresh). */
export function usable(r: MonthlyReport, now: Date): boolean {
  const built = Date.parse(r.generatedAt);
  if (!Number.isFinite(built)) return false;
  return built >= Date.parse(r.to) + SETTLED_AFTER_MS || now.getTime() - built < FRESH_MS;
}

/** Builds the report of `month` now and stores it (replacing the stored one). */
export async function rebuildMonthlyReport(
  db: Kysely<Database>,
  month: string,
  now = new Date(),
): Promise<MonthlyReport> {
  const r = await buildMonthlyReport(db, month, now);
  // A month that has not begun has nothing to keep.
  if (Date.parse(r.from) > now.getTime()) return r;
  const body = JSON.stringify(r);
  await db
    .insertInto('action_monthly_reports')
    .values({ month, generated_at: r.generatedAt, body })
    .onConflict((oc) => oc.column('month').doUpdateSet({ generated_at: r.generatedAt, body }))
    .execute();
  return r;
}

/** The report of `month` to show at `now`: the stored one when {@link usable}, else built and stored. */
export async function monthlyReport(db: Kysely<Database>, month: string, now = new Date()): Promise<MonthlyReport> {
  monthBounds(month);
  const stored = await storedMonthlyReport(db, month);
  if (stored && usable(stored, now)) return stored;
  return rebuildMonthlyReport(db, month, now);
}

/**
 * The scheduler's hourly pass: the current and the previous month built again unless usable, and
 * the most recent earlier month (back to the first report's) that has no stored report built, one
 * per pass so each pass does a bounded amount of work. Returns the months built.
 */
export async function refreshMonthlyReports(db: Kysely<Database>, now = new Date()): Promise<string[]> {
  const built: string[] = [];
  const recent = [currentMonth(now), previousMonth(now)];
  for (const month of recent) {
    const stored = await storedMonthlyReport(db, month);
    if (stored && usable(stored, now)) continue;
    await rebuildMonthlyReport(db, month, now);
    built.push(month);
  }
  const first = await db
    .selectFrom('reports')
    .select((eb) => eb.fn.min('received_at').as('at'))
    .executeTakeFirst();
  const firstMonth = typeof first?.at === 'string' ? first.at.slice(0, 7) : null;
  if (firstMonth === null) return built;
  const have = new Set(
    (
      await db
        .selectFrom('action_monthly_reports')
        .select('month')
        .where('month', '>=', firstMonth)
        .where('month', '<', recent[1])
        .execute()
    ).map((r) => r.month),
  );
  for (let m = previousMonth(monthStart(recent[1])); m >= firstMonth; m = previousMonth(monthStart(m))) {
    if (have.has(m)) continue;
    await rebuildMonthlyReport(db, m, now);
    built.push(m);
    break;
  }
  return built;
}

function monthStart(month: string): Date {
  return new Date(monthBounds(month).from);
}
