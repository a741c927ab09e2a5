/**
 * The campaigns the gates hold, as an analyst's queue. An abusive campaign whose messages mix
 * categories or carry legitimate mail (`gates.ts`) is never acted on automatically: no automatic
 * referral of its case, no ISP alert or listing on its reports, no intel object. Until an analyst
 * looks, it waits silently; the intel build only counted them and named the first twenty. This
 * lists them all, the most recently active first, with why each is held and the categories its
 * messages carry, so the analyst can relabel the odd reports (the standing follows at once,
 * `campaigns/relabel.ts`) or open a case and refer it by hand. Read by the workbench page
 * `/workbench/held`, `GET /api/v1/actions/held-campaigns` and `spamdesk campaigns held`.
 *
 * A campaign is in the queue when its standing fails the gates (purity and legitimate share against
 * the policy) and any of its messages is of an abusive category: the gates hold every abusive report of
 * such a campaign, whatever its majority (a phish clustered with a legitimate newsletter is held as
 * surely as a mixed spam run). A campaign held because every report of it is a historical import has
 * nothing for an analyst to correct and is not listed.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { ABUSIVE_CATEGORIES } from '../campaigns/campaign-store.ts';
import type { ActionPolicy } from './action-policy.ts';
import { STANDING_COLUMNS, campaignHoldReasons, holdReasonText, type HoldReason } from './gates.ts';

/** Most campaigns one page lists. */
export const MAX_HELD_PAGE = 200;

export interface HeldCampaign {
  id: string;
  /** Majority category. */
  category: string | null;
  purity: number;
  legitimateShare: number;
  messages: number;
  reports: number;
  firstSeenAt: string;
  lastSeenAt: string;
  reasons: HoldReason[];
  /** The reasons in words (English), as the case histories and the intel build's summary word them. */
  reasonTexts: string[];
  /** Its messages by category, most first (an analyst's relabels counted). */
  categories: { category: string; messages: number }[];
}

export interface HeldPage {
  rows: HeldCampaign[];
  /** Campaigns held in all (with the same `minMessages`). */
  total: number;
  /** Cursor of the next page, or null at the end. */
  next: string | null;
}

export interface HeldQuery {
  /** Page size (default 50, at most {@link MAX_HELD_PAGE}). */
  limit?: number;
  /** A `next` cursor of an earlier page. */
  before?: string | null;
  /** Only campaigns of at least this many messages (default 1). */
  minMessages?: number;
}

/** `lastSeenAt|id`, base64url: opaque to callers. */
function encodeCursor(lastSeenAt: string, id: string): string {
  return Buffer.from(`${lastSeenAt}|${id}`, 'utf8').toString('base64url');
}

/** The position a cursor names, or null when it is not one of ours (then the list starts at the top). */
export function decodeHeldCursor(cursor: string | null | undefined): { lastSeenAt: string; id: string } | null {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 200) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^(\d{4}-\d\d-\d\dT[0-9:.]{8,15}Z)\|([0-9A-Za-z]{1,64})$/.exec(text);
  return m ? { lastSeenAt: m[1] as string, id: m[2] as string } : null;
}

/**
 * The surviving campaigns of at least `minMessages` messages whose standing fails the gates and that
 * hold abusive mail: an abusive majority, or an abusive category among their messages' counts.
 */
function heldCampaigns(db: Kysely<Database>, policy: ActionPolicy, minMessages: number) {
  const { maxLegitimateShare, minPurity } = policy.gates;
  const abusive = [...ABUSIVE_CATEGORIES];
  return db
    .selectFrom('campaigns')
    .where('merged_into', 'is', null)
    .where('message_count', '>=', minMessages)
    .where((eb) => eb.or([eb('legitimate_share', '>', maxLegitimateShare), eb('purity', '<', minPurity)]))
    .where((eb) =>
      eb.or([
        eb('category', 'in', abusive),
        eb.exists(
          eb
            .selectFrom('campaign_facts as f')
            .select('f.campaign_id')
            .whereRef('f.campaign_id', '=', 'campaigns.id')
            .where('f.kind', '=', 'category')
            .where('f.value', 'in', abusive)
            .where('f.count', '>', 0),
        ),
      ]),
    );
}

