/**
 * Partners answer back (issue 22): signed status messages from the instance that received a
 * referral to the instance that sent it — `received` (sent by itself when a package is filed),
 * `acknowledged`, `more-requested` (with what is asked: the originals, or further reports of the
 * campaign) and `closed` (with an outcome and a note). The format is docs/exchange.md, validated
 * against docs/schemas/exchange/status-v1.schema.json on both sides.
 *
 * Receiving side (B): `sendPartnerStatus` builds the message, signs its exact bytes with the
 * instance key and queues it in the outbox (retried; idempotency key = message id) to the
 * partner's registered URL. Sending side (A): `receivePartnerStatus` checks, before changing
 * anything, the key is a registered partner's, the signature, the schema, the message id (a
 * replay answers as before and changes nothing), the referral (sent by this instance, to this
 * partner, for the case named) and the order (nothing before `received`, nothing after
 * `closed`); then records it in the referral's state and the case history, and a request for
 * more waits for an analyst (requests.ts).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Config } from '../../core/config.ts';
import { publicBaseUrl } from '../../core/config.ts';
import { AppError } from '../../core/errors.ts';
import { newId, nowIso, sha256Hex } from '../../core/ids.ts';
import { policyFor } from '../action-policy.ts';
import { addCaseEvent, getCase, setCaseState } from '../cases/cases.ts';
import { enqueueWebhook } from '../outbox/outbox.ts';
import { loadInstanceKey, parseSignatureHeader, signatureHeader, verifyBytes } from '../referrals/instance-key.ts';
import type { PartnerRow } from '../../db/actions-tables.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import { partnerByFingerprint } from './partners.ts';
import { exchangeSchemaProblems } from './schemas.ts';

export const EXCHANGE_STATUSES = ['received', 'acknowledged', 'more-requested', 'closed'] as const;
export type ExchangeStatus = (typeof EXCHANGE_STATUSES)[number];
export const REQUEST_KINDS = ['originals', 'further-reports'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export const CLOSE_OUTCOMES = [
  'action-taken',
  'prosecution',
  'sanction',
  'warning',
  'transferred',
  'no-action',
  'insufficient-evidence',
  'not-competent',
] as const;
export type CloseOutcome = (typeof CLOSE_OUTCOMES)[number];

/** Path of the status endpoint on a partner instance. */
export const PARTNER_STATUS_PATH = '/api/v1/exchange/status';

/** The status message (docs/schemas/exchange/status-v1.schema.json). */
export interface StatusMessage {
  type: 'spamdesk.referral-status';
  version: 1;
  messageId: string;
  referralId: string;
  /** 1, 2, 3… per referral: the order the receiver sent them in. */
  sequence: number;
  status: ExchangeStatus;
  sentAt: string;
  caseReference: { sender: string; receiver: string };
  receiver: {
    name: string;
    country: string;
    url?: string;
    competence?: string | null;
    legalBasis?: string | null;
    contactPoint: { name: string; email?: string | null; phone?: string | null };
  };
  note?: string | null;
  request?: { kind: RequestKind; question: string };
  outcome?: CloseOutcome;
}

/**
 * Where a referral's thread stands after its latest status (`none` before any): which statuses
 * may follow. Nothing comes before `received` (too early: the sender retries), nothing after
 * `closed`, and `received` comes once.
 */
export function statusTransition(
  current: ExchangeStatus | 'none',
  next: ExchangeStatus,
): { ok: true } | { ok: false; tooEarly: boolean; reason: string } {
  if (current === 'closed')
    return { ok: false, tooEarly: false, reason: `the referral is closed; a ${next} status cannot follow` };
  if (next === 'received') {
    if (current === 'none') return { ok: true };
    return { ok: false, tooEarly: false, reason: `the referral was already received (now ${current})` };
  }
  if (current === 'none')
    return { ok: false, tooEarly: true, reason: `a ${next} status before the referral was received` };
  if (next === 'acknowledged' && current === 'acknowledged')
    return { ok: false, tooEarly: false, reason: 'the referral was already acknowledged' };
  return { ok: true };
}

