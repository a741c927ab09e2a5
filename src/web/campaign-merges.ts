/**
 * Campaign merges reach the workbench index. Clustering merges campaigns as evidence joins them
 * (`campaigns/campaign-store.ts` `mergeCampaigns`: the losers redirect to the winner, whose
 * `report_count` becomes the sum). The index had keyed each report by the campaign it was in when
 * it was indexed, so a merged campaign's reports stayed counted under the loser's id: the
 * dashboard's top campaigns (roll-ups) showed the winner with only its own reports while its page
 * (`campaigns.report_count`) showed them all — 1,138 against 1,834 for one campaign (issue 18).
 *
 * Each indexer pass now looks for campaigns merged since the last pass (by `campaigns.updated_at`,
 * migration 0160) and moves their index rows and their daily and monthly roll-ups to the winner,
 * with exact deltas, in one transaction per merged campaign.
 */
import { type Kysely, type Transaction, sql } from 'kysely';
import type { Database } from '../db/schema.ts';
import { monthlyDim } from './indexer.ts';

const WATERMARK = 'campaign-merges-until';
/**
 * Merges are read up to this long ago only: a merge committing later than a pass that already
 * moved the watermark past its `updated_at` would otherwise be missed.
 */
export const MERGE_LAG_MS = 30_000;

async function add(trx: Transaction<Database>, dim: string, day: string, value: string, delta: number): Promise<void> {
  await trx
    .insertInto('web_rollup_daily')
    .values({ dim, day, value, n: delta })
    .onConflict((oc) =>
      oc.columns(['dim', 'day', 'value']).doUpdateSet((eb) => ({ n: eb('web_rollup_daily.n', '+', delta) })),
    )
    .execute();
}

/** Moves one merged campaign's index rows and roll-ups to the campaign it now redirects to. */
export async function moveCampaign(db: Kysely<Database>, loser: string, winner: string): Promise<number> {
  if (loser === winner) return 0;
  return db.transaction().execute(async (trx) => {
    const day = sql<string>`substr(coalesce(arrived_at, received_at), 1, 10)`;
    const days = await trx
      .selectFrom('web_report_index')
      .select([day.as('day'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', loser)
      .groupBy(day)
      .execute();
    if (days.length === 0) return 0;
    const months = new Map<string, number>();
    let moved = 0;
    for (const d of days) {
      const n = Number(d.n);
      moved += n;
      await add(trx, 'campaign', d.day, loser, -n);
      await add(trx, 'campaign', d.day, winner, n);
      months.set(d.day.slice(0, 7), (months.get(d.day.slice(0, 7)) ?? 0) + n);
    }
    for (const [month, n] of months) {
      await add(trx, monthlyDim('campaign'), month, loser, -n);
      await add(trx, monthlyDim('campaign'), month, winner, n);
    }
    await trx
      .deleteFrom('web_rollup_daily')
      .where('dim', 'in', ['campaign', monthlyDim('campaign')])
      .where('value', '=', loser)
      .where('n', '<=', 0)
      .execute();
    await trx.updateTable('web_report_index').set({ campaign_id: winner }).where('campaign_id', '=', loser).execute();
    return moved;
  });
}

/**
 * Follows the merges committed since the last call (up to `now` − {@link MERGE_LAG_MS}). Returns
 * how many index rows moved.
 */
export async function followCampaignMerges(db: Kysely<Database>, now = Date.now()): Promise<number> {
  const upTo = new Date(now - MERGE_LAG_MS).toISOString();
  const wm = await db.selectFrom('web_state').select('value').where('key', '=', WATERMARK).executeTakeFirst();
  const from = wm?.value ?? '';
  if (upTo <= from) return 0;
  const merged = await db
    .selectFrom('campaigns')
    .select(['id', 'merged_into'])
    .where('updated_at', '>', from)
    .where('updated_at', '<=', upTo)
    .where('merged_into', 'is not', null)
    .orderBy('updated_at')
    .execute();
  let moved = 0;
  for (const m of merged) if (m.merged_into) moved += await moveCampaign(db, m.id, m.merged_into);
  await db
    .insertInto('web_state')
    .values({ key: WATERMARK, value: upTo })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: upTo }))
    .execute();
  return moved;
}
