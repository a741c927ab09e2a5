/**
 * Writes to a campaign's own rows: its story facts, its standing (category, purity, legitimate
 * share) and merges. Every statement is by campaign id (an index), so none scans the store.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Fact } from './fingerprint.ts';

type Db = Kysely<Database>;

/** Categories that mark abuse; `legitimate` is the other side, `other` (no content) neither. */
export const ABUSIVE_CATEGORIES: ReadonlySet<string> = new Set(['phishing', 'malware', 'scam', 'commercial']);

/** `legitimate`, `abusive`, or null when a category says neither (`other`, unknown). */
export type Polarity = 'legitimate' | 'abusive' | null;

/** The side of the line a category is on. */
export function polarityOf(category: string | null | undefined): Polarity {
  if (category === 'legitimate') return 'legitimate';
  if (category && ABUSIVE_CATEGORIES.has(category)) return 'abusive';
  return null;
}

/** Adds facts to a campaign's story (count += n, first/last seen widened). */
export async function addFacts(
  db: Db,
  campaignId: string,
  facts: readonly (Fact & { count?: number; first?: string; last?: string })[],
  at: string,
): Promise<void> {
  if (facts.length === 0) return;
  const seen = new Set<string>();
  const rows = [];
  for (const f of facts) {
    const key = `${f.kind}\u0000${f.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({
      campaign_id: campaignId,
      kind: f.kind,
      value: f.value,
      count: f.count ?? 1,
      first_seen_at: f.first ?? at,
      last_seen_at: f.last ?? at,
    });
  }
  // Shared counters in key order (docs/operations.md, lock order): two writers of one campaign's
  // rows never wait on each other in a circle.
  rows.sort((a, b) =>
    a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : a.value < b.value ? -1 : a.value > b.value ? 1 : 0,
  );
  await db
    .insertInto('campaign_facts')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['campaign_id', 'kind', 'value']).doUpdateSet({
        count: sql`campaign_facts.count + excluded.count`,
        first_seen_at: sql`case when excluded.first_seen_at < campaign_facts.first_seen_at then excluded.first_seen_at \
else campaign_facts.first_seen_at end`,
        last_seen_at: sql`case when excluded.last_seen_at > campaign_facts.last_seen_at then excluded.last_seen_at \
else campaign_facts.last_seen_at end`,
      }),
    )
    .execute();
}

export interface Standing {
  category: string | null;
  /** Share of the majority category (1 when all members agree, or when none is classified). */
  purity: number;
  legitimateShare: number;
}

/** A campaign's standing from its members' category counts: majority, purity, legitimate share. */
export function standingOf(counts: readonly { value: string; count: number }[]): Standing {
  let total = 0;
  let legit = 0;
  let top: { value: string; count: number } | null = null;
  for (const c of counts) {
    const n = Number(c.count);
    total += n;
    if (c.value === 'legitimate') legit += n;
    // Ties go to the alphabetically first category, so the result does not depend on row order.
    if (!top || n > top.count || (n === top.count && c.value < top.value)) top = { value: c.value, count: n };
  }
  if (!top || total === 0) return { category: null, purity: 1, legitimateShare: 0 };
  return { category: top.value, purity: top.count / total, legitimateShare: legit / total };
}

/** Recomputes and stores a campaign's category, purity and legitimate share. */
export async function refreshStanding(db: Db, campaignId: string): Promise<Standing> {
  const counts = await db
    .selectFrom('campaign_facts')
    .select(['value', 'count'])
    .where('campaign_id', '=', campaignId)
    .where('kind', '=', 'category')
    .execute();
  const s = standingOf(counts);
  await db
    .updateTable('campaigns')
    .set({ category: s.category, purity: s.purity, legitimate_share: s.legitimateShare })
    .where('id', '=', campaignId)
    .execute();
  return s;
}

/**
 * Moves one message's unit in a campaign's category counts from `from` (null: it was counted under none) to `to`,
 * then the standing: a relabel, or a message reported again whose category in force changed since it was counted.
 * The campaign's row before its counts, the order a placement takes them in.
 */
export async function moveCategoryCount(
  db: Db,
  campaignId: string,
  from: string | null,
  to: string,
  at: string,
): Promise<void> {
  await db.updateTable('campaigns').set({ updated_at: at }).where('id', '=', campaignId).execute();
  if (from) {
    await db
      .updateTable('campaign_facts')
      .set((eb) => ({ count: eb('count', '-', 1) }))
      .where('campaign_id', '=', campaignId)
      .where('kind', '=', 'category')
      .where('value', '=', from)
      .execute();
    await db
      .deleteFrom('campaign_facts')
      .where('campaign_id', '=', campaignId)
      .where('kind', '=', 'category')
      .where('count', '<=', 0)
      .execute();
  }
  await addFacts(db, campaignId, [{ kind: 'category', value: to }], at);
  await refreshStanding(db, campaignId);
}

/**
 * Merges `losers` into `winner`: members and story move to the winner, the losers (and anything
 * that already redirected to them) redirect to it. Representatives, band keys and links stay
 * where they are and resolve through the redirect, so a merge costs the size of the losers'
 * membership, never a scan of the store. The winner keeps its core.
 */
export async function mergeCampaigns(db: Db, winner: string, losers: readonly string[], at: string): Promise<void> {
  if (losers.length === 0) return;
  const rows = await db
    .selectFrom('campaigns')
    .selectAll()
    .where('id', 'in', [winner, ...losers])
    .execute();
  const w = rows.find((r) => r.id === winner);
  if (!w) throw new Error(`campaign ${winner} does not exist`);
  let messages = w.message_count;
  let reports = w.report_count;
  let first = w.first_seen_at;
  let last = w.last_seen_at;
  for (const r of rows) {
    if (r.id === winner) continue;
    messages += r.message_count;
    reports += r.report_count;
    if (r.first_seen_at < first) first = r.first_seen_at;
    if (r.last_seen_at > last) last = r.last_seen_at;
  }
  await db
    .updateTable('campaigns')
    .set({ merged_into: winner, updated_at: at })
    .where((eb) => eb.or([eb('id', 'in', losers), eb('merged_into', 'in', losers)]))
    .execute();
  await db.updateTable('campaign_messages').set({ campaign_id: winner }).where('campaign_id', 'in', losers).execute();
  const facts = await db.selectFrom('campaign_facts').selectAll().where('campaign_id', 'in', losers).execute();
  const summed = new Map<string, { kind: Fact['kind']; value: string; count: number; first: string; last: string }>();
  for (const f of facts) {
    const key = `${f.kind}\u0000${f.value}`;
    const s = summed.get(key);
    if (s) {
      s.count += f.count;
      if (f.first_seen_at < s.first) s.first = f.first_seen_at;
      if (f.last_seen_at > s.last) s.last = f.last_seen_at;
    } else {
      summed.set(key, {
        kind: f.kind as Fact['kind'],
        value: f.value,
        count: f.count,
        first: f.first_seen_at,
        last: f.last_seen_at,
      });
    }
  }
  const chunk = [...summed.values()];
  for (let i = 0; i < chunk.length; i += 200) await addFacts(db, winner, chunk.slice(i, i + 200), at);
  await db.deleteFrom('campaign_facts').where('campaign_id', 'in', losers).execute();
  await db
    .updateTable('campaigns')
    .set({ message_count: messages, report_count: reports, first_seen_at: first, last_seen_at: last, updated_at: at })
    .where('id', '=', winner)
    .execute();
  await refreshStanding(db, winner);
}
