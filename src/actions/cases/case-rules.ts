/**
 * Automatic case rules (configuration, `cases.rules` of the actions policy), evaluated for each
 * report as its `actions-report` job runs:
 * - `campaign-category`: a campaign classified in one of the categories (phishing, malware) opens
 *   a case at once;
 * - `campaign-volume`: a campaign passing N reports in D days;
 * - `sender-consent`: a sender domain with N "I never consented" reports in D days.
 * A report of a target that already has a live case joins it. A newly opened case collects every
 * earlier report of its target, and is referred at once when `cases.autoRefer` is on.
 *
 * Campaigns merge when a message bridges them (the campaigns area redirects the merged-away ids to
 * the survivor). Cases follow: a campaign is always looked at as its whole family (survivor plus
 * every id redirecting to it), so its reports count together, live cases against two merged
 * campaigns are merged into the oldest, and that case is re-targeted at the surviving id — each
 * step recorded in the case history. No second case is opened for the same operation.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ActionPolicy, CaseRule, TargetKind } from '../action-policy.ts';
import type { ReportFactsRow } from '../../db/actions-tables.ts';
import { LIVE_CASE_STATES, addCaseEvent, addReportsToCase, findLiveCase, mergeCases, openCase } from './cases.ts';
import { campaignFamily } from '../sources.ts';
import { LOCK_CLASS, lockNames } from '../../db/xact-locks.ts';
import type { CaseRow } from '../../db/actions-tables.ts';

const MAX_BACKFILL = 10_000;

function since(days: number, now: Date): string {
  return new Date(now.getTime() - days * 86_400_000).toISOString();
}

interface Match {
  rule: CaseRule;
  kind: TargetKind;
  value: string;
  category: string | null;
  title: string;
  detail: Record<string, unknown>;
}

async function matches(
  db: Kysely<Database>,
  f: ReportFactsRow,
  rules: CaseRule[],
  now: Date,
  campaignIds: string[],
): Promise<Match[]> {
  const out: Match[] = [];
  for (const rule of rules) {
    if (rule.kind === 'campaign-category') {
      if (!f.campaign_id || !f.category) continue;
      if (!rule.categories.some((c) => c.toLowerCase() === f.category?.toLowerCase())) continue;
      out.push({
        rule,
        kind: 'campaign',
        value: f.campaign_id,
        category: f.category,
        title: `${f.category} campaign ${f.campaign_id}`,
        detail: { category: f.category },
      });
    } else if (rule.kind === 'campaign-volume') {
      if (!f.campaign_id) continue;
      if (f.category && rule.excludeCategories.some((c) => c.toLowerCase() === f.category?.toLowerCase())) continue;
      // Live reports received in the window: an imported archive does not count.
      const row = await db
        .selectFrom('action_report_facts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('campaign_id', 'in', campaignIds)
        .where('historical', '=', 0)
        .where('received_at', '>=', since(rule.windowDays, now))
        .executeTakeFirst();
      const n = Number(row?.n ?? 0);
      if (n < rule.minReports) continue;
      out.push({
        rule,
        kind: 'campaign',
        value: f.campaign_id,
        category: f.category,
        title: `campaign ${f.campaign_id}: ${n} reports in ${rule.windowDays} days`,
        detail: { reports: n, windowDays: rule.windowDays },
      });
    } else {
      if (!f.consent_denied || !f.sender_domain) continue;
      const row = await db
        .selectFrom('action_report_facts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('sender_domain', '=', f.sender_domain)
        .where('consent_denied', '=', 1)
        .where('historical', '=', 0)
        .where('received_at', '>=', since(rule.windowDays, now))
        .executeTakeFirst();
      const n = Number(row?.n ?? 0);
      if (n < rule.minComplaints) continue;
      out.push({
        rule,
        kind: 'sender_domain',
        value: f.sender_domain,
        category: 'consent',
        title: `sender ${f.sender_domain}: ${n} consent complaints in ${rule.windowDays} days`,
        detail: { complaints: n, windowDays: rule.windowDays },
      });
    }
  }
  return out;
}

/** Earlier reports of a target, from the facts table. */
async function reportsOfTarget(
  db: Kysely<Database>,
  kind: TargetKind,
  value: string,
  campaignIds: string[],
): Promise<{ reportId: string; sha256: string }[]> {
  let q = db
    .selectFrom('action_report_facts')
    .select(['report_id', 'message_sha256'])
    .orderBy('received_at')
    .limit(MAX_BACKFILL);
  if (kind === 'campaign') q = q.where('campaign_id', 'in', campaignIds.length > 0 ? campaignIds : [value]);
  else if (kind === 'sender_domain') q = q.where('sender_domain', '=', value);
  else if (kind === 'origin_network') q = q.where('origin_asn', '=', Number(value));
  else return [];
  return (await q.execute()).map((r) => ({ reportId: r.report_id, sha256: r.message_sha256 }));
}