/** The thread's state from a referral's stored state (delivery states mean no status yet). */
export function threadState(stored: string): ExchangeStatus | 'none' {
  return (EXCHANGE_STATUSES as readonly string[]).includes(stored) ? (stored as ExchangeStatus) : 'none';
}

/** A referral's stored state for a status (the existing answer states, plus `received`). */
const STORED_STATE: Record<ExchangeStatus, string> = {
  received: 'received',
  acknowledged: 'acknowledged',
  'more-requested': 'more-requested',
  closed: 'closed',
};

export interface StatusInput {
  status: Exclude<ExchangeStatus, 'received'> | 'received';
  note?: string | null;
  request?: { kind: RequestKind; question: string };
  outcome?: CloseOutcome;
  /** The package answered; default: the latest one received for the case. */
  referralId?: string;
  competence?: string | null;
  legalBasis?: string | null;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

/**
 * Receiving side: queues a signed status message about a package received from a partner, in
 * the caller's transaction. Refuses an order the sender would refuse, and a partner with no URL.
 */
export async function sendPartnerStatus(
  db: Kysely<Database>,
  config: Config,
  caseId: string,
  input: StatusInput,
  actor: string,
): Promise<{ messageId: string; outboxId: string; referralId: string }> {
  let q = db.selectFrom('action_received_packages').selectAll().where('case_id', '=', caseId);
  if (input.referralId) q = q.where('package_id', '=', input.referralId);
  const pkg = await q.orderBy('received_at', 'desc').orderBy('id', 'desc').executeTakeFirst();
  if (!pkg)
    throw new AppError(
      'NOT_FOUND',
      input.referralId
        ? `Case ${caseId} holds no package ${input.referralId} from a partner.`
        : `Case ${caseId} was not received from a partner.`,
    );
  const partner = await db
    .selectFrom('action_partners')
    .selectAll()
    .where('id', '=', pkg.partner_id)
    .executeTakeFirst();
  if (!partner) throw new AppError('NOT_FOUND', `The partner of case ${caseId} is no longer registered.`);
  if (!partner.url)
    throw new AppError(
      'CONFLICT',
      `Partner ${partner.name} has no registered URL to answer to: register it (spamdesk partner set-url).`,
    );
  const sent = await db
    .selectFrom('action_exchange_messages')
    .select(['status', 'created_at', 'id'])
    .where('partner_id', '=', partner.id)
    .where('direction', '=', 'out')
    .where('referral_id', '=', pkg.package_id)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  if (sent.length === 0 && input.status !== 'received') {
    // A partner registered without a URL when the package came was not told it was received:
    // say so first, or the sender would refuse this as too early.
    await sendPartnerStatus(db, config, caseId, { status: 'received', referralId: pkg.package_id }, 'system');
    return sendPartnerStatus(db, config, caseId, { ...input, referralId: pkg.package_id }, actor);
  }
  const last = sent[sent.length - 1];
  const step = statusTransition((last?.status as ExchangeStatus | undefined) ?? 'none', input.status);
  if (!step.ok) throw new AppError('CONFLICT', `Cannot send ${input.status}: ${step.reason}.`);
  const policy = policyFor(config);
  const messageId = newId();
  const msg: StatusMessage = {
    type: 'spamdesk.referral-status',
    version: 1,
    messageId,
    referralId: pkg.package_id,
    sequence: sent.length + 1,
    status: input.status,
    sentAt: nowIso(),
    caseReference: { sender: pkg.remote_case_id, receiver: caseId },
    receiver: {
      name: policy.instance.org,
      country: config.region,
      url: publicBaseUrl(config),
      competence: input.competence ?? null,
      legalBasis: input.legalBasis ?? null,
      contactPoint: { name: policy.instance.org, email: policy.instance.contact },
    },
    note: input.note?.slice(0, 10_000) ?? null,
    ...(input.status === 'more-requested' && input.request ? { request: input.request } : {}),
    ...(input.status === 'closed' && input.outcome ? { outcome: input.outcome } : {}),
  };
  const problems = exchangeSchemaProblems('status-v1', msg);
  if (problems.length > 0) throw new AppError('BAD_REQUEST', `The status is not valid: ${problems.join('; ')}`);
  const body = Buffer.from(JSON.stringify(msg));
  const key = await loadInstanceKey(db, config);
  const outboxId = await enqueueWebhook(db, {
    purpose: 'exchange-status',
    subjectId: messageId,
    description: `${input.status} for referral ${pkg.package_id} → ${partner.name}`,
    maxAttempts: config.outboxMaxAttempts,
    url: new URL(PARTNER_STATUS_PATH, partner.url).toString(),
    idempotencyKey: `status-${messageId}`,
    contentType: 'application/json',
    body,
    headers: { 'x-spamdesk-signature': signatureHeader(key, body), 'x-spamdesk-key-fingerprint': key.fingerprint },
  });
  await db
    .insertInto('action_exchange_messages')
    .values({
      id: newId(),
      partner_id: partner.id,
      direction: 'out',
      message_id: messageId,
      referral_id: pkg.package_id,
      case_id: caseId,
      sequence: msg.sequence,
      status: input.status,
      body_sha256: sha256Hex(body),
      body: body.toString('utf8'),
      outbox_id: outboxId,
      created_at: msg.sentAt,
    })
    .execute();
  await addCaseEvent(db, caseId, actor, 'status-sent', {
    partner: partner.name,
    referralId: pkg.package_id,
    messageId,
    status: input.status,
    note: msg.note,
    request: msg.request ?? null,
    outcome: msg.outcome ?? null,
    outboxId,
  });
  if (input.status === 'closed') {
    const c = await getCase(db, caseId);
    if (c.state !== 'closed' && c.state !== 'merged')
      await setCaseState(db, caseId, 'closed', actor, { reason: `closed for ${partner.name}`, outcome: msg.outcome });
  }
  return { messageId, outboxId, referralId: pkg.package_id };
}

export interface ReceivedStatus {
  messageId: string;
  referralId: string;
  caseId: string;
  status: ExchangeStatus;
  partner: { id: string; name: string; country: string };
  /** True when this message had been received before: nothing changed. */
  duplicate: boolean;
  requestId: string | null;
}

async function authenticatedStatus(
  db: Kysely<Database>,
  body: Buffer,
  headers: { signature?: string; fingerprint?: string },
): Promise<{ partner: PartnerRow; msg: StatusMessage }> {
  const partner = await partnerByFingerprint(db, (headers.fingerprint ?? '').trim().toLowerCase());
  if (!partner)
    throw new AppError(
      'UNAUTHENTICATED',
      'X-Spamdesk-Key-Fingerprint does not name a registered partner of this instance.',
    );
  const sig = parseSignatureHeader(headers.signature);
  if (!sig || !verifyBytes(partner.public_key_pem, body, sig))
    throw new AppError(
      'UNAUTHENTICATED',
      `X-Spamdesk-Signature does not verify over the body with ${partner.name}'s key.`,
    );
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AppError('BAD_REQUEST', 'The body is not JSON.');
  }
  const problems = exchangeSchemaProblems('status-v1', json);
  if (problems.length > 0)
    throw new AppError('BAD_REQUEST', `The status message does not follow status-v1: ${problems.join('; ')}`, {
      problems,
    });
  return { partner, msg: json as StatusMessage };
}

