/**
 * What a reporter is told of a case handed to a partner authority: the latest status the partner
 * sent about a referral of a case holding the report, in plain words. This returns the message
 * key (an `exchange.*` key of src/web/locales/en.ts and fr.ts) and its parameters; the tracking
 * page translates it. Nothing the partner typed (its note, its question) is shown to reporters:
 * only the status, the outcome and the partner's name and country.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { CloseOutcome, ExchangeStatus } from './status.ts';

export interface ReporterOutcome {
  status: ExchangeStatus;
  outcome: CloseOutcome | null;
  /** When the partner sent it. */
  at: string;
  /** An `exchange.` locale key, and its parameters. */
  key: string;
  params: { partner: string; country: string };
}

/** The latest partner status about any case holding this report, or null. */
export async function reporterExchangeOutcome(db: Kysely<Database>, reportId: string): Promise<ReporterOutcome | null> {
  const row = await db
    .selectFrom('action_case_reports as cr')
    .innerJoin('action_exchange_messages as m', 'm.case_id', 'cr.case_id')
    .innerJoin('action_partners as p', 'p.id', 'm.partner_id')
    .select(['m.status', 'm.body', 'm.created_at', 'p.name', 'p.country'])
    .where('cr.report_id', '=', reportId)
    .where('m.direction', '=', 'in')
    .orderBy('m.created_at', 'desc')
    .orderBy('m.id', 'desc')
    .executeTakeFirst();
  if (!row) return null;
  const msg = JSON.parse(row.body) as { outcome?: CloseOutcome; sentAt?: string };
  const status = row.status as ExchangeStatus;
  const outcome = status === 'closed' ? (msg.outcome ?? null) : null;
  return {
    status,
    outcome,
    at: msg.sentAt ?? row.created_at,
    key: outcome ? `exchange.outcome.${outcome}` : `exchange.status.${status}`,
    params: { partner: row.name, country: row.country },
  };
}
