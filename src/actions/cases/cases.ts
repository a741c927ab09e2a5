/**
 * Cases: the evidence gathered against one target (a campaign, a sender domain, an advertised
 * domain, an origin network). Repository functions over `action_cases`, `action_case_reports`
 * and `action_case_events`; every change writes an event, so the history is complete.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { AppError } from '../../core/errors.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { TARGET_KINDS, type TargetKind } from '../action-policy.ts';
import type { CaseRow } from '../../db/actions-tables.ts';
import { tallyCaseReports } from './case-tally.ts';

/**
 * `needs_review`: held by the gates (gates.ts) before an automatic referral; reports still join
 * it, and an analyst refers or closes it by hand.
 */
export const CASE_STATES = ['open', 'needs_review', 'referred', 'closed', 'merged'] as const;
export type CaseState = (typeof CASE_STATES)[number];
/** States in which a case still gathers the reports of its target. */
export const LIVE_CASE_STATES: readonly CaseState[] = ['open', 'needs_review', 'referred'];

export function isTargetKind(v: string): v is TargetKind {
  return (TARGET_KINDS as readonly string[]).includes(v);
}

/** Appends one event to a case's history. */
export async function addCaseEvent(
  db: Kysely<Database>,
  caseId: string,
  actor: string,
  kind: string,
  detail: Record<string, unknown> | null = null,
): Promise<void> {
  await db
    .insertInto('action_case_events')
    .values({ id: newId(), case_id: caseId, at: nowIso(), actor, kind, detail: detail ? JSON.stringify(detail) : null })
    .execute();
}

export interface OpenCaseInput {
  targetKind: TargetKind;
  targetValue: string;
  title: string;
  category: string | null;
  openedBy: string;
  detail?: Record<string, unknown>;
}

export async function openCase(db: Kysely<Database>, input: OpenCaseInput): Promise<CaseRow> {
  const now = nowIso();
  const row: CaseRow = {
    id: newId(),
    target_kind: input.targetKind,
    target_value: input.targetValue.slice(0, 300),
    title: input.title.slice(0, 500),
    category: input.category,
    state: 'open',
    merged_into: null,
    opened_by: input.openedBy,
    created_at: now,
    updated_at: now,
  };
  await db.insertInto('action_cases').values(row).execute();
  await addCaseEvent(db, row.id, input.openedBy, 'opened', {
    target: `${input.targetKind}:${input.targetValue}`,
    category: input.category,
    ...input.detail,
  });
  return row;
}

/** The live (open or referred) case against a target, if any. */
export async function findLiveCase(
  db: Kysely<Database>,
  kind: TargetKind,
  value: string,
): Promise<CaseRow | undefined> {
  return db
    .selectFrom('action_cases')
    .selectAll()
    .where('target_kind', '=', kind)
    .where('target_value', '=', value)
    .where('state', 'in', LIVE_CASE_STATES)
    .orderBy('created_at')
    .executeTakeFirst();
}

export async function getCase(db: Kysely<Database>, id: string): Promise<CaseRow> {
  const row = await db.selectFrom('action_cases').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new AppError('NOT_FOUND', `No case ${id}.`);
  return row;
}

/** Most ids put in one `IN (…)` list (SQLite and PostgreSQL bind-parameter limits are far above). */
const ID_CHUNK = 1000;

/** Adds reports to a case (already present ones are skipped); returns how many were new. */
export async function addReportsToCase(
  db: Kysely<Database>,
  caseId: string,
  reports: { reportId: string; sha256: string }[],
  actor: string,
): Promise<number> {
  if (reports.length === 0) return 0;
  const existing = new Set<string>();
  for (let i = 0; i < reports.length; i += ID_CHUNK) {
    const rows = await db
      .selectFrom('action_case_reports')
      .select('report_id')
      .where('case_id', '=', caseId)
      .where(
        'report_id',
        'in',
        reports.slice(i, i + ID_CHUNK).map((r) => r.reportId),
      )
      .execute();
    for (const r of rows) existing.add(r.report_id);
  }
  const seen = new Set<string>();
  const fresh = reports.filter((r) => {
    if (existing.has(r.reportId) || seen.has(r.reportId)) return false;
    seen.add(r.reportId);
    return true;
  });
  if (fresh.length === 0) return 0;
  const now = nowIso();
  for (let i = 0; i < fresh.length; i += 500) {
    const chunk = fresh.slice(i, i + 500);
    // Each report's reception time goes with it: the case timeline reads it from this table.
    const received = new Map(
      (
        await db
          .selectFrom('reports')
          .select(['id', 'received_at'])
          .where(
            'id',
            'in',
            chunk.map((r) => r.reportId),
          )
          .execute()
      ).map((r) => [r.id, r.received_at]),
    );
    await db
      .insertInto('action_case_reports')
      .values(
        chunk.map((r) => ({
          case_id: caseId,
          report_id: r.reportId,
          message_sha256: r.sha256,
          added_at: now,
          received_at: received.get(r.reportId) ?? null,
        })),
      )
      .execute();
    await tallyCaseReports(
      db,
      caseId,
      chunk.map((r) => ({ reportId: r.reportId, receivedAt: received.get(r.reportId) ?? null })),
      1,
    );
  }
  await db.updateTable('action_cases').set({ updated_at: now }).where('id', '=', caseId).execute();
  await addCaseEvent(db, caseId, actor, 'reports-added', {
    count: fresh.length,
    reportIds: fresh.slice(0, 20).map((r) => r.reportId),
  });
  return fresh.length;
}

