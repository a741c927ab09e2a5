/**
 * SMS intake: an SMS report becomes evidence in the canonical form of `evidence/sms-format.ts`
 * (kind `sms`, channel `sms`), stored through the report writer like any other report.
 *
 * The gateway webhook follows the 7726 (UK) / 33700 (FR) conversation: a subscriber forwards the
 * spam SMS to a short number; when the gateway does not know who sent it, we keep it pending
 * and ask the subscriber for the sender's number; their next SMS completes the report.
 */
import { parsePhoneNumberFromString, isSupportedCountry } from 'libphonenumber-js';
import type { AppContext } from '../../evidence/context.ts';
import { AppError } from '../../core/errors.ts';
import { smsReplyLanguage, type AppLanguage } from '../../core/languages.ts';
import { newId, nowIso } from '../../core/ids.ts';
import { serializeSmsEvidence } from '../../evidence/sms-format.ts';
import { isUniqueViolation } from '../../db/dialect.ts';
import type { ReportInput, StoredReport } from '../../evidence/report-writer.ts';

/** Longest SMS text accepted (concatenated SMS rarely exceed a few hundred characters). */
export const MAX_SMS_CHARS = 20_000;
/** How long a forwarded SMS waits for its sender's number before it is stored without one. */
export const PENDING_TTL_MS = 24 * 3600 * 1000;
/** Sender recorded when the subscriber never told us. */
export const UNKNOWN_SENDER = 'unknown';
/** Most stale conversations closed per webhook call (bounded work per request). */
const MAX_STALE_PER_CALL = 50;

/** The gateway's answers to the subscriber, in the language of their number (see `core/languages.ts`). */
export const SMS_REPLIES = {
  en: {
    askSender: 'Thank you. Now send us the number or name that sent you this SMS.',
    reported: 'Thank you, your report has been recorded.',
  },
  fr: {
    askSender: 'Merci. Envoyez-nous maintenant le numéro ou le nom qui vous a envoyé ce SMS.',
    reported: 'Merci, votre signalement est enregistré.',
  },
} as const satisfies Record<AppLanguage, Record<string, string>>;

/**
 * A sender as shown on the phone: E.164 when it parses as a phone number in the instance's
 * region, else an alphanumeric sender id (GSM 03.38 allows 11 characters; we keep up to 64).
 */
export function normaliseSender(input: string, region: string): string {
  const s = input.trim();
  if (s === '') throw new AppError('BAD_REQUEST', 'sender must not be empty.');
  const e164 = toE164(s, region);
  if (e164) return e164;
  if (s.length > 64) throw new AppError('BAD_REQUEST', 'sender is longer than 64 characters.');
  return s.replace(/[\r\n\t]+/g, ' ');
}

/** E.164 form of a phone number, or null when it is not one. Short codes stay as digits. */
export function toE164(s: string, region: string): string | null {
  const compact = s.replace(/[\s.\-()/]/g, '');
  if (/^\d{3,6}$/.test(compact)) return compact;
  if (!/^\+?\d{6,17}$/.test(compact)) return null;
  const parsed = isSupportedCountry(region)
    ? parsePhoneNumberFromString(compact, { defaultCountry: region })
    : parsePhoneNumberFromString(compact);
  return parsed?.isPossible() ? parsed.number : null;
}

/** Could this SMS be the subscriber's answer "this is who sent it"? */
export function looksLikeSender(text: string, region: string): boolean {
  const s = text.trim();
  if (toE164(s, region)) return true;
  // An alphanumeric sender id: one short word, no URL.
  return /^[A-Za-z0-9][A-Za-z0-9 ._&-]{1,10}$/.test(s) && !/\s\S+\s/.test(s);
}