export interface RuleOutcome {
  /** Cases opened by this report. */
  opened: string[];
  /** Cases the report was added to (including the opened ones). */
  joined: string[];
}

/** Applies the rules to one report's facts. Call inside the job's transaction. */
/**
 * The one live case against a campaign family: live cases against several of its ids (opened
 * before their campaigns merged) are merged into the oldest, which is re-targeted at the survivor.
 */
async function liveCampaignCase(db: Kysely<Database>, root: string, ids: string[]): Promise<CaseRow | undefined> {
  const live = await db
    .selectFrom('action_cases')
    .selectAll()
    .where('target_kind', '=', 'campaign')
    .where('target_value', 'in', ids)
    .where('state', 'in', LIVE_CASE_STATES)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const keep = live[0];
  if (!keep) return undefined;
  const actor = 'rule:campaign-merge';
  if (live.length > 1) {
    await mergeCases(
      db,
      keep.id,
      live.slice(1).map((c) => c.id),
      actor,
    );
  }
  if (keep.target_value !== root) {
    await db
      .updateTable('action_cases')
      .set({ target_value: root, updated_at: new Date().toISOString() })
      .where('id', '=', keep.id)
      .execute();
    await addCaseEvent(db, keep.id, actor, 'retargeted', {
      from: `campaign:${keep.target_value}`,
      to: `campaign:${root}`,
      reason: 'the campaigns merged',
    });
    keep.target_value = root;
  }
  return keep;
}

/** A campaign after merges (`campaignFamily`), by the id a report was placed with. */
export type CampaignFamilies = ReadonlyMap<string, { root: string; ids: string[] }>;

/**
 * Takes the transaction locks of the case targets of these reports (a campaign by its surviving
 * id, a sender domain), all at once and sorted, before any case row is read: two processes that
 * handle reports of one campaign then look for its live case one after the other, and the second
 * joins the case the first opened instead of opening another. Call it first in the transaction.
 * Returns the campaigns' families it read, for {@link applyCaseRules} in the same transaction (case
 * rules never merge campaigns, so they stay what they were).
 */
export async function lockCaseTargets(
  db: Kysely<Database>,
  facts: readonly ReportFactsRow[],
): Promise<CampaignFamilies> {
  const families = new Map<string, { root: string; ids: string[] }>();
  const names: string[] = [];
  for (const f of facts) {
    if (f.campaign_id) {
      let family = families.get(f.campaign_id);
      if (!family) {
        family = await campaignFamily(db, f.campaign_id);
        families.set(f.campaign_id, family);
      }
      names.push(`campaign:${family.root}`);
    }
    if (f.sender_domain) names.push(`sender_domain:${f.sender_domain}`);
  }
  await lockNames(db, LOCK_CLASS.caseTarget, names);
  return families;
}

export async function applyCaseRules(
  db: Kysely<Database>,
  f0: ReportFactsRow,
  policy: ActionPolicy,
  now = new Date(),
  /** The families {@link lockCaseTargets} read in this transaction (else read here). */
  families?: CampaignFamilies,
): Promise<RuleOutcome> {
  const outcome: RuleOutcome = { opened: [], joined: [] };
  const seen = new Set<string>();
  // A campaign id that was merged away stands for its survivor.
  const family = f0.campaign_id ? (families?.get(f0.campaign_id) ?? (await campaignFamily(db, f0.campaign_id))) : null;
  const f: ReportFactsRow = family ? { ...f0, campaign_id: family.root } : f0;
  const campaignIds = family?.ids ?? [];
  // A report joins every live case against its targets, whether or not a rule fires now.
  const targets: [TargetKind, string | null][] = [
    ['campaign', f.campaign_id],
    ['sender_domain', f.sender_domain],
  ];
  for (const [kind, value] of targets) {
    if (!value) continue;
    const live =
      kind === 'campaign' ? await liveCampaignCase(db, value, campaignIds) : await findLiveCase(db, kind, value);
    if (!live) continue;
    seen.add(`${kind}:${value}`);
    await addReportsToCase(db, live.id, [{ reportId: f.report_id, sha256: f.message_sha256 }], 'rule:join');
    outcome.joined.push(live.id);
  }
  // A historical report joins live cases above but never opens one: an archive is evidence, not
  // a trigger.
  const fired = f.historical ? [] : await matches(db, f, policy.cases.rules, now, campaignIds);
  for (const m of fired) {
    const key = `${m.kind}:${m.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const actor = `rule:${m.rule.name}`;
    const c = await openCase(db, {
      targetKind: m.kind,
      targetValue: m.value,
      title: m.title,
      category: m.category,
      openedBy: actor,
      detail: { rule: m.rule.name, ...m.detail },
    });
    await addReportsToCase(db, c.id, await reportsOfTarget(db, m.kind, m.value, campaignIds), actor);
    outcome.opened.push(c.id);
    outcome.joined.push(c.id);
  }
  return outcome;
}