/**
 * Sending side: receives a partner's signed status about one of this instance's referrals. Every
 * check comes before any change; a replay (same message id, same bytes) gets the first answer.
 */
export async function receivePartnerStatus(
  db: Kysely<Database>,
  body: Buffer,
  headers: { signature?: string; fingerprint?: string },
): Promise<ReceivedStatus> {
  const { partner, msg } = await authenticatedStatus(db, body, headers);
  const p = { id: partner.id, name: partner.name, country: partner.country };
  const bodySha = sha256Hex(body);
  const seen = await db
    .selectFrom('action_exchange_messages')
    .selectAll()
    .where('partner_id', '=', partner.id)
    .where('direction', '=', 'in')
    .where('message_id', '=', msg.messageId)
    .executeTakeFirst();
  if (seen) {
    if (seen.body_sha256 !== bodySha)
      throw new AppError('CONFLICT', `Message id ${msg.messageId} was already received with another content.`);
    const req = await db
      .selectFrom('action_exchange_requests')
      .select('id')
      .where('partner_id', '=', partner.id)
      .where('message_id', '=', msg.messageId)
      .executeTakeFirst();
    return {
      messageId: msg.messageId,
      referralId: seen.referral_id,
      caseId: seen.case_id,
      status: seen.status as ExchangeStatus,
      partner: p,
      duplicate: true,
      requestId: req?.id ?? null,
    };
  }
  const ref = await db
    .selectFrom('action_referrals as r')
    .innerJoin('action_authorities as a', 'a.id', 'r.authority_id')
    .select(['r.id', 'r.case_id', 'r.state', 'r.authority_id', 'a.contact_kind', 'a.contact'])
    .where('r.id', '=', msg.referralId)
    .executeTakeFirst();
  if (!ref || ref.case_id !== msg.caseReference.sender)
    throw new AppError(
      'NOT_FOUND',
      `This instance sent no referral ${msg.referralId} of case ${msg.caseReference.sender}.`,
    );
  if (ref.contact_kind !== 'partner' || !partner.url || originOf(ref.contact) !== originOf(partner.url))
    throw new AppError('FORBIDDEN', `Referral ${msg.referralId} was not sent to ${partner.name}.`);
  const current = threadState(ref.state);
  if (current === 'closed')
    throw new AppError('CONFLICT', `Refused: the referral is closed; a ${msg.status} status cannot follow.`);
  const had = await db
    .selectFrom('action_exchange_messages')
    .select((eb) => eb.fn.max<number | null>('sequence').as('n'))
    .where('partner_id', '=', partner.id)
    .where('direction', '=', 'in')
    .where('referral_id', '=', ref.id)
    .executeTakeFirstOrThrow();
  const expected = Number(had.n) + 1;
  if (msg.sequence < expected)
    throw new AppError('CONFLICT', `Refused: status ${msg.sequence} of this referral was already received.`);
  if (msg.sequence > expected)
    throw new AppError(
      'TOO_EARLY',
      `Refused: status ${msg.sequence} arrived before status ${expected} of this referral; send it again later.`,
    );
  const step = statusTransition(current, msg.status);
  if (!step.ok) throw new AppError(step.tooEarly ? 'TOO_EARLY' : 'CONFLICT', `Refused: ${step.reason}.`);
  try {
    return await applyStatus(db, { partner, msg, ref, bodySha, body });
  } catch (e) {
    if (isUniqueViolation(e))
      throw new AppError('CONFLICT', `Refused: status ${msg.sequence} of this referral was received meanwhile.`);
    throw e;
  }
}