/** ISO 8601 UTC from any date string Date.parse understands; null when absent or invalid. */
export function toIsoOrNull(v: string | number | null | undefined): string | null {
  if (v === null || v === undefined || v === '') return null;
  const t =
    typeof v === 'number'
      ? v < 1e12
        ? v * 1000
        : v
      : /^\d+$/.test(v)
        ? Number(v) * (v.length <= 10 ? 1000 : 1)
        : Date.parse(v);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

export interface SmsReportInput {
  sender: string;
  text: string;
  receivedAt: string | null;
  reporterNumber: string | null;
  note?: string | null;
  reporterUserId?: string | null;
  reporterTokenId?: string | null;
  clientIp?: string | null;
  dedupKey?: string | null;
  context?: Record<string, unknown>;
}

/** The report input for one SMS (canonical evidence bytes, kind `sms`, channel `sms`). */
export function smsReportInput(i: SmsReportInput): ReportInput {
  if (i.text.length > MAX_SMS_CHARS)
    throw new AppError('MESSAGE_TOO_LARGE', `The SMS text is longer than ${MAX_SMS_CHARS} characters.`);
  return {
    raw: serializeSmsEvidence({ sender: i.sender, text: i.text, receivedAt: i.receivedAt }),
    kind: 'sms',
    channel: 'sms',
    reporterAddress: i.reporterNumber,
    reporterUserId: i.reporterUserId ?? null,
    reporterTokenId: i.reporterTokenId ?? null,
    clientIp: i.clientIp ?? null,
    note: i.note ?? null,
    dedupKey: i.dedupKey ?? null,
    receivedAt: i.receivedAt ?? undefined,
    context: { ...(i.context ?? {}), ...(i.reporterNumber ? { reporterNumber: i.reporterNumber } : {}) },
  };
}

/** One message delivered by an SMS gateway. */
export interface GatewayMessage {
  /** The subscriber (reporter), any format. */
  from: string;
  text: string;
  /** The short number it was sent to. */
  to: string | null;
  receivedAt: string | null;
  /** The spam's sender when the gateway or handset knows it. */
  sender: string | null;
  messageId: string | null;
}

export interface GatewayOutcome {
  status: 'reported' | 'awaiting-sender';
  /** What the gateway should answer the subscriber. */
  reply: string;
  reports: StoredReport[];
}

/** How long a gateway's message id is remembered: gateways retry for minutes to hours, not days. */
export const GATEWAY_ID_TTL_MS = 7 * 86_400_000;

/**
 * Handles one gateway message. A message id this gateway already delivered is answered exactly as
 * the first time, and nothing is stored again: a retried completing message must not open a second
 * conversation (whose "spam text" would be the sender's number).
 */
export async function handleGatewayMessage(
  ctx: AppContext,
  msg: GatewayMessage,
  tokenId: string | null,
): Promise<GatewayOutcome> {
  if (!msg.messageId) return converse(ctx, msg, tokenId);
  const key = `${tokenId ?? '-'}:${msg.messageId}`;
  const seen = await ctx.db
    .selectFrom('sms_gateway_messages')
    .select('outcome')
    .where('key', '=', key)
    .executeTakeFirst();
  if (seen) return replayed(seen.outcome);
  const outcome = await converse(ctx, msg, tokenId);
  try {
    await ctx.db
      .insertInto('sms_gateway_messages')
      .values({ key, outcome: JSON.stringify(outcome), created_at: nowIso() })
      .execute();
  } catch (e) {
    // Two deliveries of one id raced: both were answered from the same stored state (dedup keys).
    if (!isUniqueViolation(e)) throw e;
  }
  await ctx.db
    .deleteFrom('sms_gateway_messages')
    .where('created_at', '<', new Date(Date.now() - GATEWAY_ID_TTL_MS).toISOString())
    .execute();
  return outcome;
}

/** The answer given the first time, its reports marked as already stored. */
function replayed(json: string): GatewayOutcome {
  const o = JSON.parse(json) as GatewayOutcome;
  return { status: o.status, reply: o.reply, reports: o.reports.map((r) => ({ ...r, duplicate: true })) };
}

/** One step of the conversation with a subscriber (see the module comment). */
async function converse(ctx: AppContext, msg: GatewayMessage, tokenId: string | null): Promise<GatewayOutcome> {
  const region = ctx.config.region;
  const reporter = toE164(msg.from, region) ?? normaliseSender(msg.from, region);
  const replies = SMS_REPLIES[smsReplyLanguage(reporter, region)];
  const receivedAt = msg.receivedAt ?? nowIso();
  const stale = await closeStale(ctx);
  const base = {
    reporterNumber: reporter,
    reporterTokenId: tokenId,
    context: { source: 'gateway', shortNumber: msg.to },
  };

  if (msg.sender) {
    const input = smsReportInput({
      ...base,
      sender: normaliseSender(msg.sender, region),
      text: msg.text,
      receivedAt,
      dedupKey: msg.messageId ? `sms-gw:${msg.messageId}` : null,
    });
    return { status: 'reported', reply: replies.reported, reports: [...stale, ...(await ctx.writer.submit([input]))] };
  }

  const pending = await ctx.db
    .selectFrom('sms_pending')
    .selectAll()
    .where('reporter_number', '=', reporter)
    .executeTakeFirst();
  if (pending && msg.messageId && pending.gateway_message_id === msg.messageId) {
    // The gateway retried a message we already hold.
    return { status: 'awaiting-sender', reply: replies.askSender, reports: stale };
  }
  if (pending && looksLikeSender(msg.text, region)) {
    const input = smsReportInput({
      ...base,
      sender: normaliseSender(msg.text, region),
      text: pending.text,
      receivedAt: pending.received_at,
      dedupKey: `sms-pending:${pending.id}`,
    });
    const reports = await ctx.writer.submit([input]);
    // After the commit: a crash in between leaves a pending row whose report the dedup key finds.
    await ctx.db.deleteFrom('sms_pending').where('id', '=', pending.id).execute();
    return { status: 'reported', reply: replies.reported, reports: [...stale, ...reports] };
  }
  const flushed = pending ? await flushPending(ctx, pending) : [];
  if (msg.text.length > MAX_SMS_CHARS)
    throw new AppError('MESSAGE_TOO_LARGE', `The SMS text is longer than ${MAX_SMS_CHARS} characters.`);
  try {
    await ctx.db
      .insertInto('sms_pending')
      .values({
        id: newId(),
        reporter_number: reporter,
        text: msg.text,
        received_at: receivedAt,
        gateway_message_id: msg.messageId,
        token_id: tokenId,
        created_at: nowIso(),
      })
      .execute();
  } catch (e) {
    // Two forwards of one subscriber raced; the other one is now pending. Ask the gateway to retry
    // this one (it then completes or supersedes the other), rather than answering 500.
    if (isUniqueViolation(e))
      throw new AppError('CONFLICT', 'Another SMS of this subscriber is being recorded; retry.');
    throw e;
  }
  return { status: 'awaiting-sender', reply: replies.askSender, reports: [...stale, ...flushed] };
}

type PendingRow = { id: string; reporter_number: string; text: string; received_at: string; token_id: string | null };

/** Stores a pending SMS without its sender and removes it from the pending list. */
async function flushPending(ctx: AppContext, p: PendingRow): Promise<StoredReport[]> {
  const input = smsReportInput({
    sender: UNKNOWN_SENDER,
    text: p.text,
    receivedAt: p.received_at,
    reporterNumber: p.reporter_number,
    reporterTokenId: p.token_id,
    dedupKey: `sms-pending:${p.id}`,
    context: { source: 'gateway', senderUnknown: true },
  });
  const reports = await ctx.writer.submit([input]);
  await ctx.db.deleteFrom('sms_pending').where('id', '=', p.id).execute();
  return reports;
}

/** Conversations older than the TTL are stored without a sender (evidence is never dropped). */
async function closeStale(ctx: AppContext): Promise<StoredReport[]> {
  const cutoff = new Date(Date.now() - PENDING_TTL_MS).toISOString();
  const rows = await ctx.db
    .selectFrom('sms_pending')
    .selectAll()
    .where('created_at', '<', cutoff)
    .orderBy('created_at')
    .limit(MAX_STALE_PER_CALL)
    .execute();
  const out: StoredReport[] = [];
  for (const r of rows) out.push(...(await flushPending(ctx, r)));
  return out;
}
