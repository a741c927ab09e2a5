/**
 * A case's counts kept as its reports join and leave it (`action_case_tallies`, migration 0180), so
 * the case page reads a few rows per case instead of grouping every report: its total, reports
 * per day, and the indicators and origins of its report facts. The tally of a case always equals
 * what grouping its reports now would give (`computeCaseTally`, which tests compare it with):
 * - reports joining or leaving a case add or take off their facts (`tallyCaseReports`);
 * - a report re-analysed moves its counts from its old facts to its new ones (`retallyFacts`);
 * - retention, which deletes reports in bulk, drops the tallies of the cases it touched, and a
 *   tally missing its `total` row is rebuilt from the reports when next read (`ensureCaseTally`);
 * - cases opened before 0180 are tallied in steps by a background job (`case-tally-backfill.ts`):
 *   while a `build` row marks a tally being built up to a report id, changes to reports up to that
 *   id are counted here, later ones by the job's next step (both under the case's tally lock).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ActionCaseTalliesTable } from '../../db/actions-tables.ts';
import { LOCK_CLASS, lockNames } from '../../db/xact-locks.ts';

/** The kinds of value a case tallies; `total` (value '') marks a built tally. */
export const TALLY_KINDS = ['total', 'day', 'sender', 'advertised', 'asn', 'country', 'ip'] as const;
export type TallyKind = (typeof TALLY_KINDS)[number];

/** The fact columns a tally counts. */
export interface TallyFacts {
  origin_ip: string | null;
  origin_asn: number | null;
  origin_as_name: string | null;
  origin_country: string | null;
  sender_domain: string | null;
  advertised_domains: string | null;
}

/** One report as the tally sees it: its reception time (as the case row holds it) and its facts. */
export interface TalliedReport {
  receivedAt: string | null;
  facts: TallyFacts | null;
}

type TallyRow = ActionCaseTalliesTable;

/**
 * The row marking a tally being built in steps: its `value` is the last report id counted ('' before
 * the first step), its `reports` the running count the `total` row will start from.
 */
export const BUILD_KIND = 'build';

/** Where a case's tally stands: built (`total` row), being built up to a report id, or neither. */
export type TallyState = { kind: 'built' } | { kind: 'building'; cursor: string; total: number } | { kind: 'none' };

/** Reads where a case's tally stands. Call it after {@link lockCaseTally} to act on the answer. */
export async function tallyState(db: Kysely<Database>, caseId: string): Promise<TallyState> {
  const rows = await db
    .selectFrom('action_case_tallies')
    .select(['kind', 'value', 'reports'])
    .where('case_id', '=', caseId)
    .where('kind', 'in', ['total', BUILD_KIND])
    .execute();
  if (rows.some((r) => r.kind === 'total' && r.value === '')) return { kind: 'built' };
  const b = rows.find((r) => r.kind === BUILD_KIND);
  return b ? { kind: 'building', cursor: b.value, total: Number(b.reports) } : { kind: 'none' };
}

/** Serialises the steps of a tally build with the changes to that case (PostgreSQL; SQLite writers are serial). */
export function lockCaseTally(db: Kysely<Database>, caseId: string): Promise<void> {
  return lockNames(db, LOCK_CLASS.caseTally, [caseId]);
}

/**
 * Applies a difference to a tally being built: its `total` goes to the build row's running count
 * (the `total` row is written only when the build ends, so a half-built tally is never read).
 */
export async function applyBuildingDelta(
  db: Kysely<Database>,
  caseId: string,
  delta: Map<string, TallyRow>,
  cursor?: string,
): Promise<void> {
  const totalKey = 'total\u0000';
  const n = delta.get(totalKey)?.reports ?? 0;
  delta.delete(totalKey);
  await applyDelta(db, delta);
  if (n !== 0 || cursor !== undefined)
    await db
      .updateTable('action_case_tallies')
      .set((eb) => ({ reports: eb('reports', '+', n), ...(cursor !== undefined ? { value: cursor } : {}) }))
      .where('case_id', '=', caseId)
      .where('kind', '=', BUILD_KIND)
      .execute();
}

/** Ids per `IN (…)` list and rows per multi-row insert (well under both engines' bind limits). */
const CHUNK = 500;

function advertisedList(json: string | null): string[] {
  if (!json) return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? [...new Set(v.filter((x): x is string => typeof x === 'string'))] : [];
  } catch {
    return [];
  }
}

