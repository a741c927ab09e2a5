/**
 * A partner's request for more (a `more-requested` status naming the originals or further reports
 * of the campaign) waits here for an analyst of this instance. Approving it (audited) refers the
 * case again to the same partner — a follow-up package naming the request (`inReplyTo`) — with the
 * originals when they were asked for, on a legal basis the analyst records (or the one the partner
 * was registered with). Declining it is audited too; the partner is not sent anything.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { AppContext } from '../../evidence/context.ts';
import { AppError } from '../../core/errors.ts';
import { nowIso } from '../../core/ids.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { addCaseEvent } from '../cases/cases.ts';
import { referCase } from '../referrals/referrals.ts';
import type { ExchangeRequestRow } from '../../db/actions-tables.ts';

export const REQUEST_STATES = ['pending', 'approved', 'declined'] as const;

/** A page of requests, newest first, after the `before` cursor (`created_at|id`). */
export async function listExchangeRequests(
  db: Kysely<Database>,
  filter: { state?: string; caseId?: string; before?: string; limit?: number },
): Promise<{ requests: ExchangeRequestRow[]; next: string | null }> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
  let q = db.selectFrom('action_exchange_requests').selectAll();
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.caseId) q = q.where('case_id', '=', filter.caseId);
  if (filter.before) {
    const [at, id] = filter.before.split('|');
    if (!at || !id) throw new AppError('BAD_REQUEST', 'before: a cursor as returned in `next`.');
    q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
  }
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { requests: page, next: rows.length > limit && last ? `${last.created_at}|${last.id}` : null };
}

async function pendingRequest(db: Kysely<Database>, id: string): Promise<ExchangeRequestRow> {
  const r = await db.selectFrom('action_exchange_requests').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) throw new AppError('NOT_FOUND', `No exchange request ${id}.`);
  if (r.state !== 'pending') throw new AppError('CONFLICT', `Request ${id} was already ${r.state}.`);
  return r;
}

/** Approves a request: a follow-up package goes to the partner (audited, in the case history). */
export async function approveExchangeRequest(
  ctx: AppContext,
  id: string,
  actor: string,
  opts: { legalBasis?: string | null; note?: string | null; ip?: string },
): Promise<{ requestId: string; referralId: string; outboxId: string }> {
  const { db } = ctx;
  const r = await pendingRequest(db, id);
  const ref = await db
    .selectFrom('action_referrals as r')
    .innerJoin('action_authorities as a', 'a.id', 'r.authority_id')
    .select(['r.authority_id', 'r.state', 'a.legal_basis'])
    .where('r.id', '=', r.referral_id)
    .executeTakeFirstOrThrow();
  if (ref.state === 'closed') throw new AppError('CONFLICT', 'The partner closed this referral meanwhile.');
  const legalBasis = opts.legalBasis?.trim() || ref.legal_basis?.trim() || null;
  if (r.kind === 'originals' && (!legalBasis || legalBasis.length < 10))
    throw new AppError(
      'BAD_REQUEST',
      'legalBasis: originals name the reporters; approving them needs the statute, agreement or order (10 characters \
at least).',
    );
  // Claim the request first, so two analysts approving at once send one follow-up.
  const claimed = await db
    .updateTable('action_exchange_requests')
    .set({ state: 'approved', decided_by: actor, decided_at: nowIso(), decision_note: opts.note ?? null })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) throw new AppError('CONFLICT', `Request ${id} was decided meanwhile.`);
  let result: Awaited<ReturnType<typeof referCase>>;
  try {
    result = await referCase(ctx, r.case_id, ref.authority_id, actor, {
      inReplyTo: r.message_id,
      kind: r.kind === 'originals' ? 'originals' : 'further-reports',
      legalBasis: r.kind === 'originals' ? legalBasis : null,
    });
  } catch (e) {
    await db
      .updateTable('action_exchange_requests')
      .set({ state: 'pending', decided_by: null, decided_at: null, decision_note: null })
      .where('id', '=', id)
      .execute();
    throw e;
  }
  await db
    .updateTable('action_exchange_requests')
    .set({ follow_up_referral_id: result.referralId })
    .where('id', '=', id)
    .execute();
  await addCaseEvent(db, r.case_id, actor, 'partner-request-approved', {
    requestId: id,
    kind: r.kind,
    followUpReferralId: result.referralId,
    legalBasis: r.kind === 'originals' ? legalBasis : null,
    note: opts.note ?? null,
  });
  await writeAudit(db, {
    actor,
    action: 'exchange.request.approve',
    subject: `exchange-request:${id}`,
    ip: opts.ip,
    detail: {
      caseId: r.case_id,
      referralId: r.referral_id,
      kind: r.kind,
      question: r.question,
      followUpReferralId: result.referralId,
      legalBasis: r.kind === 'originals' ? legalBasis : null,
    },
  });
  return { requestId: id, referralId: result.referralId, outboxId: result.outboxId };
}

/** Declines a request (audited, in the case history). */
export async function declineExchangeRequest(
  db: Kysely<Database>,
  id: string,
  actor: string,
  opts: { note?: string | null; ip?: string },
): Promise<void> {
  const r = await pendingRequest(db, id);
  await db.transaction().execute(async (trx) => {
    const done = await trx
      .updateTable('action_exchange_requests')
      .set({ state: 'declined', decided_by: actor, decided_at: nowIso(), decision_note: opts.note ?? null })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) !== 1) throw new AppError('CONFLICT', `Request ${id} was decided meanwhile.`);
    await addCaseEvent(trx, r.case_id, actor, 'partner-request-declined', { requestId: id, note: opts.note ?? null });
    await writeAudit(trx, {
      actor,
      action: 'exchange.request.decline',
      subject: `exchange-request:${id}`,
      ip: opts.ip,
      detail: { caseId: r.case_id, referralId: r.referral_id, kind: r.kind, note: opts.note ?? null },
    });
  });
}
