/**
 * Exact top-N of a roll-up dimension over a date range without summing every value.
 *
 * A range is covered by disjoint roll-up blocks (whole months from the monthly rows, the days at
 * either end from the daily rows; see {@link rangeParts}). Summing every value of every block is
 * what made a year of top campaigns cost ~20,000 values × ~40 blocks. Instead this reads each
 * block's values in descending order of count, only `depth` deep (index `web_rollup_top_idx`,
 * `(dim, day, n, value)`), and stops when the answer is provably exact — Fagin's threshold
 * algorithm, batched (Fagin, Lotem, Naor, "Optimal aggregation algorithms for middleware", 2001):
 *
 * - a value never seen in any block's top `depth` has, in every block, a count no larger than the
 *   last count read there, so its total is at most `T`, the sum of those last counts (an
 *   exhausted block contributes 0);
 * - a value seen somewhere has a lower bound (what was read) and an upper bound (plus the last
 *   count of each block it was not seen in);
 * - once the k-th best lower bound is above `T`, only values whose upper bound reaches it can be
 *   in the answer; their exact totals are read by key (a few index seeks each) and ranked.
 * Otherwise the depth doubles. Counts follow a steep (Zipf-like) law in practice, so a depth of
 * a few dozen settles a year of 20,000 campaigns; a flat distribution degrades to reading every
 * row, which is what the plain sum does anyway ({@link topValuesBySum}, also the reference the
 * tests compare against).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { UNKNOWN, monthlyDim, type RollupDim } from './indexer.ts';

export interface TopRow {
  value: string;
  n: number;
}

export interface Range {
  from: string;
  to: string;
}

/** First depth read per block: a few times the answer's size. */
const MIN_DEPTH = 32;
/** Past this depth the plain sum is as cheap; give up on the threshold algorithm. */
const MAX_DEPTH = 4096;
/** Above this many rows asked for (CSV exports), the plain sum is used directly. */
const MAX_THRESHOLD_LIMIT = 200;
/** Values whose exact total is read by key in one go; more means the bound is still loose. */
const MAX_SURVIVORS = 400;

/**
 * A range as roll-up rows to read: whole calendar months from the monthly rows, the days before
 * the first and after the last whole month from the daily rows (a year is ~12 + 60 rows per value
 * instead of 365).
 */
export function rangeParts(r: Range): { days: [string, string][]; months: [string, string] | null } {
  const from = new Date(`${r.from}T00:00:00Z`);
  const to = new Date(`${r.to}T00:00:00Z`);
  const firstFull =
    from.getUTCDate() === 1 ? new Date(from) : new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
  const afterTo = new Date(to.getTime() + 86_400_000);
  const lastFullEnd =
    afterTo.getUTCDate() === 1 ? afterTo : new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), 1));
  if (firstFull >= lastFullEnd) return { days: [[r.from, r.to]], months: null };
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  const days: [string, string][] = [];
  if (from < firstFull) days.push([r.from, iso(new Date(firstFull.getTime() - 86_400_000))]);
  if (lastFullEnd <= to) days.push([iso(lastFullEnd), r.to]);
  const lastFullMonth = new Date(lastFullEnd.getTime() - 86_400_000);
  return { days, months: [iso(firstFull).slice(0, 7), iso(lastFullMonth).slice(0, 7)] };
}

/** One roll-up block: the rows of `dim` (daily or monthly name) at `key` (a day or a month). */
export interface Block {
  dim: string;
  key: string;
}

/** The blocks covering a range, grouped by roll-up level (daily dimension name, monthly). */
export function blocksOf(dim: RollupDim, r: Range): Block[] {
  const parts = rangeParts(r);
  const out: Block[] = [];
  for (const [a, b] of parts.days) {
    for (let t = Date.parse(`${a}T00:00:00Z`); t <= Date.parse(`${b}T00:00:00Z`); t += 86_400_000)
      out.push({ dim, key: new Date(t).toISOString().slice(0, 10) });
  }
  if (parts.months) {
    const [y0, m0] = parts.months[0].split('-').map(Number);
    const [y1, m1] = parts.months[1].split('-').map(Number);
    for (let y = y0, m = m0; y < y1 || (y === y1 && m <= m1); ) {
      out.push({ dim: monthlyDim(dim), key: `${y}-${String(m).padStart(2, '0')}` });
      if (m === 12) {
        y += 1;
        m = 1;
      } else m += 1;
    }
  }
  return out;
}

function rank(rows: TopRow[], limit: number): TopRow[] {
  return rows
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, limit);
}