/** Adds `sign` × each report's values to `into`, keyed by kind and value. */
export function addToTally(into: Map<string, TallyRow>, caseId: string, reports: TalliedReport[], sign: 1 | -1): void {
  const bump = (kind: TallyKind, value: string, extra: Partial<TallyRow> = {}): void => {
    const key = `${kind}\u0000${value}`;
    let row = into.get(key);
    if (!row) {
      row = { case_id: caseId, kind, value, reports: 0, asn: null, as_name: null, country: null, ...extra };
      into.set(key, row);
    }
    row.reports += sign;
    row.as_name ??= extra.as_name ?? null;
  };
  for (const r of reports) {
    if (r.receivedAt) {
      bump('total', '');
      bump('day', r.receivedAt.slice(0, 10));
    }
    const f = r.facts;
    if (!f) continue;
    if (f.sender_domain) bump('sender', f.sender_domain);
    for (const d of advertisedList(f.advertised_domains)) bump('advertised', d);
    const asn = f.origin_asn === null ? null : Number(f.origin_asn);
    if (asn !== null) bump('asn', String(asn), { as_name: f.origin_as_name });
    if (f.origin_country) bump('country', f.origin_country);
    if (f.origin_ip) bump('ip', f.origin_ip, { asn, as_name: f.origin_as_name, country: f.origin_country });
  }
}

/** Writes a difference into the stored tally (upsert by sum); rows that fall to zero go. */
async function applyDelta(db: Kysely<Database>, delta: Map<string, TallyRow>): Promise<void> {
  const rows = [...delta.values()].filter((r) => r.reports !== 0);
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db
      .insertInto('action_case_tallies')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) =>
        oc.columns(['case_id', 'kind', 'value']).doUpdateSet((eb) => ({
          reports: eb('action_case_tallies.reports', '+', eb.ref('excluded.reports')),
          as_name: eb.fn.coalesce('action_case_tallies.as_name', 'excluded.as_name'),
        })),
      )
      .execute();
  }
  if (rows.some((r) => r.reports < 0)) {
    const cases = [...new Set(rows.map((r) => r.case_id))];
    await db
      .deleteFrom('action_case_tallies')
      .where('case_id', 'in', cases)
      .where('reports', '<=', 0)
      .where('kind', 'not in', ['total', BUILD_KIND])
      .execute();
  }
}

async function factsOf(db: Kysely<Database>, reportIds: readonly string[]): Promise<Map<string, TallyFacts>> {
  const out = new Map<string, TallyFacts>();
  for (let i = 0; i < reportIds.length; i += CHUNK) {
    const rows = await db
      .selectFrom('action_report_facts')
      .select([
        'report_id',
        'origin_ip',
        'origin_asn',
        'origin_as_name',
        'origin_country',
        'sender_domain',
        'advertised_domains',
      ])
      .where('report_id', 'in', reportIds.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) out.set(r.report_id, r);
  }
  return out;
}