/**
 * Takes reports out of a case (an analyst's decision: they do not belong to this operation);
 * returns how many were in it. A merged case is frozen. Packages already sent keep what they
 * held; the history says what was removed, by whom and why.
 */
export async function removeReportsFromCase(
  db: Kysely<Database>,
  caseId: string,
  reportIds: string[],
  actor: string,
  note: string | null = null,
): Promise<number> {
  const c = await getCase(db, caseId);
  if (c.state === 'merged') throw new AppError('CONFLICT', `Case ${caseId} was merged into ${c.merged_into}.`);
  const ids = [...new Set(reportIds)];
  const removed: string[] = [];
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const chunk = ids.slice(i, i + ID_CHUNK);
    const present = await db
      .selectFrom('action_case_reports')
      .select(['report_id', 'received_at'])
      .where('case_id', '=', caseId)
      .where('report_id', 'in', chunk)
      .execute();
    if (present.length === 0) continue;
    const gone = present.map((r) => r.report_id);
    await db.deleteFrom('action_case_reports').where('case_id', '=', caseId).where('report_id', 'in', gone).execute();
    await tallyCaseReports(
      db,
      caseId,
      present.map((r) => ({ reportId: r.report_id, receivedAt: r.received_at })),
      -1,
    );
    removed.push(...gone);
  }
  if (removed.length === 0) return 0;
  await db.updateTable('action_cases').set({ updated_at: nowIso() }).where('id', '=', caseId).execute();
  await addCaseEvent(db, caseId, actor, 'reports-removed', {
    count: removed.length,
    reportIds: removed.slice(0, 20),
    note: note?.slice(0, 10_000) ?? null,
  });
  return removed.length;
}

export async function annotateCase(db: Kysely<Database>, caseId: string, actor: string, note: string): Promise<void> {
  await getCase(db, caseId);
  await addCaseEvent(db, caseId, actor, 'annotated', { note: note.slice(0, 10_000) });
  await db.updateTable('action_cases').set({ updated_at: nowIso() }).where('id', '=', caseId).execute();
}

export async function setCaseState(
  db: Kysely<Database>,
  caseId: string,
  state: CaseState,
  actor: string,
  detail: Record<string, unknown> | null = null,
): Promise<void> {
  const c = await getCase(db, caseId);
  if (c.state === state) return;
  await db.updateTable('action_cases').set({ state, updated_at: nowIso() }).where('id', '=', caseId).execute();
  await addCaseEvent(db, caseId, actor, `state:${state}`, { from: c.state, ...detail });
}

/** Moves the reports of `fromIds` into `intoId`; the others become `merged` and point at it. */
export async function mergeCases(
  db: Kysely<Database>,
  intoId: string,
  fromIds: string[],
  actor: string,
): Promise<number> {
  const into = await getCase(db, intoId);
  if (into.state === 'merged')
    throw new AppError('CONFLICT', `Case ${intoId} was itself merged into ${into.merged_into}.`);
  let moved = 0;
  for (const fromId of fromIds) {
    if (fromId === intoId) continue;
    const from = await getCase(db, fromId);
    if (from.state === 'merged') throw new AppError('CONFLICT', `Case ${fromId} is already merged.`);
    const reports = await db
      .selectFrom('action_case_reports')
      .select(['report_id', 'message_sha256'])
      .where('case_id', '=', fromId)
      .execute();
    moved += await addReportsToCase(
      db,
      intoId,
      reports.map((r) => ({ reportId: r.report_id, sha256: r.message_sha256 })),
      actor,
    );
    await db
      .updateTable('action_cases')
      .set({ state: 'merged', merged_into: intoId, updated_at: nowIso() })
      .where('id', '=', fromId)
      .execute();
    await addCaseEvent(db, fromId, actor, 'merged', { into: intoId });
    await addCaseEvent(db, intoId, actor, 'merged-in', {
      from: fromId,
      target: `${from.target_kind}:${from.target_value}`,
    });
  }
  return moved;
}

export interface CaseListItem extends CaseRow {
  report_count: number;
}

export async function caseHistory(db: Kysely<Database>, caseId: string) {
  const rows = await db
    .selectFrom('action_case_events')
    .selectAll()
    .where('case_id', '=', caseId)
    .orderBy('at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: r.actor,
    kind: r.kind,
    detail: r.detail ? (JSON.parse(r.detail) as unknown) : null,
  }));
}

export async function caseReports(db: Kysely<Database>, caseId: string) {
  return db
    .selectFrom('action_case_reports as cr')
    .innerJoin('reports as r', 'r.id', 'cr.report_id')
    .select([
      'cr.report_id',
      'cr.message_sha256',
      'cr.added_at',
      'r.received_at',
      'r.channel',
      'r.reporter_address',
      'r.reporter_user_id',
      'r.context',
    ])
    .where('cr.case_id', '=', caseId)
    .orderBy('r.received_at')
    .execute();
}
