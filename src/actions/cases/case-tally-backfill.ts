/**
 * Tallies the cases opened before migration 0180 (or whose tally retention dropped) in the
 * background, so that no page view pays for it (a case of 145,000 reports took tens of seconds to
 * tally on its first view). Each step is one short transaction over at most `reportsPerStep` of a
 * case's reports, in report-id order:
 *
 * 1. the first step writes a `build` row (cursor '', running count 0);
 * 2. each step counts the next reports after the cursor and moves the cursor to the last one;
 * 3. the step that finds no more reports writes the `total` row and drops the `build` row: only
 *    then do the readers (`case-view.ts`) see the tally as built.
 *
 * Reports joining, leaving or re-analysed in that case meanwhile are counted by `case-tally.ts`
 * when their id is at or before the cursor and by a later step otherwise; the case's tally lock
 * (PostgreSQL advisory lock; SQLite writers run one at a time) makes the two take turns. The work
 * resumes where it stopped after a restart: the cursor is in the database.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ActionCaseTalliesTable } from '../../db/actions-tables.ts';
import {
  addToTally,
  applyBuildingDelta,
  BUILD_KIND,
  caseReportFacts,
  lockCaseTally,
  tallyState,
} from './case-tally.ts';

/** Reports counted per transaction by default (a step takes tens of milliseconds on either database). */
export const BACKFILL_REPORTS_PER_STEP = 5000;

export interface BackfillOptions {
  /** Most reports one transaction counts. */
  reportsPerStep?: number;
  /** Most steps this call runs (the service runs a few per tick to yield between them); unbounded by default. */
  maxSteps?: number;
  /** Stops between steps when aborted (service shutdown). */
  signal?: AbortSignal;
}

export interface BackfillResult {
  /** Cases whose tally this call finished. */
  casesBuilt: number;
  /** Transactions run. */
  steps: number;
  /** Reports counted. */
  reports: number;
  /** True when no case is left without a tally. */
  done: boolean;
}

/** The next case without a built tally (those already being built first, so a restart resumes them). */
async function nextUntallied(db: Kysely<Database>): Promise<string | null> {
  const building = await db
    .selectFrom('action_case_tallies')
    .select('case_id')
    .where('kind', '=', BUILD_KIND)
    .orderBy('case_id')
    .limit(1)
    .executeTakeFirst();
  if (building) return building.case_id;
  const row = await db
    .selectFrom('action_cases as c')
    .select('c.id')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('action_case_tallies as t')
            .select('t.case_id')
            .whereRef('t.case_id', '=', 'c.id')
            .where('t.kind', '=', 'total')
            .where('t.value', '=', ''),
        ),
      ),
    )
    .orderBy('c.id')
    .limit(1)
    .executeTakeFirst();
  return row?.id ?? null;
}

/**
 * One step of one case's build, in its own transaction: returns how many reports it counted and
 * whether the case's tally is now built.
 */
export async function backfillStep(
  db: Kysely<Database>,
  caseId: string,
  reportsPerStep: number,
): Promise<{ reports: number; built: boolean }> {
  return db.transaction().execute(async (trx) => {
    await lockCaseTally(trx, caseId);
    const state = await tallyState(trx, caseId);
    if (state.kind === 'built') return { reports: 0, built: true };
    if (state.kind === 'none')
      await trx
        .insertInto('action_case_tallies')
        .values({ case_id: caseId, kind: BUILD_KIND, value: '', reports: 0, asn: null, as_name: null, country: null })
        .execute();
    const cursor = state.kind === 'building' ? state.cursor : '';
    const rows = await caseReportFacts(trx, caseId)
      .where('cr.report_id', '>', cursor)
      .orderBy('cr.report_id')
      .limit(reportsPerStep)
      .execute();
    if (rows.length > 0) {
      const delta = new Map<string, ActionCaseTalliesTable>();
      addToTally(
        delta,
        caseId,
        rows.map((r) => ({ receivedAt: r.received_at, facts: r.fact_id === null ? null : r })),
        1,
      );
      await applyBuildingDelta(trx, caseId, delta, rows[rows.length - 1].report_id);
    }
    if (rows.length === reportsPerStep) return { reports: rows.length, built: false };
    // No report after the cursor: the running count becomes the `total` row, and readers see a built tally.
    const finished = await tallyState(trx, caseId);
    const total = finished.kind === 'building' ? finished.total : 0;
    await trx.deleteFrom('action_case_tallies').where('case_id', '=', caseId).where('kind', '=', BUILD_KIND).execute();
    await trx
      .insertInto('action_case_tallies')
      .values({ case_id: caseId, kind: 'total', value: '', reports: total, asn: null, as_name: null, country: null })
      .execute();
    return { reports: rows.length, built: true };
  });
}

/**
 * Tallies every case that has no tally yet, one bounded transaction at a time; stops after
 * `maxSteps` steps or when aborted, to be called again (it resumes from the stored cursor).
 */
export async function backfillCaseTallies(db: Kysely<Database>, opts: BackfillOptions = {}): Promise<BackfillResult> {
  const perStep = Math.max(1, Math.floor(opts.reportsPerStep ?? BACKFILL_REPORTS_PER_STEP));
  const out: BackfillResult = { casesBuilt: 0, steps: 0, reports: 0, done: false };
  while (opts.maxSteps === undefined || out.steps < opts.maxSteps) {
    if (opts.signal?.aborted) return out;
    const caseId = await nextUntallied(db);
    if (caseId === null) {
      out.done = true;
      return out;
    }
    const step = await backfillStep(db, caseId, perStep);
    out.steps += 1;
    out.reports += step.reports;
    if (step.built) out.casesBuilt += 1;
  }
  return out;
}
