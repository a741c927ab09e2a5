/**
 * One pass of the listing computation: read the facts stored since the cursor (the actions area
 * writes one row per analysed report), index their advertised domains, re-judge every origin IP
 * and domain they touch, expire what had no report for its expiry period, and — every
 * {@link FULL_PASS_MS} — re-judge everything listed or held (a campaign's standing changes as its
 * reports come, and the gates may release or hold it). Idempotent: the cursor overlaps by
 * {@link CURSOR_OVERLAP_MS}, so facts committed out of order are not missed.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Config } from '../../core/config.ts';
import type { ActionPolicy } from '../../actions/action-policy.ts';
import { jsonList } from '../../actions/report-facts.ts';
import { canonicalIp, DOMAIN_RE, loadExclusions } from './exclusions.ts';
import { judgeDomain, judgeIp } from './judge.ts';
import { applyVerdict, expireListings, listingState, STATE_NAME } from './store.ts';

/** Facts read per batch; a pass reads batches until it is level with the table. */
export const FACTS_BATCH = 2000;
/** Most batches per pass, so one pass under a flood still ends and renews its lease. */
export const MAX_BATCHES_PER_PASS = 10;
/** How far the cursor looks back: a transaction that committed late still gets read. */
export const CURSOR_OVERLAP_MS = 30_000;
/** Every listed or held value is re-judged this often. */
export const FULL_PASS_MS = 15 * 60_000;

export interface PassResult {
  facts: number;
  judged: number;
  changed: number;
  expired: number;
  full: boolean;
}

function maxWindowDays(policy: ActionPolicy): number {
  const L = policy.listing;
  return Math.max(L.infected.windowDays, L.infrastructure.windowDays, L.domains.windowDays);
}

/** Runs one pass at `now`. */
export async function runListingPass(
  db: Kysely<Database>,
  config: Config,
  policy: ActionPolicy,
  now = new Date(),
  opts: {
    full?: boolean;
    /**
     * Report ids (with their facts' `created_at`) an earlier pass of this process already judged:
     * the overlap re-reads them, but only a fact not seen before makes its values judged again.
     */
    seen?: Map<string, string>;
  } = {},
): Promise<PassResult> {
  const result: PassResult = { facts: 0, judged: 0, changed: 0, expired: 0, full: false };
  if (!policy.listing.enabled) return result;
  const state = await listingState(db);
  const ips = new Set<string>();
  const domains = new Set<string>();
  let cursor = state.cursor;
  const from = cursor ? new Date(Date.parse(cursor) - CURSOR_OVERLAP_MS).toISOString() : null;
  let after: { created: string; id: string } | null = null;
  for (let batch = 0; batch < MAX_BATCHES_PER_PASS; batch++) {
    let q = db
      .selectFrom('action_report_facts')
      .select([
        'report_id',
        'origin_ip',
        'advertised_domains',
        'named_domains',
        'received_at',
        'historical',
        'created_at',
      ])
      .orderBy('created_at')
      .orderBy('report_id')
      .limit(FACTS_BATCH);
    if (from !== null) q = q.where('created_at', '>=', from);
    if (after !== null) {
      const a = after;
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '>', a.created),
          eb.and([eb('created_at', '=', a.created), eb('report_id', '>', a.id)]),
        ]),
      );
    }
    const rows = await q.execute();
    result.facts += rows.length;
    const index: { domain: string; report_id: string; received_at: string; named: number }[] = [];
    for (const r of rows) {
      if (Number(r.historical) === 1) continue;
      const fresh = opts.seen?.get(r.report_id) !== r.created_at;
      opts.seen?.set(r.report_id, r.created_at);
      const ip = r.origin_ip ? canonicalIp(r.origin_ip) : null;
      if (ip && fresh) ips.add(ip);
      for (const d of jsonList(r.advertised_domains)) {
        const name = d.toLowerCase();
        if (!DOMAIN_RE.test(name)) continue;
        if (fresh) domains.add(name);
        index.push({ domain: name, report_id: r.report_id, received_at: r.received_at, named: 0 });
      }
      // Named, not advertised (a phish's list of real banks): indexed as the evidence of legitimacy a
      // legitimate message that names it gives, never judged for the report that names it.
      for (const d of jsonList(r.named_domains)) {
        const name = d.toLowerCase();
        if (DOMAIN_RE.test(name))
          index.push({ domain: name, report_id: r.report_id, received_at: r.received_at, named: 1 });
      }
    }
    for (let i = 0; i < index.length; i += 200) {
      await db
        .insertInto('feed_domain_reports')
        .values(index.slice(i, i + 200))
        .onConflict((oc) => oc.columns(['domain', 'report_id']).doNothing())
        .execute();
    }
    if (rows.length > 0) {
      const last = rows[rows.length - 1];
      after = { created: last.created_at, id: last.report_id };
      if (cursor === null || last.created_at > cursor) cursor = last.created_at;
    }
    if (rows.length < FACTS_BATCH) break;
  }

  const full =
    opts.full === true || !state.full_pass_at || now.getTime() - Date.parse(state.full_pass_at) >= FULL_PASS_MS;
  if (full) {
    result.full = true;
    const standing = await db
      .selectFrom('feed_listings')
      .select(['kind', 'value'])
      .where('state', 'in', ['listed', 'held'])
      .execute();
    for (const s of standing) (s.kind === 'ip' ? ips : domains).add(s.value);
  }

  const ex = await loadExclusions(db, config, policy);
  const delistedAt = async (kind: 'ip' | 'domain', value: string) =>
    (
      await db
        .selectFrom('feed_listings')
        .select(['state', 'delisted_at'])
        .where('kind', '=', kind)
        .where('value', '=', value)
        .executeTakeFirst()
    )?.delisted_at ?? null;
  for (const ip of ips) {
    const v = await judgeIp(db, policy, ex, ip, now, await delistedAt('ip', ip));
    result.judged++;
    if (await applyVerdict(db, v, now)) result.changed++;
  }
  for (const d of domains) {
    const v = await judgeDomain(db, policy, ex, d, now, await delistedAt('domain', d));
    result.judged++;
    if (await applyVerdict(db, v, now)) result.changed++;
  }
  result.expired = await expireListings(db, now);

  const oldest = new Date(now.getTime() - maxWindowDays(policy) * 86_400_000).toISOString();
  await db.deleteFrom('feed_domain_reports').where('received_at', '<', oldest).execute();
  await db
    .updateTable('feed_state')
    .set({ cursor, ...(full ? { full_pass_at: now.toISOString() } : {}) })
    .where('name', '=', STATE_NAME)
    .execute();
  return result;
}