/** Records a checked status: the referral's state, the message, a request for more, the case history. */
function applyStatus(
  db: Kysely<Database>,
  a: {
    partner: PartnerRow;
    msg: StatusMessage;
    ref: { id: string; case_id: string; state: string; authority_id: string };
    bodySha: string;
    body: Buffer;
  },
): Promise<ReceivedStatus> {
  const { partner, msg, ref, bodySha, body } = a;
  const p = { id: partner.id, name: partner.name, country: partner.country };
  const actor = `partner:${partner.name}`;
  return db.transaction().execute(async (trx) => {
    const moved = await trx
      .updateTable('action_referrals')
      .set({ state: STORED_STATE[msg.status], updated_at: nowIso() })
      .where('id', '=', ref.id)
      .where('state', '=', ref.state)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1)
      throw new AppError('CONFLICT', 'The referral changed meanwhile; send the status again.');
    await trx
      .insertInto('action_exchange_messages')
      .values({
        id: newId(),
        partner_id: partner.id,
        direction: 'in',
        message_id: msg.messageId,
        referral_id: ref.id,
        case_id: ref.case_id,
        sequence: msg.sequence,
        status: msg.status,
        body_sha256: bodySha,
        body: body.toString('utf8'),
        outbox_id: null,
        created_at: nowIso(),
      })
      .execute();
    let requestId: string | null = null;
    if (msg.status === 'more-requested' && msg.request) {
      requestId = newId();
      await trx
        .insertInto('action_exchange_requests')
        .values({
          id: requestId,
          referral_id: ref.id,
          case_id: ref.case_id,
          partner_id: partner.id,
          message_id: msg.messageId,
          kind: msg.request.kind,
          question: msg.request.question,
          state: 'pending',
          decided_by: null,
          decided_at: null,
          decision_note: null,
          follow_up_referral_id: null,
          created_at: nowIso(),
        })
        .execute();
    }
    await addCaseEvent(trx, ref.case_id, actor, `partner-${msg.status}`, {
      referralId: ref.id,
      messageId: msg.messageId,
      partnerCaseReference: msg.caseReference.receiver,
      receiver: msg.receiver,
      note: msg.note ?? null,
      request: msg.request ?? null,
      requestId,
      outcome: msg.outcome ?? null,
      sentAt: msg.sentAt,
      keyFingerprint: partner.key_fingerprint,
      bodySha256: bodySha,
    });
    if (msg.status === 'closed') {
      // The partner files every package of a case under one case of its own: closing it closes
      // every referral of this case to that partner.
      await trx
        .updateTable('action_referrals')
        .set({ state: 'closed', updated_at: nowIso() })
        .where('case_id', '=', ref.case_id)
        .where('authority_id', '=', ref.authority_id)
        .execute();
      const live = await trx
        .selectFrom('action_referrals')
        .select('id')
        .where('case_id', '=', ref.case_id)
        .where('state', '!=', 'closed')
        .executeTakeFirst();
      const c = await getCase(trx, ref.case_id);
      if (!live && c.state !== 'closed' && c.state !== 'merged')
        await setCaseState(trx, ref.case_id, 'closed', actor, { reason: 'all referrals closed', outcome: msg.outcome });
    }
    return {
      messageId: msg.messageId,
      referralId: ref.id,
      caseId: ref.case_id,
      status: msg.status,
      partner: p,
      duplicate: false,
      requestId,
    };
  });
}

