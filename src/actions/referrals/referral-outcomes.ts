/**
 * What the authorities did with the cases a report is part of, for the reporter's tracking page:
 * each answer (acknowledged, asked for more, closed) with its date, the authority's name and its
 * note redacted of every reporter of the case — the reporter learns the outcome, never anything
 * about the other reporters.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { redactorForCase } from '../redaction.ts';

export type OutcomeKind = 'acknowledged' | 'more-requested' | 'closed';
const KINDS: readonly OutcomeKind[] = ['acknowledged', 'more-requested', 'closed'];

export interface ReferralOutcome {
  authority: string;
  kind: OutcomeKind;
  at: string;
  /** The authority's note, redacted; null when it wrote none. */
  note: string | null;
}

function detailOf(json: string | null): { referralId: string | null; note: string | null } {
  if (!json) return { referralId: null, note: null };
  try {
    const v = JSON.parse(json) as Record<string, unknown>;
    return {
      referralId: typeof v.referralId === 'string' ? v.referralId : null,
      note: typeof v.note === 'string' && v.note.trim() !== '' ? v.note : null,
    };
  } catch {
    return { referralId: null, note: null };
  }
}

/** Answers of the authorities to the referrals of the cases holding this report, oldest first. */
export async function referralOutcomesOfReport(db: Kysely<Database>, reportId: string): Promise<ReferralOutcome[]> {
  const cases = (
    await db.selectFrom('action_case_reports').select('case_id').where('report_id', '=', reportId).execute()
  ).map((r) => r.case_id);
  if (cases.length === 0) return [];
  const events = await db
    .selectFrom('action_case_events')
    .select(['case_id', 'at', 'kind', 'detail'])
    .where('case_id', 'in', cases)
    .where('kind', 'in', [...KINDS])
    .orderBy('at')
    .orderBy('id')
    .execute();
  if (events.length === 0) return [];
  const details = events.map((e) => ({ ...e, ...detailOf(e.detail) }));
  const referralIds = [...new Set(details.map((d) => d.referralId).filter((x): x is string => x !== null))];
  const names = new Map(
    referralIds.length === 0
      ? []
      : (
          await db
            .selectFrom('action_referrals as r')
            .innerJoin('action_authorities as a', 'a.id', 'r.authority_id')
            .select(['r.id', 'a.name'])
            .where('r.id', 'in', referralIds)
            .execute()
        ).map((r) => [r.id, r.name]),
  );
  const redactors = new Map<string, Awaited<ReturnType<typeof redactorForCase>>>();
  const out: ReferralOutcome[] = [];
  for (const d of details) {
    const authority = d.referralId ? names.get(d.referralId) : undefined;
    if (!authority) continue;
    let redactor = redactors.get(d.case_id);
    if (!redactor) {
      redactor = await redactorForCase(db, d.case_id);
      redactors.set(d.case_id, redactor);
    }
    out.push({
      authority,
      kind: d.kind as OutcomeKind,
      at: d.at,
      note: d.note ? redactor.string(d.note) : null,
    });
  }
  return out;
}
