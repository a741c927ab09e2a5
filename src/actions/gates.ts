/**
 * Gates before anything leaves (issue 12). A police officer, an ISP abuse desk or a court acts on
 * what Spamdesk sends, so nothing is sent automatically on evidence that is not sound:
 *
 * - a campaign case whose campaign mixes legitimate mail in (legitimate share above
 *   `gates.maxLegitimateShare`) or mixes categories (purity below `gates.minPurity`);
 * - a case none of whose reports is live (only historical imports).
 *
 * Such a case waits in the `needs_review` state with the reasons in its history; an analyst
 * refers it (or closes it) by hand. ISP alerts read the same campaign standing per report.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { ActionPolicy } from './action-policy.ts';
import type { CaseRow } from '../db/actions-tables.ts';

/** The columns of a campaign row a listing of standings reads (the intel build's sources, the held queue). */
export const STANDING_COLUMNS = [
  'id',
  'category',
  'purity',
  'legitimate_share',
  'message_count',
  'report_count',
  'first_seen_at',
  'last_seen_at',
] as const;

export interface CampaignStanding {
  root: string;
  category: string | null;
  purity: number;
  legitimateShare: number;
  messages: number;
}

/** Standing of campaigns by id (merged ids answer with their survivor's). */
export async function campaignStandings(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<Map<string, CampaignStanding>> {
  const out = new Map<string, CampaignStanding>();
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return out;
  const read = (list: string[]) =>
    db
      .selectFrom('campaigns')
      .select(['id', 'merged_into', 'category', 'purity', 'legitimate_share', 'message_count'])
      .where('id', 'in', list)
      .execute();
  const rows = [];
  for (let i = 0; i < wanted.length; i += 500) rows.push(...(await read(wanted.slice(i, i + 500))));
  const rootIds = [...new Set(rows.filter((r) => r.merged_into).map((r) => r.merged_into as string))];
  const roots = new Map(rows.filter((r) => !r.merged_into).map((r) => [r.id, r]));
  for (const r of rootIds.length ? await read(rootIds.filter((id) => !roots.has(id))) : []) roots.set(r.id, r);
  for (const r of rows) {
    const root = roots.get(r.merged_into ?? r.id);
    if (!root) continue;
    out.set(r.id, {
      root: root.id,
      category: root.category,
      purity: Number(root.purity),
      legitimateShare: Number(root.legitimate_share),
      messages: Number(root.message_count),
    });
  }
  return out;
}

/**
 * One reason a campaign's standing forbids automatic action, as figures (the workbench words it in the
 * reader's language).
 */
export type HoldReason =
  | { kind: 'legitimate-share'; share: number; max: number }
  | { kind: 'mixed'; category: string | null; purity: number; min: number };

/** Why a campaign's standing forbids automatic action, as figures (empty: it does not). */
export function campaignHoldReasons(s: CampaignStanding, policy: ActionPolicy): HoldReason[] {
  const reasons: HoldReason[] = [];
  if (s.legitimateShare > policy.gates.maxLegitimateShare)
    reasons.push({ kind: 'legitimate-share', share: s.legitimateShare, max: policy.gates.maxLegitimateShare });
  if (s.purity < policy.gates.minPurity)
    reasons.push({ kind: 'mixed', category: s.category, purity: s.purity, min: policy.gates.minPurity });
  return reasons;
}

/**
 * A hold reason's share as shown, to a tenth of a per cent, rounded away from its limit: a purity of
 * 2,000 in 2,001 reads 99.9 %, not the 100 % the policy wants; a legitimate share just over 5 % reads 5.1 %.
 */
export function shownShare(r: HoldReason): number {
  // The 1e-9 keeps a share that is a round figure in decimal (0.2, stored as 0.2000…03) where it is.
  return r.kind === 'legitimate-share'
    ? Math.ceil(r.share * 1000 - 1e-9) / 1000
    : Math.floor(r.purity * 1000 + 1e-9) / 1000;
}

/** A hold reason in words (case histories, logs, the intel build's summary, the CLI). */
export function holdReasonText(root: string, r: HoldReason): string {
  return r.kind === 'legitimate-share'
    ? `${pct(shownShare(r))} of campaign ${root}'s messages are classified legitimate (policy allows at most \
${pct(r.max)})`
    : `campaign ${root} mixes categories: its majority (${r.category ?? 'none'}) is ${pct(shownShare(r))} of its \
messages (policy requires ${pct(r.min)})`;
}

/** Why a campaign's standing forbids automatic action, in words (empty: it does not). */
export function campaignGateReasons(s: CampaignStanding, policy: ActionPolicy): string[] {
  return campaignHoldReasons(s, policy).map((r) => holdReasonText(s.root, r));
}

export interface GateVerdict {
  ok: boolean;
  reasons: string[];
}

/** Whether a case may be referred (or its referral updated) without an analyst. */
export async function caseGate(db: Kysely<Database>, c: CaseRow, policy: ActionPolicy): Promise<GateVerdict> {
  const reasons: string[] = [];
  if (c.target_kind === 'campaign') {
    const s = (await campaignStandings(db, [c.target_value])).get(c.target_value);
    if (s) reasons.push(...campaignGateReasons(s, policy));
  }
  const live = await db
    .selectFrom('action_case_reports as cr')
    .innerJoin('reports as r', 'r.id', 'cr.report_id')
    .select('r.id')
    .where('cr.case_id', '=', c.id)
    .where('r.historical', '=', 0)
    .limit(1)
    .executeTakeFirst();
  if (!live) reasons.push('every report of the case comes from a historical import');
  return { ok: reasons.length === 0, reasons };
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10} %`;
}