async function hasTally(db: Kysely<Database>, caseId: string): Promise<boolean> {
  const row = await db
    .selectFrom('action_case_tallies')
    .select('reports')
    .where('case_id', '=', caseId)
    .where('kind', '=', 'total')
    .where('value', '=', '')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Counts reports that joined (`sign` 1) or left (-1) a case, with their reception times as the
 * case rows hold them. A case without a built tally is left alone: it is rebuilt when read.
 */
export async function tallyCaseReports(
  db: Kysely<Database>,
  caseId: string,
  reports: readonly { reportId: string; receivedAt: string | null }[],
  sign: 1 | -1,
): Promise<void> {
  if (reports.length === 0) return;
  let counted = reports;
  let building = false;
  if (!(await hasTally(db, caseId))) {
    await lockCaseTally(db, caseId);
    const state = await tallyState(db, caseId);
    if (state.kind === 'building') {
      // Reports past the build's cursor are counted by its next step. Report ids are ASCII (ULIDs):
      // JavaScript's order is the byte order of the backfill's keyset here.
      counted = reports.filter((r) => r.reportId <= state.cursor);
      building = true;
    } else if (state.kind === 'none') {
      if (sign < 0) return;
      // A case holding only these reports (a new one) starts its tally here; an older one (opened
      // before 0180, or whose tally retention dropped) is built by the backfill or when first read.
      const held = await db
        .selectFrom('action_case_reports')
        .select('report_id')
        .where('case_id', '=', caseId)
        .limit(reports.length + 1)
        .execute();
      if (held.length > reports.length) return;
      await db
        .insertInto('action_case_tallies')
        .values(emptyTotal(caseId))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }
  const facts = await factsOf(
    db,
    counted.map((r) => r.reportId),
  );
  const delta = new Map<string, TallyRow>();
  addToTally(
    delta,
    caseId,
    counted.map((r) => ({ receivedAt: r.receivedAt, facts: facts.get(r.reportId) ?? null })),
    sign,
  );
  if (building) await applyBuildingDelta(db, caseId, delta);
  else await applyDelta(db, delta);
}

function emptyTotal(caseId: string): TallyRow {
  return { case_id: caseId, kind: 'total', value: '', reports: 0, asn: null, as_name: null, country: null };
}

/**
 * A report's facts changed (re-analysis) or arrived after it joined a case: every case it belongs
 * to moves its counts from `before` (null when it had none) to `after`.
 */
export async function retallyFacts(
  db: Kysely<Database>,
  reportId: string,
  before: TallyFacts | null,
  after: TallyFacts,
): Promise<void> {
  const cases = await db
    .selectFrom('action_case_reports')
    .select('case_id')
    .where('report_id', '=', reportId)
    .execute();
  for (const { case_id } of cases) {
    if (!(await hasTally(db, case_id))) {
      // Not built: left to the backfill or the first read, unless a build has counted this report.
      await lockCaseTally(db, case_id);
      const state = await tallyState(db, case_id);
      if (state.kind === 'none' || (state.kind === 'building' && reportId > state.cursor)) continue;
    }
    const delta = new Map<string, TallyRow>();
    if (before) addToTally(delta, case_id, [{ receivedAt: null, facts: before }], -1);
    addToTally(delta, case_id, [{ receivedAt: null, facts: after }], 1);
    await applyDelta(db, delta);
  }
}

/** A case's reports with the facts a tally counts (no facts yet: `fact_id` null). */
export function caseReportFacts(db: Kysely<Database>, caseId: string) {
  return db
    .selectFrom('action_case_reports as cr')
    .leftJoin('action_report_facts as f', 'f.report_id', 'cr.report_id')
    .select([
      'cr.report_id',
      'cr.received_at',
      'f.report_id as fact_id',
      'f.origin_ip',
      'f.origin_asn',
      'f.origin_as_name',
      'f.origin_country',
      'f.sender_domain',
      'f.advertised_domains',
    ])
    .where('cr.case_id', '=', caseId);
}

/** What grouping a case's reports gives now: the reference the kept tally must equal. */
export async function computeCaseTally(db: Kysely<Database>, caseId: string): Promise<Map<string, TallyRow>> {
  const rows = await caseReportFacts(db, caseId).orderBy('cr.received_at').orderBy('cr.report_id').execute();
  const out = new Map<string, TallyRow>([['total\u0000', emptyTotal(caseId)]]);
  addToTally(
    out,
    caseId,
    rows.map((r) => ({ receivedAt: r.received_at, facts: r.fact_id === null ? null : r })),
    1,
  );
  return out;
}

/** Replaces a case's stored tally with one computed from its reports. */
export async function rebuildCaseTally(db: Kysely<Database>, caseId: string): Promise<void> {
  const run = async (trx: Kysely<Database>): Promise<void> => {
    // A backfill step of this case waits, then finds the tally built and stops.
    await lockCaseTally(trx, caseId);
    const fresh = await computeCaseTally(trx, caseId);
    await trx.deleteFrom('action_case_tallies').where('case_id', '=', caseId).execute();
    const rows = [...fresh.values()].filter((r) => r.reports > 0 || r.kind === 'total');
    for (let i = 0; i < rows.length; i += CHUNK) {
      await trx
        .insertInto('action_case_tallies')
        .values(rows.slice(i, i + CHUNK))
        .execute();
    }
  };
  if (db.isTransaction) await run(db);
  else await db.transaction().execute(run);
}

/** Builds a case's tally if it has none yet (a case from before 0180, or one retention touched). */
export async function ensureCaseTally(db: Kysely<Database>, caseId: string): Promise<void> {
  if (!(await hasTally(db, caseId))) await rebuildCaseTally(db, caseId);
}