/** How many campaigns the gates hold (the workbench dashboard's line). */
export async function countHeldCampaigns(db: Kysely<Database>, policy: ActionPolicy): Promise<number> {
  const row = await heldCampaigns(db, policy, 1)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The campaigns the gates hold, newest activity first. */
export async function listHeldCampaigns(
  db: Kysely<Database>,
  policy: ActionPolicy,
  q: HeldQuery = {},
): Promise<HeldPage> {
  const limit = Math.min(MAX_HELD_PAGE, Math.max(1, Math.floor(q.limit ?? 50)));
  const minMessages = Math.max(1, Math.floor(q.minMessages ?? 1));
  const held = heldCampaigns(db, policy, minMessages);
  const at = decodeHeldCursor(q.before);
  const rows = await held
    .select(STANDING_COLUMNS)
    .$if(at !== null, (qb) =>
      qb.where((eb) =>
        eb.or([
          eb('last_seen_at', '<', at?.lastSeenAt ?? ''),
          eb.and([eb('last_seen_at', '=', at?.lastSeenAt ?? ''), eb('id', '<', at?.id ?? '')]),
        ]),
      ),
    )
    .orderBy('last_seen_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const total = await held.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const page = rows.slice(0, limit);
  const categories = await categoriesOf(
    db,
    page.map((r) => r.id),
  );
  const out: HeldCampaign[] = page.map((r) => {
    const standing = {
      root: r.id,
      category: r.category,
      purity: Number(r.purity),
      legitimateShare: Number(r.legitimate_share),
      messages: Number(r.message_count),
    };
    const reasons = campaignHoldReasons(standing, policy);
    return {
      id: r.id,
      category: r.category,
      purity: standing.purity,
      legitimateShare: standing.legitimateShare,
      messages: standing.messages,
      reports: Number(r.report_count),
      firstSeenAt: r.first_seen_at,
      lastSeenAt: r.last_seen_at,
      reasons,
      reasonTexts: reasons.map((x) => holdReasonText(r.id, x)),
      categories: categories.get(r.id) ?? [],
    };
  });
  const last = page.at(-1);
  return {
    rows: out,
    total: Number(total.n),
    next: rows.length > limit && last ? encodeCursor(last.last_seen_at, last.id) : null,
  };
}

/** Whether one campaign (a merged id answers for its survivor) is held, and why; null when it is not. */
export async function campaignHold(
  db: Kysely<Database>,
  policy: ActionPolicy,
  id: string,
): Promise<{ id: string; reasons: HoldReason[] } | null> {
  const row = await db
    .selectFrom('campaigns')
    .select(['id', 'merged_into', 'category', 'purity', 'legitimate_share', 'message_count'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return null;
  const root = row.merged_into
    ? await db
        .selectFrom('campaigns')
        .select(['id', 'merged_into', 'category', 'purity', 'legitimate_share', 'message_count'])
        .where('id', '=', row.merged_into)
        .executeTakeFirst()
    : row;
  if (!root) return null;
  if (!root.category || !ABUSIVE_CATEGORIES.has(root.category)) {
    const abusive = await db
      .selectFrom('campaign_facts')
      .select('value')
      .where('campaign_id', '=', root.id)
      .where('kind', '=', 'category')
      .where('value', 'in', [...ABUSIVE_CATEGORIES])
      .where('count', '>', 0)
      .executeTakeFirst();
    if (!abusive) return null;
  }
  const reasons = campaignHoldReasons(
    {
      root: root.id,
      category: root.category,
      purity: Number(root.purity),
      legitimateShare: Number(root.legitimate_share),
      messages: Number(root.message_count),
    },
    policy,
  );
  return reasons.length === 0 ? null : { id: root.id, reasons };
}

/** The category counts of campaigns (their `category` facts), most messages first. */
async function categoriesOf(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<Map<string, { category: string; messages: number }[]>> {
  const out = new Map<string, { category: string; messages: number }[]>();
  if (ids.length === 0) return out;
  const rows = await db
    .selectFrom('campaign_facts')
    .select(['campaign_id', 'value', 'count'])
    .where('kind', '=', 'category')
    .where('campaign_id', 'in', [...ids])
    .where('count', '>', 0)
    .execute();
  for (const r of rows) {
    const list = out.get(r.campaign_id) ?? [];
    list.push({ category: r.value, messages: Number(r.count) });
    out.set(r.campaign_id, list);
  }
  for (const list of out.values())
    list.sort((a, b) => b.messages - a.messages || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
  return out;
}
