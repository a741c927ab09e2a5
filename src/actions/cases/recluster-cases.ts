/**
 * What a re-clustering (`spamdesk campaigns recluster`) means for the actions area: every report's
 * facts take its message's new campaign, and every live case against an old campaign follows its
 * messages — re-targeted at the new campaign that holds most of them; when they are now spread over
 * several campaigns the old one chained unrelated mail together, so the case waits in
 * `needs_review` with the split in its history: an analyst decides what goes to an authority.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { nowIso } from '../../core/ids.ts';
import { LIVE_CASE_STATES, addCaseEvent, setCaseState } from './cases.ts';

const ACTOR = 'rule:recluster';

export interface CampaignSplit {
  old: string;
  pieces: { campaignId: string; messages: number }[];
}

export interface ReclusterCasesOutcome {
  retargeted: number;
  heldForReview: number;
}

/** Follows a re-clustering: facts first, then the live campaign cases. Idempotent. */
export async function followRecluster(
  db: Kysely<Database>,
  splits: ReadonlyMap<string, CampaignSplit>,
): Promise<ReclusterCasesOutcome> {
  await sql`update action_report_facts set campaign_id = (select m.campaign_id from campaign_messages m where m.sha256 \
= action_report_facts.message_sha256)`.execute(db);
  const out: ReclusterCasesOutcome = { retargeted: 0, heldForReview: 0 };
  const cases = await db
    .selectFrom('action_cases')
    .selectAll()
    .where('target_kind', '=', 'campaign')
    .where('state', 'in', LIVE_CASE_STATES)
    .execute();
  for (const c of cases) {
    const split = splits.get(c.target_value);
    if (!split || split.pieces.length === 0) continue;
    const [main] = split.pieces;
    const total = split.pieces.reduce((n, p) => n + p.messages, 0);
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('action_cases')
        .set({ target_value: main.campaignId, updated_at: nowIso() })
        .where('id', '=', c.id)
        .execute();
      await addCaseEvent(trx, c.id, ACTOR, 'retargeted', {
        from: `campaign:${c.target_value}`,
        to: `campaign:${main.campaignId}`,
        reason: 'the campaigns were re-clustered',
      });
      if (split.pieces.length > 1) {
        const reason = `campaign ${c.target_value} was re-clustered: its ${total} messages are now in \
${split.pieces.length} campaigns (${split.pieces
          .slice(0, 10)
          .map((p) => `${p.campaignId}: ${p.messages}`)
          .join(
            ', ',
          )}${split.pieces.length > 10 ? ', …' : ''}); the case follows the largest, and its reports stay until an \
analyst decides`;
        await addCaseEvent(trx, c.id, ACTOR, 'campaign-split', { reason, pieces: split.pieces.slice(0, 100) });
        await setCaseState(trx, c.id, 'needs_review', ACTOR, { reason });
      }
    });
    out.retargeted++;
    if (split.pieces.length > 1) out.heldForReview++;
  }
  return out;
}
