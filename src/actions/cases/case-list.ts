/**
 * The case list as every client reads it (web, API, CLI): filters on state, target, category,
 * opening rule, authority and period, newest first, and keyset paging by id (ids are ULIDs, so
 * id order is creation order). A page ends with the cursor of the next one: nothing is ever cut
 * off silently. Authorities are scoped in SQL to the cases referred to them.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/schema.ts';
import { TARGET_KINDS } from '../action-policy.ts';
import { CASE_STATES, type CaseListItem } from './cases.ts';

/** Rows per page unless asked otherwise, and the most one page returns. */
export const CASE_PAGE_SIZE = 50;
export const MAX_CASE_PAGE = 1000;

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day, YYYY-MM-DD');
/** Ids and cursors are ULIDs (or, for old rows, other short ids): printable, no spaces. */
const idLike = z.string().regex(/^[0-9A-Za-z_-]{1,40}$/, 'an id');

/** The filters of a case list; empty strings (a form's blank fields) mean "any". */
export const CaseFilter = z.object({
  state: z.preprocess((v) => (v === '' ? undefined : v), z.enum(CASE_STATES).optional()),
  targetKind: z.preprocess((v) => (v === '' ? undefined : v), z.enum(TARGET_KINDS).optional()),
  target: z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().min(1).max(300).optional()),
  category: z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().min(1).max(64).optional()),
  /** The rule that opened the case (`CAMPAIGN_VOLUME`), or `manual` for cases opened by hand. */
  rule: z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().min(1).max(100).optional()),
  authority: z.preprocess((v) => (v === '' ? undefined : v), idLike.optional()),
  from: z.preprocess((v) => (v === '' ? undefined : v), day.optional()),
  to: z.preprocess((v) => (v === '' ? undefined : v), day.optional()),
});
export type CaseFilter = z.infer<typeof CaseFilter>;

/** Paging parameters: `cursor` (the id the previous page ended before) and `limit`. */
export const CasePaging = z.object({
  cursor: z.preprocess((v) => (v === '' ? undefined : v), idLike.optional()),
  limit: z.coerce.number().int().min(1).max(MAX_CASE_PAGE).optional(),
});

export interface CasePage {
  cases: CaseListItem[];
  /** Cursor of the next page, or null on the last one. */
  next: string | null;
}

function nextDay(d: string): string {
  const t = new Date(`${d}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + 1);
  return t.toISOString().slice(0, 10);
}

/**
 * One page of cases matching the filters. `authorityIds` (null: staff, everything) keeps only the
 * cases referred to those authorities.
 */
export async function listCasePage(
  db: Kysely<Database>,
  filter: CaseFilter,
  opts: { cursor?: string | null; limit?: number; authorityIds?: readonly string[] | null } = {},
): Promise<CasePage> {
  const limit = Math.min(Math.max(1, opts.limit ?? CASE_PAGE_SIZE), MAX_CASE_PAGE);
  let q = db
    .selectFrom('action_cases as c')
    .selectAll('c')
    // The count the case page shows (its tally's total); a case not yet tallied is counted.
    .select((eb) =>
      eb.fn
        .coalesce(
          eb
            .selectFrom('action_case_tallies as t')
            .select('t.reports')
            .whereRef('t.case_id', '=', 'c.id')
            .where('t.kind', '=', 'total')
            .where('t.value', '=', ''),
          eb
            .selectFrom('action_case_reports as r')
            .select((e) => e.fn.countAll<number>().as('n'))
            .whereRef('r.case_id', '=', 'c.id')
            .where('r.received_at', 'is not', null),
        )
        .as('report_count'),
    )
    .orderBy('c.id', 'desc')
    .limit(limit + 1);
  if (filter.state) q = q.where('c.state', '=', filter.state);
  if (filter.targetKind) q = q.where('c.target_kind', '=', filter.targetKind);
  if (filter.target) q = q.where('c.target_value', '=', filter.target);
  if (filter.category) q = q.where('c.category', '=', filter.category);
  if (filter.rule === 'manual') q = q.where('c.opened_by', 'not like', 'rule:%');
  else if (filter.rule) q = q.where('c.opened_by', '=', `rule:${filter.rule}`);
  if (filter.from) q = q.where('c.created_at', '>=', `${filter.from}T00:00:00.000Z`);
  if (filter.to) q = q.where('c.created_at', '<', `${nextDay(filter.to)}T00:00:00.000Z`);
  if (filter.authority) {
    const a = filter.authority;
    q = q.where('c.id', 'in', (eb) =>
      eb.selectFrom('action_referrals').select('case_id').where('authority_id', '=', a),
    );
  }
  if (opts.authorityIds) {
    const scope = opts.authorityIds.length > 0 ? [...opts.authorityIds] : ['-'];
    q = q.where('c.id', 'in', (eb) =>
      eb.selectFrom('action_referrals').select('case_id').where('authority_id', 'in', scope),
    );
  }
  if (opts.cursor) q = q.where('c.id', '<', opts.cursor);
  const rows = await q.execute();
  const page = rows.slice(0, limit).map((r) => ({ ...r, report_count: Number(r.report_count ?? 0) }));
  return { cases: page, next: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null };
}

/** Every case matching the filters, page after page (for exports and `cases list --all`). */
export async function* allCases(
  db: Kysely<Database>,
  filter: CaseFilter,
  authorityIds: readonly string[] | null = null,
): AsyncGenerator<CaseListItem> {
  let cursor: string | null = null;
  do {
    const page: CasePage = await listCasePage(db, filter, { cursor, limit: MAX_CASE_PAGE, authorityIds });
    yield* page.cases;
    cursor = page.next;
  } while (cursor);
}

/** How many cases are in each state (the list's tabs and the "needs review" queue's badge). */
export async function caseStateCounts(
  db: Kysely<Database>,
  authorityIds: readonly string[] | null = null,
): Promise<Record<string, number>> {
  let q = db
    .selectFrom('action_cases as c')
    .select(['c.state'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy('c.state');
  if (authorityIds) {
    const scope = authorityIds.length > 0 ? [...authorityIds] : ['-'];
    q = q.where('c.id', 'in', (eb) =>
      eb.selectFrom('action_referrals').select('case_id').where('authority_id', 'in', scope),
    );
  }
  const out: Record<string, number> = {};
  for (const r of await q.execute()) out[r.state] = Number(r.n);
  return out;
}

/** Distinct opening rules and categories seen, for the filter form's choices. */
export async function caseFilterChoices(db: Kysely<Database>): Promise<{ rules: string[]; categories: string[] }> {
  const rules = await db
    .selectFrom('action_cases')
    .select('opened_by')
    .distinct()
    .where('opened_by', 'like', 'rule:%')
    .orderBy('opened_by')
    .execute();
  const categories = await db
    .selectFrom('action_cases')
    .select('category')
    .distinct()
    .where('category', 'is not', null)
    .orderBy('category')
    .execute();
  return {
    rules: rules.map((r) => r.opened_by.slice('rule:'.length)),
    categories: categories.map((c) => c.category).filter((c): c is string => c !== null),
  };
}