/** Exact totals of the given values over the blocks, read by key ((dim, day, value) seeks). */
async function exactTotals(db: Kysely<Database>, blocks: Block[], values: string[]): Promise<Map<string, number>> {
  const totals = new Map<string, number>(values.map((v) => [v, 0]));
  const byDim = new Map<string, string[]>();
  for (const b of blocks) byDim.set(b.dim, [...(byDim.get(b.dim) ?? []), b.key]);
  for (const [dim, keys] of byDim) {
    const rows = await db
      .selectFrom('web_rollup_daily')
      .select(['value', (eb) => eb.fn.sum<number>('n').as('total')])
      .where('dim', '=', dim)
      .where('day', 'in', keys)
      .where('value', 'in', values)
      .groupBy('value')
      .execute();
    for (const r of rows) totals.set(r.value, (totals.get(r.value) ?? 0) + Number(r.total));
  }
  return totals;
}

/** The roll-up rows of a dimension covering a range (daily rows at the ends, monthly in between). */
export function rollupRange(db: Kysely<Database>, dim: RollupDim, r: Range) {
  const parts = rangeParts(r);
  return db
    .selectFrom('web_rollup_daily')
    .where((eb) =>
      eb.or([
        ...parts.days.map(([a, b]) => eb.and([eb('dim', '=', dim), eb('day', '>=', a), eb('day', '<=', b)])),
        ...(parts.months
          ? [
              eb.and([
                eb('dim', '=', monthlyDim(dim)),
                eb('day', '>=', parts.months[0]),
                eb('day', '<=', parts.months[1]),
              ]),
            ]
          : []),
      ]),
    );
}

/** The reference: sums every value of every block (what a plain `group by` does). */
export async function topValuesBySum(db: Kysely<Database>, dim: RollupDim, r: Range, limit = 10): Promise<TopRow[]> {
  const rows = await rollupRange(db, dim, r)
    .select(['value', (eb) => eb.fn.sum<number>('n').as('total')])
    .where('value', '!=', UNKNOWN)
    .groupBy('value')
    .orderBy('total', 'desc')
    .orderBy('value')
    .limit(limit)
    .execute();
  return rows.map((x) => ({ value: x.value, n: Number(x.total) })).filter((x) => x.n > 0);
}

/** How an answer was found: the depth read per block and the values read by key, or the plain sum. */
export type TopPlan =
  | { kind: 'threshold'; blocks: number; depth: number; survivors: number }
  | { kind: 'sum'; blocks: number };

/** The most reported values of one dimension in the range (unknown excluded), exact. */
export async function topValues(
  db: Kysely<Database>,
  dim: RollupDim,
  r: Range,
  limit = 10,
  onPlan?: (p: TopPlan) => void,
): Promise<TopRow[]> {
  const blocks = blocksOf(dim, r);
  if (limit > MAX_THRESHOLD_LIMIT) {
    onPlan?.({ kind: 'sum', blocks: blocks.length });
    return topValuesBySum(db, dim, r, limit);
  }
  for (let depth = Math.max(MIN_DEPTH, 4 * limit); depth <= MAX_DEPTH; depth *= 2) {
    // Sorted access: each block's top `depth` values by count.
    const lists: TopRow[][] = [];
    for (const b of blocks) {
      const rows = await db
        .selectFrom('web_rollup_daily')
        .select(['value', 'n'])
        .where('dim', '=', b.dim)
        .where('day', '=', b.key)
        .where('n', '>', 0)
        .where('value', '!=', UNKNOWN)
        .orderBy('n', 'desc')
        .orderBy('value', 'desc')
        .limit(depth)
        .execute();
      lists.push(rows.map((x) => ({ value: x.value, n: Number(x.n) })));
    }
    const last = lists.map((l) => (l.length < depth ? 0 : l[l.length - 1].n));
    const threshold = last.reduce((a, b) => a + b, 0);
    const seen = new Map<string, { lower: number; lastSeen: number }>();
    lists.forEach((list, i) => {
      for (const x of list) {
        const s = seen.get(x.value) ?? { lower: 0, lastSeen: 0 };
        s.lower += x.n;
        s.lastSeen += last[i];
        seen.set(x.value, s);
      }
    });
    // Every block read to its end: the lower bounds are the totals.
    if (threshold === 0) {
      onPlan?.({ kind: 'threshold', blocks: blocks.length, depth, survivors: 0 });
      return rank(
        [...seen].map(([value, s]) => ({ value, n: s.lower })),
        limit,
      );
    }
    const lowers = [...seen.values()].map((s) => s.lower).sort((a, b) => b - a);
    const kth = lowers.length >= limit ? lowers[limit - 1] : 0;
    // An unseen value could still tie with or beat the k-th: read deeper.
    if (kth <= threshold) continue;
    const survivors = [...seen].filter(([, s]) => s.lower + (threshold - s.lastSeen) >= kth).map(([v]) => v);
    if (survivors.length > MAX_SURVIVORS) continue;
    const totals = await exactTotals(db, blocks, survivors);
    onPlan?.({ kind: 'threshold', blocks: blocks.length, depth, survivors: survivors.length });
    return rank(
      [...totals].map(([value, n]) => ({ value, n })),
      limit,
    );
  }
  onPlan?.({ kind: 'sum', blocks: blocks.length });
  return topValuesBySum(db, dim, r, limit);
}
