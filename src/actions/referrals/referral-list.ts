/**
 * Reading referrals: a case's referrals, an authority's list a page at a time, one referral — each
 * with the state an analyst or an authority needs, derived from the authority's answer or, before
 * one, from its delivery in the outbox.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { AppError } from '../../core/errors.ts';

/** The stored states an authority's answer sets (acknowledge, request more, close). */
const ANSWERED_STATES = ['acknowledged', 'more-requested', 'closed'] as const;

/** A referral's answer state once the authority has answered (these imply it was delivered). */
const ANSWERED: ReadonlySet<string> = new Set(ANSWERED_STATES);

/**
 * What a referral's state is: the authority's answer once there is one; before that its
 * delivery's — `queued` (not yet tried), `failed` (tried, will be retried; the error is kept),
 * `sent` (the relay or the authority's endpoint accepted it) or `dead` (given up: an analyst must
 * act). A referral never shows `sent` while its mail still sits in the outbox.
 */
export function referralState(
  stored: string,
  delivery: { state: string | null; attempts: number | null; lastError: string | null },
): string {
  if (ANSWERED.has(stored)) return stored;
  switch (delivery.state) {
    case 'sent':
      return 'sent';
    case 'dead':
      return 'dead';
    case 'queued':
    case 'sending':
      return (delivery.attempts ?? 0) > 0 && delivery.lastError ? 'failed' : 'queued';
    default:
      // Referrals made before their outbox entry was remembered said `sent` when queued.
      return stored === 'sent' ? 'sent' : 'queued';
  }
}

/** The referral rows with their authority and their delivery (never the package bytes). */
function referralQuery(db: Kysely<Database>, filter: { caseId?: string; authorityIds?: readonly string[] }) {
  let q = db
    .selectFrom('action_referrals as r')
    .innerJoin('action_authorities as a', 'a.id', 'r.authority_id')
    .leftJoin('action_outbox as o', 'o.id', 'r.outbox_id')
    .select([
      'r.id',
      'r.case_id',
      'r.authority_id',
      'a.name as authority_name',
      'r.state',
      'r.package_sha256',
      'r.package_size',
      'r.created_at',
      'r.updated_at',
    ])
    .select([
      'o.state as delivery_state',
      'o.attempts as delivery_attempts',
      'o.last_error as delivery_error',
      'o.sent_at as delivered_at',
    ]);
  if (filter.caseId) q = q.where('r.case_id', '=', filter.caseId);
  if (filter.authorityIds)
    q = q.where('r.authority_id', 'in', filter.authorityIds.length > 0 ? [...filter.authorityIds] : ['-']);
  return q;
}

type ReferralQueryRow = Awaited<ReturnType<ReturnType<typeof referralQuery>['execute']>>[number];

function referralView({ delivery_state, delivery_attempts, delivery_error, delivered_at, ...r }: ReferralQueryRow) {
  return {
    ...r,
    package_size: Number(r.package_size),
    state: referralState(r.state, {
      state: delivery_state,
      attempts: delivery_attempts === null ? null : Number(delivery_attempts),
      lastError: delivery_error,
    }),
    delivery: {
      state: delivery_state,
      attempts: delivery_attempts === null ? null : Number(delivery_attempts),
      lastError: delivery_error,
      sentAt: delivered_at,
    },
  };
}

export type ReferralView = ReturnType<typeof referralView>;

/**
 * Every referral of a case, or of the given authorities, newest first, each with its
 * delivery-derived state. A case has a handful; an authority's whole list pages with
 * {@link listReferralPage}.
 */
export async function listReferrals(
  db: Kysely<Database>,
  filter: { caseId?: string; authorityIds?: readonly string[] },
): Promise<ReferralView[]> {
  const rows = await referralQuery(db, filter).orderBy('r.created_at', 'desc').orderBy('r.id', 'desc').execute();
  return rows.map(referralView);
}

/** Most referrals one page returns. */
export const MAX_REFERRAL_PAGE = 1000;

/** One page of referrals, newest first (ids are ULIDs); `next` is the cursor of the following page. */
export async function listReferralPage(
  db: Kysely<Database>,
  filter: { caseId?: string; authorityIds?: readonly string[]; closed?: boolean },
  cursor: string | null,
  limit = 50,
): Promise<{ referrals: ReferralView[]; next: string | null }> {
  const n = Math.min(Math.max(1, limit), MAX_REFERRAL_PAGE);
  let q = referralQuery(db, filter)
    .orderBy('r.id', 'desc')
    .limit(n + 1);
  if (cursor) q = q.where('r.id', '<', cursor);
  if (filter.closed === true) q = q.where('r.state', '=', 'closed');
  if (filter.closed === false) q = q.where('r.state', '!=', 'closed');
  const rows = await q.execute();
  const page = rows.slice(0, n).map(referralView);
  return { referrals: page, next: rows.length > n ? (page[page.length - 1]?.id ?? null) : null };
}

/** One referral with its authority and delivery state. */
export async function getReferral(db: Kysely<Database>, referralId: string): Promise<ReferralView> {
  const row = await referralQuery(db, {}).where('r.id', '=', referralId).executeTakeFirst();
  if (!row) throw new AppError('NOT_FOUND', `No referral ${referralId}.`);
  return referralView(row);
}