/** One entry of a referral's status history, as received (sending side) or sent (receiving side). */
export interface StatusHistoryEntry {
  messageId: string;
  direction: 'in' | 'out';
  status: ExchangeStatus;
  at: string;
  note: string | null;
  outcome: CloseOutcome | null;
  request: { kind: RequestKind; question: string } | null;
  caseReference: { sender: string; receiver: string };
  receiver: StatusMessage['receiver'];
  deliveryState: string | null;
}

/** The status messages of a referral, oldest first (for the referral and case pages). */
export async function referralStatusHistory(db: Kysely<Database>, referralId: string): Promise<StatusHistoryEntry[]> {
  const rows = await db
    .selectFrom('action_exchange_messages as m')
    .leftJoin('action_outbox as o', 'o.id', 'm.outbox_id')
    .select(['m.message_id', 'm.direction', 'm.status', 'm.created_at', 'm.body', 'o.state as delivery_state'])
    .where('m.referral_id', '=', referralId)
    .orderBy('m.direction')
    .orderBy('m.sequence')
    .execute();
  return rows.map((r) => {
    const msg = JSON.parse(r.body) as StatusMessage;
    return {
      messageId: r.message_id,
      direction: r.direction as 'in' | 'out',
      status: r.status as ExchangeStatus,
      at: msg.sentAt,
      note: msg.note ?? null,
      outcome: msg.outcome ?? null,
      request: msg.request ?? null,
      caseReference: msg.caseReference,
      receiver: msg.receiver,
      deliveryState: r.delivery_state ?? null,
    };
  });
}
